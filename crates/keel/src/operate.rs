//! The release store and the operator's commands: `publish`, `store refresh`, `install`,
//! `update`, `rollback`, `doctor`, `recover`.
//!
//! Every command on an installed app takes the app's lock and first finishes or undoes a
//! transaction a crash interrupted.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use keel_update::store::{Available, ClientOptions, Store, redact};
use keel_update::{AppHome, AppLock, Recovery, Step, UpdateReporter};

use crate::cli::{
    AppArgs, ExpiryArgs, Format, GlobalArgs, InstallArgs, PublishArgs, RefreshArgs, RollbackArgs,
    UpdateArgs,
};
use crate::hinted;

fn expiry(args: &ExpiryArgs) -> keel_store::Expiry {
    keel_store::Expiry {
        root_days: args.root_days,
        targets_days: args.targets_days,
        snapshot_days: args.snapshot_days,
        timestamp_days: args.timestamp_days,
    }
}

fn require_key(path: Option<&Path>) -> anyhow::Result<keel_sign::SigningKey> {
    crate::signing::load_signing_key(path)?.ok_or_else(|| {
        hinted(
            "no signing key",
            "pass --key FILE (from `keel keygen`), or set KEEL_SIGNING_KEY",
        )
    })
}

pub fn run_publish(global: &GlobalArgs, args: &PublishArgs) -> anyhow::Result<()> {
    let cwd = std::env::current_dir()?;
    let dir = match &args.dir {
        Some(dir) => cwd.join(dir),
        None => {
            let manifest = keel_workspace::find_manifest(global.manifest_path.as_deref(), &cwd)?;
            keel_workspace::Workspace::load(&manifest)?
                .target_dir
                .join("keel")
                .join("dist")
        }
    };
    let key = require_key(args.sign.sign_key.as_deref())?;
    let root_key = match &args.root_key {
        Some(path) => Some(require_key(Some(path))?),
        None => None,
    };
    let store = cwd.join(&args.to);
    let published = keel_store::publish(
        &store,
        &dir,
        &key,
        root_key.as_ref(),
        &args.channel,
        &expiry(&args.expiry),
        jiff::Timestamp::now(),
    )?;
    match global.format {
        Format::Json => crate::print_json(&serde_json::json!({
            "store": store,
            "created_root": published.created_root,
            "targets": published.targets,
            "version": published.version,
        })),
        Format::Text if global.quiet => {}
        Format::Text => {
            if published.created_root {
                crate::out(&format!(
                    "Created the store {} with its root of trust: give {}/metadata/root.json to operators (`keel install --root`)",
                    store.display(),
                    store.display()
                ));
            }
            for target in &published.targets {
                crate::out(&format!("Published {target} to `{}`", args.channel));
            }
            crate::out(&format!(
                "The store's metadata is at version {}; its timestamp expires in {} days (`keel store refresh` renews it).",
                published.version, args.expiry.timestamp_days
            ));
        }
    }
    Ok(())
}

pub fn run_refresh(global: &GlobalArgs, args: &RefreshArgs) -> anyhow::Result<()> {
    let key = require_key(args.sign.sign_key.as_deref())?;
    let store = std::env::current_dir()?.join(&args.store);
    let version = keel_store::refresh(&store, &key, &expiry(&args.expiry), jiff::Timestamp::now())?;
    crate::report(
        global,
        serde_json::json!({ "store": store, "version": version }),
        || {
            format!(
                "Re-signed {} at version {version}; the timestamp expires in {} days",
                store.display(),
                args.expiry.timestamp_days
            )
        },
    );
    Ok(())
}

fn keel_home() -> anyhow::Result<PathBuf> {
    keel_update::store::keel_home().context("cannot tell where keel keeps its state: set KEEL_HOME")
}

fn client_options() -> ClientOptions {
    let mut options = ClientOptions::default();
    if let Some(secs) = std::env::var("KEEL_HTTP_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        options.timeout = std::time::Duration::from_secs(secs);
        options.connect_timeout = options.connect_timeout.min(options.timeout);
    }
    options
}

/// Prints the steps of a transaction on stderr (not with `--quiet`).
struct StepPrinter {
    quiet: bool,
}

