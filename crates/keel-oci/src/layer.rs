//! A layer: a tar of files and folders, written in path order with fixed owners, modes and
//! times, compressed with gzip at a fixed level and with a fixed header.

use std::collections::BTreeMap;
use std::io::Write;

use crate::image::Blob;
pub use crate::image::Layer;
use crate::{Error, media};

/// The gzip level: `gzip`'s default.
const GZIP_LEVEL: u32 = 6;

/// What one path of a layer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A file with these contents.
    File(Vec<u8>),
    /// A folder.
    Dir,
}

/// One path of a layer, with its owner and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// An absolute path in the image (`/usr/local/bin/app`).
    pub path: String,
    /// File or folder.
    pub node: Node,
    /// Permission bits (`0o755`).
    pub mode: u32,
    /// Owner's user id.
    pub uid: u64,
    /// Owner's group id.
    pub gid: u64,
}

impl Entry {
    /// A file owned by root.
    pub fn file(path: impl Into<String>, contents: Vec<u8>, mode: u32) -> Entry {
        Entry {
            path: path.into(),
            node: Node::File(contents),
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// A folder with an owner.
    pub fn dir(path: impl Into<String>, mode: u32, uid: u64, gid: u64) -> Entry {
        Entry {
            path: path.into(),
            node: Node::Dir,
            mode,
            uid,
            gid,
        }
    }
}

fn clean(path: &str) -> Result<String, Error> {
    let bad = || Error::BadPath {
        path: path.to_owned(),
    };
    let relative = path.strip_prefix('/').ok_or_else(bad)?;
    let relative = relative.trim_end_matches('/');
    if relative.is_empty()
        || relative
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad());
    }
    Ok(relative.to_owned())
}

/// The tar of `entries` (parent folders added, owned by root, mode 0755), every time stamp
/// `mtime`, in path order.
pub fn tar(entries: &[Entry], mtime: u64) -> Result<Vec<u8>, Error> {
    let mut nodes: BTreeMap<String, Entry> = BTreeMap::new();
    for entry in entries {
        let relative = clean(&entry.path)?;
        let parts: Vec<&str> = relative.split('/').collect();
        let mut parent = String::new();
        for part in &parts[..parts.len() - 1] {
            parent.push_str(part);
            parent.push('/');
            if let Some(existing) = nodes.get(parent.trim_end_matches('/'))
                && existing.node != Node::Dir
            {
                return Err(Error::DuplicatePath {
                    path: entry.path.clone(),
                });
            }
            nodes
                .entry(parent.trim_end_matches('/').to_owned())
                .or_insert_with(|| Entry::dir(parent.clone(), 0o755, 0, 0));
        }
        match nodes.get(&relative) {
            // A folder named explicitly takes the place of one added as a parent.
            Some(existing) if existing.node == Node::Dir && entry.node == Node::Dir => {}
            Some(_) => {
                return Err(Error::DuplicatePath {
                    path: entry.path.clone(),
                });
            }
            None => {}
        }
        nodes.insert(relative, entry.clone());
    }
    let mut builder = tar::Builder::new(Vec::new());
    // BTreeMap order puts `a` before `a/b` and `a-b` before `a/b`, which tar readers accept:
    // every folder comes before what it holds.
    for (relative, entry) in &nodes {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(mtime);
        header.set_uid(entry.uid);
        header.set_gid(entry.gid);
        header.set_mode(entry.mode);
        let io_err = |source| Error::Write {
            path: entry.path.clone().into(),
            source,
        };
        match &entry.node {
            Node::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, format!("{relative}/"), std::io::empty())
                    .map_err(io_err)?;
            }
            Node::File(contents) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(contents.len() as u64);
                builder
                    .append_data(&mut header, relative, contents.as_slice())
                    .map_err(io_err)?;
            }
        }
    }
    builder.into_inner().map_err(|source| Error::Write {
        path: "layer".into(),
        source,
    })
}

/// Gzip with a fixed level and header (no name, time 0).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .expect("writing to memory cannot fail")
}

/// The layer holding `entries`.
pub fn layer(entries: &[Entry], mtime: u64) -> Result<Layer, Error> {
    let tar = tar(entries, mtime)?;
    let diff_id = crate::digest_of(&tar);
    Ok(Layer {
        blob: Blob::new(media::LAYER_GZIP, gzip(&tar)),
        diff_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(tar_bytes: &[u8]) -> Vec<(String, u32, u64, u64, u64)> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().to_string_lossy().into_owned(),
                    header.mode().unwrap(),
                    header.uid().unwrap(),
                    header.gid().unwrap(),
                    header.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn parents_come_first_with_fixed_owners_and_times() {
        let entries = [
            Entry::file("/usr/local/bin/app", b"bin".to_vec(), 0o755),
            Entry::dir("/data", 0o755, 65532, 65532),
            Entry::file("/etc/passwd", b"root".to_vec(), 0o644),
        ];
        let bytes = tar(&entries, 1_714_564_800).unwrap();
        assert_eq!(
            listing(&bytes),
            [
                ("data/".to_owned(), 0o755, 65532, 65532, 1_714_564_800),
                ("etc/".to_owned(), 0o755, 0, 0, 1_714_564_800),
                ("etc/passwd".to_owned(), 0o644, 0, 0, 1_714_564_800),
                ("usr/".to_owned(), 0o755, 0, 0, 1_714_564_800),
                ("usr/local/".to_owned(), 0o755, 0, 0, 1_714_564_800),
                ("usr/local/bin/".to_owned(), 0o755, 0, 0, 1_714_564_800),
                ("usr/local/bin/app".to_owned(), 0o755, 0, 0, 1_714_564_800),
            ]
        );
        // The order given does not matter.
        let mut reversed = entries.to_vec();
        reversed.reverse();
        assert_eq!(layer(&reversed, 5).unwrap(), layer(&entries, 5).unwrap());
    }

    #[test]
    fn bad_and_duplicate_paths_are_refused() {
        for path in ["relative", "/a/../b", "/", "/a//b", "/./a"] {
            assert!(
                matches!(
                    tar(&[Entry::file(path, Vec::new(), 0o644)], 0),
                    Err(Error::BadPath { .. })
                ),
                "{path}"
            );
        }
        let twice = [
            Entry::file("/a", Vec::new(), 0o644),
            Entry::file("/a", Vec::new(), 0o644),
        ];
        assert!(matches!(tar(&twice, 0), Err(Error::DuplicatePath { .. })));
        let file_as_folder = [
            Entry::file("/a", Vec::new(), 0o644),
            Entry::file("/a/b", Vec::new(), 0o644),
        ];
        assert!(matches!(
            tar(&file_as_folder, 0),
            Err(Error::DuplicatePath { .. })
        ));
    }

    #[test]
    fn gzip_is_deterministic_and_readable() {
        let data = vec![7u8; 100_000];
        let once = gzip(&data);
        assert_eq!(once, gzip(&data));
        // No name, time 0, as `gzip -n` writes.
        assert_eq!(&once[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        let mut back = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(once.as_slice()),
            &mut back,
        )
        .unwrap();
        assert_eq!(back, data);
    }
}
