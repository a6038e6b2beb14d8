//! The release store and the operator's commands: `publish`, `store refresh`, `install`,
//! `update`, `rollback`, `doctor`, `recover`.
//!
//! Every command on an installed app takes the app's lock and first finishes or undoes a
//! transaction a crash interrupted.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use keel_schema::TargetTriple;
use keel_update::store::{ClientOptions, Version};
use keel_update::updater::{Check, InstallRequest, Updater};
use keel_update::{AppHome, Recovered};

use crate::cli::{
    AppArgs, Format, GlobalArgs, InstallArgs, RefreshArgs, RollbackArgs, StoreInitArgs, UpdateArgs,
};
use crate::hinted;
use crate::progress::Lines;
use crate::signing::require_key;

pub fn run_refresh(global: &GlobalArgs, args: &RefreshArgs) -> anyhow::Result<()> {
    let key = require_key(args.sign.sign_key())?;
    let store = crate::cwd()?.join(&args.store);
    let refreshed =
        keel_store::refresh(&store, &key, &(&args.expiry).into(), jiff::Timestamp::now())?;
    crate::show(global, &refreshed.report(&store));
    Ok(())
}

pub fn run_store_init(global: &GlobalArgs, args: &StoreInitArgs) -> anyhow::Result<()> {
    let key = require_key(args.sign.sign_key())?;
    let root_key = match &args.root_key {
        Some(path) => Some(require_key(Some(path))?),
        None => None,
    };
    let store = crate::cwd()?.join(&args.store);
    let made = keel_store::init(
        &store,
        &key,
        root_key.as_ref(),
        &(&args.expiry).into(),
        jiff::Timestamp::now(),
    )?;
    crate::show(global, &made);
    Ok(())
}

/// The store client's options: the environment's, and plain HTTP when the flag asks for it.
fn client_options(allow_http: bool) -> ClientOptions {
    let mut options = ClientOptions::from_env();
    options.allow_http |= allow_http;
    options
}

fn keel_home() -> anyhow::Result<PathBuf> {
    keel_update::store::keel_home().context("cannot tell where keel keeps its state: set KEEL_HOME")
}

/// The app's update flow: its home locked, any interrupted transaction settled (and said).
fn open_app(global: &GlobalArgs, app: &str, allow_http: bool) -> anyhow::Result<Updater<'static>> {
    let home = AppHome::new(&keel_home()?, app);
    let updater = Updater::open(home, client_options(allow_http), Lines::of(global))?;
    if let Some(recovery) = updater.recovered() {
        crate::warn(&recovery.describe(app));
    }
    Ok(updater)
}

/// A version given on the command line (`1.2.0` or `v1.2.0`).
fn parse_version(text: &str) -> anyhow::Result<Version> {
    text.trim_start_matches('v')
        .parse()
        .with_context(|| format!("`{text}` is not a version"))
}

pub fn run_install(global: &GlobalArgs, args: &InstallArgs) -> anyhow::Result<()> {
    if args.asks_keel_version() {
        crate::out(&format!("keel-install {}", env!("CARGO_PKG_VERSION")));
        return Ok(());
    }
    let cwd = crate::cwd()?;
    let store = keel_update::store::locate(&args.from, &cwd)?;
    let root = store.trusted_root(args.root.as_deref(), &cwd, &args.app)?;
    let updater = open_app(global, &args.app, args.allow_http)?;
    let target = match &args.target {
        Some(target) => TargetTriple::parse(target)?,
        None => TargetTriple::host(),
    };
    let version = args.app_version().map(parse_version).transpose()?;
    let bin_dir = match &args.dir {
        Some(dir) => cwd.join(dir),
        None => keel_update::store::default_bin_dir().context("HOME is not set: pass --dir")?,
    };
    let databases: Vec<PathBuf> = args.databases.iter().map(|d| cwd.join(d)).collect();
    let receipt = updater.install(&InstallRequest {
        store_url: &store.url,
        root: &root,
        target,
        channel: &args.channel,
        version: version.as_ref(),
        bin_dir: &bin_dir,
        databases: &databases,
    })?;
    for missing in keel_update::missing_databases(&receipt.databases) {
        crate::warn(&format!(
            "the database {} does not exist yet: updates snapshot nothing of it until the app creates it there; check the path if the app keeps its data elsewhere",
            missing.display()
        ));
    }
    crate::report(global, &receipt, || {
        format!(
            "Installed {} {} ({}) into {}",
            receipt.app, receipt.version, receipt.target, receipt.bin_dir
        )
    });
    Ok(())
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn run_update(global: &GlobalArgs, args: &UpdateArgs) -> anyhow::Result<()> {
    let wanted = args.app_version().map(parse_version).transpose()?;
    let updater = open_app(global, &args.app, args.allow_http)?;
    let store_url = keel_update::store::store_url_from_env();
    let update = match updater.check(store_url.as_deref(), None, wanted.as_ref())? {
        Check::UpToDate(current) => {
            crate::show(global, &current);
            return Ok(());
        }
        Check::Available(update) => update,
    };
    let plan = update.plan();
    if args.dry_run {
        crate::show(global, &plan);
        return Ok(());
    }
    if !args.yes
        && std::io::stdin().is_terminal()
        && !confirm(&format!(
            "Update {} {} to {}?",
            plan.app, plan.from, plan.to
        ))?
    {
        bail!("update cancelled");
    }
    let updated = updater.apply(update)?;
    let download = &updated.download;
    if download.patch.is_some() && !global.quiet && global.format == Format::Text {
        crate::out(&download.to_string());
    }
    if let (Some(patch), Some(reason)) = (&download.patch_refused, &download.reason) {
        crate::warn(&format!(
            "the patch {patch} could not be used ({reason}); downloaded the full archive instead"
        ));
    }
    crate::show(global, &updated);
    Ok(())
}

pub fn run_rollback(global: &GlobalArgs, args: &RollbackArgs) -> anyhow::Result<()> {
    let updater = open_app(global, &args.app, false)?;
    let (receipt, previous) = updater.previous()?;
    if !args.yes {
        let warning = format!(
            "rolling back {} {} to {previous} puts back its databases as they were before the update: changes made since then are lost",
            receipt.app, receipt.version
        );
        if !std::io::stdin().is_terminal() {
            bail!(hinted(warning, "pass --yes to roll back anyway"));
        }
        crate::warn(&warning);
        if !confirm("Roll back?")? {
            bail!("rollback cancelled");
        }
    }
    let rolled = updater.rollback()?;
    crate::show(global, &rolled);
    Ok(())
}

pub fn run_recover(global: &GlobalArgs, args: &AppArgs) -> anyhow::Result<()> {
    let home = AppHome::new(&keel_home()?, &args.app);
    let lock = home.lock()?;
    let recovery = home.recover(&lock, Lines::of(global))?;
    let outcome = Recovered::new(&args.app, recovery.as_ref());
    crate::report(global, &outcome, || outcome.message.clone());
    Ok(())
}

pub fn run_doctor(global: &GlobalArgs, args: &AppArgs) -> anyhow::Result<()> {
    let report = AppHome::new(&keel_home()?, &args.app).doctor_report();
    match global.format {
        Format::Json => crate::print_json(&report),
        Format::Text if global.quiet => {
            for check in report.checks.iter().filter(|c| !c.ok()) {
                crate::out(&check.to_string());
            }
        }
        Format::Text => crate::out(&report.to_string()),
    }
    if !report.ok {
        bail!("{} check(s) failed for {}", report.failed(), args.app);
    }
    Ok(())
}
