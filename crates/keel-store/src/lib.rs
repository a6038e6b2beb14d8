//! keel release stores: a TUF repository (specification 1.0) of releases, as static files.
//!
//! A store is a folder that any HTTP server, bucket or CDN can serve:
//!
//! ```text
//! store/metadata/1.root.json, root.json     the root of trust (root.json is the latest)
//! store/metadata/N.targets.json             every release file, with keel's target metadata
//! store/metadata/N.snapshot.json
//! store/metadata/timestamp.json
//! store/targets/<sha256>.<file name>        the release files (consistent snapshots)
//! ```
//!
//! [`publish`] adds a release (the output folder of `keel release`) to a store, creating the
//! store's root on first use; every archive becomes a TUF target whose `custom.keel` says its
//! app, version, target triple, channel and update hooks. [`refresh`] renews the expiry of a
//! store that rarely releases, so that it does not freeze its clients: the timestamp always,
//! the snapshot and targets only when less than half of their lifetime is left (a refresh of
//! a store whose releases did not change leaves `N.targets.json` as it is).
//!
//! A store stays readable while it is written: every file is written beside its final name,
//! flushed, renamed into place and its folder flushed, in the order clients read them
//! backwards: the target files, `N.targets.json`, `N.snapshot.json`, and `timestamp.json`
//! last. Until that last rename a client sees the old release whole (the files it names are
//! never touched); after it, the new one. A publisher killed at any point leaves the old
//! release, plus files nothing names yet. One publisher at a time: [`publish`] and
//! [`refresh`] hold a lock on `.keel-publish.lock` in the store, and a second one fails at
//! once with [`Error::Busy`].
//!
//! The TUF roles are the types of `tough`, a maintained TUF implementation, and are signed
//! by it (canonical JSON, Ed25519); keel decides what goes into them and how they reach the
//! disk. By default one Ed25519 key (the one from `keel keygen`) signs every role; a separate
//! root key can hold the root role. This crate never prints.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
pub use keel_schema::store::{Expiry, STORE_CUSTOM_KEY, StoreTarget};
use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME, Manifest};
use keel_sign::SigningKey;
use tough::editor::signed::SignedRole;
use tough::key_source::KeySource;
use tough::schema::{
    Hashes, KeyHolder, Metafile, Role, RoleKeys, RoleType, Root, Signed, Snapshot, Target, Targets,
    Timestamp,
};
use tough::sign::Sign;

mod patches;
mod write;
pub use patches::DEFAULT_PATCH_VERSIONS;
pub use write::LOCK_FILE_NAME;
use write::crash_point;

/// The folder of a store's metadata.
pub const METADATA_DIR: &str = "metadata";
/// The folder of a store's target files.
pub const TARGETS_DIR: &str = "targets";
/// Why a store could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TUF library refused or failed.
    #[error("could not {what} the store at {}", store.display())]
    Tuf {
        /// What was being done.
        what: &'static str,
        /// The store.
        store: PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file could not be read or written.
    #[error("could not {what} {}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The release folder has no readable manifest.
    #[error("{} is not a keel release", dir.display())]
    NotARelease {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A release file does not match its manifest.
    #[error("{} does not match the release's manifest", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
    },
    /// The manifest does not say an archive's app, target or format.
    #[error("the manifest in {} does not say the app, target and format of {file}", dir.display())]
    Incomplete {
        /// The release folder.
        dir: PathBuf,
        /// The archive.
        file: String,
    },
    /// The release has no archives to publish.
    #[error("the release in {} has no archives", dir.display())]
    NoArchives {
        /// The folder.
        dir: PathBuf,
    },
    /// The given key is not the store's key.
    #[error("the key {key_id} is not trusted by the store's root to sign its releases")]
    WrongKey {
        /// The key given.
        key_id: String,
    },
    /// Another publisher holds the store's lock.
    #[error("another `keel publish` or `keel store refresh` is writing the store at {}", store.display())]
    Busy {
        /// The store.
        store: PathBuf,
    },
    /// An archive's name is not a plain file name.
    #[error("the archive name {name:?} in {} is not a plain file name", dir.display())]
    BadName {
        /// The release folder.
        dir: PathBuf,
        /// The name.
        name: String,
    },
    /// A delta-update patch could not be made.
    #[error("could not {what} {}", path.display())]
    Patch {
        /// What was being done.
        what: &'static str,
        /// The archive.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Hands a keel key to the TUF editor as an Ed25519 key pair.
struct KeelKey {
    seed: zeroize::Zeroizing<[u8; 32]>,
}

impl KeelKey {
    fn new(key: &SigningKey) -> KeelKey {
        KeelKey {
            seed: key.ed25519_seed(),
        }
    }
}

impl From<keel_fs::Error> for Error {
    fn from(err: keel_fs::Error) -> Error {
        Error::Io {
            what: err.op,
            path: err.path,
            source: err.source,
        }
    }
}

impl std::fmt::Debug for KeelKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeelKey([redacted])")
    }
}

