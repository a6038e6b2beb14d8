//! Writing reproducible archives (the `write` feature; an updater that only extracts leaves
//! it out, with its encoders).

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use keel_schema::ArchiveFormat;
use keel_verify::{Sha256Digest, Sha256Writer};

use crate::{Error, validate_path};

/// Compression level for gzip and zip (deflate): the level `gzip` uses by default.
const DEFLATE_LEVEL: u32 = 6;
/// Compression level for xz: the level `xz` uses by default.
const XZ_PRESET: u32 = 6;
/// Compression level for zstd: high, because a release is written once and downloaded often.
const ZSTD_LEVEL: i32 = 19;

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the archive: relative, `/`-separated, without `.` or `..` parts.
    pub path: String,
    /// Whether the file gets mode `0755` (else `0644`).
    pub executable: bool,
    /// Where its contents come from.
    pub source: EntrySource,
}

/// Where an entry's contents come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntrySource {
    /// A file on disk, read while the archive is written.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Vec<u8>),
    /// A symbolic link to the given target, stored as a link (a source archive keeps the
    /// links its commit holds; keel's extraction refuses them, so binary archives have none).
    Symlink(String),
}

impl Entry {
    /// An entry read from a file on disk.
    pub fn file(path: impl Into<String>, source: impl Into<PathBuf>, executable: bool) -> Self {
        Entry {
            path: path.into(),
            executable,
            source: EntrySource::File(source.into()),
        }
    }

    /// An entry with the given contents.
    pub fn bytes(path: impl Into<String>, contents: Vec<u8>, executable: bool) -> Self {
        Entry {
            path: path.into(),
            executable,
            source: EntrySource::Bytes(contents),
        }
    }