impl UpdateReporter for StepPrinter {
    fn step(&self, step: &Step) {
        if self.quiet {
            return;
        }
        let text = match step {
            Step::Prepare => "preparing the new version".to_owned(),
            Step::Snapshot(db) => format!("snapshotting {}", db.display()),
            Step::Swap => "swapping the binaries".to_owned(),
            Step::Migrate => "migrating the data".to_owned(),
            Step::Check => "checking the new version".to_owned(),
            Step::Commit => "committing".to_owned(),
            Step::RollBack(version) => format!("restoring {version} and its data"),
            Step::Recover => "finishing an interrupted update".to_owned(),
            _ => return,
        };
        let _ = writeln!(std::io::stderr().lock(), "  {text}");
    }
}

/// The app's home, locked, with any interrupted transaction settled.
fn open_app(app: &str, reporter: &StepPrinter) -> anyhow::Result<(AppHome, AppLock)> {
    let home = AppHome::new(&keel_home()?, app);
    let lock = home.lock()?;
    if let Some(recovery) = home.recover(&lock, reporter)? {
        let text = match recovery {
            Recovery::RolledBack { version } => {
                format!(
                    "an interrupted update of {app} was undone: {version} is installed, with its data as before"
                )
            }
            Recovery::Completed { version } => {
                format!("an interrupted update of {app} was completed: {version} is installed")
            }
        };
        crate::warn(&text);
    }
    Ok((home, lock))
}

fn pick(
    store: &Store,
    app: &str,
    target: &str,
    channel: &str,
    version: Option<&str>,
) -> anyhow::Result<Available> {
    let releases = store.releases(app, target, channel);
    let found = match version {
        Some(wanted) => {
            let wanted: semver::Version = wanted
                .trim_start_matches('v')
                .parse()
                .with_context(|| format!("`{wanted}` is not a version"))?;
            releases.into_iter().find(|r| r.version == wanted)
        }
        None => releases.into_iter().last(),
    };
    found.ok_or_else(|| {
        let catalogue = store.catalogue();
        hinted(
            format!(
                "the store has no release of {app}{} for {target} on channel `{channel}`",
                version.map(|v| format!(" {v}")).unwrap_or_default()
            ),
            if catalogue.is_empty() {
                "the store is empty; `keel publish` adds releases".to_owned()
            } else {
                format!("it has: {}", catalogue.join("; "))
            },
        )
    })
}

pub fn run_install(global: &GlobalArgs, args: &InstallArgs) -> anyhow::Result<()> {
    let reporter = StepPrinter {
        quiet: global.quiet,
    };
    let (home, lock) = open_app(&args.app, &reporter)?;
    if let Some(receipt) = home.receipt()? {
        bail!(hinted(
            format!("{} {} is installed already", receipt.app, receipt.version),
            format!("`keel update --app {}` updates it", receipt.app),
        ));
    }
    let root = fs_err::read(&args.root).map_err(|err| {
        hinted(
            format!("cannot read the trusted root: {err}"),
            "pass the store's root.json with --root",
        )
    })?;
    let store = Store::open(&args.from, &root, &home.trusted_dir(), &client_options())?;
    let target = args
        .target
        .clone()
        .unwrap_or_else(keel_update::store::host_triple);
    let release = pick(
        &store,
        &args.app,
        &target,
        &args.channel,
        args.version.as_deref(),
    )?;
    let (_work, new) = store.fetch(&release, &home.downloads())?;
    let bin_dir = match &args.dir {
        Some(dir) => std::env::current_dir()?.join(dir),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set: pass --dir")?)
            .join(".local/bin"),
    };
    let cwd = std::env::current_dir()?;
    let databases: Vec<PathBuf> = args.databases.iter().map(|d| cwd.join(d)).collect();
    let mut receipt = home.install(
        &lock,
        &new,
        &bin_dir,
        &databases,
        Some(redact(&args.from)),
        &reporter,
    )?;
    if args.channel != "stable" {
        receipt.channel = Some(args.channel.clone());
    }
    fs_err::write(home.dir().join("root.json"), &root)?;
    crate::report(global, serde_json::to_value(&receipt)?, || {
        format!(
            "Installed {} {} ({}) into {}",
            receipt.app, receipt.version, receipt.target, receipt.bin_dir
        )
    });
    Ok(())
}

