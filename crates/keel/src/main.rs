//! The `keel` command: clap arguments, prompts and rendering. What a command does lives in the
//! libraries (`keel-release` for releases, `keel-store` for stores, `keel-update` for
//! installs); this crate turns arguments into their calls and their results into text or JSON.
//!
//! Libraries never print; this binary owns stdout (results: text, or JSON with `--format
//! json`) and stderr (progress, warnings and errors). Errors print as one `error:` line with
//! their causes, any long output of a failed tool below it, and a `hint:` where one helps.
//! Exit codes: 0 success, 1 failure, 2 usage error.

mod ci;
mod cli;
mod hints;
mod image;
mod operate;
mod outputs;
mod progress;
mod publish;
mod rehearse;
mod release;
mod signing;
mod verify;
mod version;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use cli::{Cli, Command, Format, GlobalArgs};

/// An error raised by the binary itself, with its hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Hinted {
    message: String,
    pub(crate) hint: String,
}

/// An error with a hint.
pub fn hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    let (message, hint) = (message.into(), hint.into());
    anyhow::Error::new(Hinted { message, hint })
}

/// The current folder: relative paths on the command line are taken from it.
pub fn cwd() -> anyhow::Result<std::path::PathBuf> {
    std::env::current_dir().context("could not read the current directory")
}

/// The workspace `--manifest-path` or the current folder names, with its toolchain.
pub fn project(global: &GlobalArgs) -> anyhow::Result<keel_release::Project> {
    let manifest_path = global.manifest_path.as_deref();
    Ok(keel_release::Project::load(manifest_path, &cwd()?)?)
}

/// The release folder a command works on: the one given, else the current folder when it
/// is a release, else the workspace's `target/keel/dist`.
pub fn release_dir(
    global: &GlobalArgs,
    given: Option<&std::path::Path>,
) -> anyhow::Result<std::path::PathBuf> {
    let manifest_path = global.manifest_path.as_deref();
    Ok(keel_release::locate_release_dir(
        given,
        manifest_path,
        &cwd()?,
    )?)
}

/// Writes one line to stdout; a closed pipe (`keel plan | head`) ends the program quietly.
pub fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = writeln!(stdout, "{line}")
        && err.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    let text = serde_json::to_string_pretty(value).expect("keel's outputs are plain JSON data");
    out(&text);
}

/// Prints a command's result: `json` with `--format json`, else the text (unless `--quiet`).
pub fn report(global: &GlobalArgs, outcome: impl serde::Serialize, text: impl FnOnce() -> String) {
    match global.format {
        Format::Json => print_json(&outcome),
        Format::Text if global.quiet => {}
        Format::Text => out(&text()),
    }
}

/// Prints a command's result: `json` with `--format json`, else its text form (unless
/// `--quiet`).
pub fn show<T: serde::Serialize + std::fmt::Display>(global: &GlobalArgs, outcome: &T) {
    report(global, outcome, || outcome.to_string());
}

/// Prints a warning on stderr.
pub fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

fn report_error(err: &anyhow::Error) {
    let mut causes: Vec<String> = Vec::new();
    let mut details: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default().trim().to_owned();
        // Wrapped errors often repeat their cause's text at the end of their own.
        if !first.is_empty() && !causes.iter().any(|c| c.ends_with(&first)) {
            causes.push(first);
        }
        details.extend(lines.map(|l| format!("  {l}")));
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {}", causes.join(": "));
    for line in details {
        let _ = writeln!(stderr, "{line}");
    }
    if let Some(hint) = hints::hint_of(err) {
        let _ = writeln!(stderr, "hint: {hint}");
    }
}

fn run_init(global: &GlobalArgs) -> anyhow::Result<()> {
    let done = keel_release::init(global.manifest_path.as_deref(), &cwd()?)?;
    crate::report(global, &done, || {
        format!(
            "{done}\nNext: `keel plan` shows what a release contains; `keel release` builds it."
        )
    });
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Init => run_init(&cli.global),
        Command::Plan(args) => release::run_plan(&cli.global, args),
        Command::Build(args) => release::run_build(&cli.global, args),
        Command::Release(args) => release::run_release(&cli.global, args),
        Command::Keygen(args) => signing::run_keygen(&cli.global, args),
        Command::Sign(args) => signing::run_sign(&cli.global, args),
        Command::Verify(args) => verify::run_verify(&cli.global, args),
        Command::Merge(args) => release::run_merge(&cli.global, args),
        Command::Rehearse(args) => rehearse::run_rehearse(&cli.global, args),
        Command::Publish(args) => publish::run_publish(&cli.global, args),
        Command::Notes(args) => publish::run_notes(&cli.global, args),
        Command::Image(cli::ImageCommand::Build(args)) => image::run_build(&cli.global, args),
        Command::Image(cli::ImageCommand::Push(args)) => image::run_push(&cli.global, args),
        Command::Image(cli::ImageCommand::Login(args)) => image::run_login(&cli.global, args),
        Command::Store(cli::StoreCommand::Init(args)) => operate::run_store_init(&cli.global, args),
        Command::Store(cli::StoreCommand::Refresh(args)) => operate::run_refresh(&cli.global, args),
        Command::Install(args) => operate::run_install(&cli.global, args),
        Command::Update(args) => operate::run_update(&cli.global, args),
        Command::Rollback(args) => operate::run_rollback(&cli.global, args),
        Command::Doctor(args) => operate::run_doctor(&cli.global, args),
        Command::Recover(args) => operate::run_recover(&cli.global, args),
        Command::Ci(args) => ci::run_ci(&cli.global, args),
        Command::Bump(args) => version::run_bump(&cli.global, args),
        Command::Changelog(args) => version::run_changelog(&cli.global, args),
        Command::ReleasePr(args) => version::run_release_pr(&cli.global, args),
        Command::Schema(args) => {
            let schema = if args.outputs {
                outputs::schema()
            } else {
                keel_schema::manifest_schema()
            };
            out(schema.trim_end());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report_error(&err);
            ExitCode::from(1)
        }
    }
}
