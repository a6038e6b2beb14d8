//! Safe updates for apps shipped with keel: an update is a journaled transaction that never
//! loses data.
//!
//! An [`AppHome`] is the folder keel keeps for one installed app (`$KEEL_HOME/<app>`): its
//! install [`Receipt`], the binaries of the current and the previous version, the snapshot of
//! the databases taken before the last update, and, while a transaction runs, its journal.
//! [`AppHome::update`] installs a verified release in seven steps:
//!
//! 1. **prepare**: copy the new binaries into the home (journal: `prepared`);
//! 2. **snapshot** every database with SQLite's online backup API, flushed to disk
//!    (`snapshotted`);
//! 3. **swap** each binary atomically: a copy beside it, flushed, renamed over it (on Windows,
//!    where a running `.exe` cannot be replaced, the running one is first moved aside), the folder
//!    flushed (`swapped`);
//! 4. **migrate** with the new binary's migrate hook (`migrated`);
//! 5. **check** with its check hook (`checked`);
//! 6. **commit**: the new receipt is written (`committed`) and old versions pruned;
//! 7. or, when a hook fails, **roll back**: the previous binaries and every database are put
//!    back from the snapshot, and the hook's output is reported.
//!
//! A crash or power cut at any instant leaves a journal; [`AppHome::recover`], which every
//! command runs first, finishes a transaction that passed its check and undoes any other, so
//! the app is always either its old version with its old data or its new version with its
//! migrated data. An [`AppLock`] keeps two transactions on one app from running at once.
//!
//! The release to install is chosen by [`select::select`] (channel, target, pre-release
//! policy, "newer than installed"), the one decision `keel`, the store client and embedding
//! apps share. [`store::Store`] fetches and verifies a store's TUF metadata and downloads;
//! its failures carry a [`store::StoreFailure`] and a hint ([`Error::hint`]).
//!
//! [`updater::Updater`] is the whole flow in a few calls (open, install, check, apply, roll
//! back), the one `keel install`/`update`/`rollback` and apps that update themselves share.
//!
//! The store client ([`store::Store`], keel's TUF client and its HTTPS stack) is the default
//! feature `store`; without it (`default-features = false`) an app embeds the transaction
//! core only and delivers releases its own way ([`NewRelease`], [`store::unpack`]).
//!
//! This crate is what apps embed to update themselves. It depends on keel's schema, checksum,
//! file and archive-extraction crates, on SQLite, and, for the store client, on keel's own TUF
//! client over a small blocking HTTPS client (ureq, rustls and ring); it never prints: progress goes to keel's one [`Progress`] trait as [`Event::Update`].

#![deny(missing_docs)]

mod doctor;
mod process;
pub mod select;
mod sqlite;
pub mod store;
mod text;
#[cfg(feature = "store")]
mod tuf;
#[cfg(feature = "store")]
pub mod updater;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use keel_fs::{copy_atomic, create_dir, create_private_dir, remove_dir, write_atomic};
use keel_schema::TargetTriple;
use keel_schema::receipt::{Hook, MissingDatabase, RECEIPT_SCHEMA_VERSION, Receipt, UpdateHooks};
use serde::{Deserialize, Serialize};

pub use doctor::{DoctorCheck, DoctorReport, missing_databases};
pub use sqlite::{integrity_check, logical_digest};

/// Snapshots the SQLite database at `db` into `dest` with the online backup API, flushed to
/// disk, as an update does before it swaps anything. Returns `false` (writing nothing) when
/// the database does not exist.
pub fn snapshot_database(db: &Path, dest: &Path) -> Result<bool, Error> {
    sqlite::snapshot(db, dest)
}

/// Replaces `to` with a copy of `from` as an update swaps a binary: a copy beside it, flushed,
/// renamed over it, the folder flushed. `to` is never absent; returns the copy's sha256.
pub fn replace_file(from: &Path, to: &Path) -> Result<String, Error> {
    Ok(keel_fs::replace_executable(from, to)?.to_hex())
}

pub(crate) fn io_err(path: &Path, what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Io { what, path, source }
}

