//! The client side of a keel release store: fetch and verify TUF metadata, list the releases
//! of an app, download and verify one.
//!
//! Verification is keel's TUF client's ([`crate::tuf`], the specification's client
//! workflow): signatures and thresholds, expiry, rollback to older metadata (the trusted
//! metadata is kept in the app's home), and each download's length and hashes. Transport
//! limits: connect and overall timeouts, and a size cap on every file. Every failure is
//! classified ([`StoreFailure`]) where it happens, so callers match on what went wrong,
//! never on a message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use keel_schema::store::StoreTarget;
use keel_schema::{ArchiveFormat, TargetTriple};
pub use semver::Version;

#[cfg(feature = "store")]
mod client;
#[cfg(feature = "store")]
pub use client::Store;

use keel_schema::receipt::UpdateHooks;

use crate::Error;

/// One release file an app can be installed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    /// The target name (the archive's file name).
    pub name: String,
    /// The app.
    pub app: String,
    /// The version.
    pub version: Version,
    /// The target triple.
    pub target: TargetTriple,
    /// The channel it was published to.
    pub channel: String,
    /// The archive's format.
    pub format: ArchiveFormat,
    /// The paths of the executables inside the archive.
    pub executables: Vec<String>,
    /// The release's update hooks.
    pub hooks: UpdateHooks,
    /// The archive's length in bytes, as the signed metadata says.
    pub length: u64,
}

impl Available {
    /// The release ready for [`crate::AppHome::update`], with its `binaries` unpacked (see
    /// [`unpack`]).
    pub fn new_release(&self, binaries: BTreeMap<String, PathBuf>) -> crate::NewRelease {
        crate::NewRelease {
            version: self.version.to_string(),
            target: self.target.clone(),
            binaries,
            hooks: self.hooks.clone(),
        }
    }

    /// The release a store target describes; `None` when its version is not semver.
    pub fn from_store_target(name: &str, length: u64, target: StoreTarget) -> Option<Available> {
        Some(Available {
            name: name.to_owned(),
            version: target.version.parse().ok()?,
            app: target.app,
            target: target.target,
            channel: target.channel,
            format: target.format,
            executables: target.executables,
            hooks: target.hooks.unwrap_or_default(),
            length,
        })
    }
}

/// How the client talks to a store.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Connecting may take this long.
    pub connect_timeout: Duration,
    /// One request, body included, may take this long.
    pub timeout: Duration,
    /// Whether a plain `http://` URL may name another machine (loopback is always allowed).
    pub allow_http: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(600),
            allow_http: false,
        }
    }
}

impl ClientOptions {
    /// The defaults, with the overall timeout from `KEEL_HTTP_TIMEOUT` (seconds) when set,
    /// and plain HTTP allowed when `KEEL_ALLOW_HTTP` is `1`.
    pub fn from_env() -> ClientOptions {
        let mut options = ClientOptions {
            allow_http: keel_schema::env::var(keel_schema::env::KEEL_ALLOW_HTTP)
                .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
            ..ClientOptions::default()
        };
        if let Some(secs) = keel_schema::env::var(keel_schema::env::KEEL_HTTP_TIMEOUT)
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            options.timeout = Duration::from_secs(secs);
            options.connect_timeout = options.connect_timeout.min(options.timeout);
        }
        options
    }
}

/// What went wrong with a store, as far as the operator can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFailure {
    /// Signed metadata has expired: the store was not refreshed, or is frozen.
    Expired,
    /// The store offers metadata older than what this machine already trusts: a replay, a
    /// rollback or a stale mirror.
    Rollback,
    /// Metadata is not signed by enough of the keys the trusted root names.
    BadSignature,
    /// The trusted root itself does not verify.
    UntrustedRoot,
    /// A download's content does not match the hash in the signed metadata.
    HashMismatch,
    /// A download is longer than the signed metadata says.
    LengthMismatch,
    /// A metadata file is larger than keel accepts.
    TooLarge,
    /// A file the store should serve is not there.
    NotFound,
    /// The store did not answer in time.
    Timeout,
    /// The store could not be reached, or the connection broke.
    Network,
    /// The store's TLS certificate is not signed by a CA this machine trusts.
    CertificateUntrusted,
    /// The store's TLS certificate has expired (or is not valid yet).
    CertificateExpired,
    /// The store's TLS certificate is for another host name.
    CertificateWrongHost,
    /// The TLS connection failed for another reason (a revoked or malformed certificate, no
    /// common protocol version).
    Tls,
    /// The store's URL says `https://`, and its server answered in plain HTTP.
    PlainHttpServer,
    /// Metadata is not valid TUF metadata.
    Malformed,
    /// Anything else.
    Other,
}

