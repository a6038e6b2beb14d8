//! Delta-update patches: beside each new `tar.*` archive, one patch from each of the latest
//! earlier versions of the same app and target, so that an install of one of those versions
//! downloads a few percent of the archive.
//!
//! A patch's base is the earlier release's executables as an install holds them (read in the
//! order of their file names, concatenated); its output is the new archive's uncompressed tar
//! stream. See [`keel_schema::store::StorePatch`].

use std::path::{Path, PathBuf};

use keel_schema::store::{STORE_CUSTOM_KEY, StorePatch, StoreTarget};
use keel_tuf::metadata::{TargetFile, Targets};

use crate::{Error, TARGETS_DIR};

/// How many earlier versions get a patch to each new archive, unless told otherwise.
pub const DEFAULT_PATCH_VERSIONS: usize = 3;
/// The zstd level patches are made at: patches are made once and downloaded many times.
const PATCH_LEVEL: i32 = 19;
/// The most an archive may unpack to, for patching.
const MAX_UNPACKED: u64 = 4 << 30;

/// One patch made, ready to be written as a target.
pub(crate) struct Patch {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) described: StorePatch,
}

fn archive_err(what: &'static str, path: &Path) -> impl FnOnce(keel_archive::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Patch {
        what,
        path,
        source: Box::new(source),
    }
}

/// The executables of a release, as an install holds them: read from its archive, ordered
/// by file name and concatenated.
fn base_of(archive: &Path, described: &StoreTarget, work: &Path) -> Result<Option<Vec<u8>>, Error> {
    let dir = work.join("base");
    keel_fs::remove_dir(&dir)?;
    keel_archive::extract(described.format, archive, &dir, MAX_UNPACKED).map_err(archive_err(
        "unpack an earlier release to patch from",
        archive,
    ))?;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for executable in &described.executables {
        let Some(name) = Path::new(executable).file_name() else {
            return Ok(None);
        };
        files.push((name.to_string_lossy().into_owned(), dir.join(executable)));
    }
    if files.is_empty() {
        return Ok(None);
    }
    files.sort();
    // An install keeps one file per name: two executables with one name are no base.
    if files.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return Ok(None);
    }
    let mut base = Vec::new();
    for (_, path) in files {
        match fs_err::read(&path) {
            Ok(bytes) => base.extend_from_slice(&bytes),
            Err(_) => return Ok(None),
        }
    }
    keel_fs::remove_dir(&dir)?;
    Ok(Some(base))
}

/// The patches to `archive` (target `name`, described by `described`) from the `keep` latest
/// earlier versions of the same app and target that `existing` lists, written into `work`.
/// A zip archive gets none (its entries are compressed one by one), and neither does a
/// version whose patch would not be smaller than the archive.
pub(crate) fn make(
    store: &Path,
    existing: &Targets,
    name: &str,
    archive: &Path,
    described: &StoreTarget,
    keep: usize,
    work: &Path,
) -> Result<Vec<Patch>, Error> {
    let Ok(version) = semver::Version::parse(&described.version) else {
        return Ok(Vec::new());
    };
    if keep == 0 {
        return Ok(Vec::new());
    }
    // The latest earlier versions, one archive each (any format: the base is what an
    // install holds, whatever it was installed from).
    let mut earlier: Vec<(semver::Version, String, StoreTarget, &TargetFile)> = Vec::new();
    for (target_name, target) in &existing.targets {
        let Some(old) = target
            .custom
            .as_ref()
            .and_then(|custom| custom.get(STORE_CUSTOM_KEY))
            .and_then(|v| serde_json::from_value::<StoreTarget>(v.clone()).ok())
        else {
            continue;
        };
        let Ok(old_version) = semver::Version::parse(&old.version) else {
            continue;
        };
        if old.app != described.app || old.target != described.target || old_version >= version {
            continue;
        }
        if earlier.iter().any(|(v, ..)| *v == old_version) {
            continue;
        }
        earlier.push((old_version, target_name.clone(), old, target));
    }
    earlier.sort_by(|a, b| b.0.cmp(&a.0));
    earlier.truncate(keep);

    if earlier.is_empty() {
        return Ok(Vec::new());
    }
    let Some(output) = keel_archive::tar_stream(described.format, archive, MAX_UNPACKED)
        .map_err(archive_err("read the archive to patch", archive))?
    else {
        return Ok(Vec::new());
    };
    let archive_length = fs_err::metadata(archive)
        .map_err(|source| Error::Io {
            what: "read",
            path: archive.to_owned(),
            source,
        })?
        .len();
    let output_sha256 = keel_verify::sha256_bytes(&output).to_hex();
    let mut patches = Vec::new();
    for (old_version, old_name, old, target) in earlier {
        let Some(sha256) = target.hashes.get("sha256") else {
            continue;
        };
        let stored = store.join(TARGETS_DIR).join(format!("{sha256}.{old_name}"));
        // A store fetched without its target files (metadata only) has no base to patch from.
        if !stored.is_file() {
            continue;
        }
        let Some(base) = base_of(&stored, &old, work)? else {
            continue;
        };
        let patch = keel_archive::make_patch(&base, &output, PATCH_LEVEL)
            .map_err(archive_err("make a patch to", archive))?;
        if patch.len() as u64 >= archive_length {
            continue;
        }
        let patch_name = format!("{name}.from-{old_version}.patch");
        let path = work.join(&patch_name);
        fs_err::write(&path, &patch).map_err(|source| Error::Io {
            what: "write",
            path: path.clone(),
            source,
        })?;
        patches.push(Patch {
            name: patch_name,
            path,
            described: StorePatch {
                archive: name.to_owned(),
                from_version: old_version.to_string(),
                format: keel_archive::PATCH_FORMAT.to_owned(),
                base_sha256: keel_verify::sha256_bytes(&base).to_hex(),
                base_length: base.len() as u64,
                output_sha256: output_sha256.clone(),
                output_length: output.len() as u64,
            },
        });
    }
    Ok(patches)
}
