//! Crash-safe file operations, shared by every part of keel that writes files.
//!
//! Every replacement follows one recipe: the new contents go to a temporary file in the same
//! folder, are flushed to disk, renamed over the old file, and the folder is flushed so that
//! the rename itself survives a power cut. A crash at any instant leaves the old file or the
//! new one, never half of one, and the path is never absent.
//!
//! - [`write_atomic`] replaces a file with bytes; [`copy_atomic`] with another file's contents,
//!   returning their sha256; [`replace_executable`] does the same for a program that may be
//!   running (an update swaps binaries this way; on Windows the running file is moved aside).
//! - [`write_new`] writes a file that must not exist yet, flushed (for files in a staging
//!   folder, which is itself moved into place whole by [`replace_dir`]).
//! - [`create_dir`], [`remove_dir`] and [`sync_dir`] change folders durably.
//! - [`try_lock`] takes a lock file, for the one writer of an install or a store.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("receipt.json");
//! keel_fs::write_atomic(&path, b"{}", None).unwrap();
//! keel_fs::write_atomic(&path, b"{\"v\":2}", None).unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"{\"v\":2}");
//! ```
//!
//! This crate is shared with the updater apps embed: it depends only on `fs-err` and keel's
//! checksum crate, and never prints.
#![deny(missing_docs)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use keel_verify::{Sha256Digest, Sha256Writer};

