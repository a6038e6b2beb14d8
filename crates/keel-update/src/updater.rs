//! The update flow, once, for `keel install`/`update`/`rollback` and for apps that update
//! themselves: open the app's home (lock it, settle an interrupted transaction), then
//! install, check, apply or roll back. Every decision (which store, which channel, which
//! release, patch or archive) is made here; callers ask the user and render the outcomes,
//! which serialize as the `--format json` output of the matching `keel` command.
//!
//! ```no_run
//! # fn main() -> Result<(), keel_update::Error> {
//! use keel_update::{Silent, updater::{Check, Updater}};
//! let updater = Updater::for_app("ledger", &Silent)?;
//! if let Check::Available(update) = updater.check(None, None, None)? {
//!     // Ask the user here, showing `update.plan()`.
//!     let updated = updater.apply(update)?;
//!     println!("updated to {}", updated.version);
//! }
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use keel_schema::TargetTriple;
use keel_schema::receipt::{Receipt, UpdateHooks};
use serde::Serialize;

use crate::select::{Prereleases, Request, Selection};
use crate::store::{Available, ClientOptions, Delivery, Store, Version, redact};
use crate::{AppHome, AppLock, DEFAULT_CHANNEL, Error, Origin, Progress, Recovery};

/// One app's home, locked, with any interrupted transaction settled: the handle every step
/// of the update flow goes through. The lock is released when it is dropped.
pub struct Updater<'r> {
    home: AppHome,
    lock: AppLock,
    recovered: Option<Recovery>,
    client: ClientOptions,
    reporter: &'r dyn Progress,
}

impl std::fmt::Debug for Updater<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updater")
            .field("home", &self.home)
            .field("recovered", &self.recovered)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// What to install, and from where.
#[derive(Debug, Clone)]
pub struct InstallRequest<'a> {
    /// The store's URL.
    pub store_url: &'a str,
    /// The store's trusted root (`root.json`), as its maintainer published it.
    pub root: &'a [u8],
    /// The target to install (the host's, usually).
    pub target: TargetTriple,
    /// The channel to install from and follow afterwards.
    pub channel: &'a str,
    /// A version to install instead of the newest.
    pub version: Option<&'a Version>,
    /// Where the executables go.
    pub bin_dir: &'a Path,
    /// The app's databases (absolute paths), snapshotted by every update.
    pub databases: &'a [PathBuf],
}

/// What an update check found.
#[derive(Debug)]
pub enum Check {
    /// Nothing newer on the install's channel.
    UpToDate(UpToDate),
    /// A release to update to; [`Updater::apply`] installs it.
    Available(Box<PendingUpdate>),
}

/// The install is at the newest release of its channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UpToDate {
    /// The app.
    pub app: String,
    /// The installed version.
    pub version: String,
    /// Always `false`: nothing was updated.
    pub updated: bool,
}

/// A release found by [`Updater::check`], not yet downloaded.
pub struct PendingUpdate {
    store: Store,
    release: Available,
    receipt: Receipt,
}

impl std::fmt::Debug for PendingUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingUpdate")
            .field("release", &self.release)
            .field("receipt", &self.receipt)
            .finish_non_exhaustive()
    }
}

/// What an update would do: `keel update --dry-run`'s output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UpdatePlan {
    /// The app.
    pub app: String,
    /// The installed version.
    pub from: String,
    /// The version it would update to.
    pub to: String,
    /// The release archive's name in the store.
    pub archive: String,
    /// The hooks the new version runs.
    pub hooks: UpdateHooks,
    /// The databases snapshotted first.
    pub databases: Vec<String>,
}

impl PendingUpdate {
    /// The release found.
    pub fn release(&self) -> &Available {
        &self.release
    }

    /// The installed version.
    pub fn from(&self) -> &str {
        &self.receipt.version
    }

    /// What the update would do.
    pub fn plan(&self) -> UpdatePlan {
        UpdatePlan {
            app: self.receipt.app.clone(),
            from: self.receipt.version.clone(),
            to: self.release.version.to_string(),
            archive: self.release.name.clone(),
            hooks: self.release.hooks.clone(),
            databases: self.receipt.databases.clone(),
        }
    }
}

/// How the new release was downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DownloadKind {
    /// The full archive.
    Archive,
    /// A delta patch from the installed version.
    Patch,
}

