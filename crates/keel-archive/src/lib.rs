//! Reproducible release archives: `tar.gz`, `tar.xz`, `tar.zst` and `zip`, and their safe
//! extraction ([`extract`]).
//!
//! [`write_archive`] turns a list of [`Entry`] values into an archive whose bytes depend only on
//! the entries' paths, contents (or link targets) and executable bits and on the given
//! modification time: entries are sorted, every parent directory gets an entry of its own,
//! owners are uid/gid 0 without names, modes are normalised (`0755` for directories and
//! executables, `0644` otherwise, `0777` for links), and compressed streams carry no time or
//! file name. The same inputs give the same bytes on any
//! machine, which is what lets two release runs be compared byte for byte.
//!
//! Tar archives are hashed while they are written, so packaging reads each input once and
//! writes each output once.
//!
//! ```
//! use keel_archive::{Entry, write_archive};
//! use keel_schema::ArchiveFormat;
//! let dir = tempfile::tempdir().unwrap();
//! let out = dir.path().join("demo.tar.gz");
//! let entries = vec![Entry::bytes("demo/hello.txt", b"hello\n".to_vec(), false)];
//! let written = write_archive(ArchiveFormat::TarGz, &entries, 1_700_000_000, &out).unwrap();
//! assert_eq!(written.size, std::fs::metadata(&out).unwrap().len());
//! ```
#![deny(missing_docs)]

mod extract;
#[cfg(feature = "patch")]
mod patch;
#[cfg(feature = "write")]
mod write;

pub use extract::{extract, extract_tar, supports};
#[cfg(all(feature = "patch", feature = "write"))]
pub use patch::make_patch;
#[cfg(feature = "write")]
pub use patch::tar_stream;
#[cfg(feature = "patch")]
pub use patch::{PATCH_FORMAT, apply_patch};
#[cfg(feature = "write")]
pub use write::{Entry, EntrySource, Written, write_archive};

use std::io;
use std::path::PathBuf;

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An entry's path is not a clean relative path.
    #[error("`{path}` cannot be stored in an archive: {reason}")]
    InvalidPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two entries have the same path, or one is both a file and a directory.
    #[error("`{path}` is listed twice in the archive")]
    DuplicatePath {
        /// The path given twice.
        path: String,
    },
    /// An entry's source file could not be read.
    #[error("could not read {}", path.display())]
    ReadSource {
        /// The source file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An archive entry would write outside the destination, or is not a plain file or folder.
    #[error("refusing to extract `{entry}` from {}: {reason}", archive.display())]
    UnsafeEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's path as stored.
        entry: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The archive's contents exceed the size cap.
    #[error("{} holds more than the size limit allows", archive.display())]
    TooLarge {
        /// The archive.
        archive: PathBuf,
    },
    /// The archive's format was left out of this build (a feature of keel-archive).
    #[error("{} is a {format} archive, and this program was built without {format} support", archive.display())]
    UnsupportedFormat {
        /// The archive.
        archive: PathBuf,
        /// Its format.
        format: keel_schema::ArchiveFormat,
    },
    /// A patch could not be made or applied (a wrong base, or a damaged patch).
    #[error("could not {what}")]
    Patch {
        /// What was being done.
        what: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The archive could not be written.
    #[error("could not write {}", path.display())]
    Write {
        /// The archive being written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Checks that `path` is a name an archive entry may have: relative, `/`-separated, no `.`,
/// `..` or empty part, no backslash, `:` or control character (names that would leave the
/// destination, or mean a drive or a stream on Windows, when extracted).
pub fn validate_path(path: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if path.is_empty() {
        return Err(invalid("the path is empty"));
    }
    if path.starts_with('/') {
        return Err(invalid("the path is absolute"));
    }
    if path.contains('\\') || path.contains('\0') {
        return Err(invalid("the path contains a backslash or a NUL byte"));
    }
    // `C:x`, `C:/x` and `name:stream` mean a drive or an alternate data stream on Windows,
    // where `Path::join` would take them out of the destination.
    if path.contains(':') {
        return Err(invalid("the path contains `:` (a Windows drive or stream)"));
    }
    if path.chars().any(char::is_control) {
        return Err(invalid("the path contains a control character"));
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(invalid("the path has an empty, `.` or `..` part"));
    }
    Ok(())
}
