//! Checksums of release artifacts, in the format `sha256sum -c` reads.
//!
//! [`Sha256Writer`] hashes bytes while they are written, so an archive is hashed in the same pass
//! that writes it; [`sha256_file`] hashes a file that already exists. [`checksum_line`] and
//! [`parse_checksums`] write and read `sha256sum` lines (`<hex>  <file name>`).
//!
//! [`minisign`] reads minisign public keys and signatures and verifies them, so that keel
//! checks what `minisign -S` signs, and `minisign -V` checks what keel signs.
//!
//! This crate is shared with the updater that apps embed: it keeps a tiny dependency tree and
//! never prints.
//!
//! ```
//! let line = keel_verify::checksum_line(&keel_verify::sha256_bytes(b"abc"), "abc.txt");
//! let parsed = keel_verify::parse_checksums(&line).unwrap();
//! assert_eq!(parsed[0].file_name, "abc.txt");
//! ```
#![deny(missing_docs)]

pub mod minisign;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl std::fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Why a checksum could not be computed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A public key file could not be read.
    #[error("cannot read the public key")]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// The cause (it names the file).
        #[source]
        source: io::Error,
    },
    /// The public key file holds no usable key.
    #[error("cannot use the public key {}", path.display())]
    UnusableKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A public key is not a minisign Ed25519 key.
    #[error("not a minisign public key: {reason}")]
    MalformedKey {
        /// What is wrong.
        reason: String,
    },
    /// A signature file is not a minisign signature.
    #[error("not a minisign signature: {reason}")]
    MalformedSignature {
        /// What is wrong.
        reason: String,
    },
    /// The signature was made by another key.
    #[error("signed by key {signed_by}, not by the trusted key {expected}")]
    KeyMismatch {
        /// The key id in the signature.
        signed_by: String,
        /// The trusted key's id.
        expected: String,
    },
    /// The signature does not match the data.
    #[error(
        "the signature does not match the file: the file was changed, or the signature is corrupt"
    )]
    BadSignature,
    /// The trusted comment was altered.
    #[error("the trusted comment does not match its signature")]
    BadTrustedComment,
    /// A line of a checksum file is not in `sha256sum` format.
    #[error("line {line} is not a sha256sum line (`<64 hex digits>  <file name>`)")]
    Malformed {
        /// The 1-based line number.
        line: usize,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::ReadKey { .. } => "pass the PREFIX.pub file written by `keel keygen`",
            Error::MalformedKey { .. } => {
                "pass the public key file (PREFIX.pub) that `keel keygen` or `minisign -G` wrote"
            }
            _ => return None,
        })
    }
}

/// The SHA-256 of a byte slice.
pub fn sha256_bytes(bytes: &[u8]) -> Sha256Digest {
    Sha256Digest(Sha256::digest(bytes).into())
}

/// The SHA-256 and length of a file, read in large blocks.
pub fn sha256_file(path: &Path) -> Result<(Sha256Digest, u64), Error> {
    let read_err = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = fs_err::File::open(path).map_err(read_err)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(read_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        len += n as u64;
    }
    Ok((Sha256Digest(hasher.finalize().into()), len))
}

/// A writer that hashes and counts every byte it passes on to the inner writer.
pub struct Sha256Writer<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> Sha256Writer<W> {
    /// Wraps a writer.
    pub fn new(inner: W) -> Self {
        Sha256Writer {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Returns the inner writer, the digest of everything written and its length.
    pub fn finish(self) -> (W, Sha256Digest, u64) {
        (
            self.inner,
            Sha256Digest(self.hasher.finalize().into()),
            self.len,
        )
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One line of a checksum file, as `sha256sum` writes it: `<hex>  <file name>\n`.
pub fn checksum_line(digest: &Sha256Digest, file_name: &str) -> String {
    checksum_line_hex(&digest.to_hex(), file_name)
}

/// One line of a checksum file for a digest already in hex.
pub fn checksum_line_hex(sha256_hex: &str, file_name: &str) -> String {
    format!("{sha256_hex}  {file_name}\n")
}

/// One entry of a checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// The digest, lowercase hex.
    pub sha256: String,
    /// The file name the digest is for.
    pub file_name: String,
}

/// Reads a checksum file in `sha256sum` format (text `  ` or binary ` *` separator); blank
/// lines are skipped.
pub fn parse_checksums(text: &str) -> Result<Vec<ChecksumEntry>, Error> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = || Error::Malformed { line: index + 1 };
        let (hex, rest) = line.split_at_checked(64).ok_or_else(malformed)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let file_name = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .filter(|name| !name.is_empty())
            .ok_or_else(malformed)?;
        entries.push(ChecksumEntry {
            sha256: hex.to_ascii_lowercase(),
            file_name: file_name.to_owned(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_bytes(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn writer_hashes_what_it_writes() {
        let mut writer = Sha256Writer::new(Vec::new());
        writer.write_all(b"ab").unwrap();
        writer.write_all(b"c").unwrap();
        let (inner, digest, len) = writer.finish();
        assert_eq!(inner, b"abc");
        assert_eq!(digest, sha256_bytes(b"abc"));
        assert_eq!(len, 3);
    }

    #[test]
    fn file_digest_matches_bytes_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data = vec![7u8; 3 << 20];
        fs_err::write(&path, &data).unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            (sha256_bytes(&data), data.len() as u64)
        );
    }

    #[test]
    fn parse_reads_what_line_writes_and_binary_mode() {
        let digest = sha256_bytes(b"x");
        let text = format!(
            "{}\n{} *b.zip\n",
            checksum_line(&digest, "a b.tar.gz").trim_end(),
            digest.to_hex().to_uppercase()
        );
        let entries = parse_checksums(&text).unwrap();
        assert_eq!(entries[0].file_name, "a b.tar.gz");
        assert_eq!(entries[1].file_name, "b.zip");
        assert_eq!(entries[1].sha256, digest.to_hex());
    }

    #[test]
    fn parse_rejects_malformed_lines() {
        assert!(matches!(
            parse_checksums("abc  file\n"),
            Err(Error::Malformed { line: 1 })
        ));
        let digest = sha256_bytes(b"x").to_hex();
        assert!(matches!(
            parse_checksums(&format!("\n{digest} file\n")),
            Err(Error::Malformed { line: 2 })
        ));
    }
}