/// The trusted root for an installed app: the newest the client trusts, else the one given
/// at install.
fn trusted_root(home: &AppHome) -> anyhow::Result<Vec<u8>> {
    Store::trusted_root(&home.trusted_dir())
        .map(Ok)
        .unwrap_or_else(|| {
            fs_err::read(home.dir().join("root.json"))
                .context("the install's trusted root is missing")
        })
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
    let reporter = StepPrinter {
        quiet: global.quiet,
    };
    let (home, lock) = open_app(&args.app, &reporter)?;
    let receipt = home.receipt()?.ok_or_else(|| {
        hinted(
            format!("{} is not installed", args.app),
            format!(
                "`keel install --app {} --from STORE_URL --root ROOT_JSON` installs it",
                args.app
            ),
        )
    })?;
    let url = std::env::var("KEEL_STORE_URL")
        .ok()
        .or_else(|| receipt.store_url.clone())
        .context("the install records no store; set KEEL_STORE_URL")?;
    let store = Store::open(
        &url,
        &trusted_root(&home)?,
        &home.trusted_dir(),
        &client_options(),
    )?;
    let channel = receipt.channel.as_deref().unwrap_or("stable");
    let release = pick(
        &store,
        &receipt.app,
        &receipt.target,
        channel,
        args.to.as_deref(),
    )?;
    let current: semver::Version = receipt
        .version
        .parse()
        .context("the receipt's version is not a version")?;
    let newer = release.version > current;
    if release.version == current || (args.to.is_none() && !newer) {
        crate::report(
            global,
            serde_json::json!({ "app": receipt.app, "version": receipt.version, "updated": false }),
            || format!("{} {} is up to date", receipt.app, receipt.version),
        );
        return Ok(());
    }
    if args.dry_run {
        match global.format {
            Format::Json => crate::print_json(&serde_json::json!({
                "app": receipt.app, "from": receipt.version, "to": release.version.to_string(),
                "archive": release.name, "hooks": release.hooks, "databases": receipt.databases,
            })),
            Format::Text => crate::out(&format!(
                "Would update {} {} to {} from {} (databases snapshotted first: {})",
                receipt.app,
                receipt.version,
                release.version,
                release.name,
                if receipt.databases.is_empty() {
                    "none".to_owned()
                } else {
                    receipt.databases.join(", ")
                }
            )),
        }
        return Ok(());
    }
    if !args.yes
        && std::io::stdin().is_terminal()
        && !confirm(&format!(
            "Update {} {} to {}?",
            receipt.app, receipt.version, release.version
        ))?
    {
        bail!("update cancelled");
    }
    let (_work, new) = store.fetch(&release, &home.downloads())?;
    let after = home.update(&lock, &new, &reporter)?;
    crate::report(
        global,
        serde_json::json!({ "app": after.app, "from": receipt.version, "version": after.version, "updated": true }),
        || {
            format!(
                "Updated {} {} to {}",
                after.app, receipt.version, after.version
            )
        },
    );
    Ok(())
}

pub fn run_rollback(global: &GlobalArgs, args: &RollbackArgs) -> anyhow::Result<()> {
    let reporter = StepPrinter {
        quiet: global.quiet,
    };
    let (home, lock) = open_app(&args.app, &reporter)?;
    let receipt = home.receipt()?.ok_or_else(|| {
        hinted(
            format!("{} is not installed", args.app),
            "nothing to roll back",
        )
    })?;
    let previous = receipt.previous.clone().ok_or_else(|| {
        hinted(
            format!("{} {} has no previous version to return to", receipt.app, receipt.version),
            "keel keeps the version before the last update; there was no update since install or the last rollback",
        )
    })?;
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
    let after = home.rollback(&lock, &reporter)?;
    crate::report(
        global,
        serde_json::json!({ "app": after.app, "from": receipt.version, "version": after.version }),
        || {
            format!(
                "Rolled back {} {} to {}",
                after.app, receipt.version, after.version
            )
        },
    );
    Ok(())
}

pub fn run_recover(global: &GlobalArgs, args: &AppArgs) -> anyhow::Result<()> {
    let home = AppHome::new(&keel_home()?, &args.app);
    let lock = home.lock()?;
    let recovery = home.recover(
        &lock,
        &StepPrinter {
            quiet: global.quiet,
        },
    )?;
    let text = match &recovery {
        None => format!("{}: no interrupted update", args.app),
        Some(Recovery::RolledBack { version }) => format!(
            "{}: an interrupted update was undone; {version} is installed with its data as before",
            args.app
        ),
        Some(Recovery::Completed { version }) => format!(
            "{}: an interrupted update was completed; {version} is installed",
            args.app
        ),
    };
    crate::report(
        global,
        serde_json::json!({ "app": args.app, "recovered": recovery.is_some(), "message": text }),
        || text.clone(),
    );
    Ok(())
}

