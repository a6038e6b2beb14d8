//! The client side of a keel release store: fetch and verify TUF metadata, list the releases
//! of an app, download and verify one.
//!
//! Verification is `tough`'s (a maintained TUF client): signatures and thresholds, expiry,
//! rollback to older metadata (the trusted metadata is kept in the app's home), and each
//! download's length and sha256. keel adds transport limits: connect and overall timeouts,
//! and metadata size caps.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
pub use semver::Version;

use keel_schema::ArchiveFormat;
use keel_schema::receipt::UpdateHooks;
use tough::{FilesystemTransport, HttpTransportBuilder, Transport, TransportError};

use crate::Error;

/// The key of keel's section in a target's `custom` metadata.
const CUSTOM_KEY: &str = "keel";

/// One release file an app can be installed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    /// The target name (the archive's file name).
    pub name: String,
    /// The app.
    pub app: String,
    /// The version.
    pub version: semver::Version,
    /// The target triple.
    pub target: String,
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

/// How the client talks to a store.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Connecting may take this long.
    pub connect_timeout: Duration,
    /// One request, body included, may take this long.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(600),
        }
    }
}

/// Removes `user:password@` from a URL before it is shown.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

/// Files for `file://` stores, HTTP(S) with keel's timeouts for the others.
#[derive(Debug, Clone)]
struct KeelTransport {
    http: tough::HttpTransport,
}

#[async_trait::async_trait]
impl Transport for KeelTransport {
    async fn fetch(&self, url: url::Url) -> Result<tough::TransportStream, TransportError> {
        match url.scheme() {
            "file" => FilesystemTransport.fetch(url).await,
            _ => self.http.fetch(url).await,
        }
    }
}

/// A store, with its metadata fetched and verified.
pub struct Store {
    runtime: tokio::runtime::Runtime,
    repository: tough::Repository,
    url: String,
}

fn store_err(what: &'static str, url: &str) -> impl FnOnce(tough::error::Error) -> Error {
    let url = redact(url);
    move |source| Error::Store {
        what,
        url,
        source: Box::new(source),
    }
}

fn join(base: &str, path: &str) -> Result<url::Url, Error> {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    url::Url::parse(&base)
        .and_then(|u| u.join(path))
        .map_err(|err| Error::BadUrl {
            url: redact(&base),
            detail: err.to_string(),
        })
}

impl Store {
    /// Fetches and verifies the store's metadata, starting from `root` (the trusted root, or
    /// the newest root trusted before) and refusing metadata older than what `trusted_dir`
    /// already holds; the newly trusted metadata is saved there.
    pub fn open(
        url: &str,
        root: &[u8],
        trusted_dir: &Path,
        options: &ClientOptions,
    ) -> Result<Store, Error> {
        Store::open_urls(
            &join(url, "metadata/")?,
            &join(url, "targets/")?,
            root,
            trusted_dir,
            options,
        )
    }

    /// [`Store::open`] for a repository whose metadata and targets live at any two URLs (as
    /// the TUF conformance suite serves them).
    pub fn open_urls(
        metadata_url: &url::Url,
        targets_url: &url::Url,
        root: &[u8],
        trusted_dir: &Path,
        options: &ClientOptions,
    ) -> Result<Store, Error> {
        let url = metadata_url.as_str();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                what: "start the I/O runtime for",
                path: trusted_dir.to_owned(),
                source,
            })?;
        fs_err::create_dir_all(trusted_dir).map_err(crate::fsx::io_err(trusted_dir, "create"))?;
        let transport = KeelTransport {
            http: HttpTransportBuilder::new()
                .timeout(options.timeout)
                .connect_timeout(options.connect_timeout)
                .tries(2)
                .build(),
        };
        let limits = tough::Limits {
            max_root_size: 1 << 20,
            max_targets_size: 32 << 20,
            max_timestamp_size: 1 << 20,
            max_snapshot_size: 4 << 20,
            max_root_updates: 1024,
        };
        let repository = runtime.block_on(
            tough::RepositoryLoader::new(&root, metadata_url.clone(), targets_url.clone())
                .transport(transport)
                .limits(limits)
                .datastore(trusted_dir)
                .expiration_enforcement(tough::ExpirationEnforcement::Safe)
                .load(),
        );
        let repository = repository.map_err(store_err("verify the metadata of", url))?;
        Ok(Store {
            runtime,
            repository,
            url: url.to_owned(),
        })
    }

    /// The releases of `app` for `target` on `channel`, oldest first.
    pub fn releases(&self, app: &str, target: &str, channel: &str) -> Vec<Available> {
        let mut found: Vec<Available> = self
            .repository
            .all_targets()
            .filter_map(|(name, info)| {
                let custom: &HashMap<String, serde_json::Value> = &info.custom;
                let keel = custom.get(CUSTOM_KEY)?;
                let field = |key: &str| keel.get(key).and_then(|v| v.as_str());
                if field("app")? != app
                    || field("target")? != target
                    || field("channel")? != channel
                {
                    return None;
                }
                Some(Available {
                    name: name.raw().to_owned(),
                    app: app.to_owned(),
                    version: field("version")?.parse().ok()?,
                    target: target.to_owned(),
                    channel: channel.to_owned(),
                    format: serde_json::from_value(keel.get("format")?.clone()).ok()?,
                    executables: serde_json::from_value(keel.get("executables")?.clone()).ok()?,
                    hooks: keel
                        .get("hooks")
                        .and_then(|h| serde_json::from_value(h.clone()).ok())
                        .unwrap_or_default(),
                    length: info.length,
                })
            })
            .collect();
        found.sort_by(|a, b| a.version.cmp(&b.version));
        found
    }

    /// The apps and targets the store has releases of, for messages.
    pub fn catalogue(&self) -> Vec<String> {
        let mut apps: Vec<String> = self
            .repository
            .all_targets()
            .filter_map(|(_, info)| {
                let keel = info.custom.get(CUSTOM_KEY)?;
                Some(format!(
                    "{} {} ({}, {})",
                    keel.get("app")?.as_str()?,
                    keel.get("version")?.as_str()?,
                    keel.get("target")?.as_str()?,
                    keel.get("channel")?.as_str()?
                ))
            })
            .collect();
        apps.sort();
        apps
    }

    /// Downloads `release` to `dest` (a new file), verified against the signed length and
    /// sha256 as it streams; a partial or wrong file is removed.
    pub fn download(&self, release: &Available, dest: &Path) -> Result<(), Error> {
        self.download_target(&release.name, dest)
    }

    /// Downloads the target `name` to `dest` (a new file), verified as it streams.
    pub fn download_target(&self, target: &str, dest: &Path) -> Result<(), Error> {
        let name = tough::TargetName::new(target.to_owned())
            .map_err(store_err("name a target of", &self.url))?;
        let result = self.runtime.block_on(async {
            let mut stream = self
                .repository
                .read_target(&name)
                .await
                .map_err(store_err("download from", &self.url))?
                .ok_or_else(|| Error::NoRelease {
                    detail: format!("the store lists no {target}"),
                })?;
            use std::io::Write;
            let mut file =
                fs_err::File::create_new(dest).map_err(crate::fsx::io_err(dest, "create"))?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(store_err("download from", &self.url))?;
                file.write_all(&chunk)
                    .map_err(crate::fsx::io_err(dest, "write"))?;
            }
            file.sync_all().map_err(crate::fsx::io_err(dest, "flush"))?;
            Ok(())
        });
        if result.is_err() {
            let _ = fs_err::remove_file(dest);
        }
        result
    }

    /// The root the client trusts now (it may have been rotated since install).
    pub fn trusted_root(trusted_dir: &Path) -> Option<Vec<u8>> {
        fs_err::read(trusted_dir.join("root.json")).ok()
    }
}