/// Why an install, update, rollback or recovery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    #[error("could not {what} {}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A database operation failed.
    #[error("could not {what} the database {}", path.display())]
    Database {
        /// What was being done.
        what: &'static str,
        /// The database.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Another program holds a lock on a database.
    #[error("the database {} is locked by another program", path.display())]
    DatabaseLocked {
        /// The database.
        path: PathBuf,
    },
    /// `PRAGMA integrity_check` found problems.
    #[error("the database {} is damaged: {detail}", path.display())]
    Corrupt {
        /// The database.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// This machine's clock is well behind the time it last read a store: a clock set back,
    /// which could make expired metadata look fresh.
    #[error("this machine's clock ({now} s since 1970) is {} s behind the time it last read the store (recorded in {})", last_read - now, record.display())]
    ClockBehind {
        /// The clock now, in seconds since the Unix epoch.
        now: u64,
        /// The clock when the store was last read.
        last_read: u64,
        /// The file that records it.
        record: PathBuf,
    },
    /// Another keel process is changing this app.
    #[error("another keel process is installing or updating `{app}`")]
    Busy {
        /// The app.
        app: String,
    },
    /// The app is not installed.
    #[error("`{app}` is not installed")]
    NotInstalled {
        /// The app.
        app: String,
    },
    /// The app is installed already.
    #[error("`{app}` {version} is installed already")]
    AlreadyInstalled {
        /// The app.
        app: String,
        /// Its version.
        version: String,
    },
    /// There is no previous version to return to.
    #[error("`{app}` has no previous version to roll back to")]
    NothingToRollBack {
        /// The app.
        app: String,
    },
    /// A hook failed; the update was rolled back.
    #[error("the new version's {hook} hook failed ({status}); rolled back to {restored}\n{output}")]
    HookFailed {
        /// The hook.
        hook: Hook,
        /// How it exited.
        status: String,
        /// What it printed.
        output: String,
        /// The version restored.
        restored: String,
    },
    /// A rehearsal made the update fail right after a hook that succeeded; the update was
    /// rolled back.
    #[error(
        "the update was made to fail after its {hook} hook (a rehearsal); rolled back to {restored}"
    )]
    Injected {
        /// The hook after which the update failed.
        hook: Hook,
        /// The version restored.
        restored: String,
    },
    /// A hook could not be started.
    #[error("cannot run the {hook} hook: {}", binary.display())]
    HookStart {
        /// The hook.
        hook: Hook,
        /// The binary it runs.
        binary: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A hook names a database the install does not record.
    #[error("cannot run the {hook} hook")]
    HookDatabase {
        /// The hook.
        hook: Hook,
        /// The cause.
        #[source]
        source: MissingDatabase,
    },
    /// A file keel wrote is unreadable.
    #[error("{} is damaged", path.display())]
    BadState {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The release has no binaries.
    #[error("the release has no binaries")]
    NoBinaries,
    /// The store's metadata or a download failed verification or could not be fetched.
    #[error("could not {what} the store {url}")]
    Store {
        /// What was being done.
        what: &'static str,
        /// The store's URL, without credentials.
        url: String,
        /// What went wrong, for matching and hints.
        failure: store::StoreFailure,
        /// The cause, from the TUF client.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A plain `http://` store URL names another machine, and plain HTTP was not allowed.
    #[error(
        "refusing the plain-HTTP store URL `{url}`: it names another machine, and plain HTTP is allowed only on this one"
    )]
    PlainHttp {
        /// The URL, without credentials.
        url: String,
    },
    /// A store URL is malformed.
    #[error("`{url}` is not a store URL")]
    BadUrl {
        /// The URL, without credentials.
        url: String,
        /// What is wrong.
        #[source]
        source: url::ParseError,
    },
    /// The store's metadata does not list a file.
    #[error("the store lists no {name}")]
    NotInStore {
        /// The target name asked for.
        name: String,
    },
    /// A downloaded archive lacks an executable its metadata names.
    #[error("the archive {archive} has no {executable}")]
    MissingExecutable {
        /// The archive.
        archive: String,
        /// The executable's path inside it.
        executable: String,
    },
    /// A delta-update patch cannot be used (the full archive is downloaded instead).
    #[error("the patch cannot be used: {reason}")]
    PatchUnusable {
        /// Why.
        reason: String,
    },
    /// The store has no release that fits: not of this app, target or channel, or not the
    /// version asked for.
    #[error("the store has no release of {app}{} for {target} on channel `{channel}`", version.as_ref().map(|v| format!(" {v}")).unwrap_or_default())]
    NoRelease {
        /// The app.
        app: String,
        /// The version asked for, if one was.
        version: Option<String>,
        /// The target.
        target: String,
        /// The channel.
        channel: String,
        /// What the store has: `app version (target, channel)`, sorted.
        available: Vec<String>,
    },
    /// The install records no store to update from, and none was given.
    #[error("the install of `{app}` records no store")]
    NoStoreUrl {
        /// The app.
        app: String,
    },
    /// A store named as a folder is not one.
    #[error("{} is not a release store (it has no metadata folder)", path.display())]
    NotAStore {
        /// The folder.
        path: PathBuf,
    },
    /// A store's trusted root could not be read.
    #[error("cannot read the trusted root {}", path.display())]
    ReadRoot {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Where keel keeps its state cannot be told: no `KEEL_HOME`, `XDG_STATE_HOME` or `HOME`.
    #[error("cannot tell where keel keeps its state")]
    NoKeelHome,
    /// No trusted root is known for an install's store.
    #[error("no trusted root is known for the store of `{app}`")]
    NoTrustedRoot {
        /// The app.
        app: String,
    },
    /// A downloaded archive could not be unpacked.
    #[error("could not unpack {}", path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// The cause.
        #[source]
        source: keel_archive::Error,
    },
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

impl Error {
    /// What the operator can do about it, when keel knows.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Store { failure, .. } => failure.hint(),
            Error::Busy { .. } => Some("wait for the other keel process to finish"),
            Error::ClockBehind { .. } => Some(
                "set this machine's clock right (NTP); if it is right, the store was read under a clock that ran ahead, and removing the record file named above accepts the clock as it is",
            ),
            Error::DatabaseLocked { .. } => {
                Some("stop the program using the database, then update again; nothing was changed")
            }
            Error::NotAStore { .. } => Some(
                "name the folder `keel publish --to` or `keel store init` wrote, or the store's URL (https://…, file:///…)",
            ),
            Error::NoKeelHome => Some("set KEEL_HOME to a folder keel may keep its state in"),
            Error::NoTrustedRoot { .. } => {
                Some("give the store's root.json (the file its maintainer published)")
            }
            Error::PlainHttp { .. } => Some(
                "use the store's https:// URL; if the network between is trusted, allow plain HTTP (KEEL_ALLOW_HTTP=1): TUF still checks every signature and hash, but anyone on the path can see what is installed and hold updates back",
            ),
            _ => None,
        }
    }

    /// The error and each of its causes, joined by `: `, for an app to show on one line.
    pub fn with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// The steps of a transaction, as reported ([`Event::Update`]).
