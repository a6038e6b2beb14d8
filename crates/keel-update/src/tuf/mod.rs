//! keel's TUF client: the client workflow of the TUF specification (version 1.0), on a
//! small blocking HTTP client.
//!
//! - Root rotation one version at a time, each new root signed by the old root's keys and
//!   its own; the final root must not have expired.
//! - timestamp, snapshot and targets checked for signatures, versions (no rollback), the
//!   lengths and hashes the role above lists, and expiry, all against one time taken when
//!   the refresh starts.
//! - Trusted metadata kept as the bytes received, under unversioned names
//!   (`<role>.json`, the role name percent-encoded), and used again when still valid.
//! - Delegated roles loaded only when a target is looked up, depth first in delegation
//!   order, honouring `paths`, `path_hash_prefixes`, succinct hash bins and `terminating`,
//!   visiting at most 32 roles.
//! - Targets streamed to disk and checked against the signed length and every signed hash.

mod fetch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keel_tuf::{keys, metadata};

use crate::store::{ClientOptions, StoreFailure};

pub(crate) use metadata::TargetFile;
use metadata::{
    MetaFile, Parsed, ROOT, Root, SNAPSHOT, Snapshot, TARGETS, TIMESTAMP, Targets, Timestamp,
    parse, verify_signatures,
};