/// Where a downloaded release is unpacked: the executables named by the store, found in the
/// extracted archive.
pub fn unpack(
    release: &Available,
    archive: &Path,
    dir: &Path,
    max_bytes: u64,
) -> Result<std::collections::BTreeMap<String, PathBuf>, Error> {
    keel_archive::extract(release.format, archive, dir, max_bytes).map_err(|source| {
        Error::Archive {
            path: archive.to_owned(),
            source,
        }
    })?;
    let mut binaries = std::collections::BTreeMap::new();
    for executable in &release.executables {
        let path = dir.join(executable);
        let name = Path::new(executable)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !path.is_file() || name.is_empty() {
            return Err(Error::NoRelease {
                detail: format!("the archive {} has no {executable}", release.name),
            });
        }
        binaries.insert(name, path);
    }
    if binaries.is_empty() {
        return Err(Error::NoBinaries);
    }
    Ok(binaries)
}

/// The most an archive may unpack to.
const MAX_UNPACKED: u64 = 4 << 30;

impl Store {
    /// The release to install: `version` when given, else the newest on the channel.
    pub fn pick(
        &self,
        app: &str,
        target: &str,
        channel: &str,
        version: Option<&semver::Version>,
    ) -> Option<Available> {
        let releases = self.releases(app, target, channel);
        match version {
            Some(wanted) => releases.into_iter().find(|r| &r.version == wanted),
            None => releases.into_iter().last(),
        }
    }

    /// Downloads and unpacks `release` into a new folder below `work_dir`, returning the
    /// folder (removed when dropped) and the release ready for [`crate::AppHome::update`].
    pub fn fetch(
        &self,
        release: &Available,
        work_dir: &Path,
    ) -> Result<(Fetched, crate::NewRelease), Error> {
        fs_err::create_dir_all(work_dir).map_err(crate::fsx::io_err(work_dir, "create"))?;
        let dir = Fetched(unique_dir(work_dir)?);
        let archive = dir.0.join(&release.name);
        self.download(release, &archive)?;
        let binaries = unpack(release, &archive, &dir.0.join("unpacked"), MAX_UNPACKED)?;
        let new = crate::NewRelease {
            version: release.version.to_string(),
            target: release.target.clone(),
            binaries,
            hooks: release.hooks.clone(),
        };
        Ok((dir, new))
    }
}

/// A folder holding a downloaded release; removed when dropped.
#[derive(Debug)]
pub struct Fetched(PathBuf);

impl Drop for Fetched {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

fn unique_dir(parent: &Path) -> Result<PathBuf, Error> {
    for n in 0..1000u32 {
        let dir = parent.join(format!("release-{}-{n}", std::process::id()));
        match fs_err::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(crate::fsx::io_err(&dir, "create")(err)),
        }
    }
    Err(Error::BadState {
        path: parent.to_owned(),
        detail: "no free folder name for a download".into(),
    })
}

/// The triple of the machine this program runs on, as release archives name it.
pub fn host_triple() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" if cfg!(target_env = "musl") => format!("{arch}-unknown-linux-musl"),
        "linux" => format!("{arch}-unknown-linux-gnu"),
        "macos" => format!("{arch}-apple-darwin"),
        "windows" => format!("{arch}-pc-windows-msvc"),
        os => format!("{arch}-unknown-{os}"),
    }
}

/// `$KEEL_HOME`, else `$XDG_STATE_HOME/keel`, else `~/.local/state/keel`.
pub fn keel_home() -> Option<PathBuf> {
    let var = |key| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("KEEL_HOME")
        .or_else(|| var("XDG_STATE_HOME").map(|s| s.join("keel")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/keel")))
}
