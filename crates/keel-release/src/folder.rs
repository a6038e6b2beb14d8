//! A release folder: the output of `keel release`, its manifest read and parsed once, and
//! the checks every part of keel asks of its files (present, with the listed size and sha256;
//! signed, with the release's trusted comments). verify, merge, notes, the rehearsal report
//! and images all start here, and this module depends on none of them.

use std::path::{Path, PathBuf};

use keel_schema::{MANIFEST_FILE_NAME, Manifest};
use keel_verify::minisign::PublicKey;

use crate::Error;
use crate::files::trusted_comment;

/// A release folder with its manifest.
#[derive(Debug, Clone)]
pub struct ReleaseFolder {
    dir: PathBuf,
    manifest: Manifest,
}

impl ReleaseFolder {
    /// Reads the manifest of the release in `dir` ([`Error::NotARelease`] without one).
    pub fn open(dir: &Path) -> Result<ReleaseFolder, Error> {
        Ok(ReleaseFolder {
            dir: dir.to_owned(),
            manifest: read_manifest(dir)?,
        })
    }

    /// [`ReleaseFolder::open`], then checks that every file the manifest lists is there with
    /// its size and sha256 (a partial release before a merge, a release before its images).
    pub fn open_checked(dir: &Path) -> Result<ReleaseFolder, Error> {
        Ok(ReleaseFolder {
            dir: dir.to_owned(),
            manifest: read_partial(dir)?,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The path of the release file `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The manifest, given up.
    pub fn into_manifest(self) -> Manifest {
        self.manifest
    }
}

/// Reads the manifest of the release in `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, Error> {
    let path = dir.join(MANIFEST_FILE_NAME);
    let text = fs_err::read_to_string(&path).map_err(|source| Error::NotARelease {
        dir: dir.to_owned(),
        source,
    })?;
    Manifest::from_json(&text).map_err(|source| Error::Manifest { path, source })
}

/// Reads a partial release and checks that every file it lists is there, intact.
pub fn read_partial(dir: &Path) -> Result<Manifest, Error> {
    let manifest = read_manifest(dir)?;
    for (name, artifact) in &manifest.artifacts {
        let file = dir.join(name);
        match check_artifact(&file, artifact) {
            Ok(()) => {}
            Err(Mismatch::Missing) => {
                return Err(Error::Read {
                    path: file,
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            Err(Mismatch::Unreadable(err)) => return Err(err.into()),
            Err(Mismatch::Content { size, sha256 }) => {
                return Err(Error::PartialMismatch {
                    path: file,
                    size,
                    sha256,
                    expected_size: artifact.size,
                    expected_sha256: artifact.sha256.clone(),
                });
            }
        }
    }
    Ok(manifest)
}

/// How a file differs from what its manifest says.
pub(crate) enum Mismatch {
    /// It is not there.
    Missing,
    /// It cannot be read.
    Unreadable(keel_verify::Error),
    /// Its size or its sha256 differs.
    Content {
        /// Its size.
        size: u64,
        /// Its sha256.
        sha256: String,
    },
}

/// Checks one file against its manifest entry: present, readable, with the listed size and
/// sha256. Both `verify` and `merge` ask this one question.
pub(crate) fn check_artifact(
    path: &Path,
    artifact: &keel_schema::Artifact,
) -> Result<(), Mismatch> {
    match keel_verify::sha256_file(path) {
        Err(_) if !path.exists() => Err(Mismatch::Missing),
        Err(err) => Err(Mismatch::Unreadable(err)),
        Ok((digest, size)) if size != artifact.size || digest.to_hex() != artifact.sha256 => {
            Err(Mismatch::Content {
                size,
                sha256: digest.to_hex(),
            })
        }
        Ok(_) => Ok(()),
    }
}

/// The minisign signature `dir/signature` of `dir/signed` is there, verifies with `key`, and
/// carries the trusted comment the release gives that file; else what is wrong.
pub(crate) fn signature_holds(
    dir: &Path,
    key: &PublicKey,
    signed: &str,
    signature: &str,
    manifest: &Manifest,
) -> Result<(), String> {
    let path = dir.join(signature);
    if !path.exists() {
        return Err(format!("{signed} is not signed"));
    }
    let sig = keel_verify::minisign::verify_file(key, &dir.join(signed), &path)
        .map_err(|err| describe(&err))?;
    let expected = trusted_comment(manifest, signed);
    if sig.trusted_comment == expected {
        Ok(())
    } else {
        Err(format!(
            "the trusted comment is `{}`, expected `{expected}`",
            sig.trusted_comment
        ))
    }
}

/// An error and its causes, on one line.
pub(crate) fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