#[async_trait]
impl KeySource for KeelKey {
    async fn as_sign(
        &self,
    ) -> Result<Box<dyn Sign>, Box<dyn std::error::Error + Send + Sync + 'static>> {
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(self.seed.as_ref())
            .map_err(|err| format!("the key is not a valid Ed25519 key: {err}"))?;
        Ok(Box::new(pair))
    }

    async fn write(
        &self,
        _value: &str,
        _key_id_hex: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        Err("keel keys are written by `keel keygen`, not by the store".into())
    }
}

fn runtime(store: &Path) -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|source| Error::Io {
            what: "start the I/O runtime for",
            path: store.to_owned(),
            source,
        })
}

fn tuf_err<E: std::error::Error + Send + Sync + 'static>(
    what: &'static str,
    store: &Path,
) -> impl FnOnce(E) -> Error {
    let store = store.to_owned();
    move |source| Error::Tuf {
        what,
        store,
        source: Box::new(source),
    }
}

/// `now` plus `days`, in whole seconds: the TUF specification's time format
/// (`2030-01-01T00:00:00Z`) has no fractions, and clients such as python-tuf refuse them.
fn days_from(now: jiff::Timestamp, days: u32) -> jiff::Timestamp {
    let whole = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    whole
        .checked_add(jiff::SignedDuration::from_hours(i64::from(days) * 24))
        .unwrap_or(whole)
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { what, path, source }
}

/// The `file://` URL of a folder; a relative path is taken from the current folder.
fn dir_url(dir: &Path) -> Result<url::Url, Error> {
    let absolute = std::path::absolute(dir).map_err(|source| Error::Io {
        what: "find",
        path: dir.to_owned(),
        source,
    })?;
    url::Url::from_directory_path(&absolute).map_err(|()| Error::Io {
        what: "make a URL of",
        path: absolute.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path cannot be a file URL",
        ),
    })
}

/// What [`publish`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// Whether the store's root was created by this publish.
    pub created_root: bool,
    /// The archives added.
    pub targets: Vec<String>,
    /// The delta-update patches added (`<archive>.from-<version>.patch`).
    pub patches: Vec<String>,
    /// The version of the new targets, snapshot and timestamp metadata.
    pub version: u64,
}

/// One TUF role of a store after [`refresh`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleState {
    /// Its version.
    pub version: u64,
    /// When it expires (RFC 3339 in JSON).
    #[serde(serialize_with = "as_text")]
    pub expires: jiff::Timestamp,
    /// Whether this refresh signed it anew (else it is byte for byte what it was).
    pub renewed: bool,
}

/// What [`refresh`] did to each role (in JSON, the roles by name, sorted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refreshed {
    /// The snapshot role.
    pub snapshot: RoleState,
    /// The targets role: the releases.
    pub targets: RoleState,
    /// The timestamp role: always renewed.
    pub timestamp: RoleState,
}

