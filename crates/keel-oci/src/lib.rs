//! OCI images without a daemon: the layer of an app's files written byte-reproducibly
//! ([`layer`]), image configurations, manifests and indexes ([`image`]), image layouts and
//! the tar files `skopeo` and `docker load` read ([`layout`]), and a client of the OCI
//! distribution API ([`registry`]) that pulls base images by digest and pushes images, tags
//! and referrers, with credentials from Docker's configuration ([`auth`]).
//!
//! Every JSON document is written with sorted keys and no insignificant white space, every
//! time stamp comes from the caller, and gzip runs with a fixed level and header, so the same
//! inputs give the same digests on every machine.

pub mod auth;
pub mod image;
pub mod layer;
pub mod layout;
pub mod push;
pub mod reference;
pub mod registry;

use std::path::PathBuf;

pub use image::{Blob, Descriptor, Platform};
pub use reference::Reference;

/// OCI and Docker media types.
pub mod media {
    /// An OCI image manifest.
    pub const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// An OCI image index.
    pub const IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// An OCI image configuration.
    pub const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// A gzip-compressed OCI layer.
    pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// The empty descriptor's media type (`{}`), the config of artifacts.
    pub const EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// A Docker image manifest (schema 2).
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// A Docker manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// A Docker image configuration.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// A gzip-compressed Docker layer.
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// A CycloneDX JSON SBOM, as an artifact type.
    pub const CYCLONEDX: &str = "application/vnd.cyclonedx+json";
    /// An in-toto statement in a DSSE envelope, as an artifact type.
    pub const IN_TOTO: &str = "application/vnd.in-toto+json";

    /// Whether `media_type` is a manifest of one image.
    pub fn is_manifest(media_type: &str) -> bool {
        media_type == IMAGE_MANIFEST || media_type == DOCKER_MANIFEST
    }

    /// Whether `media_type` is an index over images.
    pub fn is_index(media_type: &str) -> bool {
        media_type == IMAGE_INDEX || media_type == DOCKER_MANIFEST_LIST
    }
}

/// The OCI digest of `bytes`: `sha256:<hex>`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", keel_verify::sha256_bytes(bytes).to_hex())
}

/// Whether `digest` is a well-formed `sha256:<64 hex>` digest.
pub fn is_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A path in a layer is not a clean relative path.
    #[error("`{path}` cannot go into an image: paths must be absolute, without `..` or `.`")]
    BadPath {
        /// The path.
        path: String,
    },
    /// Two files of a layer have the same path, or a file's path is a folder's.
    #[error("`{path}` is given twice in the image")]
    DuplicatePath {
        /// The path.
        path: String,
    },
    /// An OCI archive or layout is not one keel can read.
    #[error("{} is not an OCI image layout: {reason}", path.display())]
    BadLayout {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An image reference could not be parsed.
    #[error("`{reference}` is not an image reference: {reason}")]
    BadReference {
        /// The reference.
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// A document had the wrong digest.
    #[error("{what} has digest {actual}, not the {expected} asked for")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest of what came.
        actual: String,
    },
    /// The base image has no image for the platform.
    #[error("the base image {reference} has no {platform} image (it has: {available})")]
    NoPlatform {
        /// The base image.
        reference: String,
        /// The platform needed.
        platform: String,
        /// The platforms it has.
        available: String,
    },
    /// A document from the registry could not be understood.
    #[error("{what} from the registry is not valid: {reason}")]
    BadDocument {
        /// What was read.
        what: String,
        /// Why.
        reason: String,
    },
    /// The registry refused the credentials, or asked for some and none were given.
    #[error("{registry} refused access{} ({status}): {message}", if repository.is_empty() { String::new() } else { format!(" to {repository}") })]
    Unauthorized {
        /// The registry's host.
        registry: String,
        /// The repository.
        repository: String,
        /// The HTTP status.
        status: u16,
        /// What the registry said (never credentials).
        message: String,
    },
    /// The registry answered with an error.
    #[error("{registry} answered {method} {path} with {status}: {message}")]
    Registry {
        /// The registry's host.
        registry: String,
        /// The method.
        method: String,
        /// The path asked for (without any query).
        path: String,
        /// The HTTP status.
        status: u16,
        /// What the registry said.
        message: String,
    },
    /// The registry could not be reached.
    #[error("cannot reach {registry}: {message}")]
    Network {
        /// The registry's host.
        registry: String,
        /// What went wrong.
        message: String,
    },
    /// The registry answered keel's TLS handshake in plain HTTP: it was written without
    /// `http://`, so keel spoke HTTPS to a server that speaks plain HTTP.
    #[error("{registry} answers plain HTTP, not HTTPS")]
    PlainHttpServer {
        /// The registry, as given (`127.0.0.1:5000`).
        registry: String,
        /// Whether plain HTTP to it also needs `insecure` ([`registry::Options::insecure`]):
        /// it is not on this machine, and it was not allowed.
        needs_insecure: bool,
    },
    /// Plain HTTP was asked for a registry that is not on this machine.
    #[error(
        "{registry} would be reached over plain HTTP, which keel allows for loopback addresses only"
    )]
    Insecure {
        /// The registry.
        registry: String,
    },
    /// The registry pointed to a plain-HTTP URL keel may not use: a drop from HTTPS, or plain
    /// HTTP beyond loopback.
    #[error(
        "{registry} pointed to {url} over plain HTTP, which keel does not follow: credentials and data would travel unencrypted"
    )]
    PlainHttpUrl {
        /// The registry.
        registry: String,
        /// The URL, without its query.
        url: String,
    },
    /// The file of CA certificates could not be used.
    #[error("cannot use the certificates in {}: {reason}", path.display())]
    Certificates {
        /// The file (`SSL_CERT_FILE`).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Docker's configuration or a credential helper failed.
    #[error("cannot read registry credentials: {reason}")]
    Credentials {
        /// Why (never a secret).
        reason: String,
    },
    /// Something was larger than keel accepts.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// What.
        what: String,
        /// The limit.
        limit: u64,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NoPlatform { .. } => {
                "choose a base image published for every Linux target of the release, or release only the targets it has"
            }
            Error::DigestMismatch { .. } => {
                "check the digest in `base` of [package.metadata.keel.image]: `docker buildx imagetools inspect` or `skopeo inspect --raw` shows the right one"
            }
            Error::PlainHttpServer { .. } => {
                "write the registry with `http://` in front (`http://HOST:PORT`): without it keel speaks HTTPS"
            }
            Error::Network { .. } => {
                "check the registry's address; for a private certificate authority, set SSL_CERT_FILE to its PEM file"
            }
            _ => return None,
        })
    }
}