pub use keel_schema::progress::UpdateStep as Step;
/// keel's one progress trait: a transaction reports [`Event::Update`] with each [`Step`].
pub use keel_schema::progress::{Event, Progress, Silent};

fn report(progress: &dyn Progress, step: Step) {
    progress.event(&Event::Update(&step));
}

/// A release ready to install: verified binaries on disk and the release's hooks.
#[derive(Debug, Clone)]
pub struct NewRelease {
    /// The version.
    pub version: String,
    /// The target triple.
    pub target: TargetTriple,
    /// Each binary's file name and where its verified file is.
    pub binaries: BTreeMap<String, PathBuf>,
    /// The release's hooks.
    pub hooks: UpdateHooks,
}

/// The channel an install follows when its receipt names none.
pub const DEFAULT_CHANNEL: &str = "stable";

/// Where an install's updates come from, as its receipt records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The store's URL (credentials removed), when installed from a store.
    pub store_url: Option<String>,
    /// The channel followed; `None` (or [`DEFAULT_CHANNEL`]) follows `stable`.
    pub channel: Option<String>,
}

/// What [`AppHome::recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// An interrupted update was undone: the app is at `version` with its data as before.
    RolledBack {
        /// The version restored.
        version: String,
    },
    /// An interrupted transaction was completed: the app is at `version`.
    Completed {
        /// The version now installed.
        version: String,
    },
}

impl Recovery {
    /// What happened to `app`, in a sentence.
    pub fn describe(&self, app: &str) -> String {
        match self {
            Recovery::RolledBack { version } => format!(
                "{app}: an interrupted update was undone; {version} is installed with its data as before"
            ),
            Recovery::Completed { version } => {
                format!("{app}: an interrupted update was completed; {version} is installed")
            }
        }
    }
}

/// What settling an app's interrupted transaction did: `keel recover`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Recovered {
    /// The app.
    pub app: String,
    /// Whether a transaction was interrupted (and is now completed or undone).
    pub recovered: bool,
    /// What happened, in a sentence.
    pub message: String,
}