/// `keel store refresh`'s outcome: the store, its new version and each role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RefreshReport<'a> {
    /// The store's folder.
    pub store: &'a Path,
    /// The timestamp's new version.
    pub version: u64,
    /// Each role.
    pub roles: &'a Refreshed,
}

impl Refreshed {
    /// The outcome of refreshing `store`.
    pub fn report<'a>(&'a self, store: &'a Path) -> RefreshReport<'a> {
        RefreshReport {
            store,
            version: self.timestamp.version,
            roles: self,
        }
    }
}

fn as_text<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// The TUF specification version keel's roles declare.
const SPEC_VERSION: &str = "1.0.0";

/// Signs roles with the store's key, under the store's root, at one version and time.
struct Signer<'a> {
    store: &'a Path,
    root: Root,
    key: KeelKey,
    /// The version of every role this signer signs.
    version: NonZeroU64,
    expiry: &'a Expiry,
    now: jiff::Timestamp,
}

/// The targets role of a [`Signer::write_roles`]: new releases or a renewed signature, or the
/// current one kept byte for byte.
enum TargetsRole<'a> {
    Sign(Box<Targets>),
    Keep(&'a CurrentRoles),
}

impl Signer<'_> {
    /// The role signed, as the bytes to write.
    async fn sign<T: Role + serde::Serialize>(&self, role: T) -> Result<Vec<u8>, Error> {
        let sources: Vec<Box<dyn KeySource>> = vec![Box::new(KeelKey {
            seed: self.key.seed.clone(),
        })];
        let signed = SignedRole::new(
            role,
            &KeyHolder::Root(self.root.clone()),
            &sources,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .await
        .map_err(tuf_err("sign", self.store))?;
        Ok(signed.buffer().clone())
    }

    /// Signs the targets (unless kept) and a new snapshot (when the targets changed or
    /// `renew_snapshot`), then a new timestamp, and writes them in TUF's order: targets,
    /// snapshot, and the timestamp last.
    async fn write_roles(
        &self,
        targets: TargetsRole<'_>,
        renew_snapshot: bool,
    ) -> Result<Refreshed, Error> {
        let store = self.store;
        let (targets_state, targets_bytes, kept) = match targets {
            TargetsRole::Sign(targets) => {
                let bytes = self.sign(*targets.clone()).await?;
                let name = format!("{}.targets.json", targets.version);
                write::metadata_file(store, &name, &bytes)?;
                crash_point("targets-written");
                let state = RoleState {
                    version: targets.version.get(),
                    expires: targets.expires,
                    renewed: true,
                };
                (state, bytes, None)
            }
            TargetsRole::Keep(current) => {
                let state = RoleState {
                    version: current.targets.signed.version.get(),
                    expires: current.targets.signed.expires,
                    renewed: false,
                };
                (state, current.targets_bytes.clone(), Some(current))
            }
        };
        let (snapshot_state, snapshot_bytes) = match kept {
            Some(current) if !renew_snapshot => (
                RoleState {
                    version: current.snapshot.signed.version.get(),
                    expires: current.snapshot.signed.expires,
                    renewed: false,
                },
                current.snapshot_bytes.clone(),
            ),
            _ => {
                let expires = days_from(self.now, self.expiry.snapshot_days);
                let mut snapshot = Snapshot::new(SPEC_VERSION.to_owned(), self.version, expires);
                let targets_version =
                    NonZeroU64::new(targets_state.version).unwrap_or(NonZeroU64::MIN);
                snapshot.meta.insert(
                    "targets.json".to_owned(),
                    metafile(targets_version, &targets_bytes),
                );
                let bytes = self.sign(snapshot).await?;
                write::metadata_file(store, &format!("{}.snapshot.json", self.version), &bytes)?;
                crash_point("snapshot-written");
                let state = RoleState {
                    version: self.version.get(),
                    expires,
                    renewed: true,
                };
                (state, bytes)
            }
        };
        let expires = days_from(self.now, self.expiry.timestamp_days);
        let mut timestamp = Timestamp::new(SPEC_VERSION.to_owned(), self.version, expires);
        let snapshot_version = NonZeroU64::new(snapshot_state.version).unwrap_or(NonZeroU64::MIN);
        timestamp.meta.insert(
            "snapshot.json".to_owned(),
            metafile(snapshot_version, &snapshot_bytes),
        );
        let bytes = self.sign(timestamp).await?;
        // The one rename that moves clients to the new metadata.
        write::metadata_file(store, "timestamp.json", &bytes)?;
        crash_point("timestamp-written");
        Ok(Refreshed {
            targets: targets_state,
            snapshot: snapshot_state,
            timestamp: RoleState {
                version: self.version.get(),
                expires,
                renewed: true,
            },
        })
    }
}