impl StoreFailure {
    /// What the operator can do about it.
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            StoreFailure::Expired => {
                "the store's signed metadata has expired: its maintainer must run `keel store refresh`"
            }
            StoreFailure::Rollback => {
                "the store serves metadata older than this machine already trusts (a replay or a stale mirror): nothing was changed"
            }
            StoreFailure::BadSignature | StoreFailure::UntrustedRoot => {
                "the store's metadata is not signed by the keys this install trusts: check the trusted root and the store URL"
            }
            StoreFailure::HashMismatch | StoreFailure::LengthMismatch | StoreFailure::TooLarge => {
                "the store's files do not match its signed metadata: nothing was installed; tell the store's maintainer"
            }
            StoreFailure::NotFound => {
                "the store lacks a file: check the store URL (it holds metadata/ and targets/), or tell its maintainer"
            }
            StoreFailure::Timeout => {
                "the store did not answer in time; check the URL and the network (KEEL_HTTP_TIMEOUT sets the limit in seconds)"
            }
            StoreFailure::Network => {
                "the store could not be reached; check the URL and the network"
            }
            StoreFailure::CertificateUntrusted => {
                "the store's certificate is not signed by a CA this machine trusts; for a private CA, set SSL_CERT_FILE to a PEM file holding its certificate (it replaces the system's roots: append them to it for public stores too)"
            }
            StoreFailure::CertificateExpired => {
                "the store's certificate has expired or is not valid yet: its operator must renew it (or this machine's clock is wrong)"
            }
            StoreFailure::CertificateWrongHost => {
                "the store's certificate is for another host name: check the store URL's host"
            }
            StoreFailure::Tls => {
                "the TLS connection to the store failed: check the URL, and the store's certificate with its operator"
            }
            StoreFailure::PlainHttpServer => {
                "the store's server speaks plain HTTP: give its URL with `http://` in front (plain HTTP to another machine must be allowed too: KEEL_ALLOW_HTTP=1)"
            }
            StoreFailure::Malformed | StoreFailure::Other => return None,
        })
    }
}

/// Removes `user:password@` from a URL before it is shown or kept: keel's one redaction.
#[cfg(feature = "store")]
pub use keel_http::redact;

/// Where a downloaded release is unpacked: the executables named by the store, found in the
/// extracted archive.
pub fn unpack(
    release: &Available,
    archive: &Path,
    dir: &Path,
    max_bytes: u64,
) -> Result<BTreeMap<String, PathBuf>, Error> {
    keel_archive::extract(release.format, archive, dir, max_bytes).map_err(|source| {
        Error::Archive {
            path: archive.to_owned(),
            source,
        }
    })?;
    executables(release, dir)
}

/// The executables `release` names, found in its unpacked folder `dir`.
fn executables(release: &Available, dir: &Path) -> Result<BTreeMap<String, PathBuf>, Error> {
    let mut binaries = BTreeMap::new();
    for executable in &release.executables {
        // Signed, but still only a relative path inside the unpacked release.
        let inside = Path::new(executable)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(Error::MissingExecutable {
                archive: release.name.clone(),
                executable: executable.clone(),
            });
        }
        let path = dir.join(executable);
        let name = Path::new(executable)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !path.is_file() || name.is_empty() {
            return Err(Error::MissingExecutable {
                archive: release.name.clone(),
                executable: executable.clone(),
            });
        }
        binaries.insert(name, path);
    }
    if binaries.is_empty() {
        return Err(Error::NoBinaries);
    }
    Ok(binaries)
}

