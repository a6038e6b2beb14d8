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
//! The TUF roles are keel-tuf's types, the same ones keel-update's client reads stores
//! with, signed with Ed25519 over canonical JSON; this crate decides what goes into them and
//! how they reach the disk. By default one Ed25519 key (the one from `keel keygen`) signs every role; a separate
//! root key can hold the root role. This crate never prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keel_schema::store::PATCH_CUSTOM_KEY;
pub use keel_schema::store::{Expiry, STORE_CUSTOM_KEY, StoreTarget};
use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME, Manifest};
use keel_sign::SigningKey;
use keel_tuf::metadata::{
    Common, Hashes, MetaFile, ROOT, Root, SNAPSHOT, Snapshot, TARGETS, TIMESTAMP, TargetFile,
    Targets, Timestamp, Validate, parse, verify_signatures,
};
use keel_tuf::sign::Signer as TufSigner;

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
    /// `init` was asked for a store that exists.
    #[error("{} is a store already (it has metadata/root.json)", store.display())]
    Exists {
        /// The store.
        store: PathBuf,
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

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::Busy { .. } => {
                "wait for it to finish and run this again; a store is written by one publisher at a time (the lock is released when that process ends, however it ends)"
            }
            Error::NotARelease { .. } | Error::NoArchives { .. } => {
                "run `keel release` first (it writes target/keel/dist), or pass the folder it wrote"
            }
            Error::Exists { .. } => {
                "publish to it, or give a new folder; a store's root of trust is made once"
            }
            Error::Mismatch { .. } => {
                "the release folder changed after `keel release`: release again, or restore the file"
            }
            _ => return None,
        })
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

fn tuf_err(what: &'static str, store: &Path) -> impl FnOnce(keel_tuf::Error) -> Error {
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

/// A time as TUF metadata writes it.
fn tuf_time(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { what, path, source }
}

/// What [`publish`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct RoleState {
    /// Its version.
    pub version: u64,
    /// When it expires (RFC 3339 in JSON).
    #[serde(serialize_with = "as_text")]
    #[schemars(with = "String")]
    pub expires: jiff::Timestamp,
    /// Whether this refresh signed it anew (else it is byte for byte what it was).
    pub renewed: bool,
}

/// What [`refresh`] did to each role (in JSON, the roles by name, sorted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Refreshed {
    /// The snapshot role.
    pub snapshot: RoleState,
    /// The targets role: the releases.
    pub targets: RoleState,
    /// The timestamp role: always renewed.
    pub timestamp: RoleState,
}

/// `keel store refresh`'s outcome: the store, its new version and each role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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

/// The store re-signed, then each role: kept or re-signed, its version and expiry.
impl std::fmt::Display for RefreshReport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (store, version) = (self.store.display(), self.version);
        write!(
            f,
            "Re-signed {store} at version {version}; a role is re-signed when less than half of its lifetime is left"
        )?;
        let roles = &self.roles;
        for (name, role) in [
            ("targets", &roles.targets),
            ("snapshot", &roles.snapshot),
            ("timestamp", &roles.timestamp),
        ] {
            let what = if role.renewed { "re-signed" } else { "kept" };
            let expires = role.expires.strftime("%Y-%m-%d %H:%M UTC");
            write!(
                f,
                "\n  {name:<9} {what:<9} version {:<4} expires {expires}",
                role.version
            )?;
        }
        Ok(())
    }
}

fn as_text<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// A role's own fields with its version and expiry.
#[derive(Debug, Clone)]
struct Role<T> {
    body: T,
    version: u64,
    expires: jiff::Timestamp,
}

impl<T> Role<T> {
    fn state(&self, renewed: bool) -> RoleState {
        RoleState {
            version: self.version,
            expires: self.expires,
            renewed,
        }
    }
}