/// What the snapshot says of a targets file, or the timestamp of a snapshot file: its
/// version, length and sha256.
fn metafile(version: NonZeroU64, bytes: &[u8]) -> Metafile {
    Metafile {
        hashes: Some(Hashes {
            sha256: keel_verify::sha256_bytes(bytes).0.to_vec().into(),
            _extra: HashMap::new(),
        }),
        length: Some(bytes.len() as u64),
        version,
        _extra: HashMap::new(),
    }
}

/// Creates the root of a new store, `metadata/1.root.json` and `metadata/root.json`:
/// `root_key` holds the root role, `key` the others. Returns the root.
async fn create_root(
    store: &Path,
    key: &KeelKey,
    root_key: &KeelKey,
    expiry: &Expiry,
    now: jiff::Timestamp,
) -> Result<Root, Error> {
    let metadata = store.join(METADATA_DIR);
    let sign_err = |source: Box<dyn std::error::Error + Send + Sync>| Error::Tuf {
        what: "create the root of",
        store: store.to_owned(),
        source,
    };
    let root_sign = root_key.as_sign().await.map_err(sign_err)?;
    let role_sign = key.as_sign().await.map_err(sign_err)?;
    let (root_tuf, role_tuf) = (root_sign.tuf_key(), role_sign.tuf_key());
    let root_id = root_tuf
        .key_id()
        .map_err(tuf_err("create the root of", store))?;
    let role_id = role_tuf
        .key_id()
        .map_err(tuf_err("create the root of", store))?;
    let one = NonZeroU64::MIN;
    let role_keys = |id: &tough::schema::decoded::Decoded<tough::schema::decoded::Hex>| RoleKeys {
        keyids: vec![id.clone()],
        threshold: one,
        _extra: HashMap::new(),
    };
    let root = Root {
        spec_version: SPEC_VERSION.to_owned(),
        consistent_snapshot: true,
        version: one,
        expires: days_from(now, expiry.root_days),
        keys: HashMap::from([(root_id.clone(), root_tuf), (role_id.clone(), role_tuf)]),
        roles: HashMap::from([
            (RoleType::Root, role_keys(&root_id)),
            (RoleType::Targets, role_keys(&role_id)),
            (RoleType::Snapshot, role_keys(&role_id)),
            (RoleType::Timestamp, role_keys(&role_id)),
        ]),
        _extra: HashMap::new(),
    };
    let signer = Signer {
        store,
        root: root.clone(),
        key: KeelKey {
            seed: root_key.seed.clone(),
        },
        version: one,
        expiry,
        now,
    };
    let bytes = signer.sign(root.clone()).await?;
    keel_fs::create_dir(&metadata)?;
    write::metadata_file(store, "1.root.json", &bytes)?;
    write::metadata_file(store, "root.json", &bytes)?;
    crash_point("root-written");
    Ok(root)
}

/// A store's current signed metadata.
struct Current {
    root: Root,
    /// `None` for a store that has a root only.
    roles: Option<CurrentRoles>,
}