/// The download of an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Download {
    /// Archive or patch.
    pub kind: DownloadKind,
    /// The bytes downloaded.
    pub bytes: u64,
    /// The full archive's length, for comparison with a patch.
    #[serde(skip)]
    pub archive_bytes: u64,
    /// The patch used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// A patch that was there but could not be used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_refused: Option<String>,
    /// Why that patch could not be used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Download {
    fn of(delivery: Delivery, archive_bytes: u64) -> Download {
        let archive = Download {
            kind: DownloadKind::Archive,
            bytes: archive_bytes,
            archive_bytes,
            patch: None,
            patch_refused: None,
            reason: None,
        };
        match delivery {
            Delivery::Patch { name, length, .. } => Download {
                kind: DownloadKind::Patch,
                bytes: length,
                patch: Some(name),
                ..archive
            },
            Delivery::FellBack { patch, reason } => Download {
                patch_refused: Some(patch),
                reason: Some(reason),
                ..archive
            },
            Delivery::Full => archive,
        }
    }
}

/// A completed update: `keel update`'s output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Updated {
    /// The app.
    pub app: String,
    /// The version before.
    pub from: String,
    /// The version now installed.
    pub version: String,
    /// Always `true`.
    pub updated: bool,
    /// How the release was downloaded.
    pub download: Download,
}

/// A completed rollback: `keel rollback`'s output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RolledBack {
    /// The app.
    pub app: String,
    /// The version before the rollback.
    pub from: String,
    /// The version restored.
    pub version: String,
}

