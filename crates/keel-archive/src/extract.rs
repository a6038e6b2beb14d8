//! Safe extraction: only regular files and folders, only clean relative paths, a cap on the
//! total size, and nothing written outside the destination.
//!
//! An archive entry that is absolute, has a `..` part, or is a symlink, a hard link or a
//! device is refused before anything of it is written: keel's own archives never hold such
//! entries, so one that does was not made by keel.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use keel_schema::ArchiveFormat;

use crate::{Error, validate_path};

/// Extracts `archive` (of `format`) into `dest`, which must not exist yet; at most `max_bytes`
/// of file contents. Returns the files written, relative to `dest`, `/`-separated.
pub fn extract(
    format: ArchiveFormat,
    archive: &Path,
    dest: &Path,
    max_bytes: u64,
) -> Result<Vec<String>, Error> {
    extract_as(Some(format), archive, dest, max_bytes)
}

/// Whether this build can extract archives of `format` (each format is a feature).
pub fn supports(format: ArchiveFormat) -> bool {
    match format {
        ArchiveFormat::TarGz => cfg!(feature = "tar-gz"),
        ArchiveFormat::TarXz => cfg!(feature = "tar-xz"),
        ArchiveFormat::TarZst => cfg!(feature = "tar-zst"),
        ArchiveFormat::Zip => cfg!(feature = "zip"),
    }
}

/// The tar stream inside a `tar.*` archive, decompressed as it is read; `None` for a zip.
/// A format this build lacks is refused.
pub(crate) fn tar_reader(
    format: ArchiveFormat,
    file: fs_err::File,
    archive: &Path,
) -> Result<Option<Box<dyn Read>>, Error> {
    if !supports(format) {
        return Err(Error::UnsupportedFormat {
            archive: archive.to_owned(),
            format,
        });
    }
    let reader: Option<Box<dyn Read>> = match format {
        #[cfg(feature = "tar-gz")]
        ArchiveFormat::TarGz => Some(Box::new(flate2::read::GzDecoder::new(io::BufReader::new(
            file,
        )))),
        #[cfg(feature = "tar-xz")]
        ArchiveFormat::TarXz => Some(Box::new(lzma_rust2::XzReader::new(
            io::BufReader::new(file),
            true,
        ))),
        #[cfg(feature = "tar-zst")]
        ArchiveFormat::TarZst => Some(Box::new(zstd::Decoder::new(file).map_err(|source| {
            Error::ReadSource {
                path: archive.to_owned(),
                source,
            }
        })?)),
        _ => {
            drop(file);
            None
        }
    };
    Ok(reader)
}

/// [`extract`] for an uncompressed tar file (a patched release's tar stream).
pub fn extract_tar(tar: &Path, dest: &Path, max_bytes: u64) -> Result<Vec<String>, Error> {
    extract_as(None, tar, dest, max_bytes)
}

fn extract_as(
    format: Option<ArchiveFormat>,
    archive: &Path,
    dest: &Path,
    max_bytes: u64,
) -> Result<Vec<String>, Error> {
    let read_err = |source| Error::ReadSource {
        path: archive.to_owned(),
        source,
    };
    fs_err::create_dir(dest).map_err(|source| Error::Write {
        path: dest.to_owned(),
        source,
    })?;
    let file = fs_err::File::open(archive).map_err(read_err)?;
    let mut sink = Sink {
        dest,
        archive,
        remaining: max_bytes,
        written: Vec::new(),
    };
    match format {
        None => sink.tar(io::BufReader::new(file))?,
        #[cfg(feature = "zip")]
        Some(ArchiveFormat::Zip) => sink.zip(file.into_file())?,
        Some(format) => match tar_reader(format, file, archive)? {
            Some(reader) => sink.tar(reader)?,
            None => {
                return Err(Error::UnsupportedFormat {
                    archive: archive.to_owned(),
                    format,
                });
            }
        },
    }
    Ok(sink.written)
}

/// The stream read past the cap.
#[derive(Debug)]
struct OverCap;

impl std::fmt::Display for OverCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the archive holds more than the size limit allows")
    }
}

impl std::error::Error for OverCap {}

