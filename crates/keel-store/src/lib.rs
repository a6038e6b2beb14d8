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
//! app, version, target triple, channel and update hooks. [`refresh`] re-signs the store with
//! new expiry times so that a store that rarely releases does not freeze its clients.
//!
//! The TUF metadata is written and signed by `tough`, a maintained TUF implementation (keel
//! does not write TUF by hand). By default one Ed25519 key (the one from `keel keygen`) signs
//! every role; a separate root key can hold the root role. This crate never prints.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
pub use keel_schema::store::{Expiry, STORE_CUSTOM_KEY, StoreTarget};
use keel_schema::{ArtifactKind, MANIFEST_FILE_NAME, Manifest};
use keel_sign::SigningKey;
use tough::editor::RepositoryEditor;
use tough::editor::signed::{PathExists, SignedRole};
use tough::key_source::KeySource;
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root, Target};
use tough::sign::Sign;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Whether the store's root was created by this publish.
    pub created_root: bool,
    /// The targets added.
    pub targets: Vec<String>,
    /// The version of the new targets, snapshot and timestamp metadata.
    pub version: u64,
}

/// Creates `metadata/1.root.json` and `metadata/root.json`: `root_key` holds the root role,
/// `key` the others.
async fn create_root(
    store: &Path,
    key: &KeelKey,
    root_key: &KeelKey,
    expiry: &Expiry,
    now: jiff::Timestamp,
) -> Result<(), Error> {
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
        spec_version: "1.0.0".to_owned(),
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
    let sources: Vec<Box<dyn KeySource>> = vec![Box::new(KeelKey {
        seed: root_key.seed.clone(),
    })];
    let signed = SignedRole::new(
        root.clone(),
        &KeyHolder::Root(root),
        &sources,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .await
    .map_err(tuf_err("sign the root of", store))?;
    fs_err::create_dir_all(&metadata).map_err(|source| Error::Io {
        what: "create",
        path: metadata.clone(),
        source,
    })?;
    signed
        .write(&metadata, true)
        .await
        .map_err(tuf_err("write the root of", store))?;
    keel_fs::copy_atomic(
        &metadata.join("1.root.json"),
        &metadata.join("root.json"),
        None,
    )?;
    Ok(())
}

/// Loads the store's current metadata for editing; `None` for a store with a root only.
async fn load_editor(store: &Path) -> Result<(RepositoryEditor, u64), Error> {
    let metadata = store.join(METADATA_DIR);
    let root_path = metadata.join("root.json");
    if !metadata.join("timestamp.json").exists() {
        let editor = RepositoryEditor::new(&root_path)
            .await
            .map_err(tuf_err("read the root of", store))?;
        return Ok((editor, 1));
    }
    let root = fs_err::read(&root_path).map_err(|source| Error::Io {
        what: "read",
        path: root_path.clone(),
        source,
    })?;
    // Editing must work on an expired store too: refreshing one is how it is revived.
    let repo = tough::RepositoryLoader::new(
        &root,
        dir_url(&metadata)?,
        dir_url(&store.join(TARGETS_DIR))?,
    )
    .expiration_enforcement(tough::ExpirationEnforcement::Unsafe)
    .load()
    .await
    .map_err(tuf_err("load", store))?;
    let next = [
        repo.targets().signed.version.get(),
        repo.snapshot().signed.version.get(),
        repo.timestamp().signed.version.get(),
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
        + 1;
    let editor = RepositoryEditor::from_repo(&root_path, repo)
        .await
        .map_err(tuf_err("edit", store))?;
    Ok((editor, next))
}

fn set_versions(
    editor: &mut RepositoryEditor,
    version: u64,
    expiry: &Expiry,
    now: jiff::Timestamp,
    store: &Path,
) -> Result<(), Error> {
    let version = NonZeroU64::new(version).unwrap_or(NonZeroU64::MIN);
    editor
        .targets_version(version)
        .map_err(tuf_err("version", store))?
        .targets_expires(days_from(now, expiry.targets_days))
        .map_err(tuf_err("version", store))?
        .snapshot_version(version)
        .snapshot_expires(days_from(now, expiry.snapshot_days))
        .timestamp_version(version)
        .timestamp_expires(days_from(now, expiry.timestamp_days));
    Ok(())
}

/// Checks that `key` may sign the store's targets, snapshot and timestamp.
fn check_key(store: &Path, key: &SigningKey) -> Result<(), Error> {
    let root_path = store.join(METADATA_DIR).join("root.json");
    let text = fs_err::read(&root_path).map_err(|source| Error::Io {
        what: "read",
        path: root_path.clone(),
        source,
    })?;
    let root: tough::schema::Signed<Root> =
        serde_json::from_slice(&text).map_err(tuf_err("read the root of", store))?;
    let public = key.public_key().ed25519().as_bytes().to_vec();
    let targets_keys = root
        .signed
        .roles
        .get(&RoleType::Targets)
        .map(|role| role.keyids.as_slice())
        .unwrap_or_default();
    let trusted = root.signed.keys.iter().any(|(id, k)| {
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
    let manifest_path = release_dir.join(MANIFEST_FILE_NAME);
    let manifest = fs_err::read_to_string(&manifest_path)
        .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        .and_then(|text| Manifest::from_json(&text).map_err(|e| Box::new(e) as _))
        .map_err(|source| Error::NotARelease {
            dir: release_dir.to_owned(),
            source,
        })?;
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
    runtime(store)?.block_on(async {
        let keel_key = KeelKey::new(key);
        let created_root = !store.join(METADATA_DIR).join("root.json").exists();
        if created_root {
            let root = root_key.map(KeelKey::new);
            create_root(
                store,
                &keel_key,
                root.as_ref().unwrap_or(&keel_key),
                expiry,
                now,
            )
            .await?;
        } else {
            check_key(store, key)?;
        }
        let (mut editor, version) = load_editor(store).await?;
        set_versions(&mut editor, version, expiry, now, store)?;
        let mut added = Vec::new();
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
            editor
                .add_target(name.as_str(), target)
                .map_err(tuf_err("add a target to", store))?;
            added.push((*name).clone());
        }
        let sources: Vec<Box<dyn KeySource>> = vec![Box::new(keel_key)];
        let signed = editor
            .sign(&sources)
            .await
            .map_err(tuf_err("sign", store))?;
        // Target files first, then the metadata that names them.
        let targets_dir = store.join(TARGETS_DIR);
        fs_err::create_dir_all(&targets_dir).map_err(|source| Error::Io {
            what: "create",
            path: targets_dir.clone(),
            source,
        })?;
        for name in &added {
            signed
                .copy_target(
                    &release_dir.join(name),
                    &targets_dir,
                    PathExists::Skip,
                    None,
                )
                .await
                .map_err(tuf_err("copy a target into", store))?;
        }
        signed
            .write(store.join(METADATA_DIR))
            .await
            .map_err(tuf_err("write", store))?;
        copy_latest_root(store)?;
        Ok(Published {
            created_root,
            targets: added,
            version,
        })
    })
}

/// `root.json` is always the latest root, for clients that bootstrap from the store itself.
fn copy_latest_root(store: &Path) -> Result<(), Error> {
    let metadata = store.join(METADATA_DIR);
    let latest = fs_err::read_dir(&metadata)
        .map_err(|source| Error::Io {
            what: "read",
            path: metadata.clone(),
            source,
        })?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".root.json")?.parse::<u64>().ok()
        })
        .max();
    if let Some(version) = latest {
        let from = metadata.join(format!("{version}.root.json"));
        keel_fs::copy_atomic(&from, &metadata.join("root.json"), None)?;
    }
    Ok(())
}

/// Re-signs the store's targets, snapshot and timestamp with new versions and expiry times;
/// the releases stay as they are. Returns the new version.
pub fn refresh(
    store: &Path,
    key: &SigningKey,
    expiry: &Expiry,
    now: jiff::Timestamp,
) -> Result<u64, Error> {
    check_key(store, key)?;
    runtime(store)?.block_on(async {
        let (mut editor, version) = load_editor(store).await?;
        set_versions(&mut editor, version, expiry, now, store)?;
        let sources: Vec<Box<dyn KeySource>> = vec![Box::new(KeelKey::new(key))];
        let signed = editor
            .sign(&sources)
            .await
            .map_err(tuf_err("sign", store))?;
        signed
            .write(store.join(METADATA_DIR))
            .await
            .map_err(tuf_err("write", store))?;
        Ok(version)
    })
}
