//! `ledger update` and `ledger rollback`: keel's update flow, embedded.
//!
//! The new version's `migrate` and `doctor` run on the database before the update commits;
//! when either fails, the old binary and the database come back exactly as they were. An
//! update a crash interrupted is finished or undone the next time ledger starts.

use std::path::PathBuf;

use keel_update::store::{keel_home, Version};
use keel_update::updater::{Check, Updater};
use keel_update::{Error, Event, Progress, Recovery, Step};

const APP: &str = "ledger";
/// The trusted root compiled in (empty when the build named none).
const BUILT_IN_ROOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/trusted-root.json"));
const BUILT_IN_STORE: Option<&str> = option_env!("LEDGER_STORE_URL");

struct Printer;

impl Progress for Printer {
    fn event(&self, event: &Event<'_>) {
        let Event::Update(step) = event else {
            return;
        };
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

/// The error as ledger says it: its own flags in the hints.
fn fail(err: Error) -> String {
    match (&err, err.hint()) {
        (Error::NoTrustedRoot { .. }, _) => {
            "no trusted root: pass --root FILE (or build with LEDGER_TRUSTED_ROOT)".into()
        }
        (Error::NoStoreUrl { .. }, _) => {
            "no update store: pass --store URL (or build with LEDGER_STORE_URL)".into()
        }
        (Error::NotInstalled { .. }, _) => "ledger was never updated: nothing to roll back".into(),
        (_, Some(hint)) => format!("{}\nhint: {hint}", err.with_causes()),
        (_, None) => err.with_causes(),
    }
}

/// Finishes or undoes an update a crash interrupted; called before every command (and a
/// no-op when this process is the hook of a running update).
pub fn recover_at_startup() -> Result<(), String> {
    let dir = keel_home().ok_or("cannot tell where to keep update state: set KEEL_HOME")?;
    match keel_update::recover_at_startup(&dir, APP, &Printer).map_err(fail)? {
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
    let updater = Updater::for_app(APP, &Printer).map_err(fail)?;
    let url = options.store.or(BUILT_IN_STORE.map(str::to_owned));
    let root = match &options.root {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => (!BUILT_IN_ROOT.is_empty()).then(|| BUILT_IN_ROOT.to_vec()),
    };
    // A ledger keel did not install is adopted: this binary and database become the install.
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let db = std::path::absolute(db).map_err(|e| e.to_string())?;
    let version = env!("CARGO_PKG_VERSION");
    updater
        .adopt(version, &exe, &[db], url.clone())
        .map_err(fail)?;
    let to = (options
        .to
        .as_deref()
        .map(|v| v.trim_start_matches('v').parse::<Version>()))
    .transpose()
    .map_err(|e| format!("--to: {e}"))?;
    match updater
        .check(url.as_deref(), root.as_deref(), to.as_ref())
        .map_err(fail)?
    {
        Check::UpToDate(current) => println!("ledger {} is up to date", current.version),
        Check::Available(update) if options.dry_run => {
            println!(
                "would update ledger {} to {}",
                update.from(),
                update.release().version
            )
        }
        Check::Available(update) => {
            let updated = updater.apply(update).map_err(fail)?;
            if let Some(patch) = &updated.download.patch {
                println!(
                    "downloaded the patch {patch} ({} bytes)",
                    updated.download.bytes
                );
            }
            if let (Some(patch), Some(why)) =
                (&updated.download.patch_refused, &updated.download.reason)
            {
                eprintln!("warning: the patch {patch} could not be used ({why}); downloaded the full archive");
            }
            println!("updated ledger {} to {}", updated.from, updated.version);
        }
    }
    Ok(())
}

pub fn rollback(yes: bool) -> Result<(), String> {
    let updater = Updater::for_app(APP, &Printer).map_err(fail)?;
    let (_, previous) = updater.previous().map_err(fail)?;
    if !yes {
        return Err(format!(
            "rolling back to {previous} puts the database back as it was before the last update: changes since then are lost; pass --yes to go ahead"
        ));
    }
    let rolled = updater.rollback().map_err(fail)?;
    println!("rolled back ledger {} to {}", rolled.from, rolled.version);
    Ok(())
}