/// Signs roles with the store's key at one version and time.
struct Signer<'a> {
    store: &'a Path,
    key: TufSigner,
    /// The version of every role this signer signs.
    version: u64,
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
    fn sign(
        &self,
        kind: &str,
        version: u64,
        expires: jiff::Timestamp,
        body: &impl serde::Serialize,
    ) -> Result<Vec<u8>, Error> {
        let common = Common::new(kind, version, tuf_time(expires));
        self.key
            .sign_role(&common, body)
            .map_err(tuf_err("sign", self.store))
    }

    /// Signs the targets (unless kept) and a new snapshot (when the targets changed or
    /// `renew_snapshot`), then a new timestamp, and writes them in TUF's order: targets,
    /// snapshot, and the timestamp last.
    fn write_roles(
        &self,
        targets: TargetsRole<'_>,
        renew_snapshot: bool,
    ) -> Result<Refreshed, Error> {
        let store = self.store;
        let (targets_state, targets_bytes, kept) = match targets {
            TargetsRole::Sign(targets) => {
                let expires = days_from(self.now, self.expiry.targets_days);
                let bytes = self.sign(TARGETS, self.version, expires, &*targets)?;
                let name = format!("{}.targets.json", self.version);
                write::metadata_file(store, &name, &bytes)?;
                crash_point("targets-written");
                let state = RoleState {
                    version: self.version,
                    expires,
                    renewed: true,
                };
                (state, bytes, None)
            }
            TargetsRole::Keep(current) => (
                current.targets.state(false),
                current.targets_bytes.clone(),
                Some(current),
            ),
        };
        let (snapshot_state, snapshot_bytes) = match kept {
            Some(current) if !renew_snapshot => (
                current.snapshot.state(false),
                current.snapshot_bytes.clone(),
            ),
            _ => {
                let expires = days_from(self.now, self.expiry.snapshot_days);
                let mut snapshot = Snapshot::default();
                snapshot.meta.insert(
                    "targets.json".to_owned(),
                    metafile(targets_state.version, &targets_bytes),
                );
                let bytes = self.sign(SNAPSHOT, self.version, expires, &snapshot)?;
                write::metadata_file(store, &format!("{}.snapshot.json", self.version), &bytes)?;
                crash_point("snapshot-written");
                let state = RoleState {
                    version: self.version,
                    expires,
                    renewed: true,
                };
                (state, bytes)
            }
        };
        let expires = days_from(self.now, self.expiry.timestamp_days);
        let timestamp = Timestamp {
            meta: BTreeMap::from([(
                "snapshot.json".to_owned(),
                metafile(snapshot_state.version, &snapshot_bytes),
            )]),
        };
        let bytes = self.sign(TIMESTAMP, self.version, expires, &timestamp)?;
        // The one rename that moves clients to the new metadata.
        write::metadata_file(store, "timestamp.json", &bytes)?;
        crash_point("timestamp-written");
        Ok(Refreshed {
            targets: targets_state,
            snapshot: snapshot_state,
            timestamp: RoleState {
                version: self.version,
                expires,
                renewed: true,
            },
        })
    }
}

/// What the snapshot says of a targets file, or the timestamp of a snapshot file: its
/// version, length and sha256.
fn metafile(version: u64, bytes: &[u8]) -> MetaFile {
    MetaFile {
        version,
        length: Some(bytes.len() as u64),
        hashes: Some(Hashes::sha256(keel_verify::sha256_bytes(bytes).to_hex())),
    }
}

/// A store's target entry for the file at `path`: its length and sha256, and `custom`.
fn target_file(
    path: &Path,
    custom_key: &str,
    custom: &impl serde::Serialize,
) -> Result<TargetFile, Error> {
    let (digest, length) = keel_verify::sha256_file(path).map_err(|source| Error::Io {
        what: "hash",
        path: path.to_owned(),
        source: std::io::Error::other(source),
    })?;
    let custom = serde_json::to_value(custom).expect("keel's target metadata is plain JSON data");
    Ok(TargetFile {
        length,
        hashes: Hashes::sha256(digest.to_hex()),
        custom: Some(serde_json::json!({ custom_key: custom })),
    })
}

