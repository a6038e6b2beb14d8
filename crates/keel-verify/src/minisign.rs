//! minisign public keys and signatures: reading, writing and verifying.
//!
//! The formats are minisign's own, so that `minisign -V` checks what keel signs and keel
//! checks what `minisign -S` signs. A signature file holds an untrusted comment, the
//! Ed25519 signature of the file's BLAKE2b-512 hash (algorithm `ED`, "prehashed"; the legacy
//! `Ed` signs the bytes themselves), a trusted comment, and a second signature over the first
//! signature and the trusted comment, so that the trusted comment cannot be altered.

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blake2::{Blake2b512, Digest};
use ed25519_dalek::{Signature as EdSignature, VerifyingKey};

use crate::Error;

const ALG_ED: [u8; 2] = *b"Ed";
const ALG_PREHASHED: [u8; 2] = *b"ED";
const UNTRUSTED: &str = "untrusted comment: ";
const TRUSTED: &str = "trusted comment: ";

/// A minisign public key: an Ed25519 key and its 8-byte key id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key_id: [u8; 8],
    key: VerifyingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.key_id_hex())
    }
}

/// The key id as minisign prints it: 16 uppercase hex digits of the little-endian number.
pub fn key_id_hex(key_id: &[u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(*key_id))
}

fn malformed_key(reason: impl Into<String>) -> Error {
    Error::MalformedKey {
        reason: reason.into(),
    }
}

fn malformed_signature(reason: impl Into<String>) -> Error {
    Error::MalformedSignature {
        reason: reason.into(),
    }
}

impl PublicKey {
    /// A key from its parts.
    pub fn from_parts(key_id: [u8; 8], key: &[u8; 32]) -> Result<PublicKey, Error> {
        let key = VerifyingKey::from_bytes(key)
            .map_err(|_| malformed_key("the key is not a valid Ed25519 point"))?;
        Ok(PublicKey { key_id, key })
    }

    /// Reads the public key file at `path` ([`Error::ReadKey`] when it cannot be read,
    /// [`Error::UnusableKey`] naming the file when it holds no key).
    pub fn from_file(path: &std::path::Path) -> Result<PublicKey, Error> {
        let text = fs_err::read_to_string(path).map_err(|source| Error::ReadKey {
            path: path.to_owned(),
            source,
        })?;
        PublicKey::from_text(&text).map_err(|source| Error::UnusableKey {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Reads a public key file (`untrusted comment:` line, then the base64 key) or the base64
    /// key alone, as `minisign -P` takes it.
    pub fn from_text(text: &str) -> Result<PublicKey, Error> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with(UNTRUSTED))
            .ok_or_else(|| malformed_key("no key line"))?;
        let bytes = BASE64
            .decode(line)
            .map_err(|_| malformed_key("the key line is not base64"))?;
        if bytes.len() != 42 {
            return Err(malformed_key(format!(
                "the key is {} bytes long, not 42",
                bytes.len()
            )));
        }
        if bytes[..2] != ALG_ED {
            return Err(malformed_key("the key is not an Ed25519 minisign key"));
        }
        let key_id: [u8; 8] = bytes[2..10].try_into().expect("8 bytes");
        let key: [u8; 32] = bytes[10..42].try_into().expect("32 bytes");
        PublicKey::from_parts(key_id, &key)
    }

    /// The public key file, as `minisign -G` writes it.
    pub fn to_text(&self) -> String {
        format!(
            "{UNTRUSTED}minisign public key {}\n{}\n",
            self.key_id_hex(),
            self.to_base64()
        )
    }

    /// The key as one base64 line, as `minisign -P` takes it.
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::with_capacity(42);
        bytes.extend_from_slice(&ALG_ED);
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(self.key.as_bytes());
        BASE64.encode(bytes)
    }

    /// The key id.
    pub fn key_id(&self) -> [u8; 8] {
        self.key_id
    }

    /// The key id as minisign prints it.
    pub fn key_id_hex(&self) -> String {
        key_id_hex(&self.key_id)
    }

    /// The raw Ed25519 public key.
    pub fn ed25519(&self) -> &VerifyingKey {
        &self.key
    }
}

/// A minisign signature file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The comment on the first line, not covered by any signature.
    pub untrusted_comment: String,
    /// Whether the file's BLAKE2b-512 hash was signed (`ED`) rather than its bytes (`Ed`).
    pub prehashed: bool,
    /// The id of the key that signed.
    pub key_id: [u8; 8],
    /// The signature of the file (or of its hash).
    pub signature: [u8; 64],
    /// The comment covered by the global signature.
    pub trusted_comment: String,
    /// The signature of `signature` followed by `trusted_comment`.
    pub global_signature: [u8; 64],
}