    /// A symbolic link at `path` pointing to `target`.
    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Self {
        Entry {
            path: path.into(),
            executable: false,
            source: EntrySource::Symlink(target.into()),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// The archive's size in bytes.
    pub size: u64,
    /// The archive's SHA-256.
    pub sha256: Sha256Digest,
}

/// Writes `entries` as an archive of `format` at `out` (which must not exist yet), with every
/// entry's modification time set to `mtime` (seconds since the Unix epoch).
pub fn write_archive(
    format: ArchiveFormat,
    entries: &[Entry],
    mtime: u64,
    out: &Path,
) -> Result<Written, Error> {
    let tree = Tree::new(entries)?;
    let write_err = |source| Error::Write {
        path: out.to_owned(),
        source,
    };
    let file = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(write_err)?;
    match format {
        ArchiveFormat::Zip => {
            write_zip(&tree, mtime, file.into_file(), out)?;
            let (sha256, size) = keel_verify::sha256_file(out).map_err(|err| match err {
                keel_verify::Error::Read { source, .. } => write_err(source),
                other => write_err(io::Error::other(other)),
            })?;
            Ok(Written { size, sha256 })
        }
        tar_format => {
            let hashed = Sha256Writer::new(BufWriter::with_capacity(1 << 20, file));
            let hashed = write_compressed_tar(tar_format, &tree, mtime, hashed, out)?;
            let (buffered, sha256, size) = hashed.finish();
            let file = buffered
                .into_inner()
                .map_err(|err| write_err(err.into_error()))?;
            file.sync_all().map_err(write_err)?;
            Ok(Written { size, sha256 })
        }
    }
}

/// The entries with their parent directories, sorted by path.
struct Tree<'a> {
    nodes: BTreeMap<String, Option<&'a Entry>>,
}

impl<'a> Tree<'a> {
    fn new(entries: &'a [Entry]) -> Result<Self, Error> {
        let mut nodes: BTreeMap<String, Option<&Entry>> = BTreeMap::new();
        for entry in entries {
            validate_path(&entry.path)?;
            let duplicate = || Error::DuplicatePath {
                path: entry.path.clone(),
            };
            let mut parent = String::new();
            let parts: Vec<&str> = entry.path.split('/').collect();
            for part in &parts[..parts.len() - 1] {
                parent.push_str(part);
                if nodes.contains_key(&parent) {
                    // A file of that name is already listed.
                    return Err(duplicate());
                }
                parent.push('/');
                nodes.insert(parent.clone(), None);
            }
            if nodes.contains_key(&format!("{}/", entry.path))
                || nodes.insert(entry.path.clone(), Some(entry)).is_some()
            {
                return Err(duplicate());
            }
        }
        Ok(Tree { nodes })
    }
}
/// The mode of a symbolic link, as `ln -s` makes them on Linux and `git archive` stores them.
const LINK_MODE: u32 = 0o777;

fn mode(executable: bool) -> u32 {
    if executable { 0o755 } else { 0o644 }
}

fn write_compressed_tar<W: Write>(
    format: ArchiveFormat,
    tree: &Tree<'_>,
    mtime: u64,
    out: W,
    out_path: &Path,
) -> Result<W, Error> {
    let write_err = |source| Error::Write {
        path: out_path.to_owned(),
        source,
    };
    match format {
        ArchiveFormat::TarGz => {
            // GzBuilder writes mtime 0, no file name and OS "unknown" unless told otherwise.
            let encoder =
                flate2::GzBuilder::new().write(out, flate2::Compression::new(DEFLATE_LEVEL));
            let encoder = write_tar(tree, mtime, encoder, out_path)?;
            encoder.finish().map_err(write_err)
        }
        ArchiveFormat::TarXz => {
            let options = lzma_rust2::XzOptions::with_preset(XZ_PRESET);
            let encoder = lzma_rust2::XzWriter::new(out, options).map_err(write_err)?;
            let encoder = write_tar(tree, mtime, encoder, out_path)?;
            encoder.finish().map_err(write_err)
        }
        ArchiveFormat::TarZst => {
            let mut encoder = zstd::Encoder::new(out, ZSTD_LEVEL).map_err(write_err)?;
            encoder.include_checksum(true).map_err(write_err)?;
            let encoder = write_tar(tree, mtime, encoder, out_path)?;
            encoder.finish().map_err(write_err)
        }
        ArchiveFormat::Zip => unreachable!("zip archives are written by write_zip"),
    }
}

fn write_tar<W: Write>(tree: &Tree<'_>, mtime: u64, out: W, out_path: &Path) -> Result<W, Error> {
    let write_err = |source| Error::Write {
        path: out_path.to_owned(),
        source,
    };
    let mut builder = tar::Builder::new(out);
    for (path, entry) in &tree.nodes {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, io::empty())
                    .map_err(write_err)?;
            }
            Some(entry) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(mode(entry.executable));
                match &entry.source {
                    EntrySource::Symlink(target) => {
                        header.set_entry_type(tar::EntryType::Symlink);
                        header.set_mode(LINK_MODE);
                        header.set_size(0);
                        builder
                            .append_link(&mut header, path, target)
                            .map_err(write_err)?;
                    }
                    EntrySource::Bytes(bytes) => {
                        header.set_size(bytes.len() as u64);
                        builder
                            .append_data(&mut header, path, bytes.as_slice())
                            .map_err(write_err)?;
                    }
                    EntrySource::File(source) => {
                        let read_err = |err| Error::ReadSource {
                            path: source.clone(),
                            source: err,
                        };
                        let file = fs_err::File::open(source).map_err(read_err)?;
                        let len = file.metadata().map_err(read_err)?.len();
                        header.set_size(len);
                        // `take` keeps the header honest if the file grows while it is read;
                        // a file that shrinks makes the tar writer fail.
                        builder
                            .append_data(&mut header, path, io::Read::take(file, len))
                            .map_err(|err| {
                                if err.kind() == io::ErrorKind::UnexpectedEof {
                                    read_err(err)
                                } else {
                                    write_err(err)
                                }
                            })?;
                    }
                }
            }
        }
    }
    builder.into_inner().map_err(write_err)
}

/// Converts seconds since the Unix epoch to a zip (MS-DOS) time stamp, which can only hold
/// 1980 to 2107, in steps of two seconds.
fn zip_time(mtime: u64) -> zip::DateTime {
    let civil = i64::try_from(mtime)
        .ok()
        .and_then(|seconds| jiff::Timestamp::from_second(seconds).ok())
        .map(|time| time.to_zoned(jiff::tz::TimeZone::UTC).datetime());
    let clamped = match civil {
        Some(t) if t.year() < 1980 => zip::DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0),
        Some(t) if t.year() <= 2107 => zip::DateTime::from_date_and_time(
            t.year() as u16,
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
        ),
        _ => zip::DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58),
    };
    clamped.unwrap_or_default()
}