/// Creates the root of a new store, `metadata/1.root.json` and `metadata/root.json`:
/// `root_key` holds the root role, `key` the others. Returns the root.
/// Writes a new store's root: the root role on `root_key` (default: `key`'s signer), the
/// other roles on `key`.
fn create_root(
    store: &Path,
    key: &TufSigner,
    root_key: Option<&SigningKey>,
    expiry: &Expiry,
    now: jiff::Timestamp,
) -> Result<Root, Error> {
    let root_signer = root_key.map(|k| signer_of(k, store)).transpose()?;
    let root_key = root_signer.as_ref().unwrap_or(key);
    let metadata = store.join(METADATA_DIR);
    let root = Root {
        consistent_snapshot: true,
        keys: BTreeMap::from([
            (root_key.key_id(), root_key.public_key()),
            (key.key_id(), key.public_key()),
        ]),
        roles: BTreeMap::from([
            (ROOT.to_owned(), root_key.role_keys()),
            (TARGETS.to_owned(), key.role_keys()),
            (SNAPSHOT.to_owned(), key.role_keys()),
            (TIMESTAMP.to_owned(), key.role_keys()),
        ]),
    };
    let common = Common::new(ROOT, 1, tuf_time(days_from(now, expiry.root_days)));
    let bytes = root_key
        .sign_role(&common, &root)
        .map_err(tuf_err("create the root of", store))?;
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
    targets: Role<Targets>,
    snapshot: Role<Snapshot>,
    timestamp: Role<Timestamp>,
    /// The bytes of `N.targets.json` and `N.snapshot.json` as they are on disk.
    targets_bytes: Vec<u8>,
    snapshot_bytes: Vec<u8>,
}

impl Current {
    /// The version for the roles signed next: above every version the store has used.
    fn next_version(&self) -> u64 {
        let latest = self.roles.as_ref().map_or(0, |r| {
            r.targets
                .version
                .max(r.snapshot.version)
                .max(r.timestamp.version)
        });
        latest + 1
    }
}

/// Reads and verifies one role of the store: parsed, signed by its keys in `root`, and (for
/// all but the root) listed as `listed` says (version, length, sha256). Not its expiry, so
/// that an expired store can be revived.
fn load_role<T: serde::de::DeserializeOwned + Validate>(
    store: &Path,
    root: &Root,
    kind: &str,
    file: &str,
    listed: Option<&MetaFile>,
) -> Result<(Role<T>, Vec<u8>), Error> {
    let path = store.join(METADATA_DIR).join(file);
    let bytes = fs_err::read(&path).map_err(io_err("read", &path))?;
    let what = "verify the metadata of";
    if let Some(listed) = listed {
        listed.check(&bytes, file).map_err(tuf_err(what, store))?;
    }
    let parsed = parse::<T>(&bytes, kind).map_err(tuf_err(what, store))?;
    verify_signatures(&parsed.envelope, &root.keys, root.role(kind), file)
        .map_err(tuf_err(what, store))?;
    if let Some(listed) = listed
        && listed.version != parsed.common.version
    {
        return Err(tuf_err(what, store)(keel_tuf::Error::new(
            keel_tuf::Failure::Malformed,
            format!(
                "{file} is version {}, not the {} listed",
                parsed.common.version, listed.version
            ),
        )));
    }
    let expires = jiff::Timestamp::from_second(parsed.expires).map_err(|_| {
        tuf_err(what, store)(keel_tuf::Error::new(
            keel_tuf::Failure::Malformed,
            format!("{file} expires out of range"),
        ))
    })?;
    let role = Role {
        body: parsed.signed,
        version: parsed.common.version,
        expires,
    };
    Ok((role, bytes))
}

