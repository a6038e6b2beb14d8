//! File operations that survive a crash: every write goes to a temporary file in the same
//! folder, is flushed to disk, renamed into place, and the folder is flushed too.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::Error;

pub(crate) fn io_err(path: &Path, what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { what, path, source }
}

/// Flushes a folder's entries (new names, renames) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    fs_err::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir, "flush the folder"))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A name beside `path` for its replacement in progress.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent(path).join(format!(".{name}.keel-new"))
}

/// Replaces `path` with `contents` atomically.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<(), Error> {
    let temp = temp_beside(path);
    let write = || -> std::io::Result<()> {
        let mut file = fs_err::File::create(&temp)?;
        file.write_all(contents)?;
        set_mode(&temp, mode)?;
        file.sync_all()
    };
    write().map_err(io_err(&temp, "write"))?;
    fs_err::rename(&temp, path).map_err(io_err(path, "replace"))?;
    sync_dir(parent(path))
}

/// Copies `from` over `to` atomically (the one rename is the only moment `to` changes), and
/// returns the sha256 of what was copied.
pub(crate) fn copy_atomic(from: &Path, to: &Path, mode: Option<u32>) -> Result<String, Error> {
    let temp = temp_beside(to);
    let copy = || -> std::io::Result<String> {
        let mut input = fs_err::File::open(from)?;
        let mut output = fs_err::File::create(&temp)?;
        let mut hashed = keel_verify::Sha256Writer::new(&mut output);
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = input.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hashed.write_all(&buffer[..n])?;
        }
        let (_, digest, _) = hashed.finish();
        set_mode(&temp, mode)?;
        output.sync_all()?;
        Ok(digest.to_hex())
    };
    let digest = copy().map_err(io_err(&temp, "copy"))?;
    fs_err::rename(&temp, to).map_err(io_err(to, "replace"))?;
    sync_dir(parent(to))?;
    Ok(digest)
}

fn set_mode(path: &Path, mode: Option<u32>) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Creates a folder and its parents, flushing the parent's entry.
pub(crate) fn create_dir(dir: &Path) -> Result<(), Error> {
    fs_err::create_dir_all(dir).map_err(io_err(dir, "create"))?;
    sync_dir(parent(dir))
}

/// Removes a folder and everything in it, if it exists.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), Error> {
    match fs_err::remove_dir_all(dir) {
        Ok(()) => sync_dir(parent(dir)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(io_err(dir, "remove")(err)),
    }
}