pub fn run_doctor(global: &GlobalArgs, args: &AppArgs) -> anyhow::Result<()> {
    let home = AppHome::new(&keel_home()?, &args.app);
    let mut checks: Vec<(String, Result<(), String>)> = Vec::new();
    let pending = home.pending();
    checks.push((
        "no interrupted update".into(),
        if pending {
            Err(format!(
                "an update was interrupted: `keel recover --app {}` settles it",
                args.app
            ))
        } else {
            Ok(())
        },
    ));
    match home.receipt() {
        Ok(Some(receipt)) => {
            checks.push((
                format!(
                    "receipt: {} {} ({})",
                    receipt.app, receipt.version, receipt.target
                ),
                Ok(()),
            ));
            for (name, sha) in &receipt.binaries {
                let path = Path::new(&receipt.bin_dir).join(name);
                let result = match keel_verify::sha256_file(&path) {
                    Ok((digest, _)) if digest.to_hex() == *sha => Ok(()),
                    Ok((digest, _)) => Err(format!(
                        "sha256 {digest}, installed as {sha}: it was changed since"
                    )),
                    Err(err) => Err(err.to_string()),
                };
                checks.push((format!("binary {}", path.display()), result));
            }
            let trusted = trusted_root(&home).map(|_| ()).map_err(|e| e.to_string());
            checks.push(("trusted metadata".into(), trusted));
            for db in &receipt.databases {
                let result = if Path::new(db).exists() {
                    keel_update::integrity_check(Path::new(db)).map_err(|e| e.to_string())
                } else {
                    Ok(())
                };
                checks.push((format!("database {db}"), result));
            }
        }
        Ok(None) => checks.push((
            "receipt".into(),
            Err(format!("{} is not installed", args.app)),
        )),
        Err(err) => checks.push(("receipt".into(), Err(err.to_string()))),
    }
    let failed = checks.iter().filter(|(_, r)| r.is_err()).count();
    match global.format {
        Format::Json => crate::print_json(&serde_json::json!({
            "app": args.app,
            "ok": failed == 0,
            "checks": checks.iter().map(|(what, r)| serde_json::json!({
                "check": what, "ok": r.is_ok(), "detail": r.as_ref().err(),
            })).collect::<Vec<_>>(),
        })),
        Format::Text => {
            for (what, result) in &checks {
                match result {
                    Ok(()) if !global.quiet => crate::out(&format!("ok      {what}")),
                    Ok(()) => {}
                    Err(detail) => crate::out(&format!("failed  {what}: {detail}")),
                }
            }
        }
    }
    if failed > 0 {
        bail!("{failed} check(s) failed for {}", args.app);
    }
    Ok(())
}

impl crate::Hint for keel_update::Error {
    fn hint(&self) -> Option<String> {
        use std::error::Error as _;
        let mut causes = String::new();
        let mut source = self.source();
        while let Some(cause) = source {
            causes.push_str(&cause.to_string());
            source = cause.source();
        }
        let lower = causes.to_lowercase();
        Some(match self {
            keel_update::Error::Store { .. } if lower.contains("hash mismatch") || lower.contains("exceeds") || lower.contains("max") => {
                "the store's files do not match its signed metadata: nothing was installed; tell the store's maintainer".into()
            }
            keel_update::Error::Store { .. } if lower.contains("expired") => {
                "the store's signed metadata has expired: its maintainer must run `keel store refresh`".into()
            }
            keel_update::Error::Store { .. } if lower.contains("older") || lower.contains("rollback") => {
                "the store serves metadata older than this machine already trusts (a replay or a stale mirror): nothing was changed".into()
            }
            keel_update::Error::Store { .. } if lower.contains("signature") || lower.contains("verify") || lower.contains("threshold") => {
                "the store's metadata is not signed by the keys this install trusts: check --root and the store URL".into()
            }
            keel_update::Error::Store { .. } if lower.contains("timed out") || lower.contains("timeout") || lower.contains("connect") => {
                "the store did not answer in time; check the URL and the network (KEEL_HTTP_TIMEOUT sets the limit in seconds)".into()
            }
            keel_update::Error::Busy { .. } => "wait for the other keel process to finish".into(),
            keel_update::Error::DatabaseLocked { .. } => {
                "stop the program using the database, then update again; nothing was changed".into()
            }
            _ => return None,
        })
    }
}
