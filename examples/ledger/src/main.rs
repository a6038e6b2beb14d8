//! ledger: a small bookkeeping program with a SQLite database; keel's example app.

mod db;
#[cfg(feature = "self-update")]
mod selfupdate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What this binary knows about its build, for `--version`.
const BUILD: keel_buildinfo::BuildInfo = keel_buildinfo::build_info!();

/// The first line is the version alone; the second says where the build came from. Made
/// once, for the life of the program.
fn long_version() -> &'static str {
    let text = format!(
        "{}\ncommit {}{} ({}), {}, {}",
        BUILD.version,
        BUILD.commit,
        if BUILD.dirty {
            " with uncommitted changes"
        } else {
            ""
        },
        BUILD.date,
        BUILD.target,
        BUILD.rustc
    );
    Box::leak(text.into_boxed_str())
}

/// A small bookkeeping program that keeps its records in SQLite.
#[derive(Parser)]
#[command(version, long_version = long_version())]
struct Cli {
    /// The database file
    #[arg(long, global = true, env = "LEDGER_DB", default_value = "ledger.db")]
    db: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database or bring its schema up to date
    Migrate,
    /// Check the database: integrity, foreign keys, schema version (exit 1 on a problem)
    Doctor,
    /// Record an amount on an account
    Add {
        /// The account, created on first use
        account: String,
        /// The amount, for example 12, -950.50
        #[arg(allow_negative_numbers = true)]
        amount: String,
        /// A note on the entry
        #[arg(long, default_value = "")]
        memo: String,
    },
    /// List every entry
    List,
    /// Update ledger from its release store; the database is migrated, checked, and put back
    /// as it was when anything fails
    #[cfg(feature = "self-update")]
    Update {
        /// The release store (default: the one this build was made for)
        #[arg(long, value_name = "URL")]
        store: Option<String>,
        /// The store's trusted root (default: the one built in)
        #[arg(long, value_name = "ROOT_JSON")]
        root: Option<std::path::PathBuf>,
        /// The version to update to (default: the newest)
        #[arg(long = "to", value_name = "VERSION")]
        to: Option<String>,
        /// Say what would be installed, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Do not ask (the update is safe: a failure restores everything)
        #[arg(long)]
        yes: bool,
    },
    /// Return to the version before the last update, with the database as it was then
    #[cfg(feature = "self-update")]
    Rollback {
        /// Go ahead although changes made since the last update are lost
        #[arg(long)]
        yes: bool,
    },
}

fn run(cli: Cli) -> db::Result<()> {
    #[cfg(feature = "self-update")]
    {
        selfupdate::recover_at_startup()?;
        match cli.command {
            Command::Update {
                store,
                root,
                to,
                dry_run,
                yes: _,
            } => {
                return selfupdate::update(
                    &cli.db,
                    selfupdate::UpdateOptions {
                        store,
                        root,
                        to,
                        dry_run,
                    },
                );
            }
            Command::Rollback { yes } => return selfupdate::rollback(yes),
            _ => {}
        }
    }
    let mut conn = db::open(&cli.db)?;
    match cli.command {
        Command::Migrate => {
            let applied = db::migrate(&mut conn)?;
            match (applied.first(), applied.last()) {
                (Some(first), Some(last)) => println!(
                    "migrated {} from schema version {} to {last}",
                    cli.db,
                    first - 1
                ),
                _ => println!(
                    "{} is up to date (schema version {})",
                    cli.db,
                    db::latest_version()
                ),
            }
        }
        Command::Doctor => {
            let problems = db::doctor(&conn)?;
            if !problems.is_empty() {
                return Err(problems.join("; "));
            }
            println!("{}: ok (schema version {})", cli.db, db::version(&conn)?);
        }
        Command::Add {
            account,
            amount,
            memo,
        } => {
            db::require_current(&conn)?;
            let cents = db::parse_amount(&amount)?;
            let id = db::add(&mut conn, &account, cents, &memo)?;
            println!("entry {id}: {account} {}", db::format_amount(cents));
        }
        Command::List => {
            db::require_current(&conn)?;
            for entry in db::list(&conn)? {
                println!(
                    "{:>5}  {:<16} {:>12}  {}",
                    entry.id,
                    entry.account,
                    db::format_amount(entry.cents),
                    entry.memo
                );
            }
        }
        #[cfg(feature = "self-update")]
        Command::Update { .. } | Command::Rollback { .. } => unreachable!("handled above"),
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    fn git(args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("TZ", "UTC")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    #[test]
    fn a_plain_cargo_build_takes_its_build_info_from_git_and_rustc() {
        // `cargo test` built this, not keel: the build script asked git and rustc.
        assert_eq!(super::BUILD.commit, git(&["rev-parse", "HEAD"]));
        assert_eq!(
            super::BUILD.date,
            git(&["log", "-1", "--date=format-local:%Y-%m-%d", "--format=%cd"])
        );
        assert!(
            super::BUILD.target.starts_with(std::env::consts::ARCH),
            "{}",
            super::BUILD.target
        );
        assert!(
            super::BUILD.rustc.starts_with("rustc 1."),
            "{}",
            super::BUILD.rustc
        );
        assert_eq!(super::BUILD.version, env!("CARGO_PKG_VERSION"));
    }
}