/// A failure of the TUF client, classified.
#[derive(Debug, Clone)]
pub struct TufError {
    failure: StoreFailure,
    message: String,
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl TufError {
    pub(crate) fn new(failure: StoreFailure, message: impl Into<String>) -> TufError {
        TufError {
            failure,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn caused_by(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(std::sync::Arc::new(source));
        self
    }

    /// What went wrong, for matching.
    pub fn failure(&self) -> StoreFailure {
        self.failure
    }
}

impl From<keel_tuf::Error> for TufError {
    fn from(err: keel_tuf::Error) -> TufError {
        let failure = match err.failure() {
            keel_tuf::Failure::Malformed => StoreFailure::Malformed,
            keel_tuf::Failure::BadSignature => StoreFailure::BadSignature,
            keel_tuf::Failure::HashMismatch => StoreFailure::HashMismatch,
            keel_tuf::Failure::LengthMismatch => StoreFailure::LengthMismatch,
            _ => StoreFailure::Other,
        };
        TufError::new(failure, err.message())
    }
}

impl std::fmt::Display for TufError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TufError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// The most a metadata file may be, by role.
const ROOT_MAX: u64 = 1 << 20;
const TIMESTAMP_MAX: u64 = 64 << 10;
const SNAPSHOT_MAX: u64 = 4 << 20;
const TARGETS_MAX: u64 = 32 << 20;

/// The most bytes read for a role: its signed length, but never more than the role's maximum
/// (a signed length is the signer's word, and a compromised or careless signer's word can
/// name any size).
fn capped(signed: Option<u64>, max: u64) -> u64 {
    signed.map_or(max, |length| length.min(max))
}
/// The most root versions one refresh walks through.
const MAX_ROOT_ROTATIONS: u64 = 256;
/// The most roles one target lookup visits.
const MAX_DELEGATIONS: usize = 32;

/// A role name as one URL path segment and one file name: every byte outside
/// `[A-Za-z0-9_.~-]` percent-encoded.
pub(crate) fn quote(name: &str) -> String {
    keel_http::encode(name)
}

/// A TUF repository's client, holding the metadata it trusts.
pub(crate) struct Client {
    fetcher: fetch::Fetcher,
    metadata_url: url::Url,
    targets_url: url::Url,
    dir: PathBuf,
    /// Seconds since 1970, taken when the client was made: every expiry is checked against it.
    now: i64,
    root: Parsed<Root>,
    timestamp: Option<Parsed<Timestamp>>,
    snapshot: Option<Parsed<Snapshot>>,
    /// `targets` and the delegated roles loaded so far, and the delegator each was loaded
    /// through.
    targets: BTreeMap<String, Parsed<Targets>>,
    delegators: BTreeMap<String, String>,
}

fn ends_with_slash(url: &url::Url) -> url::Url {
    if url.path().ends_with('/') {
        url.clone()
    } else {
        let mut url = url.clone();
        let path = format!("{}/", url.path());
        url.set_path(&path);
        url
    }
}

impl Client {
    /// A client trusting `root` (which must be signed by its own keys), keeping metadata in
    /// `dir`.
    pub(crate) fn new(
        root: &[u8],
        dir: &Path,
        metadata_url: &url::Url,
        targets_url: &url::Url,
        options: &ClientOptions,
        now: i64,
    ) -> Result<Client, TufError> {
        let root: Parsed<Root> = parse(root, ROOT)?;
        verify_signatures(
            &root.envelope,
            &root.signed.keys,
            root.signed.role(ROOT),
            "the trusted root",
        )
        .map_err(|err| TufError::new(StoreFailure::UntrustedRoot, err.message()))?;
        Ok(Client {
            // An https store is never followed to plain http by a redirect, unless allowed.
            fetcher: fetch::Fetcher::new(
                options,
                !options.allow_http
                    && metadata_url.scheme() == "https"
                    && targets_url.scheme() == "https",
            ),
            metadata_url: ends_with_slash(metadata_url),
            targets_url: ends_with_slash(targets_url),
            dir: dir.to_owned(),
            now,
            root,
            timestamp: None,
            snapshot: None,
            targets: BTreeMap::new(),
            delegators: BTreeMap::new(),
        })
    }

    /// The client workflow: root, timestamp, snapshot, then top-level targets.
    pub(crate) fn refresh(&mut self) -> Result<(), TufError> {
        self.load_root()?;
        self.load_timestamp()?;
        self.load_snapshot()?;
        self.load_targets(TARGETS, ROOT)?;
        Ok(())
    }

    /// The top-level targets (after [`Client::refresh`]).
    pub(crate) fn top_level_targets(&self) -> impl Iterator<Item = (&String, &TargetFile)> {
        self.targets
            .get(TARGETS)
            .into_iter()
            .flat_map(|t| t.signed.targets.iter())
    }

    fn url(&self, base: &url::Url, path: &str) -> Result<url::Url, TufError> {
        url::Url::parse(&format!("{base}{path}"))
            .map_err(|err| TufError::new(StoreFailure::Other, format!("bad URL for {path}: {err}")))
    }

    fn download_metadata(
        &self,
        role: &str,
        max: u64,
        version: Option<u64>,
    ) -> Result<Vec<u8>, TufError> {
        let name = match version {
            Some(v) => format!("{v}.{}.json", quote(role)),
            None => format!("{}.json", quote(role)),
        };
        let url = self.url(&self.metadata_url, &name)?;
        self.fetcher.bytes(&url, max, StoreFailure::TooLarge)
    }

    fn local(&self, role: &str) -> Option<Vec<u8>> {
        fs_err::read(self.dir.join(format!("{}.json", quote(role)))).ok()
    }

    fn persist(&self, role: &str, bytes: &[u8]) -> Result<(), TufError> {
        let path = self.dir.join(format!("{}.json", quote(role)));
        keel_fs::write_atomic(&path, bytes, None).map_err(|err| {
            TufError::new(
                StoreFailure::Other,
                format!("cannot save {}", path.display()),
            )
            .caused_by(err)
        })
    }

    fn load_root(&mut self) -> Result<(), TufError> {
        let Some(first) = self.root.common.version.checked_add(1) else {
            return Ok(());
        };
        for version in first..first.saturating_add(MAX_ROOT_ROTATIONS) {
            let bytes = match self.download_metadata(ROOT, ROOT_MAX, Some(version)) {
                Ok(bytes) => bytes,
                Err(err) if err.failure == StoreFailure::NotFound => break,
                Err(err) => return Err(err),
            };
            self.update_root(&bytes)?;
            self.persist(ROOT, &bytes)?;
        }
        Ok(())
    }

    fn update_root(&mut self, bytes: &[u8]) -> Result<(), TufError> {
        let new: Parsed<Root> = parse(bytes, ROOT)?;
        let old = &self.root.signed;
        verify_signatures(
            &new.envelope,
            &old.keys,
            old.role(ROOT),
            "the new root (by the old root's keys)",
        )?;
        let expected = self.root.common.version.saturating_add(1);
        if new.common.version != expected {
            return Err(TufError::new(
                StoreFailure::Rollback,
                format!(
                    "root version {} offered where {expected} was expected",
                    new.common.version
                ),
            ));
        }
        verify_signatures(
            &new.envelope,
            &new.signed.keys,
            new.signed.role(ROOT),
            "the new root (by its own keys)",
        )?;
        self.root = new;
        Ok(())
    }

    fn check_root_fresh(&self) -> Result<(), TufError> {
        if self.root.is_expired(self.now) {
            return Err(expired("root", &self.root.common.expires));
        }
        Ok(())
    }

    fn load_timestamp(&mut self) -> Result<(), TufError> {
        // A trusted timestamp that no longer verifies or has expired is still no rollback
        // baseline only when it does not verify.
        if let Some(bytes) = self.local(TIMESTAMP) {
            let _ = self.update_timestamp(&bytes);
        }
        let bytes = self.download_metadata(TIMESTAMP, TIMESTAMP_MAX, None)?;
        match self.update_timestamp(&bytes) {
            Ok(true) => self.persist(TIMESTAMP, &bytes),
            // The same version as trusted: the trusted one stays.
            Ok(false) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Returns `false` when the new timestamp has the trusted one's version (and is ignored).
    fn update_timestamp(&mut self, bytes: &[u8]) -> Result<bool, TufError> {
        self.check_root_fresh()?;
        let new: Parsed<Timestamp> = parse(bytes, TIMESTAMP)?;
        let root = &self.root.signed;
        verify_signatures(&new.envelope, &root.keys, root.role(TIMESTAMP), "timestamp")?;
        if let Some(trusted) = &self.timestamp {
            if new.common.version < trusted.common.version {
                return Err(rollback(
                    "timestamp",
                    new.common.version,
                    trusted.common.version,
                ));
            }
            if new.common.version == trusted.common.version {
                return Ok(false);
            }
            let (new_snapshot, old_snapshot) = (
                new.signed.snapshot().version,
                trusted.signed.snapshot().version,
            );
            if new_snapshot < old_snapshot {
                return Err(rollback(
                    "snapshot (in timestamp)",
                    new_snapshot,
                    old_snapshot,
                ));
            }
        }
        // Kept as the rollback baseline even when expired; the expiry fails this refresh.
        self.timestamp = Some(new);
        self.check_timestamp_final()?;
        Ok(true)
    }

    fn check_timestamp_final(&self) -> Result<&MetaFile, TufError> {
        let timestamp = self
            .timestamp
            .as_ref()
            .ok_or_else(|| TufError::new(StoreFailure::Other, "no trusted timestamp"))?;
        if timestamp.is_expired(self.now) {
            return Err(expired("timestamp", &timestamp.common.expires));
        }
        Ok(timestamp.signed.snapshot())
    }

    fn load_snapshot(&mut self) -> Result<(), TufError> {
        if let Some(bytes) = self.local(SNAPSHOT)
            && self.update_snapshot(&bytes, true).is_ok()
        {
            return Ok(());
        }
        let meta = self.check_timestamp_final()?.clone();
        let version = self.root.signed.consistent_snapshot.then_some(meta.version);
        let bytes = self.download_metadata(SNAPSHOT, capped(meta.length, SNAPSHOT_MAX), version)?;
        self.update_snapshot(&bytes, false)?;
        self.persist(SNAPSHOT, &bytes)
    }

    /// `trusted`: the bytes are the client's own copy, so timestamp's hashes are not asked.
    fn update_snapshot(&mut self, bytes: &[u8], trusted: bool) -> Result<(), TufError> {
        let meta = self.check_timestamp_final()?.clone();
        if !trusted {
            meta.check(bytes, "snapshot")?;
        }
        let new: Parsed<Snapshot> = parse(bytes, SNAPSHOT)?;
        let root = &self.root.signed;
        verify_signatures(&new.envelope, &root.keys, root.role(SNAPSHOT), "snapshot")?;
        if let Some(old) = &self.snapshot {
            for (name, old_meta) in &old.signed.meta {
                let Some(new_meta) = new.signed.meta.get(name) else {
                    return Err(TufError::new(
                        StoreFailure::Rollback,
                        format!("the new snapshot no longer lists {name}"),
                    ));
                };
                if new_meta.version < old_meta.version {
                    return Err(rollback(name, new_meta.version, old_meta.version));
                }
            }
        }
        self.snapshot = Some(new);
        self.check_snapshot_final()?;
        Ok(())
    }

    fn check_snapshot_final(&self) -> Result<&Parsed<Snapshot>, TufError> {
        let snapshot = self
            .snapshot
            .as_ref()
            .ok_or_else(|| TufError::new(StoreFailure::Other, "no trusted snapshot"))?;
        if snapshot.is_expired(self.now) {
            return Err(expired("snapshot", &snapshot.common.expires));
        }
        let wanted = self.check_timestamp_final()?.version;
        if snapshot.common.version != wanted {
            return Err(TufError::new(
                StoreFailure::Rollback,
                format!(
                    "snapshot version {} where timestamp names {wanted}",
                    snapshot.common.version
                ),
            ));
        }
        Ok(snapshot)
    }

    /// What the trusted (and final) snapshot says of the targets role `role`.
    fn snapshot_meta(&self, role: &str) -> Result<&MetaFile, TufError> {
        self.check_snapshot_final()?
            .signed
            .meta
            .get(&format!("{role}.json"))
            .ok_or_else(|| {
                TufError::new(
                    StoreFailure::Malformed,
                    format!("snapshot does not list {role}"),
                )
            })
    }

    /// Loads the targets role `role`, delegated by `delegator` (`root` for `targets`).
    fn load_targets(&mut self, role: &str, delegator: &str) -> Result<(), TufError> {
        if let Some(loaded) = self.targets.get(role) {
            // A role two delegators name is trusted through each only with its keys.
            if self.delegators.get(role).map(String::as_str) != Some(delegator) {
                let (keys, role_keys) = self.delegated_keys(role, delegator)?;
                verify_signatures(&loaded.envelope, keys, role_keys, role)?;
            }
            return Ok(());
        }
        if let Some(bytes) = self.local(role)
            && self.update_targets(&bytes, role, delegator).is_ok()
        {
            return Ok(());
        }
        let meta = self.snapshot_meta(role)?.clone();
        let version = self.root.signed.consistent_snapshot.then_some(meta.version);
        let bytes = self.download_metadata(role, capped(meta.length, TARGETS_MAX), version)?;
        self.update_targets(&bytes, role, delegator)?;
        self.persist(role, &bytes)
    }

    fn update_targets(
        &mut self,
        bytes: &[u8],
        role: &str,
        delegator: &str,
    ) -> Result<(), TufError> {
        let meta = self.snapshot_meta(role)?;
        meta.check(bytes, role)?;
        let new: Parsed<Targets> = parse(bytes, TARGETS)?;
        let (keys, role_keys) = self.delegated_keys(role, delegator)?;
        verify_signatures(&new.envelope, keys, role_keys, role)?;
        if new.common.version != meta.version {
            return Err(TufError::new(
                StoreFailure::Rollback,
                format!(
                    "{role} version {} where snapshot names {}",
                    new.common.version, meta.version
                ),
            ));
        }
        if new.is_expired(self.now) {
            return Err(expired(role, &new.common.expires));
        }
        self.targets.insert(role.to_owned(), new);
        self.delegators
            .insert(role.to_owned(), delegator.to_owned());
        Ok(())
    }

    /// The keys `delegator` lets sign for `role`, and how many must.
    fn delegated_keys(
        &self,
        role: &str,
        delegator: &str,
    ) -> Result<(&BTreeMap<String, keys::Key>, &metadata::RoleKeys), TufError> {
        if delegator == ROOT {
            let root = &self.root.signed;
            return Ok((&root.keys, root.role(TARGETS)));
        }
        let parent = self
            .targets
            .get(delegator)
            .and_then(|p| p.signed.delegations.as_ref())
            .ok_or_else(|| {
                TufError::new(StoreFailure::Other, format!("{delegator} is not loaded"))
            })?;
        let role_keys = parent.role_keys(role).ok_or_else(|| {
            TufError::new(
                StoreFailure::Malformed,
                format!("{delegator} does not delegate to {role}"),
            )
        })?;
        Ok((&parent.keys, role_keys))
    }

    /// The signed description of `target`: a depth-first search through the delegations,
    /// loading each role the first time it is needed.
    pub(crate) fn target(&mut self, target: &str) -> Result<Option<TargetFile>, TufError> {
        let mut to_visit = vec![(TARGETS.to_owned(), ROOT.to_owned())];
        let mut visited = std::collections::BTreeSet::new();
        while visited.len() <= MAX_DELEGATIONS {
            let Some((role, delegator)) = to_visit.pop() else {
                break;
            };
            if visited.contains(&role) {
                continue;
            }
            self.load_targets(&role, &delegator)?;
            let targets = &self.targets[&role].signed;
            if let Some(found) = targets.targets.get(target) {
                return Ok(Some(found.clone()));
            }
            visited.insert(role.clone());
            if let Some(delegations) = &targets.delegations {
                let mut children = Vec::new();
                for (child, terminating) in delegations.roles_for(target) {
                    children.push((child, role.clone()));
                    if terminating {
                        to_visit.clear();
                        break;
                    }
                }
                to_visit.extend(children.into_iter().rev());
            }
        }
        Ok(None)
    }

    /// Streams `target` from the store to `sink`, checked against its signed length and
    /// every signed hash; nothing is accepted until the whole file checks.
    pub(crate) fn download(
        &self,
        path: &str,
        info: &TargetFile,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), TufError>,
    ) -> Result<(), TufError> {
        let file = if self.root.signed.consistent_snapshot {
            let (dir, base) = match path.rsplit_once('/') {
                Some((dir, base)) => (format!("{dir}/"), base),
                None => (String::new(), path),
            };
            let hash = info
                .hashes
                .0
                .first()
                .map(|(_, h)| h.as_str())
                .unwrap_or_default();
            format!("{dir}{hash}.{base}")
        } else {
            path.to_owned()
        };
        // Each path segment percent-encoded, so that `?`, `#` or `%` in a name stay part of it.
        let file: Vec<String> = file.split('/').map(quote).collect();
        let url = self.url(&self.targets_url, &file.join("/"))?;
        let mut hasher = metadata::Hasher::new(&info.hashes)?;
        let length = self.fetcher.each_chunk(
            &url,
            info.length,
            StoreFailure::LengthMismatch,
            &mut |chunk| {
                hasher.update(chunk);
                sink(chunk)
            },
        )?;
        if length != info.length {
            return Err(TufError::new(
                StoreFailure::LengthMismatch,
                format!("{path} is {length} bytes, not the {} signed", info.length),
            ));
        }
        Ok(hasher.finish(path)?)
    }
}

/// Whether the file at `path` is `info`'s target: the signed length and every signed hash.
pub(crate) fn file_matches(path: &Path, info: &TargetFile) -> bool {
    use std::io::Read;
    let Ok(mut file) = fs_err::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(info.length) {
        return false;
    }
    let Ok(mut hasher) = metadata::Hasher::new(&info.hashes) else {
        return false;
    };
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(_) => return false,
        }
    }
    hasher.finish("").is_ok()
}

fn expired(role: &str, expires: &str) -> TufError {
    TufError::new(
        StoreFailure::Expired,
        format!("{role} expired at {expires}"),
    )
}

fn rollback(what: &str, new: u64, trusted: u64) -> TufError {
    TufError::new(
        StoreFailure::Rollback,
        format!("{what} version {new} is older than the trusted {trusted}"),
    )
}
