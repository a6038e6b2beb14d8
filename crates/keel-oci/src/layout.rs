//! OCI image layouts: in memory ([`Layout`]), as a folder, and as the tar files `skopeo`
//! reads (`oci-archive:`) and `docker load` reads (a layout with Docker's `manifest.json`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::json;

use crate::image::{Blob, Descriptor, Image, Index, canonical_json};
use crate::{Error, media};

/// The annotation naming an image of a layout (`oci:folder:<name>`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The most an OCI archive keel reads may hold.
pub const MAX_ARCHIVE_BYTES: u64 = 8 << 30;

/// An image layout: the top index and every blob.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// `index.json`.
    pub index: Index,
    /// Blobs by digest.
    pub blobs: BTreeMap<String, Blob>,
    /// Docker's `manifest.json` entries (config path, tags, layer paths), for `docker load`.
    docker: Vec<serde_json::Value>,
}

fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

impl Layout {
    /// An empty layout.
    pub fn new() -> Layout {
        Layout::default()
    }

    /// Adds a blob.
    pub fn add_blob(&mut self, blob: &Blob) {
        self.blobs
            .entry(blob.digest.clone())
            .or_insert_with(|| blob.clone());
    }

    /// Adds an image's blobs (not naming it in the index).
    pub fn add_image_blobs(&mut self, image: &Image) {
        for blob in image.blobs() {
            self.add_blob(blob);
        }
        self.add_blob(&image.manifest);
    }

    /// Names `blob` (a manifest or an index already added, or added now) in `index.json`,
    /// as `name`.
    pub fn name(&mut self, blob: &Blob, name: &str, platform: Option<&crate::Platform>) {
        self.add_blob(blob);
        let mut descriptor = blob.descriptor();
        descriptor.platform = platform.cloned();
        descriptor
            .annotations
            .insert(REF_NAME.to_owned(), name.to_owned());
        self.index.manifests.push(descriptor);
    }

    /// Lists `image` in Docker's `manifest.json` with `tags` (`app:1.2.0`), so that
    /// `docker load` reads the file.
    pub fn docker_tag(&mut self, image: &Image, tags: &[String]) {
        self.docker.push(json!({
            "Config": blob_path(&image.config.digest),
            "RepoTags": tags,
            "Layers": image.layers.iter().map(|layer| blob_path(&layer.digest)).collect::<Vec<_>>(),
        }));
    }

    /// The descriptor in `index.json` named `name`.
    pub fn named(&self, name: &str) -> Option<&Descriptor> {
        self.index
            .manifests
            .iter()
            .find(|d| d.annotations.get(REF_NAME).map(String::as_str) == Some(name))
    }

    /// The blob `digest`.
    pub fn blob(&self, digest: &str) -> Option<&Blob> {
        self.blobs.get(digest)
    }