/// How a release reached this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The full archive was downloaded.
    Full,
    /// A patch from the installed version was downloaded and applied.
    Patch {
        /// The patch's target name.
        name: String,
        /// Its length in bytes.
        length: u64,
        /// The full archive's length, for comparison.
        archive_length: u64,
    },
    /// A patch was there but could not be used, so the full archive was downloaded.
    FellBack {
        /// The patch's target name.
        patch: String,
        /// Why it could not be used.
        reason: String,
    },
}

/// A folder holding a downloaded release; removed when dropped.
#[derive(Debug)]
pub struct Fetched(pub(crate) PathBuf);

impl Drop for Fetched {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

/// Where an install puts its executables by default: `~/.local/bin`.
pub fn default_bin_dir() -> Option<PathBuf> {
    keel_schema::env::path(keel_schema::env::HOME).map(|home| home.join(".local/bin"))
}

/// `KEEL_STORE_URL`: a store URL that replaces the one an install recorded (for a store that
/// needs credentials, or moved).
pub fn store_url_from_env() -> Option<String> {
    keel_schema::env::var(keel_schema::env::KEEL_STORE_URL)
}

/// A store as a command line names it: a URL, or a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLocation {
    /// The store's URL (`https://…`, `http://…`, or `file:///…` for a folder).
    pub url: String,
    /// For a store on this machine, its own `metadata/root.json` when the folder has one.
    pub own_root: Option<PathBuf>,
}

/// Where the store `from` is: a URL with a scheme is taken as it is; anything else is a
/// folder (relative to `cwd`), the same store as its `file://` URL. A folder that does not
/// exist, or is not a store, is refused here, before anything is locked or downloaded.
pub fn locate(from: &str, cwd: &Path) -> Result<StoreLocation, Error> {
    if from.contains("://") {
        let own_root = url::Url::parse(from)
            .ok()
            .filter(|url| url.scheme() == "file")
            .and_then(|url| url.to_file_path().ok())
            .map(|path| path.join("metadata/root.json"))
            .filter(|root| root.is_file());
        return Ok(StoreLocation {
            url: from.to_owned(),
            own_root,
        });
    }
    let dir = cwd.join(from);
    let not_a_store = || Error::NotAStore { path: dir.clone() };
    if !dir.join("metadata").is_dir() {
        return Err(not_a_store());
    }
    let dir = fs_err::canonicalize(&dir).map_err(|_| not_a_store())?;
    let url = url::Url::from_directory_path(&dir).map_err(|()| not_a_store())?;
    let root = dir.join("metadata/root.json");
    Ok(StoreLocation {
        url: url.to_string(),
        own_root: root.is_file().then_some(root),
    })
}

impl StoreLocation {
    /// The root of trust an install of `app` starts from: the file `given` (relative to
    /// `cwd`), else the store's own when it is on this machine; read, or
    /// [`Error::NoTrustedRoot`] when neither is there.
    pub fn trusted_root(
        &self,
        given: Option<&Path>,
        cwd: &Path,
        app: &str,
    ) -> Result<Vec<u8>, Error> {
        match (given, &self.own_root) {
            (Some(root), _) => read_root(&cwd.join(root)),
            (None, Some(own)) => read_root(own),
            (None, None) => Err(Error::NoTrustedRoot {
                app: app.to_owned(),
            }),
        }
    }
}

/// Reads a store's trusted root (`root.json`) from `path`.
pub fn read_root(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = fs_err::read(path).map_err(|source| Error::ReadRoot {
        path: path.to_owned(),
        source,
    })?;
    Ok(keel_schema::without_bom(&bytes).to_vec())
}

/// `$KEEL_HOME`, else `$XDG_STATE_HOME/keel`, else `~/.local/state/keel`.
pub fn keel_home() -> Option<PathBuf> {
    use keel_schema::env::{KEEL_HOME, path};
    path(KEEL_HOME)
        .or_else(|| path("XDG_STATE_HOME").map(|s| s.join("keel")))
        .or_else(|| path("HOME").map(|h| h.join(".local/state/keel")))
}
