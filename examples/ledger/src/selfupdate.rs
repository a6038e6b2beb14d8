//! `ledger update` and `ledger rollback`: keel's update transaction, embedded.
//!
//! The new version's `migrate` and `doctor` run on the database before the update commits;
//! when either fails, the old binary and the database come back exactly as they were. An
//! update a crash interrupted is finished or undone the next time ledger starts.

use std::path::PathBuf;

use keel_update::select::{Prereleases, Request, Selection};
use keel_update::store::{keel_home, ClientOptions, Delivery, Version};
use keel_update::{AppHome, Recovery, Step, UpdateReporter};

const APP: &str = "ledger";
/// The trusted root compiled in (empty when the build named none).
const BUILT_IN_ROOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/trusted-root.json"));
const BUILT_IN_STORE: Option<&str> = option_env!("LEDGER_STORE_URL");

struct Printer;

impl UpdateReporter for Printer {
    fn step(&self, step: &Step) {
        let text = match step {
            Step::Snapshot(db) => format!("snapshotting {}", db.display()),
            Step::Swap => "installing the new binary".into(),
            Step::Migrate => "migrating the database".into(),
            Step::Check => "checking the database".into(),
            Step::RollBack(version) => format!("restoring {version} and the database"),
            _ => return,
        };
        eprintln!("  {text}");
    }
}

fn home() -> Result<AppHome, String> {
    let dir = keel_home().ok_or("cannot tell where to keep update state: set KEEL_HOME")?;
    Ok(AppHome::new(&dir, APP))
}

/// Finishes or undoes an update a crash interrupted; called before every command (and a
/// no-op when this process is the hook of a running update).
pub fn recover_at_startup() -> Result<(), String> {
    let dir = keel_home().ok_or("cannot tell where to keep update state: set KEEL_HOME")?;
    match keel_update::recover_at_startup(&dir, APP, &Printer).map_err(|e| e.with_causes())? {
        Some(Recovery::RolledBack { version }) => {
            eprintln!("note: an interrupted update was undone; ledger {version} is installed")
        }
        Some(Recovery::Completed { version }) => {
            eprintln!("note: an interrupted update was completed; ledger {version} is installed")
        }
        None => {}
    }
    Ok(())
}

pub struct UpdateOptions {
    pub store: Option<String>,
    pub root: Option<PathBuf>,
    pub to: Option<String>,
    pub dry_run: bool,
}

// The one file read here names its path in its error, as fs-err would.
#[allow(clippy::disallowed_methods)]
pub fn update(db: &str, options: UpdateOptions) -> Result<(), String> {
    let home = home()?;
    let lock = home.lock().map_err(|e| e.with_causes())?;
    home.recover(&lock, &Printer).map_err(|e| e.with_causes())?;
    let url = options
        .store
        .or_else(|| BUILT_IN_STORE.map(str::to_owned))
        .ok_or("no update store: pass --store URL (or build with LEDGER_STORE_URL)")?;
    let root = match &options.root {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)
        }
        None if !BUILT_IN_ROOT.is_empty() => Some(BUILT_IN_ROOT.to_vec()),
        None => None,
    };
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let db = std::path::absolute(db).map_err(|e| e.to_string())?;
    let receipt = home
        .adopt(
            &lock,
            env!("CARGO_PKG_VERSION"),
            &exe,
            &[db],
            Some(url.clone()),
        )
        .map_err(|e| e.with_causes())?;
    let store = home
        .open_store(&url, root.as_deref(), &ClientOptions::from_env())
        .map_err(|e| match (&e, e.hint()) {
            (keel_update::Error::NoTrustedRoot { .. }, _) => {
                "no trusted root: pass --root FILE (or build with LEDGER_TRUSTED_ROOT)".to_owned()
            }
            (_, Some(hint)) => format!("{}\nhint: {hint}", e.with_causes()),
            (_, None) => e.with_causes(),
        })?;
    let wanted = match &options.to {
        Some(v) => Some(
            v.trim_start_matches('v')
                .parse::<Version>()
                .map_err(|e| format!("`{v}`: {e}"))?,
        ),
        None => None,
    };
    let current: Version = receipt.version.parse().map_err(|e| format!("{e}"))?;
    let channel = receipt.channel.as_deref().unwrap_or("stable");
    let request = Request {
        app: APP,
        target: &receipt.target,
        channel,
        version: wanted.as_ref(),
        installed: Some(&current),
        prereleases: Prereleases::for_channel(channel, Some(&current)),
    };
    let release = match store.select(&request) {
        Selection::Install(release) => *release,
        Selection::UpToDate => {
            println!("ledger {current} is up to date");
            return Ok(());
        }
        Selection::NotFound => {
            return Err(format!(
                "the store has no release of ledger{} for {} on channel `{channel}`",
                wanted.map(|v| format!(" {v}")).unwrap_or_default(),
                receipt.target
            ))
        }
    };
    if options.dry_run {
        println!("would update ledger {current} to {}", release.version);
        return Ok(());
    }
    // A patch from the installed version when the store has one (a few percent of the
    // archive), the full archive otherwise or when the patch cannot be used.
    let (_download, new, delivery) = store
        .fetch_update(&release, &home.downloads(), &receipt)
        .map_err(|e| e.with_causes())?;
    match delivery {
        Delivery::Patch { name, length, .. } => {
            println!("downloaded the patch {name} ({length} bytes)")
        }
        Delivery::FellBack { patch, reason } => {
            eprintln!("warning: the patch {patch} could not be used ({reason}); downloaded the full archive")
        }
        _ => {}
    }
    let after = home
        .update(&lock, &new, &Printer)
        .map_err(|e| e.with_causes())?;
    println!("updated ledger {current} to {}", after.version);
    Ok(())
}

pub fn rollback(yes: bool) -> Result<(), String> {
    let home = home()?;
    let lock = home.lock().map_err(|e| e.with_causes())?;
    home.recover(&lock, &Printer).map_err(|e| e.with_causes())?;
    let receipt = home
        .receipt()
        .map_err(|e| e.with_causes())?
        .ok_or("ledger was never updated: nothing to roll back")?;
    let previous = receipt
        .previous
        .clone()
        .ok_or("there is no previous version to return to")?;
    if !yes {
        return Err(format!(
            "rolling back to {previous} puts the database back as it was before the last update: changes since then are lost; pass --yes to go ahead"
        ));
    }
    let after = home
        .rollback(&lock, &Printer)
        .map_err(|e| e.with_causes())?;
    println!(
        "rolled back ledger {} to {}",
        receipt.version, after.version
    );
    Ok(())
}