impl Recovered {
    /// The outcome of [`AppHome::recover`] for `app`.
    pub fn new(app: &str, recovery: Option<&Recovery>) -> Recovered {
        Recovered {
            app: app.to_owned(),
            recovered: recovery.is_some(),
            message: match recovery {
                Some(recovery) => recovery.describe(app),
                None => format!("{app}: no interrupted update"),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Phase {
    Prepared,
    Snapshotted,
    Swapped,
    Migrated,
    Checked,
    Committed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Update,
    Rollback,
}

/// The journal of a transaction, rewritten atomically at each step.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journal {
    kind: Kind,
    phase: Phase,
    /// The receipt before the transaction.
    before: Receipt,
    /// The receipt the transaction commits.
    after: Receipt,
    /// For each database, whether it existed when the snapshot was taken.
    snapshotted: Vec<bool>,
    /// The process group of a hook while it runs: recovery stops it before touching the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hook_group: Option<u32>,
    /// Its leader's boot and start time: recovery signals the group only when they still
    /// match (the number alone may be another process's by then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hook_process: Option<process::Identity>,
}

/// Holds the lock on one app's home; released when dropped.
#[derive(Debug)]
pub struct AppLock {
    _file: std::fs::File,
}

/// The folder keel keeps for one installed app.
#[derive(Debug, Clone)]
pub struct AppHome {
    app: String,
    dir: PathBuf,
    /// Variables set for the hooks' processes, beside [`HOOK_ENV`].
    hook_env: Vec<(String, String)>,
    /// Fail the update right after this hook succeeds (a rehearsal of a failed update).
    fail_after: Option<Hook>,
}

/// Kills the process at a named point of a transaction when `KEEL_CRASH_AT` names it: the
/// crash tests' way to stop an update at every step.
#[cfg(feature = "crash-points")]
fn crash_point(name: &str) {
    if std::env::var("KEEL_CRASH_AT").is_ok_and(|at| at == name) {
        let pid = std::process::id().to_string();
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        std::process::abort();
    }
}

#[cfg(not(feature = "crash-points"))]
fn crash_point(_name: &str) {}

impl AppHome {
    /// The home of `app` under `keel_home`.
    pub fn new(keel_home: &Path, app: &str) -> AppHome {
        AppHome {
            app: app.to_owned(),
            dir: keel_home.join(app),
            hook_env: Vec::new(),
            fail_after: None,
        }
    }

    /// Sets `key` to `value` in the environment of every hook this home runs (a rehearsal
    /// tells the app's migration to fail this way).
    pub fn with_hook_env(mut self, key: &str, value: &str) -> AppHome {
        self.hook_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Makes every update fail right after `hook` succeeds, as if the hook had failed: the
    /// update rolls back with [`Error::Injected`]. What a rehearsal uses to prove that a
    /// failure after a completed migration restores the data.
    pub fn failing_after(mut self, hook: Hook) -> AppHome {
        self.fail_after = Some(hook);
        self
    }

    /// The home's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn receipt_path(&self) -> PathBuf {
        self.dir.join("receipt.json")
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.json")
    }

    fn version_dir(&self, version: &str) -> PathBuf {
        self.dir.join("versions").join(version)
    }

    fn snapshot_dir(&self, version: &str) -> PathBuf {
        self.dir.join("snapshots").join(version)
    }

    fn snapshot_path(&self, version: &str, index: usize) -> PathBuf {
        self.snapshot_dir(version)
            .join(format!("db-{index}.sqlite"))
    }

    /// Takes the app's lock, failing when another process holds it (after a second's grace).
    pub fn lock(&self) -> Result<AppLock, Error> {
        // The app's state (snapshots of its data above all) is its owner's alone.
        create_private_dir(&self.dir)?;
        // A forked child (an embedding app starting a command) holds a copy of the lock for an
        // instant after keel let it go.
        match keel_fs::lock_within(&self.dir.join("lock"), keel_fs::LOCK_GRACE)? {
            Some(file) => Ok(AppLock { _file: file }),
            None => Err(Error::Busy {
                app: self.app.clone(),
            }),
        }
    }

    /// The install receipt, if the app is installed.
    pub fn receipt(&self) -> Result<Option<Receipt>, Error> {
        read_json(&self.receipt_path())
    }

    /// The app's name.
    pub fn app(&self) -> &str {
        &self.app
    }

    fn install_root_path(&self) -> PathBuf {
        self.dir.join("root.json")
    }

    /// Keeps the root of trust an install was made with, for later updates.
    pub fn save_install_root(&self, root: &[u8]) -> Result<(), Error> {
        create_private_dir(&self.dir)?;
        Ok(write_atomic(&self.install_root_path(), root, Some(0o600))?)
    }

    /// The root to verify the store with: the newest one the client trusts (the store may
    /// have rotated its keys since), else `given`, else the one saved at install.
    pub fn trusted_root(&self, given: Option<&[u8]>) -> Result<Vec<u8>, Error> {
        if let Ok(newest) = fs_err::read(self.trusted_dir().join("root.json")) {
            return Ok(newest);
        }
        if let Some(given) = given {
            return Ok(keel_schema::without_bom(given).to_vec());
        }
        match fs_err::read(self.install_root_path()) {
            Ok(root) => Ok(keel_schema::without_bom(&root).to_vec()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(Error::NoTrustedRoot {
                app: self.app.clone(),
            }),
            Err(err) => Err(io_err(&self.install_root_path(), "read")(err)),
        }
    }

    /// Opens the install's store at `url`, verified from [`AppHome::trusted_root`].
    #[cfg(feature = "store")]
    pub fn open_store(
        &self,
        url: &str,
        given_root: Option<&[u8]>,
        options: &store::ClientOptions,
    ) -> Result<store::Store, Error> {
        let root = self.trusted_root(given_root)?;
        store::Store::open(url, &root, &self.trusted_dir(), options)
    }

    /// Whether a transaction was interrupted and awaits [`AppHome::recover`].
    pub fn pending(&self) -> bool {
        self.journal_path().exists()
    }

    fn write_journal(&self, journal: &Journal) -> Result<(), Error> {
        let text = serde_json::to_vec_pretty(journal).expect("a journal is plain JSON data");
        Ok(write_atomic(&self.journal_path(), &text, Some(0o600))?)
    }

    fn write_receipt(&self, receipt: &Receipt) -> Result<(), Error> {
        let text = serde_json::to_vec_pretty(receipt).expect("a receipt is plain JSON data");
        Ok(write_atomic(&self.receipt_path(), &text, Some(0o600))?)
    }

    /// Installs a first version: copies its binaries into `bin_dir` and writes the receipt,
    /// which records where updates come from (`origin`).
    pub fn install(
        &self,
        _lock: &AppLock,
        release: &NewRelease,
        bin_dir: &Path,
        databases: &[PathBuf],
        origin: Origin,
        reporter: &dyn Progress,
    ) -> Result<Receipt, Error> {
        if let Some(receipt) = self.receipt()? {
            return Err(Error::AlreadyInstalled {
                app: self.app.clone(),
                version: receipt.version,
            });
        }
        if release.binaries.is_empty() {
            return Err(Error::NoBinaries);
        }
        report(reporter, Step::Prepare);
        let binaries = self.stage(release)?;
        create_dir(bin_dir)?;
        report(reporter, Step::Swap);
        keel_fs::remove_replaced_executables(bin_dir);
        for name in binaries.keys() {
            keel_fs::replace_executable(
                &self.version_dir(&release.version).join(name),
                &bin_dir.join(name),
            )?;
        }
        let receipt = Receipt {
            schema_version: RECEIPT_SCHEMA_VERSION,
            app: self.app.clone(),
            version: release.version.clone(),
            target: release.target.clone(),
            store_url: origin.store_url,
            channel: origin.channel.filter(|c| c != DEFAULT_CHANNEL),
            bin_dir: bin_dir.display().to_string(),
            binaries,
            databases: databases.iter().map(|d| d.display().to_string()).collect(),
            hooks: release.hooks.clone(),
            previous: None,
        };
        report(reporter, Step::Commit);
        self.write_receipt(&receipt)?;
        Ok(receipt)
    }

    /// Adopts an app that is running but was not installed by keel (it updates itself): the
    /// binary at `executable` becomes the receipt's only binary, copied into the home so that a
    /// rollback can return to it.
    pub fn adopt(
        &self,
        _lock: &AppLock,
        version: &str,
        executable: &Path,
        databases: &[PathBuf],
        store_url: Option<String>,
    ) -> Result<Receipt, Error> {
        if let Some(receipt) = self.receipt()? {
            return Ok(receipt);
        }
        let name = executable
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                io_err(executable, "adopt")(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a file",
                ))
            })?;
        let bin_dir = executable.parent().unwrap_or(Path::new("."));
        let dir = self.version_dir(version);
        create_dir(&dir)?;
        let digest = copy_atomic(executable, &dir.join(&name), Some(0o755))?.to_hex();
        let receipt = Receipt {
            schema_version: RECEIPT_SCHEMA_VERSION,
            app: self.app.clone(),
            version: version.to_owned(),
            target: TargetTriple::host(),
            store_url,
            channel: None,
            bin_dir: bin_dir.display().to_string(),
            binaries: BTreeMap::from([(name, digest)]),
            databases: databases.iter().map(|d| d.display().to_string()).collect(),
            hooks: UpdateHooks::default(),
            previous: None,
        };
        self.write_receipt(&receipt)?;
        Ok(receipt)
    }

    /// The folder where downloads are unpacked.
    pub fn downloads(&self) -> PathBuf {
        self.dir.join("downloads")
    }

    /// The trusted TUF metadata of the app's store.
    pub fn trusted_dir(&self) -> PathBuf {
        self.dir.join("trusted")
    }

    /// Copies a release's binaries into `versions/<version>`; returns their sha256.
    fn stage(&self, release: &NewRelease) -> Result<BTreeMap<String, String>, Error> {
        let dir = self.version_dir(&release.version);
        create_dir(&dir)?;
        let mut binaries = BTreeMap::new();
        for (name, source) in &release.binaries {
            let digest = copy_atomic(source, &dir.join(name), Some(0o755))?;
            binaries.insert(name.clone(), digest.to_hex());
        }
        Ok(binaries)
    }

    /// Updates the installed app to `release`: prepare, snapshot, swap, migrate, check,
    /// commit; or, when a hook fails, roll back and report it. Run [`AppHome::recover`] first.
    pub fn update(
        &self,
        _lock: &AppLock,
        release: &NewRelease,
        reporter: &dyn Progress,
    ) -> Result<Receipt, Error> {
        let before = self.receipt()?.ok_or_else(|| Error::NotInstalled {
            app: self.app.clone(),
        })?;
        if release.binaries.is_empty() {
            return Err(Error::NoBinaries);
        }
        if release.version == before.version {
            return Err(Error::AlreadyInstalled {
                app: self.app.clone(),
                version: before.version,
            });
        }
        // The previous version's binaries are kept for rollback.
        let old_dir = self.version_dir(&before.version);
        create_dir(&old_dir)?;
        for name in before.binaries.keys() {
            if !old_dir.join(name).exists() {
                copy_atomic(
                    &Path::new(&before.bin_dir).join(name),
                    &old_dir.join(name),
                    Some(0o755),
                )?;
            }
        }
        report(reporter, Step::Prepare);
        let binaries = self.stage(release)?;
        let after = Receipt {
            version: release.version.clone(),
            target: release.target.clone(),
            binaries,
            hooks: release.hooks.clone(),
            previous: Some(before.version.clone()),
            ..before.clone()
        };
        let mut journal = Journal {
            kind: Kind::Update,
            phase: Phase::Prepared,
            before: before.clone(),
            after,
            snapshotted: Vec::new(),
            hook_group: None,
            hook_process: None,
        };
        self.write_journal(&journal)?;
        crash_point("prepared");

        remove_dir(&self.snapshot_dir(&before.version))?;
        create_private_dir(&self.snapshot_dir(&before.version))?;
        for (index, db) in before.databases.iter().enumerate() {
            report(reporter, Step::Snapshot(PathBuf::from(db)));
            let existed =
                sqlite::snapshot(Path::new(db), &self.snapshot_path(&before.version, index));
            let existed = match existed {
                Ok(existed) => existed,
                Err(err) => {
                    // Nothing live has changed yet: undoing is forgetting.
                    self.undo(&journal, reporter)?;
                    return Err(err);
                }
            };
            journal.snapshotted.push(existed);
            crash_point("snapshot-db");
        }
        journal.phase = Phase::Snapshotted;
        self.write_journal(&journal)?;
        crash_point("snapshotted");

        report(reporter, Step::Swap);
        keel_fs::remove_replaced_executables(Path::new(&before.bin_dir));
        for name in journal.after.binaries.keys() {
            keel_fs::replace_executable(
                &self.version_dir(&release.version).join(name),
                &Path::new(&before.bin_dir).join(name),
            )?;
            crash_point("swap-binary");
        }
        journal.phase = Phase::Swapped;
        self.write_journal(&journal)?;
        crash_point("swapped");

        for (hook, phase, step) in [
            (Hook::Migrate, Phase::Migrated, Step::Migrate),
            (Hook::Check, Phase::Checked, Step::Check),
        ] {
            report(reporter, step);
            let result = self.run_hook(hook, &mut journal).and_then(|()| {
                if self.fail_after == Some(hook) {
                    return Err(Error::Injected {
                        hook,
                        restored: journal.before.version.clone(),
                    });
                }
                Ok(())
            });
            if let Err(err) = result {
                self.undo(&journal, reporter)?;
                return Err(err);
            }
            crash_point(hook.as_str());
            journal.phase = phase;
            self.write_journal(&journal)?;
            crash_point(match phase {
                Phase::Migrated => "migrated",
                _ => "checked",
            });
        }
        self.commit(&mut journal, reporter)?;
        Ok(journal.after)
    }

    /// Runs a hook of the journal's new receipt with its main binary, in a process group of
    /// its own that the journal records, so that recovery can stop a hook left running by a
    /// killed updater. A failure carries the hook's output.
    fn run_hook(&self, hook: Hook, journal: &mut Journal) -> Result<(), Error> {
        let receipt = &journal.after;
        let Some(args) = receipt.hooks.command(hook) else {
            return Ok(());
        };
        let args = UpdateHooks::expand(args, &receipt.databases)
            .map_err(|source| Error::HookDatabase { hook, source })?;
        let binary = Path::new(&receipt.bin_dir).join(main_binary(receipt));
        let mut command = Command::new(&binary);
        command
            .args(&args)
            .env(HOOK_ENV, hook.as_str())
            .envs(self.hook_env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|source| Error::HookStart {
            hook,
            binary: binary.clone(),
            source,
        })?;
        journal.hook_group = Some(child.id());
        journal.hook_process = process::identity(child.id());
        self.write_journal(journal)?;
        let output = child
            .wait_with_output()
            .map_err(|source| Error::HookStart {
                hook,
                binary: binary.clone(),
                source,
            })?;
        journal.hook_group = None;
        journal.hook_process = None;
        if output.status.success() {
            return Ok(());
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(Error::HookFailed {
            hook,
            status: output.status.to_string(),
            output: text.trim_end().to_owned(),
            restored: journal.before.version.clone(),
        })
    }

    /// Puts back the binaries and, once the swap may have begun, the databases of the journal's
    /// `before` receipt; then forgets the transaction.
    fn undo(&self, journal: &Journal, reporter: &dyn Progress) -> Result<(), Error> {
        let before = &journal.before;
        report(reporter, Step::RollBack(before.version.clone()));
        if journal.phase >= Phase::Snapshotted {
            // The swap may have begun: every binary goes back (copying an unchanged one is
            // harmless).
            for name in before.binaries.keys() {
                keel_fs::replace_executable(
                    &self.version_dir(&before.version).join(name),
                    &Path::new(&before.bin_dir).join(name),
                )?;
            }
        }
        if journal.phase >= Phase::Swapped {
            self.restore_databases(before, &journal.snapshotted)?;
        }
        if journal.after.version != before.version {
            remove_dir(&self.version_dir(&journal.after.version))?;
        }
        self.forget_journal()
    }

    fn restore_databases(&self, receipt: &Receipt, snapshotted: &[bool]) -> Result<(), Error> {
        for (index, db) in receipt.databases.iter().enumerate() {
            let snapshot = self.snapshot_path(&receipt.version, index);
            let existed = snapshotted.get(index).copied().unwrap_or(true);
            sqlite::restore(existed.then_some(snapshot.as_path()), Path::new(db))?;
        }
        Ok(())
    }

    fn forget_journal(&self) -> Result<(), Error> {
        let path = self.journal_path();
        match fs_err::remove_file(&path) {
            Ok(()) => Ok(keel_fs::sync_dir(&self.dir)?),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_err(&path, "remove")(err)),
        }
    }

    /// Writes the new receipt, prunes what is no longer kept, forgets the journal.
    fn commit(&self, journal: &mut Journal, reporter: &dyn Progress) -> Result<(), Error> {
        report(reporter, Step::Commit);
        self.write_receipt(&journal.after)?;
        journal.phase = Phase::Committed;
        self.write_journal(journal)?;
        crash_point("committed");
        self.prune(&journal.after)?;
        self.forget_journal()
    }

    /// Keeps the binaries of the current and previous versions and the previous version's
    /// snapshot; removes the rest.
    fn prune(&self, receipt: &Receipt) -> Result<(), Error> {
        let keep: Vec<&str> = std::iter::once(receipt.version.as_str())
            .chain(receipt.previous.as_deref())
            .collect();
        for (folder, keep) in [
            ("versions", keep.clone()),
            ("snapshots", keep[1..].to_vec()),
        ] {
            let dir = self.dir.join(folder);
            let Ok(entries) = fs_err::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !keep.contains(&name.as_str()) {
                    remove_dir(&entry.path())?;
                }
            }
        }
        Ok(())
    }

