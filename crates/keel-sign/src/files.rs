//! `keel keygen` and `keel sign` as library calls: a key pair written to files, and files
//! signed beside themselves. Every file is written to a temporary file and renamed into place;
//! the secret key file is readable by its owner only.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Error, Secret, SigningKey};

/// What [`write_key_pair`] wrote: `keel keygen`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeyPairWritten {
    /// `PREFIX.pub`.
    pub public_key: PathBuf,
    /// `PREFIX.key` (mode 0600).
    pub secret_key: PathBuf,
    /// The key's id, in hex.
    pub key_id: String,
    /// Whether the secret key is encrypted with a password.
    pub encrypted: bool,
}

/// The files of the key pair at `prefix`: `PREFIX.pub` and `PREFIX.key`.
pub fn key_pair_paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let prefix = prefix.display().to_string();
    (
        PathBuf::from(format!("{prefix}.pub")),
        PathBuf::from(format!("{prefix}.key")),
    )
}

/// [`Error::KeyExists`] when a file of the key pair at `prefix` exists and `force` is not
/// given: what [`write_key_pair`] refuses, for a caller to check before it asks for a password.
pub fn check_key_pair_free(prefix: &Path, force: bool) -> Result<(), Error> {
    let (public_path, secret_path) = key_pair_paths(prefix);
    match [public_path, secret_path].into_iter().find(|p| p.exists()) {
        Some(path) if !force => Err(Error::KeyExists { path }),
        _ => Ok(()),
    }
}

/// Makes a new key pair and writes it at `prefix`, the secret key encrypted with `password`
/// when one is given. Refuses to replace an existing file unless `force`.
pub fn write_key_pair(
    prefix: &Path,
    password: Option<&Secret>,
    force: bool,
) -> Result<KeyPairWritten, Error> {
    check_key_pair_free(prefix, force)?;
    let (public_path, secret_path) = key_pair_paths(prefix);
    if let Some(dir) = secret_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        keel_fs::create_dir(dir)?;
    }
    let key = SigningKey::generate()?;
    let secret = key.to_text(password)?;
    let public = key.public_key();
    keel_fs::write_atomic(&secret_path, secret.expose().as_bytes(), Some(0o600))?;
    keel_fs::write_atomic(&public_path, public.to_text().as_bytes(), Some(0o644))?;
    Ok(KeyPairWritten {
        public_key: public_path,
        secret_key: secret_path,
        key_id: public.key_id_hex(),
        encrypted: password.is_some(),
    })
}

/// What [`sign_files`] wrote: `keel sign`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FilesSigned {
    /// Each signature, `<file>.minisig`, in the order of the files.
    pub signatures: Vec<PathBuf>,
}

/// Signs each of `files` with `key` into `<file>.minisig`, with the trusted comment
/// `trusted_comment`, else `file=<name>` (as keel signs release files).
pub fn sign_files(
    key: &SigningKey,
    files: &[PathBuf],
    trusted_comment: Option<&str>,
) -> Result<FilesSigned, Error> {
    let mut signatures = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::NotAFile { path: file.clone() })?;
        let comment = trusted_comment.map_or_else(|| format!("file={name}"), str::to_owned);
        let data = std::io::BufReader::new(fs_err::File::open(file).map_err(Error::ReadData)?);
        let signature = key.sign(data, &comment, "signature from keel")?;
        let out = PathBuf::from(format!("{}.minisig", file.display()));
        keel_fs::write_atomic(&out, signature.to_text().as_bytes(), Some(0o644))?;
        signatures.push(out);
    }
    Ok(FilesSigned { signatures })
}