/// A file operation that failed, with the path it failed on.
#[derive(Debug, thiserror::Error)]
#[error("could not {op} {}", path.display())]
pub struct Error {
    /// What was being done (`write`, `replace`, `flush the folder`, ...).
    pub op: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

fn fail(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error {
        op,
        path,
        source: strip_path(source),
    }
}

/// `fs-err` puts the path into its messages; [`Error`] names it already, so only the
/// operating system's own message is kept.
fn strip_path(err: std::io::Error) -> std::io::Error {
    if err.get_ref().is_none() {
        return err;
    }
    let kind = err.kind();
    match err.into_inner() {
        Some(inner) => match inner.source() {
            Some(cause) => std::io::Error::new(kind, cause.to_string()),
            None => std::io::Error::new(kind, inner),
        },
        None => std::io::Error::from(kind),
    }
}

/// The folder holding `path` (`.` for a bare file name).
pub fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Flushes a folder's entries (new names, renames, removals) to disk. Does nothing where
/// folders cannot be opened as files (Windows).
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    fs_err::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(fail("flush the folder", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The name beside `path` where its replacement is prepared. One name per file, so a
/// replacement that a crash interrupted is simply overwritten by the next one.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent(path).join(format!(".{name}.keel-new"))
}

/// Creates the temporary file beside a file being replaced. A stale one a crash left (or
/// anything else at that name, a symbolic link included) is removed first, and the new one is
/// created exclusively, so the write can never land anywhere but in a new file.
fn create_temp(temp: &Path) -> Result<fs_err::File, Error> {
    remove_if_there(temp)?;
    fs_err::File::create_new(temp).map_err(fail("create", temp))
}

/// Removes the file at `path`; a path with nothing there is not an error.
pub fn remove_if_there(path: &Path) -> Result<(), Error> {
    match fs_err::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(fail("remove", path)(err)),
    }
}

/// Sets Unix permission bits; does nothing elsewhere.
pub fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(fail("set the permissions of", path))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The Unix permission bits of an existing file (`None` elsewhere).
pub fn mode_of(path: &Path) -> Result<Option<u32>, Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = fs_err::metadata(path).map_err(fail("read", path))?;
        Ok(Some(metadata.permissions().mode() & 0o7777))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Replaces `path` with `contents` atomically, with permission bits `mode` (Unix) when given.
pub fn write_atomic(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<(), Error> {
    let temp = temp_beside(path);
    let result = (|| {
        let mut file = create_temp(&temp)?;
        if let Some(mode) = mode {
            set_mode(&temp, mode)?;
        }
        file.write_all(contents).map_err(fail("write", &temp))?;
        file.sync_all().map_err(fail("flush", &temp))
    })();
    if let Err(err) = result {
        let _ = fs_err::remove_file(&temp);
        return Err(err);
    }
    fs_err::rename(&temp, path).map_err(fail("replace", path))?;
    sync_dir(parent(path))
}

/// Copies `from` over `to` atomically (the one rename is the only moment `to` changes), with
/// permission bits `mode` when given; returns the sha256 of what was copied.
pub fn copy_atomic(from: &Path, to: &Path, mode: Option<u32>) -> Result<Sha256Digest, Error> {
    let (temp, digest) = copy_beside(from, to, mode)?;
    fs_err::rename(&temp, to).map_err(fail("replace", to))?;
    sync_dir(parent(to))?;
    Ok(digest)
}

/// Copies `from` to the temporary name beside `to`, flushed; returns that name and the
/// sha256 of what was copied. On failure nothing is left at the temporary name.
fn copy_beside(
    from: &Path,
    to: &Path,
    mode: Option<u32>,
) -> Result<(PathBuf, Sha256Digest), Error> {
    let temp = temp_beside(to);
    let result = (|| {
        let mut input = fs_err::File::open(from).map_err(fail("read", from))?;
        let mut output = create_temp(&temp)?;
        let mut hashed = Sha256Writer::new(&mut output);
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = input.read(&mut buffer).map_err(fail("read", from))?;
            if n == 0 {
                break;
            }
            hashed
                .write_all(&buffer[..n])
                .map_err(fail("write", &temp))?;
        }
        let (_, digest, _) = hashed.finish();
        if let Some(mode) = mode {
            set_mode(&temp, mode)?;
        }
        output.sync_all().map_err(fail("flush", &temp))?;
        Ok(digest)
    })();
    match result {
        Ok(digest) => Ok((temp, digest)),
        Err(err) => {
            let _ = fs_err::remove_file(&temp);
            Err(err)
        }
    }
}

/// The prefix of the names an executable replaced while it ran is moved aside to (Windows).
const REPLACED_MARK: &str = ".keel-replaced-";

/// Replaces the executable `to` with a copy of `from` (mode 0755 on Unix), even while `to`
/// runs; returns the sha256 of what was copied.
///
/// On Unix this is [`copy_atomic`]: a running program keeps its old file open. Windows
/// refuses to replace or delete a running `.exe`, but lets it be renamed: when the rename
/// over it is refused, the running file is moved aside (to `.<name>.keel-replaced-<n>` in its
/// folder), the copy renamed into place, and the old file removed later by
/// [`remove_replaced_executables`] once it no longer runs. Should the second rename fail, the
/// old file is moved back. (Windows code: compiled for `x86_64-pc-windows-msvc`, not run by
/// the tests, which run on Linux.)
pub fn replace_executable(from: &Path, to: &Path) -> Result<Sha256Digest, Error> {
    #[cfg(not(windows))]
    {
        copy_atomic(from, to, Some(0o755))
    }
    #[cfg(windows)]
    {
        let (temp, digest) = copy_beside(from, to, None)?;
        if let Err(refused) = fs_err::rename(&temp, to) {
            if refused.kind() != std::io::ErrorKind::PermissionDenied || !to.exists() {
                let _ = fs_err::remove_file(&temp);
                return Err(fail("replace", to)(refused));
            }
            let aside = replaced_name(to);
            if let Err(err) = fs_err::rename(to, &aside) {
                let _ = fs_err::remove_file(&temp);
                return Err(fail("move aside", to)(err));
            }
            if let Err(err) = fs_err::rename(&temp, to) {
                let _ = fs_err::rename(&aside, to);
                let _ = fs_err::remove_file(&temp);
                return Err(fail("replace", to)(err));
            }
        }
        sync_dir(parent(to))?;
        Ok(digest)
    }
}

/// A free name beside `path` for the running file it replaces.
#[cfg(windows)]
fn replaced_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (0..10_000u32)
        .map(|n| parent(path).join(format!(".{name}{REPLACED_MARK}{n}")))
        .find(|candidate| !candidate.exists())
        .unwrap_or_else(|| {
            parent(path).join(format!(".{name}{REPLACED_MARK}{}", std::process::id()))
        })
}

