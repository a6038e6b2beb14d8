//! The output folder of a release, prepared in a staging folder beside it and moved into place
//! whole, so that a failure leaves the output folder exactly as it was.

use std::path::{Path, PathBuf};

use keel_schema::{MANIFEST_FILE_NAME, Manifest};
use keel_sign::SigningKey;

use crate::Error;

/// The folder a release is written to, and the staging folder it is prepared in.
pub(crate) struct Staging {
    out: PathBuf,
    staging: tempfile::TempDir,
}

impl Staging {
    /// Checks `out` may be replaced and creates the staging folder beside it, before anything
    /// is built, so that an unusable output folder fails fast. keel never replaces a folder it
    /// did not write (one that is not empty and has no manifest).
    pub(crate) fn prepare(out: PathBuf) -> Result<Staging, Error> {
        if out.exists() {
            if !out.is_dir() {
                return Err(Error::OutputIsFile { path: out });
            }
            let mut entries = fs_err::read_dir(&out).map_err(|source| Error::Read {
                path: out.clone(),
                source,
            })?;
            if entries.next().is_some() && !out.join(MANIFEST_FILE_NAME).is_file() {
                return Err(Error::OutputNotARelease { path: out });
            }
        }
        let parent = keel_fs::parent(&out).to_owned();
        let unwritable = |source| Error::OutputUnwritable {
            path: out.clone(),
            source,
        };
        fs_err::create_dir_all(&parent).map_err(unwritable)?;
        let staging = tempfile::Builder::new()
            .prefix(".keel-staging-")
            .tempdir_in(&parent)
            .map_err(unwritable)?;
        Ok(Staging { out, staging })
    }

    /// The staging folder, where every file is written.
    pub(crate) fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Writes the manifest (and its signature) last, then moves the staging folder into
    /// place, replacing the previous release; returns the output folder.
    pub(crate) fn finish(
        self,
        manifest: &Manifest,
        key: Option<&SigningKey>,
    ) -> Result<PathBuf, Error> {
        crate::files::write_manifest(self.path(), manifest, key)?;
        let staging = self.staging.keep();
        if let Err(err) = keel_fs::replace_dir(&staging, &self.out) {
            let _ = fs_err::remove_dir_all(&staging);
            return Err(err.into());
        }
        Ok(self.out)
    }
}