    /// The files of the layout, by path, sorted.
    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        files.insert(
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        );
        files.insert("index.json".to_owned(), canonical_json(&self.index));
        if !self.docker.is_empty() {
            files.insert("manifest.json".to_owned(), canonical_json(&self.docker));
        }
        for (digest, blob) in &self.blobs {
            files.insert(blob_path(digest), blob.data.clone());
        }
        files
    }

    /// Writes the layout as a folder at `dir` (which must not exist).
    pub fn write_dir(&self, dir: &Path) -> Result<(), Error> {
        let write_err = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Write { path, source }
        };
        fs_err::create_dir(dir).map_err(write_err(dir))?;
        for (path, data) in self.files() {
            let file = dir.join(&path);
            if let Some(parent) = file.parent() {
                fs_err::create_dir_all(parent).map_err(write_err(parent))?;
            }
            fs_err::write(&file, data).map_err(write_err(&file))?;
        }
        Ok(())
    }

    /// The layout as an uncompressed tar, every entry stamped `mtime`, owned by root.
    pub fn to_tar(&self, mtime: u64) -> Result<Vec<u8>, Error> {
        let mut entries = Vec::new();
        for (path, data) in self.files() {
            entries.push(crate::layer::Entry::file(format!("/{path}"), data, 0o644));
        }
        crate::layer::tar(&entries, mtime)
    }

    /// Reads a layout from a tar written by [`Layout::to_tar`] (or by other tools): every
    /// blob's digest is checked.
    pub fn from_tar(path: &Path) -> Result<Layout, Error> {
        let bad = |reason: String| Error::BadLayout {
            path: path.to_owned(),
            reason,
        };
        let read_err = |source| Error::Read {
            path: path.to_owned(),
            source,
        };
        let file = fs_err::File::open(path).map_err(read_err)?;
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut total = 0u64;
        for entry in archive.entries().map_err(read_err)? {
            let mut entry = entry.map_err(read_err)?;
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let name = entry
                .path()
                .map_err(read_err)?
                .to_string_lossy()
                .into_owned();
            let name = name.trim_start_matches("./").to_owned();
            total += entry.size();
            if total > MAX_ARCHIVE_BYTES {
                return Err(Error::TooLarge {
                    what: path.display().to_string(),
                    limit: MAX_ARCHIVE_BYTES,
                });
            }
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(read_err)?;
            files.insert(name, data);
        }
        let index_bytes = files
            .remove("index.json")
            .ok_or_else(|| bad("it has no index.json".to_owned()))?;
        let index: Index = serde_json::from_slice(&index_bytes)
            .map_err(|err| bad(format!("index.json: {err}")))?;
        let docker = match files.remove("manifest.json") {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|err| bad(format!("manifest.json: {err}")))?,
            None => Vec::new(),
        };
        let mut layout = Layout {
            index,
            blobs: BTreeMap::new(),
            docker,
        };
        // Media types come from the descriptors that point at each blob.
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        let mut pending: Vec<Descriptor> = layout.index.manifests.clone();
        while let Some(descriptor) = pending.pop() {
            if types
                .insert(descriptor.digest.clone(), descriptor.media_type.clone())
                .is_some()
            {
                continue;
            }
            let data = files
                .get(&blob_path(&descriptor.digest))
                .ok_or_else(|| bad(format!("blob {} is missing", descriptor.digest)))?;
            let actual = crate::digest_of(data);
            if actual != descriptor.digest {
                return Err(Error::DigestMismatch {
                    what: format!("blob {} of {}", descriptor.digest, path.display()),
                    expected: descriptor.digest.clone(),
                    actual,
                });
            }
            if media::is_index(&descriptor.media_type) {
                let index: Index = serde_json::from_slice(data)
                    .map_err(|err| bad(format!("index {}: {err}", descriptor.digest)))?;
                pending.extend(index.manifests);
            } else if media::is_manifest(&descriptor.media_type) {
                let manifest: crate::image::Manifest = serde_json::from_slice(data)
                    .map_err(|err| bad(format!("manifest {}: {err}", descriptor.digest)))?;
                pending.push(manifest.config);
                pending.extend(manifest.layers);
            }
            layout.blobs.insert(
                descriptor.digest.clone(),
                Blob {
                    media_type: descriptor.media_type.clone(),
                    data: data.clone(),
                    digest: descriptor.digest.clone(),
                },
            );
        }
        Ok(layout)
    }

    /// The images under the descriptor `top` (an index or one manifest), with their
    /// platforms, in the index's order.
    pub fn images(
        &self,
        top: &Descriptor,
    ) -> Result<Vec<(Descriptor, crate::image::Manifest)>, Error> {
        let missing = |digest: &str| Error::BadLayout {
            path: "layout".into(),
            reason: format!("blob {digest} is missing"),
        };
        let blob = self.blob(&top.digest).ok_or_else(|| missing(&top.digest))?;
        let parse_manifest = |blob: &Blob| {
            serde_json::from_slice::<crate::image::Manifest>(&blob.data).map_err(|err| {
                Error::BadLayout {
                    path: "layout".into(),
                    reason: format!("manifest {}: {err}", blob.digest),
                }
            })
        };
        if media::is_index(&top.media_type) {
            let index: Index =
                serde_json::from_slice(&blob.data).map_err(|err| Error::BadLayout {
                    path: "layout".into(),
                    reason: format!("index {}: {err}", blob.digest),
                })?;
            index
                .manifests
                .into_iter()
                .map(|descriptor| {
                    let blob = self
                        .blob(&descriptor.digest)
                        .ok_or_else(|| missing(&descriptor.digest))?;
                    Ok((descriptor, parse_manifest(blob)?))
                })
                .collect()
        } else {
            Ok(vec![(top.clone(), parse_manifest(blob)?)])
        }
    }
}
