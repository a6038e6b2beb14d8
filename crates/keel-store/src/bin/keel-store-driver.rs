//! A test driver for crash tests: runs one publish or refresh in its own process, so a test
//! can kill it at a named point (`KEEL_CRASH_AT=<point>`) and then read the store.
//!
//!     keel-store-driver publish STORE RELEASE_DIR KEY_FILE
//!     keel-store-driver refresh STORE KEY_FILE
//!
//! The key file holds an unencrypted keel key. Prints the version written.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::path::Path;
use std::process::ExitCode;

use keel_sign::{Secret, SigningKey};
use keel_store::Expiry;

fn key(path: &str) -> Result<SigningKey, String> {
    let text = fs_err::read_to_string(path).map_err(|err| err.to_string())?;
    SigningKey::from_text(&Secret::new(text), None).map_err(|err| err.to_string())
}

fn run(args: &[String]) -> Result<u64, String> {
    let now = jiff::Timestamp::now();
    let expiry = Expiry::default();
    match args {
        [action, store, release, key_file] if action == "publish" => keel_store::publish(
            Path::new(store),
            Path::new(release),
            &key(key_file)?,
            None,
            "stable",
            &expiry,
            now,
        )
        .map(|published| published.version)
        .map_err(|err| err.to_string()),
        [action, store, key_file] if action == "refresh" => {
            keel_store::refresh(Path::new(store), &key(key_file)?, &expiry, now)
                .map(|refreshed| refreshed.timestamp.version)
                .map_err(|err| err.to_string())
        }
        _ => Err("usage: keel-store-driver publish STORE RELEASE KEY | refresh STORE KEY".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(version) => {
            println!("{version}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