struct CurrentRoles {
    targets: Signed<Targets>,
    snapshot: Signed<Snapshot>,
    timestamp: Signed<Timestamp>,
    /// The bytes of `N.targets.json` and `N.snapshot.json` as they are on disk.
    targets_bytes: Vec<u8>,
    snapshot_bytes: Vec<u8>,
}

impl Current {
    /// The version for the roles signed next: above every version the store has used.
    fn next_version(&self) -> NonZeroU64 {
        let latest = self.roles.as_ref().map_or(0, |r| {
            [
                r.targets.signed.version.get(),
                r.snapshot.signed.version.get(),
                r.timestamp.signed.version.get(),
            ]
            .into_iter()
            .max()
            .unwrap_or(0)
        });
        NonZeroU64::new(latest + 1).unwrap_or(NonZeroU64::MIN)
    }
}

/// Reads and verifies the store's metadata (signatures, hashes and versions; not expiry, so
/// that an expired store can be revived).
async fn load_current(store: &Path) -> Result<Current, Error> {
    let metadata = store.join(METADATA_DIR);
    let root_path = metadata.join("root.json");
    let root_bytes = fs_err::read(&root_path).map_err(io_err("read", &root_path))?;
    if !metadata.join("timestamp.json").exists() {
        let root: Signed<Root> =
            serde_json::from_slice(&root_bytes).map_err(tuf_err("read the root of", store))?;
        return Ok(Current {
            root: root.signed,
            roles: None,
        });
    }
    let repo = tough::RepositoryLoader::new(
        &root_bytes,
        dir_url(&metadata)?,
        dir_url(&store.join(TARGETS_DIR))?,
    )
    .expiration_enforcement(tough::ExpirationEnforcement::Unsafe)
    .load()
    .await
    .map_err(tuf_err("load", store))?;
    let read = |name: String| {
        let path = metadata.join(name);
        fs_err::read(&path).map_err(io_err("read", &path))
    };
    let targets_bytes = read(format!("{}.targets.json", repo.targets().signed.version))?;
    let snapshot_bytes = read(format!("{}.snapshot.json", repo.snapshot().signed.version))?;
    Ok(Current {
        root: repo.root().signed.clone(),
        roles: Some(CurrentRoles {
            targets: repo.targets().clone(),
            snapshot: repo.snapshot().clone(),
            timestamp: repo.timestamp().clone(),
            targets_bytes,
            snapshot_bytes,
        }),
    })
}

/// Checks that `key` may sign the store's targets, snapshot and timestamp.
fn check_key(root: &Root, key: &SigningKey) -> Result<(), Error> {
    let public = key.public_key().ed25519().as_bytes().to_vec();
    let targets_keys = root
        .roles
        .get(&RoleType::Targets)
        .map(|role| role.keyids.as_slice())
        .unwrap_or_default();
    let trusted = root.keys.iter().any(|(id, k)| {
        matches!(k, tough::schema::key::Key::Ed25519 { keyval, .. } if *keyval.public == *public.as_slice())
            && targets_keys.contains(id)
    });
    if trusted {
        Ok(())
    } else {
        Err(Error::WrongKey {
            key_id: key.public_key().key_id_hex(),
        })
    }
}

/// What the store says about an archive of the release: its app, version, target, format,
/// executables and hooks. `None` when the manifest does not say all of it.
fn store_target(
    manifest: &Manifest,
    artifact: &keel_schema::Artifact,
    channel: &str,
) -> Option<StoreTarget> {
    let app = artifact.app.as_deref()?;
    let app_info = manifest.apps.get(app)?;
    Some(StoreTarget {
        app: app.to_owned(),
        version: app_info.version.clone(),
        target: artifact.target.clone()?,
        channel: channel.to_owned(),
        format: artifact.format?,
        executables: artifact.executables.clone(),
        hooks: app_info.update.clone(),
        commit: manifest.source.commit.clone(),
    })
}

