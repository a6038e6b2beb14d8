//! Compiles in the trusted root of the store `ledger update` uses, when the build names one:
//! `LEDGER_TRUSTED_ROOT=path/to/root.json` (and `LEDGER_STORE_URL=https://...`).

// Every failure message below names its path, as fs-err would.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;

fn main() {
    // Version, commit, date, target and compiler for `ledger --version`.
    keel_buildinfo::emit();
    println!("cargo:rerun-if-env-changed=LEDGER_TRUSTED_ROOT");
    println!("cargo:rerun-if-env-changed=LEDGER_STORE_URL");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("trusted-root.json");
    let root = match std::env::var("LEDGER_TRUSTED_ROOT") {
        Ok(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={path}");
            std::fs::read(&path).unwrap_or_else(|err| panic!("LEDGER_TRUSTED_ROOT={path}: {err}"))
        }
        _ => Vec::new(),
    };
    std::fs::write(&out, root).expect("OUT_DIR is writable");
}