    /// Returns to the previous version with the database snapshot taken before the update
    /// that left it; changes made to the databases since then are lost.
    pub fn rollback(&self, _lock: &AppLock, reporter: &dyn Progress) -> Result<Receipt, Error> {
        let before = self.receipt()?.ok_or_else(|| Error::NotInstalled {
            app: self.app.clone(),
        })?;
        let previous = before
            .previous
            .clone()
            .filter(|v| self.version_dir(v).is_dir())
            .ok_or_else(|| Error::NothingToRollBack {
                app: self.app.clone(),
            })?;
        let binaries = fs_err::read_dir(self.version_dir(&previous))
            .map_err(io_err(&self.version_dir(&previous), "read"))?
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                keel_verify::sha256_file(&e.path())
                    .map(|(digest, _)| (name, digest.to_hex()))
                    .map_err(|err| Error::BadState {
                        path: e.path(),
                        source: Box::new(err),
                    })
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let snapshotted = (0..before.databases.len())
            .map(|i| self.snapshot_path(&previous, i).exists())
            .collect();
        let mut journal = Journal {
            kind: Kind::Rollback,
            phase: Phase::Prepared,
            after: Receipt {
                version: previous,
                binaries,
                previous: None,
                ..before.clone()
            },
            before,
            snapshotted,
            hook_group: None,
            hook_process: None,
        };
        self.write_journal(&journal)?;
        crash_point("rollback-prepared");
        self.finish_rollback(&mut journal, reporter)?;
        Ok(journal.after)
    }

