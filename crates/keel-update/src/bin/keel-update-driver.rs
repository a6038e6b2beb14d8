//! A test driver for crash tests: runs one keel-update action in its own process, so a test
//! can kill it (`KEEL_CRASH_AT=<point>`, or a signal at a random instant) and then recover.
//!
//!     keel-update-driver '<json: {"action", "home", "app", "release"?, "bin_dir"?, "databases"?}>'
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use keel_schema::receipt::UpdateHooks;
use keel_update::{AppHome, NewRelease, Silent};
use serde_json::Value;

fn release(spec: &Value) -> NewRelease {
    let release = &spec["release"];
    NewRelease {
        version: release["version"].as_str().unwrap_or_default().to_owned(),
        target: keel_schema::TargetTriple::host(),
        binaries: release["binaries"]
            .as_object()
            .map(|b| {
                b.iter()
                    .map(|(k, v)| (k.clone(), PathBuf::from(v.as_str().unwrap_or_default())))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default(),
        hooks: serde_json::from_value::<UpdateHooks>(release["hooks"].clone()).unwrap_or_default(),
    }
}

fn main() -> ExitCode {
    let Some(arg) = std::env::args().nth(1) else {
        eprintln!("usage: keel-update-driver '<json spec>'");
        return ExitCode::from(2);
    };
    let spec: Value = match serde_json::from_str(&arg) {
        Ok(spec) => spec,
        Err(err) => {
            eprintln!("bad spec: {err}");
            return ExitCode::from(2);
        }
    };
    let home = AppHome::new(
        &PathBuf::from(spec["home"].as_str().unwrap_or_default()),
        spec["app"].as_str().unwrap_or_default(),
    );
    let result = (|| -> Result<String, keel_update::Error> {
        let lock = home.lock()?;
        let recovered = home.recover(&lock, &Silent)?;
        let action = spec["action"].as_str().unwrap_or_default();
        let receipt = match action {
            "recover" => return Ok(format!("{recovered:?}")),
            "install" => home.install(
                &lock,
                &release(&spec),
                &PathBuf::from(spec["bin_dir"].as_str().unwrap_or_default()),
                &spec["databases"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .filter_map(|d| d.as_str())
                            .map(PathBuf::from)
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
                keel_update::Origin::default(),
                &Silent,
            )?,
            "update" => home.update(&lock, &release(&spec), &Silent)?,
            "rollback" => home.rollback(&lock, &Silent)?,
            other => panic!("unknown action {other}"),
        };
        Ok(receipt.version)
    })();
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {}", err.with_causes());
            ExitCode::FAILURE
        }
    }
}