/// Whether a role expiring at `expires` has less than half of its `days` left at `now`.
fn due(expires: jiff::Timestamp, days: u32, now: jiff::Timestamp) -> bool {
    let half = jiff::SignedDuration::from_hours(i64::from(days) * 12);
    now.checked_add(half)
        .is_ok_and(|half_way| expires < half_way)
}

/// Reads the release's manifest and its archives.
fn read_release(release_dir: &Path) -> Result<Manifest, Error> {
    let manifest_path = release_dir.join(MANIFEST_FILE_NAME);
    fs_err::read_to_string(&manifest_path)
        .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        .and_then(|text| Manifest::from_json(&text).map_err(|e| Box::new(e) as _))
        .map_err(|source| Error::NotARelease {
            dir: release_dir.to_owned(),
            source,
        })
}

/// Adds the release in `release_dir` to the store at `store` (created with its root on first
/// use), signed with `key`; `root_key` holds the root role of a new store (default: `key`).
pub fn publish(
    store: &Path,
    release_dir: &Path,
    key: &SigningKey,
    root_key: Option<&SigningKey>,
    channel: &str,
    expiry: &Expiry,
    now: jiff::Timestamp,
) -> Result<Published, Error> {
    let options = PublishOptions {
        channel,
        expiry: *expiry,
        patch_versions: DEFAULT_PATCH_VERSIONS,
    };
    publish_with(store, release_dir, key, root_key, &options, now)
}

/// How [`publish_with`] publishes.
#[derive(Debug, Clone)]
pub struct PublishOptions<'a> {
    /// The channel the release goes to.
    pub channel: &'a str,
    /// How long the new metadata stays valid.
    pub expiry: Expiry,
    /// How many earlier versions of each app and target get a delta-update patch to each
    /// new `tar.*` archive (0: none).
    pub patch_versions: usize,
}