/// Reads and verifies the store's metadata (signatures, hashes and versions; not expiry, so
/// that an expired store can be revived).
fn load_current(store: &Path) -> Result<Current, Error> {
    let metadata = store.join(METADATA_DIR);
    let root_path = metadata.join("root.json");
    let root_bytes = fs_err::read(&root_path).map_err(io_err("read", &root_path))?;
    let what = "verify the root of";
    let parsed = parse::<Root>(&root_bytes, ROOT).map_err(tuf_err(what, store))?;
    verify_signatures(
        &parsed.envelope,
        &parsed.signed.keys,
        parsed.signed.role(ROOT),
        "root.json",
    )
    .map_err(tuf_err(what, store))?;
    let root = parsed.signed;
    if !metadata.join("timestamp.json").exists() {
        return Ok(Current { root, roles: None });
    }
    let (timestamp, _) = load_role::<Timestamp>(store, &root, TIMESTAMP, "timestamp.json", None)?;
    let listed = timestamp.body.snapshot().clone();
    let (snapshot, snapshot_bytes) = load_role::<Snapshot>(
        store,
        &root,
        SNAPSHOT,
        &format!("{}.snapshot.json", listed.version),
        Some(&listed),
    )?;
    let listed = snapshot
        .body
        .meta
        .get("targets.json")
        .cloned()
        .ok_or_else(|| {
            tuf_err("verify the metadata of", store)(keel_tuf::Error::new(
                keel_tuf::Failure::Malformed,
                "the snapshot lists no targets.json",
            ))
        })?;
    let (targets, targets_bytes) = load_role::<Targets>(
        store,
        &root,
        TARGETS,
        &format!("{}.targets.json", listed.version),
        Some(&listed),
    )?;
    Ok(Current {
        root,
        roles: Some(CurrentRoles {
            targets,
            snapshot,
            timestamp,
            targets_bytes,
            snapshot_bytes,
        }),
    })
}

/// Checks that `key` may sign the store's targets, snapshot and timestamp.
fn check_key(root: &Root, key: &SigningKey) -> Result<(), Error> {
    let public = key.public_key().ed25519().as_bytes().to_vec();
    let targets_keys = &root.role(TARGETS).keyids;
    let trusted = root.keys.iter().any(|(id, k)| {
        k.ed25519_public().as_deref() == Some(public.as_slice()) && targets_keys.contains(id)
    });
    if trusted {
        Ok(())
    } else {
        Err(Error::WrongKey {
            key_id: key.public_key().key_id_hex(),
        })
    }
}

/// The store's signer for a keel key.
fn signer_of(key: &SigningKey, store: &Path) -> Result<TufSigner, Error> {
    TufSigner::ed25519(&key.ed25519_seed()).map_err(tuf_err("use the key for", store))
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
    let manifest = read_release(release_dir)?;
    publish_release(store, release_dir, &manifest, key, root_key, options, now)
}