impl<'r> Updater<'r> {
    /// Locks `home` (failing when another process holds it) and finishes or undoes
    /// a transaction a crash interrupted ([`Updater::recovered`] says which).
    pub fn open(
        home: AppHome,
        client: ClientOptions,
        reporter: &'r dyn Progress,
    ) -> Result<Updater<'r>, Error> {
        let lock = home.lock()?;
        let recovered = home.recover(&lock, reporter)?;
        Ok(Updater {
            home,
            lock,
            recovered,
            client,
            reporter,
        })
    }

    /// [`Updater::open`] for `app` under [`crate::store::keel_home`], with the client options
    /// of the environment ([`ClientOptions::from_env`]): what an app that updates itself calls.
    pub fn for_app(app: &str, reporter: &'r dyn Progress) -> Result<Updater<'r>, Error> {
        let keel_home = crate::store::keel_home().ok_or(Error::NoKeelHome)?;
        Updater::open(
            AppHome::new(&keel_home, app),
            ClientOptions::from_env(),
            reporter,
        )
    }

    /// What opening settled: an interrupted update completed or undone.
    pub fn recovered(&self) -> Option<&Recovery> {
        self.recovered.as_ref()
    }

    /// The app's home.
    pub fn home(&self) -> &AppHome {
        &self.home
    }

    /// The install receipt; [`Error::NotInstalled`] when there is none.
    pub fn receipt(&self) -> Result<Receipt, Error> {
        self.home.receipt()?.ok_or_else(|| Error::NotInstalled {
            app: self.home.app().to_owned(),
        })
    }

    /// Installs the release `request` asks for from its store: the newest on its channel
    /// (pre-releases only where the channel takes them) unless a version is given. The
    /// receipt records the store and the channel, which later updates follow.
    pub fn install(&self, request: &InstallRequest<'_>) -> Result<Receipt, Error> {
        if let Some(receipt) = self.home.receipt()? {
            return Err(Error::AlreadyInstalled {
                app: receipt.app,
                version: receipt.version,
            });
        }
        let store = Store::open(
            request.store_url,
            request.root,
            &self.home.trusted_dir(),
            &self.client,
        )?;
        let wanted = Request {
            app: self.home.app(),
            target: &request.target,
            channel: request.channel,
            version: request.version,
            installed: None,
            prereleases: Prereleases::for_channel(request.channel, None),
        };
        // With nothing installed, nothing is up to date: no release is a release not found.
        let release = find(&store, &wanted)?.ok_or_else(|| no_release(&store, &wanted))?;
        let (_download, new) = store.fetch(&release, &self.home.downloads())?;
        let receipt = self.home.install(
            &self.lock,
            &new,
            request.bin_dir,
            request.databases,
            Origin {
                store_url: Some(redact(request.store_url)),
                channel: Some(request.channel.to_owned()),
            },
            self.reporter,
        )?;
        self.home.save_install_root(request.root)?;
        Ok(receipt)
    }

    /// Adopts a running program that keel did not install (it updates itself): see
    /// [`AppHome::adopt`]. Returns the receipt there is, when the app is installed already.
    pub fn adopt(
        &self,
        version: &str,
        executable: &Path,
        databases: &[PathBuf],
        store_url: Option<String>,
    ) -> Result<Receipt, Error> {
        self.home
            .adopt(&self.lock, version, executable, databases, store_url)
    }

    /// Looks for an update on the install's channel: the newest release above the installed
    /// one, or `to` when given (a downgrade included). The store is `store_url` when given,
    /// else the receipt's; its root is the newest one trusted (see [`AppHome::trusted_root`]),
    /// with `root` for an install that has none yet.
    pub fn check(
        &self,
        store_url: Option<&str>,
        root: Option<&[u8]>,
        to: Option<&Version>,
    ) -> Result<Check, Error> {
        let receipt = self.receipt()?;
        let url = store_url
            .map(str::to_owned)
            .or_else(|| receipt.store_url.clone())
            .ok_or_else(|| Error::NoStoreUrl {
                app: receipt.app.clone(),
            })?;
        let store = self.home.open_store(&url, root, &self.client)?;
        let channel = receipt.channel.as_deref().unwrap_or(DEFAULT_CHANNEL);
        let current: Version = receipt.version.parse().map_err(|source| Error::BadState {
            path: self.home.dir().join("receipt.json"),
            source: Box::new(source),
        })?;
        let request = Request {
            app: &receipt.app,
            target: &receipt.target,
            channel,
            version: to,
            installed: Some(&current),
            prereleases: Prereleases::for_channel(channel, Some(&current)),
        };
        match find(&store, &request)? {
            None => Ok(Check::UpToDate(UpToDate {
                app: receipt.app,
                version: receipt.version,
                updated: false,
            })),
            Some(release) => Ok(Check::Available(Box::new(PendingUpdate {
                store,
                release,
                receipt,
            }))),
        }
    }

    /// Downloads and verifies the update (a patch from the installed version when the store
    /// has one that fits, the archive otherwise), then runs the transaction: snapshot, swap,
    /// migrate, check, commit, or roll back everything when a step fails.
    pub fn apply(&self, update: Box<PendingUpdate>) -> Result<Updated, Error> {
        let PendingUpdate {
            store,
            release,
            receipt,
        } = *update;
        let (_download, new, delivery) =
            store.fetch_update(&release, &self.home.downloads(), &receipt)?;
        let download = Download::of(delivery, release.length);
        let after = self.home.update(&self.lock, &new, self.reporter)?;
        Ok(Updated {
            app: after.app,
            from: receipt.version,
            version: after.version,
            updated: true,
            download,
        })
    }

    /// The version a rollback returns to, from the receipt: [`Error::NothingToRollBack`] when
    /// there is none. For asking the user before [`Updater::rollback`].
    pub fn previous(&self) -> Result<(Receipt, String), Error> {
        let receipt = self.receipt()?;
        let previous = receipt
            .previous
            .clone()
            .ok_or_else(|| Error::NothingToRollBack {
                app: receipt.app.clone(),
            })?;
        Ok((receipt, previous))
    }

    /// Returns to the version before the last update, with its databases as they were
    /// before that update: changes made since are lost.
    pub fn rollback(&self) -> Result<RolledBack, Error> {
        let (receipt, _) = self.previous()?;
        let after = self.home.rollback(&self.lock, self.reporter)?;
        Ok(RolledBack {
            app: after.app,
            from: receipt.version,
            version: after.version,
        })
    }
}

/// The release `request` asks for: `None` when the install is up to date,
/// [`Error::NoRelease`] (with what the store has) when nothing fits.
fn find(store: &Store, request: &Request<'_>) -> Result<Option<Available>, Error> {
    match store.select(request) {
        Selection::Install(release) => Ok(Some(*release)),
        Selection::UpToDate => Ok(None),
        Selection::NotFound => Err(no_release(store, request)),
    }
}

/// [`Error::NoRelease`] for `request`, listing what the store has.
fn no_release(store: &Store, request: &Request<'_>) -> Error {
    Error::NoRelease {
        app: request.app.to_owned(),
        version: request.version.map(ToString::to_string),
        target: request.target.to_string(),
        channel: request.channel.to_owned(),
        available: store.catalogue(),
    }
}