    /// Restores the rollback's target version and data, then commits; safe to repeat.
    fn finish_rollback(&self, journal: &mut Journal, reporter: &dyn Progress) -> Result<(), Error> {
        let target = &journal.after;
        report(reporter, Step::RollBack(target.version.clone()));
        keel_fs::remove_replaced_executables(Path::new(&target.bin_dir));
        for name in target.binaries.keys() {
            keel_fs::replace_executable(
                &self.version_dir(&target.version).join(name),
                &Path::new(&target.bin_dir).join(name),
            )?;
        }
        crash_point("rollback-swapped");
        self.restore_databases(target, &journal.snapshotted)?;
        crash_point("rollback-restored");
        self.commit(journal, reporter)
    }

    /// Finishes or undoes a transaction that a crash interrupted; does nothing when there is
    /// none. Every command runs this first, holding the lock.
    pub fn recover(
        &self,
        _lock: &AppLock,
        reporter: &dyn Progress,
    ) -> Result<Option<Recovery>, Error> {
        let Some(mut journal) = read_json::<Journal>(&self.journal_path())? else {
            return Ok(None);
        };
        report(reporter, Step::Recover);
        if let Some(group) = journal.hook_group.take() {
            process::stop_group(group, journal.hook_process.take().as_ref());
        }
        let version = journal.after.version.clone();
        match (journal.kind, journal.phase) {
            (_, Phase::Committed) => {
                self.prune(&journal.after)?;
                self.forget_journal()?;
                Ok(Some(Recovery::Completed { version }))
            }
            (Kind::Rollback, _) => {
                self.finish_rollback(&mut journal, reporter)?;
                Ok(Some(Recovery::Completed { version }))
            }
            (Kind::Update, Phase::Checked) => {
                self.commit(&mut journal, reporter)?;
                Ok(Some(Recovery::Completed { version }))
            }
            (Kind::Update, _) => {
                self.undo(&journal, reporter)?;
                Ok(Some(Recovery::RolledBack {
                    version: journal.before.version,
                }))
            }
        }
    }
}