/// A failure to read `archive`: [`Error::TooLarge`] when it is the cap's.
fn read_error(archive: &Path, source: io::Error) -> Error {
    match source.get_ref() {
        Some(inner) if inner.is::<OverCap>() => Error::TooLarge {
            archive: archive.to_owned(),
        },
        _ => Error::ReadSource {
            path: archive.to_owned(),
            source,
        },
    }
}

/// A reader that fails once more than `remaining` bytes were read through it.
struct Capped<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.remaining = (self.remaining)
            .checked_sub(n as u64)
            .ok_or_else(|| io::Error::other(OverCap))?;
        Ok(n)
    }
}

struct Sink<'a> {
    dest: &'a Path,
    archive: &'a Path,
    remaining: u64,
    written: Vec<String>,
}

impl Sink<'_> {
    fn refuse(&self, path: &str, reason: &'static str) -> Error {
        Error::UnsafeEntry {
            archive: self.archive.to_owned(),
            entry: path.to_owned(),
            reason,
        }
    }

    fn target(&self, path: &str) -> Result<PathBuf, Error> {
        let clean = path.trim_end_matches('/');
        validate_path(clean)
            .map_err(|_| self.refuse(path, "its path is absolute or leaves the archive"))?;
        Ok(self.dest.join(clean))
    }

    fn dir(&mut self, path: &str) -> Result<(), Error> {
        let target = self.target(path)?;
        fs_err::create_dir_all(&target).map_err(|source| Error::Write {
            path: target,
            source,
        })
    }

    fn file(&mut self, path: &str, executable: bool, mut data: impl Read) -> Result<(), Error> {
        let target = self.target(path)?;
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        let mut out = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|source| Error::Write {
                path: target.clone(),
                source,
            })?;
        // One byte more than allowed tells an oversized archive apart from one that fits.
        let copied = io::copy(&mut (&mut data).take(self.remaining + 1), &mut out)
            .map_err(|source| read_error(self.archive, source))?;
        if copied > self.remaining {
            return Err(Error::TooLarge {
                archive: self.archive.to_owned(),
            });
        }
        self.remaining -= copied;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if executable { 0o755 } else { 0o644 };
            fs_err::set_permissions(&target, std::fs::Permissions::from_mode(mode)).map_err(
                |source| Error::Write {
                    path: target.clone(),
                    source,
                },
            )?;
        }
        #[cfg(not(unix))]
        let _ = executable;
        out.sync_all().map_err(|source| Error::Write {
            path: target,
            source,
        })?;
        self.written.push(path.trim_end_matches('/').to_owned());
        Ok(())
    }

    fn tar(&mut self, reader: impl Read) -> Result<(), Error> {
        // Every decompressed byte counts against the cap, headers and long names included:
        // tar reads a PAX or GNU long-name header, and skips an entry's data, in whole.
        let capped = Capped {
            inner: reader,
            remaining: self.remaining,
        };
        let mut archive = tar::Archive::new(capped);
        let path_of_archive = self.archive;
        let entries = archive
            .entries()
            .map_err(|source| read_error(path_of_archive, source))?;
        for entry in entries {
            let entry = entry.map_err(|source| read_error(path_of_archive, source))?;
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            match entry.header().entry_type() {
                tar::EntryType::Directory => self.dir(&path)?,
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let executable = entry.header().mode().unwrap_or(0) & 0o111 != 0;
                    self.file(&path, executable, entry)?;
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    return Err(self.refuse(&path, "it is a link"));
                }
                _ => return Err(self.refuse(&path, "it is not a regular file or folder")),
            }
        }
        Ok(())
    }

    #[cfg(feature = "zip")]
    fn zip(&mut self, file: std::fs::File) -> Result<(), Error> {
        let zip_err = |archive: &Path| {
            let archive = archive.to_owned();
            move |err: zip::result::ZipError| Error::ReadSource {
                path: archive,
                source: io::Error::other(err),
            }
        };
        let mut zip = zip::ZipArchive::new(file).map_err(zip_err(self.archive))?;
        for index in 0..zip.len() {
            let entry = zip.by_index(index).map_err(zip_err(self.archive))?;
            let path = entry.name().map_err(zip_err(self.archive))?.into_owned();
            if entry.is_symlink() {
                return Err(self.refuse(&path, "it is a link"));
            }
            if entry.is_dir() {
                self.dir(&path)?;
            } else {
                let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
                self.file(&path, executable, entry)?;
            }
        }
        Ok(())
    }
}
