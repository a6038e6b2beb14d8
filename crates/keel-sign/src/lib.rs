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
//! Each format has one definition that both writes and reads it: [`sbom::Bom`],
//! [`provenance::Statement`] and [`dsse::Envelope`] are what keel writes and what a verifier
//! reads back.
//!
//! minisign's formats are implemented here rather than through the `minisign` crate, because
//! that crate signs with random nonces (keel's signatures are deterministic, so a signed
//! release is reproducible), writes keys with weaker key-derivation limits than the `minisign`
//! tool, and neither wipes nor hides its secret key (its `Debug` prints it).
//!
//! Secrets ([`Secret`], [`SigningKey`]) never appear in `Debug` output and are wiped from
//! memory when dropped. Everything written is reproducible: Ed25519 signatures are
//! deterministic, and no output holds a clock time or a host path. This crate never prints.

pub mod dsse;
pub mod files;
mod keys;
pub mod load;
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
    /// The secret key file cannot be read.
    #[error("cannot read the signing key")]
    ReadKey {
        /// The cause (it names the file).
        #[source]
        source: std::io::Error,
    },
    /// The key from `origin` (a file or a variable) cannot be used.
    #[error("cannot use the signing key from {origin}")]
    UseKey {
        /// The file or the variable.
        origin: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// The password could not be had.
    #[error("no password for the secret key")]
    Password(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A key file exists already.
    #[error("{} already exists", path.display())]
    KeyExists {
        /// The file.
        path: std::path::PathBuf,
    },
    /// A path to sign names no file.
    #[error("{} is not a file", path.display())]
    NotAFile {
        /// The path.
        path: std::path::PathBuf,
    },
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] keel_fs::Error),
    /// The secret key is encrypted and no password was given.
    #[error("the secret key is encrypted and no password was given")]
    PasswordNeeded,
    /// The password does not decrypt the key.
    #[error("wrong password for the secret key")]
    WrongPassword,
    /// The system's random number generator failed.
    #[error("the system's random number generator failed")]
    Random(#[source] getrandom::Error),
    /// A comment holds a line break.
    #[error("a signature comment cannot hold a line break")]
    Comment,
    /// The data to sign could not be read.
    #[error("could not read the data to sign")]
    ReadData(#[source] std::io::Error),
    /// A DSSE envelope's payload is not base64.
    #[error("provenance envelope: the payload is not base64")]
    EnvelopePayload,
    /// A DSSE envelope has no signature by the key.
    #[error("provenance envelope: no signature by key {key_id}")]
    EnvelopeUnsigned {
        /// The key's id, as minisign prints it.
        key_id: String,
    },
    /// A DSSE envelope's signature is not 64 bytes of base64.
    #[error("provenance envelope: the signature is not 64 bytes of base64")]
    EnvelopeSignatureMalformed,
    /// A DSSE envelope's signature does not match its payload.
    #[error("provenance envelope: the signature does not match the payload")]
    EnvelopeBadSignature,
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::PasswordNeeded => "set KEEL_SIGNING_KEY_PASSWORD",
            Error::MalformedKey(_) => {
                "pass the secret key file (PREFIX.key) that `keel keygen` or `minisign -G` wrote"
            }
            _ => return None,
        })
    }
}