impl Signature {
    /// Reads a `.minisig` file.
    pub fn from_text(text: &str) -> Result<Signature, Error> {
        let mut lines = text.lines();
        let untrusted_comment = lines
            .next()
            .and_then(|l| l.strip_prefix(UNTRUSTED))
            .ok_or_else(|| malformed_signature("the first line is not an untrusted comment"))?
            .to_owned();
        let bytes = BASE64
            .decode(lines.next().unwrap_or_default().trim())
            .map_err(|_| malformed_signature("the signature line is not base64"))?;
        if bytes.len() != 74 {
            return Err(malformed_signature(format!(
                "the signature is {} bytes long, not 74",
                bytes.len()
            )));
        }
        let prehashed = match [bytes[0], bytes[1]] {
            ALG_PREHASHED => true,
            ALG_ED => false,
            _ => return Err(malformed_signature("unknown signature algorithm")),
        };
        let trusted_comment = lines
            .next()
            .and_then(|l| l.strip_prefix(TRUSTED))
            .ok_or_else(|| malformed_signature("the third line is not a trusted comment"))?
            .to_owned();
        let global = BASE64
            .decode(lines.next().unwrap_or_default().trim())
            .map_err(|_| malformed_signature("the global signature line is not base64"))?;
        let global_signature: [u8; 64] = global
            .try_into()
            .map_err(|_| malformed_signature("the global signature is not 64 bytes long"))?;
        Ok(Signature {
            untrusted_comment,
            prehashed,
            key_id: bytes[2..10].try_into().expect("8 bytes"),
            signature: bytes[10..74].try_into().expect("64 bytes"),
            trusted_comment,
            global_signature,
        })
    }

    /// The `.minisig` file.
    pub fn to_text(&self) -> String {
        let mut bytes = Vec::with_capacity(74);
        bytes.extend_from_slice(if self.prehashed {
            &ALG_PREHASHED
        } else {
            &ALG_ED
        });
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(&self.signature);
        format!(
            "{UNTRUSTED}{}\n{}\n{TRUSTED}{}\n{}\n",
            self.untrusted_comment,
            BASE64.encode(bytes),
            self.trusted_comment,
            BASE64.encode(self.global_signature)
        )
    }

    /// The bytes the global signature covers.
    pub fn global_message(signature: &[u8; 64], trusted_comment: &str) -> Vec<u8> {
        let mut message = signature.to_vec();
        message.extend_from_slice(trusted_comment.as_bytes());
        message
    }
}

/// The BLAKE2b-512 hash of everything `data` yields: what a prehashed signature signs.
pub fn prehash(mut data: impl Read) -> std::io::Result<[u8; 64]> {
    let mut hasher = Blake2b512::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = data.read(&mut buffer)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..n]);
    }
}

/// Checks `signature` of `data` against `key`: the key id, the signature of the data, and the
/// global signature over the trusted comment.
pub fn verify(key: &PublicKey, signature: &Signature, data: impl Read) -> Result<(), Error> {
    if signature.key_id != key.key_id {
        return Err(Error::KeyMismatch {
            signed_by: key_id_hex(&signature.key_id),
            expected: key.key_id_hex(),
        });
    }
    let read_err = |source| Error::Read {
        path: "(signed data)".into(),
        source,
    };
    let message = if signature.prehashed {
        prehash(data).map_err(read_err)?.to_vec()
    } else {
        let mut bytes = Vec::new();
        let mut data = data;
        data.read_to_end(&mut bytes).map_err(read_err)?;
        bytes
    };
    key.key
        .verify_strict(&message, &EdSignature::from_bytes(&signature.signature))
        .map_err(|_| Error::BadSignature)?;
    let global = Signature::global_message(&signature.signature, &signature.trusted_comment);
    key.key
        .verify_strict(
            &global,
            &EdSignature::from_bytes(&signature.global_signature),
        )
        .map_err(|_| Error::BadTrustedComment)
}

/// Checks the signature file `signature_path` of the file `path` against `key`.
pub fn verify_file(
    key: &PublicKey,
    path: &std::path::Path,
    signature_path: &std::path::Path,
) -> Result<Signature, Error> {
    let read = |p: &std::path::Path| {
        fs_err::read_to_string(p).map_err(|source| Error::Read {
            path: p.to_owned(),
            source,
        })
    };
    let signature = Signature::from_text(&read(signature_path)?)?;
    let file = fs_err::File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    verify(key, &signature, file).map(|()| signature)
}