/// The environment variable set for a hook's process: `migrate` or `check`.
pub const HOOK_ENV: &str = keel_schema::env::KEEL_UPDATE_HOOK;

/// For apps that embed this crate, first thing at start-up: finishes or undoes an update of
/// `app` that a crash interrupted. Does nothing when this process is itself an update's hook
/// (the update holds the lock and settles its own journal) or when another process holds the
/// lock (an update is running).
pub fn recover_at_startup(
    keel_home: &Path,
    app: &str,
    reporter: &dyn Progress,
) -> Result<Option<Recovery>, Error> {
    if std::env::var_os(HOOK_ENV).is_some() {
        return Ok(None);
    }
    let home = AppHome::new(keel_home, app);
    if !home.pending() {
        return Ok(None);
    }
    match home.lock() {
        Ok(lock) => home.recover(&lock, reporter),
        Err(Error::Busy { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The binary an app's hooks run: the one named like the app, else the first.
pub fn main_binary(receipt: &Receipt) -> String {
    let exe = |name: &str| format!("{name}{}", std::env::consts::EXE_SUFFIX);
    receipt
        .binaries
        .keys()
        .find(|name| **name == receipt.app || **name == exe(&receipt.app))
        .or_else(|| receipt.binaries.keys().next())
        .cloned()
        .unwrap_or_else(|| exe(&receipt.app))
}

/// Reads `bytes` as an update journal, as recovery reads `journal.json` (for the fuzz
/// targets): whether they are one.
#[cfg(feature = "fuzzing")]
pub fn parse_journal(bytes: &[u8]) -> bool {
    parse_json::<Journal>(bytes).is_ok()
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(keel_schema::without_bom(bytes))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, Error> {
    match fs_err::read(path) {
        Ok(bytes) => parse_json(&bytes).map(Some).map_err(|err| Error::BadState {
            path: path.to_owned(),
            source: Box::new(err),
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(io_err(path, "read")(err)),
    }
}
