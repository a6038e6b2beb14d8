//! Signing and describing a release: minisign keys and signatures, a CycloneDX SBOM per
//! binary, and SLSA provenance in a signed DSSE envelope.
//!
//! - [`SigningKey`] generates, encrypts, reads and uses minisign secret keys; signatures are
//!   minisign's, so `minisign -Vm FILE -p KEY.pub` checks them.
//! - [`sbom::cyclonedx`] lists exactly the crates compiled into one app for one target, from
//!   `cargo metadata --filter-platform` and `Cargo.lock`.
//! - [`provenance::statement`] describes how the release was built (an in-toto Statement v1
//!   with an SLSA Provenance v1 predicate), and [`dsse`] wraps and signs it.
//!
//! Secrets ([`Secret`], [`SigningKey`]) never appear in `Debug` output and are wiped from
//! memory when dropped. Everything written is reproducible: Ed25519 signatures are
//! deterministic, and no output holds a clock time or a host path. This crate never prints.

pub mod dsse;
mod keys;
pub mod provenance;
pub mod sbom;

pub use keys::{Secret, SigningKey};

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The secret key file is not a minisign secret key.
    #[error("not a minisign secret key: {0}")]
    MalformedKey(String),
    /// The key is encrypted and no password was given.
    #[error("the secret key is encrypted and no password was given")]
    PasswordNeeded,
    /// The password does not decrypt the key.
    #[error("wrong password for the secret key")]
    WrongPassword,
    /// The system's random number generator failed.
    #[error("no random numbers: {0}")]
    Random(String),
    /// A comment holds a line break.
    #[error("a signature comment cannot hold a line break")]
    Comment,
    /// The data to sign could not be read.
    #[error("could not read the data to sign")]
    ReadData(#[source] std::io::Error),
    /// A DSSE envelope is malformed or its signature does not verify.
    #[error("provenance envelope: {0}")]
    Envelope(String),
}
