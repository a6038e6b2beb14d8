//! `keel-tuf-client`: keel's TUF client behind the command line of the TUF community
//! conformance suite, so the suite can test the code that `keel install` and `keel update`
//! use.
//!
//! ```text
//! keel-tuf-client --metadata-dir D init ROOT
//! keel-tuf-client --metadata-dir D --metadata-url U refresh
//! keel-tuf-client --metadata-dir D --metadata-url U --target-name T [--target-name T2 ...] \
//!     --target-base-url B --target-dir TD download
//! ```
//!
//! Exit 0 on success, 1 on failure. The trusted metadata in D has unversioned names
//! (`root.json`, `timestamp.json`, ...), and D holds nothing else. A target already in TD
//! with the signed length and hashes is kept, not downloaded again; a refused download
//! leaves the file that was there.
#![allow(clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keel_update::store::{ClientOptions, Store};

#[derive(Parser)]
#[command(name = "keel-tuf-client", version)]
struct Cli {
    /// The folder of the client's trusted metadata
    #[arg(long)]
    metadata_dir: PathBuf,
    /// The URL of the repository's metadata
    #[arg(long)]
    metadata_url: Option<String>,
    /// A target to download (repeat for several)
    #[arg(long)]
    target_name: Vec<String>,
    /// The URL targets are downloaded from
    #[arg(long)]
    target_base_url: Option<String>,
    /// Where downloaded targets go
    #[arg(long)]
    target_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trust ROOT: copy it into the metadata folder
    Init { root: PathBuf },
    /// Fetch and verify the repository's metadata
    Refresh,
    /// Refresh, then download and verify the targets
    Download,
}

fn url(text: Option<&str>, what: &str) -> Result<url::Url, String> {
    let text = text.ok_or_else(|| format!("--{what} is required"))?;
    let text = if text.ends_with('/') {
        text.to_owned()
    } else {
        format!("{text}/")
    };
    url::Url::parse(&text).map_err(|err| format!("--{what}: {err}"))
}

/// A target path as one file name: every byte outside `[A-Za-z0-9_.~-]` percent-encoded.
fn file_name(target: &str) -> String {
    target
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn run(cli: Cli) -> Result<(), String> {
    let root_path = cli.metadata_dir.join("root.json");
    match cli.command {
        Command::Init { root } => {
            fs_err::create_dir_all(&cli.metadata_dir).map_err(|e| e.to_string())?;
            keel_fs::copy_atomic(&root, &root_path, None).map_err(|e| e.to_string())?;
            Ok(())
        }
        Command::Refresh | Command::Download => {
            let root = fs_err::read(&root_path).map_err(|e| e.to_string())?;
            let metadata_url = url(cli.metadata_url.as_deref(), "metadata-url")?;
            let targets_url = match &cli.target_base_url {
                Some(base) => url(Some(base), "target-base-url")?,
                None => metadata_url.clone(),
            };
            let store = Store::open_urls(
                &metadata_url,
                &targets_url,
                &root,
                &cli.metadata_dir,
                &ClientOptions::default(),
            )
            .map_err(|e| e.with_causes())?;
            if matches!(cli.command, Command::Download) {
                if cli.target_name.is_empty() {
                    return Err("--target-name is required".into());
                }
                let dir = cli.target_dir.as_ref().ok_or("--target-dir is required")?;
                fs_err::create_dir_all(dir).map_err(|e| e.to_string())?;
                for name in &cli.target_name {
                    store
                        .download_target_to(name, &dir.join(file_name(name)))
                        .map_err(|e| e.with_causes())?;
                }
            }
            Ok(())
        }
    }
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