/// Removes the executables [`replace_executable`] moved aside in `dir` that no longer run
/// (Windows); the ones still running stay for a later call. Returns how many were removed.
pub fn remove_replaced_executables(dir: &Path) -> usize {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with('.') && name.contains(REPLACED_MARK)
        })
        .filter(|entry| fs_err::remove_file(entry.path()).is_ok())
        .count()
}

/// Takes an exclusive lock on the file at `path` (created if missing) without waiting;
/// `None` when another process holds it. The lock lasts as long as the returned file and
/// ends with the process, however that ends.
pub fn try_lock(path: &Path) -> Result<Option<std::fs::File>, Error> {
    lock_within(path, std::time::Duration::ZERO)
}

/// How long keel's locks wait for a lock held for an instant (a forked child's copy, below)
/// before they answer that another process holds it.
pub const LOCK_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// [`try_lock`], trying again for up to `grace` while the lock is held. A lock is held by an
/// open file, and a process that forks (another thread of the same program starting a
/// command, say) gives its child a copy of every open file until the child runs the command:
/// for that instant the child holds a lock its parent has already let go of.
pub fn lock_within(
    path: &Path,
    grace: std::time::Duration,
) -> Result<Option<std::fs::File>, Error> {
    let file = fs_err::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(fail("open", path))?
        .into_file();
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < grace => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(err)) => return Err(fail("lock", path)(err)),
        }
    }
}

/// Writes a new file (it must not exist) and flushes it; returns the sha256 of its contents.
pub fn write_new(path: &Path, contents: &[u8]) -> Result<Sha256Digest, Error> {
    let mut file = fs_err::File::create_new(path).map_err(fail("create", path))?;
    file.write_all(contents).map_err(fail("write", path))?;
    file.sync_all().map_err(fail("flush", path))?;
    Ok(keel_verify::sha256_bytes(contents))
}

/// Creates a folder and its parents, and flushes the parent's entry.
pub fn create_dir(dir: &Path) -> Result<(), Error> {
    fs_err::create_dir_all(dir).map_err(fail("create", dir))?;
    sync_dir(parent(dir))
}

/// Creates a folder only its owner may enter (0700 on Unix), with any missing parents made
/// the same way, and flushes the parent; a folder already there is made private too.
pub fn create_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(fail("create", dir))?;
    set_mode(dir, 0o700)?;
    sync_dir(parent(dir))
}