/// [`publish`], with delta-update patches from `options.patch_versions` earlier versions.
pub fn publish_with(
    store: &Path,
    release_dir: &Path,
    key: &SigningKey,
    root_key: Option<&SigningKey>,
    options: &PublishOptions<'_>,
    now: jiff::Timestamp,
) -> Result<Published, Error> {
    let (channel, expiry) = (options.channel, &options.expiry);
    let manifest = read_release(release_dir)?;
    let archives: Vec<(&String, &keel_schema::Artifact)> = manifest
        .artifacts
        .iter()
        .filter(|(_, a)| a.kind == ArtifactKind::Archive)
        .collect();
    if archives.is_empty() {
        return Err(Error::NoArchives {
            dir: release_dir.to_owned(),
        });
    }
    for (name, _) in &archives {
        if !write::plain_file_name(name) {
            return Err(Error::BadName {
                dir: release_dir.to_owned(),
                name: (*name).clone(),
            });
        }
    }
    runtime(store)?.block_on(async {
        // Every archive is checked against the manifest before anything is written.
        let mut entries = Vec::new();
        for (name, artifact) in &archives {
            let path = release_dir.join(name);
            let mut target = Target::from_path(&path)
                .await
                .map_err(tuf_err("hash a release file for", store))?;
            let sha = hex::encode(&*target.hashes.sha256);
            if target.length != artifact.size || sha != artifact.sha256 {
                return Err(Error::Mismatch { path });
            }
            let described =
                store_target(&manifest, artifact, channel).ok_or_else(|| Error::Incomplete {
                    dir: release_dir.to_owned(),
                    file: (*name).clone(),
                })?;
            target.custom.insert(
                STORE_CUSTOM_KEY.to_owned(),
                serde_json::to_value(&described).map_err(tuf_err("describe a target of", store))?,
            );
            let target_name = tough::TargetName::new(name.as_str())
                .map_err(tuf_err("name a target of", store))?;
            entries.push((
                target_name,
                target,
                path,
                format!("{sha}.{name}"),
                described,
            ));
        }

        let _lock = write::lock(store)?;
        crash_point("locked");
        let keel_key = KeelKey::new(key);
        let created_root = !store.join(METADATA_DIR).join("root.json").exists();
        let current = if created_root {
            let root_key = root_key.map(KeelKey::new);
            let root = create_root(
                store,
                &keel_key,
                root_key.as_ref().unwrap_or(&keel_key),
                expiry,
                now,
            )
            .await?;
            Current { root, roles: None }
        } else {
            let current = load_current(store).await?;
            check_key(&current.root, key)?;
            current
        };
        let version = current.next_version();
        let mut targets = match &current.roles {
            Some(roles) => roles.targets.signed.clone(),
            None => Targets::new(SPEC_VERSION.to_owned(), version, now),
        };
        targets.version = version;
        targets.expires = days_from(now, expiry.targets_days);
        // Patches from earlier versions, made against the targets before this release.
        let work = tempfile::tempdir().map_err(|source| Error::Io {
            what: "create a work folder for patches of",
            path: store.to_owned(),
            source,
        })?;
        let mut patches = Vec::new();
        for (target_name, _, path, _, described) in &entries {
            for patch in patches::make(
                store,
                &targets,
                target_name.raw(),
                path,
                described,
                options.patch_versions,
                work.path(),
            )? {
                let target = patches::target(&patch, store).await?;
                let sha = hex::encode(&*target.hashes.sha256);
                patches.push((patch, target, sha));
            }
        }
        let mut added = Vec::new();
        let mut patch_names = Vec::new();
        // Target files first, then the metadata that names them.
        for (target_name, target, path, stored, _) in entries {
            write::target_file(store, &path, &stored)?;
            crash_point("target-copied");
            added.push(target_name.raw().to_owned());
            targets.targets.insert(target_name, target);
        }
        for (patch, target, sha) in patches {
            write::target_file(store, &patch.path, &format!("{sha}.{}", patch.name))?;
            let target_name = tough::TargetName::new(patch.name.as_str())
                .map_err(tuf_err("name a target of", store))?;
            patch_names.push(patch.name);
            targets.targets.insert(target_name, target);
        }
        let signer = Signer {
            store,
            root: current.root.clone(),
            key: keel_key,
            version,
            expiry,
            now,
        };
        signer
            .write_roles(TargetsRole::Sign(Box::new(targets)), true)
            .await?;
        Ok(Published {
            created_root,
            targets: added,
            patches: patch_names,
            version: version.get(),
        })
    })
}

/// Renews the store's expiry so that clients keep trusting it: signs a new timestamp, and a
/// new snapshot or targets only when less than half of its lifetime (`expiry`) is left.
/// The releases stay as they are.
pub fn refresh(
    store: &Path,
    key: &SigningKey,
    expiry: &Expiry,
    now: jiff::Timestamp,
) -> Result<Refreshed, Error> {
    let _lock = write::lock(store)?;
    crash_point("locked");
    runtime(store)?.block_on(async {
        let current = load_current(store).await?;
        check_key(&current.root, key)?;
        let version = current.next_version();
        let (targets, renew_snapshot) = match &current.roles {
            Some(roles) if !due(roles.targets.signed.expires, expiry.targets_days, now) => {
                let snapshot = due(roles.snapshot.signed.expires, expiry.snapshot_days, now);
                (TargetsRole::Keep(roles), snapshot)
            }
            Some(roles) => {
                let mut targets = roles.targets.signed.clone();
                targets.version = version;
                targets.expires = days_from(now, expiry.targets_days);
                (TargetsRole::Sign(Box::new(targets)), true)
            }
            None => {
                let expires = days_from(now, expiry.targets_days);
                let targets = Targets::new(SPEC_VERSION.to_owned(), version, expires);
                (TargetsRole::Sign(Box::new(targets)), true)
            }
        };
        let signer = Signer {
            store,
            root: current.root.clone(),
            key: KeelKey::new(key),
            version,
            expiry,
            now,
        };
        signer.write_roles(targets, renew_snapshot).await
    })
}
