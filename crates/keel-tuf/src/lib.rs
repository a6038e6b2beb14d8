//! TUF metadata (specification 1.0) as keel reads and writes it: one model for both sides.
//!
//! - [`metadata`]: the roles' signed parts ([`metadata::Root`], [`metadata::Timestamp`],
//!   [`metadata::Snapshot`], [`metadata::Targets`] with delegations and hash bins), parsed
//!   with the checks every file must pass ([`metadata::parse`]), the canonical JSON that
//!   signatures cover, threshold checks ([`metadata::verify_signatures`]), hashes;
//! - [`keys`]: public keys (Ed25519, ECDSA, RSA) and their ids;
//! - [`sign`]: Ed25519 signing of a role into the bytes of a metadata file.
//!
//! keel-update's client reads stores through these types (and passes the TUF conformance
//! suite with them); keel-store writes stores with them, so what one side writes is exactly
//! what the other reads. The client workflow (which file to fetch next, versions, expiry,
//! rollback) is keel-update's; the publishing rules are keel-store's. This crate does no I/O.
//!
//! ```
//! use keel_tuf::metadata::{Common, Snapshot, parse, verify_signatures};
//! use keel_tuf::sign::Signer;
//! # fn main() -> Result<(), keel_tuf::Error> {
//! let signer = Signer::ed25519(&[7; 32])?;
//! let common = Common::new("snapshot", 1, "2030-01-01T00:00:00Z");
//! let bytes = signer.sign_role(&common, &Snapshot::default())?;
//! let parsed = parse::<Snapshot>(&bytes, "snapshot")?;
//! let keys = [(signer.key_id(), signer.public_key())].into_iter().collect();
//! verify_signatures(&parsed.envelope, &keys, &signer.role_keys(), "snapshot")?;
//! # Ok(())
//! # }
//! ```

mod canonical;
pub mod keys;
pub mod metadata;
pub mod sign;

/// What kind of problem a [`Error`] is, for callers that classify failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Not metadata of the expected form.
    Malformed,
    /// Too few valid signatures.
    BadSignature,
    /// A file's hash differs from the signed one.
    HashMismatch,
    /// A file's length differs from the signed one.
    LengthMismatch,
    /// A key could not sign.
    BadKey,
}

/// A problem with TUF metadata.
#[derive(Debug, Clone)]
pub struct Error {
    failure: Failure,
    message: String,
}

impl Error {
    /// An error of kind `failure`.
    pub fn new(failure: Failure, message: impl Into<String>) -> Error {
        Error {
            failure,
            message: message.into(),
        }
    }

    /// What went wrong, for matching.
    pub fn failure(&self) -> Failure {
        self.failure
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
