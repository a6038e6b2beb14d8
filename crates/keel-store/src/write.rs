//! How a store reaches the disk: one publisher at a time, and every file renamed into place
//! whole, so that a reader (or a publisher killed part way) never sees half a file.

use std::path::Path;

use crate::{Error, METADATA_DIR, TARGETS_DIR};

/// The lock file in a store's folder that one publisher holds while it writes.
pub const LOCK_FILE_NAME: &str = ".keel-publish.lock";

/// A store's publisher lock, released when dropped (or when the process ends, however it
/// ends: the operating system drops the lock with the file).
#[derive(Debug)]
pub(crate) struct Lock {
    _file: std::fs::File,
}

/// Takes the store's lock, creating the store's folder if needed; fails with [`Error::Busy`]
/// when another publisher holds it (after [`keel_fs::LOCK_GRACE`]).
pub(crate) fn lock(store: &Path) -> Result<Lock, Error> {
    keel_fs::create_dir(store)?;
    match keel_fs::lock_within(&store.join(LOCK_FILE_NAME), keel_fs::LOCK_GRACE)? {
        Some(file) => Ok(Lock { _file: file }),
        None => Err(Error::Busy {
            store: store.to_owned(),
        }),
    }
}

/// Replaces `metadata/<name>` with `bytes`: written beside it, flushed, renamed, the folder
/// flushed.
pub(crate) fn metadata_file(store: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    Ok(keel_fs::write_atomic(
        &store.join(METADATA_DIR).join(name),
        bytes,
        None,
    )?)
}

/// Copies a release file to `targets/<stored>` (its consistent-snapshot name, which holds its
/// sha256, so a file already there is that file and is kept).
pub(crate) fn target_file(store: &Path, source: &Path, stored: &str) -> Result<(), Error> {
    let targets = store.join(TARGETS_DIR);
    let dest = targets.join(stored);
    if dest.is_file() {
        return Ok(());
    }
    keel_fs::create_dir(&targets)?;
    keel_fs::copy_atomic(source, &dest, None)?;
    Ok(())
}

/// Whether an archive's name is one plain file name (no folder, no leading dot).
pub(crate) fn plain_file_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

/// Kills the process at a named point of a publish when `KEEL_CRASH_AT` names it: the crash
/// tests' way to stop a publisher at every step.
#[cfg(feature = "crash-points")]
pub(crate) fn crash_point(name: &str) {
    if std::env::var("KEEL_CRASH_AT").is_ok_and(|at| at == name) {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
        std::process::abort();
    }
}

#[cfg(not(feature = "crash-points"))]
pub(crate) fn crash_point(_name: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_archive_names() {
        assert!(plain_file_name("app-1.0.0-x86_64-unknown-linux-gnu.tar.gz"));
        for bad in ["", ".hidden", "../x", "a/b", "a\\b", ".."] {
            assert!(!plain_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_second_publisher_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let held = lock(&store).unwrap();
        let err = lock(&store).unwrap_err();
        assert!(matches!(err, Error::Busy { .. }), "{err}");
        assert!(err.to_string().contains("another `keel publish`"), "{err}");
        drop(held);
        lock(&store).unwrap();
    }
}