/// [`publish_with`] of a release folder whose manifest the caller read already (keel's
/// `ReleaseFolder`): every archive is still hashed and checked against it before anything is
/// written.
pub fn publish_release(
    store: &Path,
    release_dir: &Path,
    manifest: &Manifest,
    key: &SigningKey,
    root_key: Option<&SigningKey>,
    options: &PublishOptions<'_>,
    now: jiff::Timestamp,
) -> Result<Published, Error> {
    let (channel, expiry) = (options.channel, &options.expiry);
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
    // Every archive is checked against the manifest before anything is written.
    let mut entries = Vec::new();
    for (name, artifact) in &archives {
        let path = release_dir.join(name);
        let described =
            store_target(manifest, artifact, channel).ok_or_else(|| Error::Incomplete {
                dir: release_dir.to_owned(),
                file: (*name).clone(),
            })?;
        let target = target_file(&path, STORE_CUSTOM_KEY, &described)?;
        let sha = target.hashes.get("sha256").unwrap_or_default().to_owned();
        if target.length != artifact.size || sha != artifact.sha256 {
            return Err(Error::Mismatch { path });
        }
        entries.push((
            (*name).clone(),
            target,
            path,
            format!("{sha}.{name}"),
            described,
        ));
    }

    let _lock = write::lock(store)?;
    crash_point("locked");
    let signer = signer_of(key, store)?;
    let created_root = !store.join(METADATA_DIR).join("root.json").exists();
    let current = if created_root {
        let root = create_root(store, &signer, root_key, expiry, now)?;
        Current { root, roles: None }
    } else {
        let current = load_current(store)?;
        check_key(&current.root, key)?;
        current
    };
    let version = current.next_version();
    let mut targets = match &current.roles {
        Some(roles) => roles.targets.body.clone(),
        None => Targets::default(),
    };
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
            target_name,
            path,
            described,
            options.patch_versions,
            work.path(),
        )? {
            let target = target_file(&patch.path, PATCH_CUSTOM_KEY, &patch.described)?;
            let sha = target.hashes.get("sha256").unwrap_or_default().to_owned();
            patches.push((patch, target, sha));
        }
    }
    let mut added = Vec::new();
    let mut patch_names = Vec::new();
    // Target files first, then the metadata that names them.
    for (target_name, target, path, stored, _) in entries {
        write::target_file(store, &path, &stored)?;
        crash_point("target-copied");
        added.push(target_name.clone());
        targets.targets.insert(target_name, target);
    }
    for (patch, target, sha) in patches {
        write::target_file(store, &patch.path, &format!("{sha}.{}", patch.name))?;
        targets.targets.insert(patch.name.clone(), target);
        patch_names.push(patch.name);
    }
    let signer = Signer {
        store,
        key: signer,
        version,
        expiry,
        now,
    };
    signer.write_roles(TargetsRole::Sign(Box::new(targets)), true)?;
    Ok(Published {
        created_root,
        targets: added,
        patches: patch_names,
        version,
    })
}

/// What [`init`] made: a store with its root of trust and no release yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Initialized {
    /// The store's folder.
    pub store: PathBuf,
    /// Its root of trust, the file operators install with (`metadata/root.json`).
    pub root: PathBuf,
    /// The roles signed empty, each with its version and expiry.
    pub roles: Refreshed,
}

/// The store made, and what to do with its root.
impl std::fmt::Display for Initialized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Created the store {} with no release yet\n  root of trust: {} (give it to operators with the store's URL; commit it if the release settings name it)",
            self.store.display(),
            self.root.display()
        )
    }
}

/// Makes an empty store at `store`: its root of trust (the root role on `root_key`, default
/// `key`) and empty targets, snapshot and timestamp signed with `key`, so that the root
/// exists before the first release (for settings that name it) and clients read the store
/// as one with no release. A folder that holds a store already is refused, untouched.
pub fn init(
    store: &Path,
    key: &SigningKey,
    root_key: Option<&SigningKey>,
    expiry: &Expiry,
    now: jiff::Timestamp,
) -> Result<Initialized, Error> {
    let _lock = write::lock(store)?;
    let root_path = store.join(METADATA_DIR).join("root.json");
    if root_path.exists() {
        return Err(Error::Exists {
            store: store.to_owned(),
        });
    }
    let signer = signer_of(key, store)?;
    let root = create_root(store, &signer, root_key, expiry, now)?;
    let current = Current { root, roles: None };
    let signer = Signer {
        store,
        key: signer,
        version: current.next_version(),
        expiry,
        now,
    };
    let roles = signer.write_roles(TargetsRole::Sign(Box::default()), true)?;
    Ok(Initialized {
        store: store.to_owned(),
        root: root_path,
        roles,
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
    let current = load_current(store)?;
    check_key(&current.root, key)?;
    let version = current.next_version();
    let (targets, renew_snapshot) = match &current.roles {
        Some(roles) if !due(roles.targets.expires, expiry.targets_days, now) => {
            let snapshot = due(roles.snapshot.expires, expiry.snapshot_days, now);
            (TargetsRole::Keep(roles), snapshot)
        }
        Some(roles) => (
            TargetsRole::Sign(Box::new(roles.targets.body.clone())),
            true,
        ),
        None => (TargetsRole::Sign(Box::default()), true),
    };
    let signer = Signer {
        store,
        key: signer_of(key, store)?,
        version,
        expiry,
        now,
    };
    signer.write_roles(targets, renew_snapshot)
}