fn write_zip(
    tree: &Tree<'_>,
    mtime: u64,
    file: std::fs::File,
    out_path: &Path,
) -> Result<(), Error> {
    let write_err = |source| Error::Write {
        path: out_path.to_owned(),
        source,
    };
    let zip_err = |err: zip::result::ZipError| write_err(io::Error::other(err));
    let time = zip_time(mtime);
    let options = |executable: bool, large: bool| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(i64::from(DEFLATE_LEVEL)))
            .last_modified_time(time)
            .unix_permissions(mode(executable))
            .large_file(large)
    };
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    for (path, entry) in &tree.nodes {
        match entry {
            None => zip
                .add_directory(path.as_str(), options(true, false))
                .map_err(zip_err)?,
            Some(entry) => match &entry.source {
                EntrySource::Symlink(target) => zip
                    .add_symlink(
                        path.as_str(),
                        target.as_str(),
                        options(false, false).unix_permissions(LINK_MODE),
                    )
                    .map_err(zip_err)?,
                EntrySource::Bytes(bytes) => {
                    zip.start_file(path.as_str(), options(entry.executable, false))
                        .map_err(zip_err)?;
                    zip.write_all(bytes).map_err(write_err)?;
                }
                EntrySource::File(source) => {
                    let read_err = |err| Error::ReadSource {
                        path: source.clone(),
                        source: err,
                    };
                    let mut input = fs_err::File::open(source).map_err(read_err)?;
                    let len = input.metadata().map_err(read_err)?.len();
                    zip.start_file(
                        path.as_str(),
                        options(entry.executable, len >= u32::MAX as u64),
                    )
                    .map_err(zip_err)?;
                    copy_reporting_side(&mut input, &mut zip, source, out_path)?;
                }
            },
        }
    }
    let buffered = zip.finish().map_err(zip_err)?;
    let file = buffered
        .into_inner()
        .map_err(|err| write_err(err.into_error()))?;
    file.sync_all().map_err(write_err)
}

/// `io::copy`, but an error says whether reading the source or writing the archive failed.
fn copy_reporting_side(
    input: &mut impl io::Read,
    output: &mut impl Write,
    source: &Path,
    out_path: &Path,
) -> Result<(), Error> {
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = input.read(&mut buffer).map_err(|err| Error::ReadSource {
            path: source.to_owned(),
            source: err,
        })?;
        if n == 0 {
            return Ok(());
        }
        output.write_all(&buffer[..n]).map_err(|err| Error::Write {
            path: out_path.to_owned(),
            source: err,
        })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_time_is_clamped_to_what_dos_time_holds() {
        assert_eq!(
            zip_time(0),
            zip::DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            zip_time(u64::MAX),
            zip::DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap()
        );
        let t = zip_time(1_709_208_000); // 2024-02-29 12:00:00 UTC, a leap day
        assert_eq!((t.year(), t.month(), t.day(), t.hour()), (2024, 2, 29, 12));
        let t = zip_time(1_700_000_000); // 2023-11-14 22:13:20 UTC
        assert_eq!((t.year(), t.month(), t.day()), (2023, 11, 14));
        assert_eq!((t.hour(), t.minute(), t.second()), (22, 13, 20));
    }

    #[test]
    fn bad_paths_are_refused() {
        for path in ["", "/abs", "a/../b", "a//b", "./a", "a\\b", "a/"] {
            let entries = [Entry::bytes(path, vec![], false)];
            assert!(
                matches!(Tree::new(&entries), Err(Error::InvalidPath { .. })),
                "{path:?}"
            );
        }
    }

    #[test]
    fn duplicate_and_file_directory_clashes_are_refused() {
        let twice = [
            Entry::bytes("a/b", vec![], false),
            Entry::bytes("a/b", vec![], false),
        ];
        assert!(matches!(
            Tree::new(&twice),
            Err(Error::DuplicatePath { .. })
        ));
        let clash = [
            Entry::bytes("a", vec![], false),
            Entry::bytes("a/b", vec![], false),
        ];
        assert!(matches!(
            Tree::new(&clash),
            Err(Error::DuplicatePath { .. })
        ));
        let clash = [
            Entry::bytes("a/b", vec![], false),
            Entry::bytes("a", vec![], false),
        ];
        assert!(matches!(
            Tree::new(&clash),
            Err(Error::DuplicatePath { .. })
        ));
    }

    #[test]
    fn parents_get_directory_entries_in_sorted_order() {
        let entries = [
            Entry::bytes("top/z", vec![], false),
            Entry::bytes("top/doc/a.md", vec![], false),
        ];
        let tree = Tree::new(&entries).unwrap();
        let paths: Vec<_> = tree.nodes.keys().cloned().collect();
        assert_eq!(paths, ["top/", "top/doc/", "top/doc/a.md", "top/z"]);
    }
}