/// Removes a folder and everything in it, if it exists, and flushes the parent.
pub fn remove_dir(dir: &Path) -> Result<(), Error> {
    match fs_err::remove_dir_all(dir) {
        Ok(()) => sync_dir(parent(dir)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(fail("remove", dir)(err)),
    }
}

/// Moves the folder `staging` to `out`, replacing what `out` held, in two renames: the old
/// folder aside, the new one in. When the second fails, the old folder is put back, so `out`
/// holds the old folder or the new one. Both must be in the same folder.
pub fn replace_dir(staging: &Path, out: &Path) -> Result<(), Error> {
    sync_dir(staging)?;
    let folder = parent(out);
    if out.exists() {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = (0..1000u32)
            .map(|n| folder.join(format!(".keel-old-{name}-{}-{n}", std::process::id())))
            .find(|candidate| !candidate.exists())
            .unwrap_or_else(|| folder.join(format!(".keel-old-{name}")));
        fs_err::rename(out, &old).map_err(fail("move aside", out))?;
        if let Err(err) = fs_err::rename(staging, out) {
            let _ = fs_err::rename(&old, out);
            return Err(fail("replace", out)(err));
        }
        fs_err::remove_dir_all(&old).map_err(fail("remove", &old))?;
    } else {
        fs_err::rename(staging, out).map_err(fail("create", out))?;
    }
    sync_dir(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_leaves_no_temporary_file_and_keeps_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"one", Some(0o600)).unwrap();
        write_atomic(&path, b"two", Some(0o600)).unwrap();
        assert_eq!(fs_err::read(&path).unwrap(), b"two");
        assert_eq!(mode_of(&path).unwrap().map(|m| m & 0o777), Some(0o600));
        let names: Vec<_> = fs_err::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f"]);
    }

    #[test]
    fn a_copy_returns_the_digest_of_what_it_copied() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        fs_err::write(&from, vec![5u8; 3 << 20]).unwrap();
        let digest = copy_atomic(&from, &dir.path().join("to"), Some(0o755)).unwrap();
        assert_eq!(digest, keel_verify::sha256_bytes(&vec![5u8; 3 << 20]));
        let err =
            copy_atomic(&dir.path().join("missing"), &dir.path().join("to"), None).unwrap_err();
        assert_eq!(err.op, "read");
        assert!(err.to_string().ends_with("missing"), "{err}");
        // The failed copy left the previous file and no temporary file.
        assert_eq!(fs_err::read(dir.path().join("to")).unwrap().len(), 3 << 20);
        assert!(!dir.path().join(".to.keel-new").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs_err::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".f.keel-new")).unwrap();
        write_atomic(&dir.path().join("f"), b"new", None).unwrap();
        assert_eq!(fs_err::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(fs_err::read_to_string(dir.path().join("f")).unwrap(), "new");
    }

    #[test]
    fn an_executable_is_replaced_while_it_runs_and_nothing_is_left_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("app");
        fs_err::write(&exe, "#!/bin/sh\nsleep 5\n").unwrap();
        set_mode(&exe, 0o755).unwrap();
        let mut running = std::process::Command::new(&exe).spawn().unwrap();
        let new = dir.path().join("new");
        fs_err::write(&new, "#!/bin/sh\necho new\n").unwrap();
        let digest = replace_executable(&new, &exe).unwrap();
        assert_eq!(digest, keel_verify::sha256_bytes(b"#!/bin/sh\necho new\n"));
        assert_eq!(fs_err::read(&exe).unwrap(), fs_err::read(&new).unwrap());
        #[cfg(unix)]
        assert_eq!(mode_of(&exe).unwrap(), Some(0o755));
        running.kill().unwrap();
        running.wait().unwrap();
        assert_eq!(remove_replaced_executables(dir.path()), 0);
        let mut names: Vec<_> = fs_err::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["app", "new"]);
    }

    #[test]
    fn replaced_executables_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join(".app.exe.keel-replaced-0"), "old").unwrap();
        fs_err::write(dir.path().join(".app.exe.keel-new"), "temp").unwrap();
        fs_err::write(dir.path().join("app.exe"), "new").unwrap();
        assert_eq!(remove_replaced_executables(dir.path()), 1);
        assert!(dir.path().join("app.exe").exists());
        assert!(dir.path().join(".app.exe.keel-new").exists());
        assert_eq!(remove_replaced_executables(&dir.path().join("missing")), 0);
    }

    #[test]
    fn write_new_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_new(&path, b"a").unwrap();
        let err = write_new(&path, b"b").unwrap_err();
        assert_eq!(err.source.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(fs_err::read(&path).unwrap(), b"a");
    }

    #[test]
    fn replace_dir_swaps_whole_folders() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let staging = dir.path().join(".staging");
        fs_err::create_dir(&staging).unwrap();
        fs_err::write(staging.join("a"), "1").unwrap();
        replace_dir(&staging, &out).unwrap();
        fs_err::create_dir(&staging).unwrap();
        fs_err::write(staging.join("b"), "2").unwrap();
        replace_dir(&staging, &out).unwrap();
        assert!(!out.join("a").exists());
        assert_eq!(fs_err::read_to_string(out.join("b")).unwrap(), "2");
        let names: Vec<_> = fs_err::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"]);
    }
}
