//! Integration tests of the `keel` binary: real runs on temporary workspaces, outputs checked
//! with the real `tar`, `unzip` and `sha256sum`.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

mod ci;
mod errors;
mod first_hour;
mod github;
mod guides;
mod image;
mod init;
mod installers;
mod merge;
mod outputs;
mod plan;
mod release;
mod signing;
mod store;
mod tuf;
mod update;
mod version;

use std::path::Path;
use std::sync::Mutex;

use keel_test::{RunResult, TestWorkspace, run_command};

/// The `keel` binary under test.
fn keel_bin() -> &'static str {
    env!("CARGO_BIN_EXE_keel")
}

/// The arguments of `keel install` of `app` for this machine's target, from the store at
/// `url` trusting the root file `root`, into the folder `bin`.
fn install_args(
    url: &str,
    app: &str,
    root: &std::path::Path,
    bin: &std::path::Path,
) -> Vec<String> {
    let mut args: Vec<String> = ["install", "--from", url, "--app", app, "--root"]
        .map(str::to_owned)
        .to_vec();
    args.push(root.display().to_string());
    args.extend(["--dir".to_owned(), bin.display().to_string()]);
    args.extend(["--target".to_owned(), keel_schema::HOST_TARGET.to_owned()]);
    args
}

/// A workspace with one binary package.
fn single(name: &str, version: &str) -> TestWorkspace {
    TestWorkspace::single_binary(keel_bin(), name, version)
}

/// A workspace of several members, with keel settings, extra files and a library.
fn multi() -> TestWorkspace {
    let ws = TestWorkspace::new(keel_bin());
    ws.write(
        "Cargo.toml",
        r#"[workspace]
members = ["crates/*"]
resolver = "2"

[workspace.metadata.keel]
targets = ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"]
unix-archive = "tar.xz"
include = ["examples/config.toml"]
"#,
    );
    for (name, bins) in [
        ("alpha", &["alpha", "alpha-admin"][..]),
        ("beta", &["beta"][..]),
    ] {
        ws.write(
            &format!("crates/{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"2.1.0\"\nedition = \"2021\"\nlicense = \"MIT OR Apache-2.0\"\n"
            ),
        );
        for bin in bins {
            let path = if *bin == name {
                "src/main.rs".to_owned()
            } else {
                format!("src/bin/{bin}.rs")
            };
            ws.write(
                &format!("crates/{name}/{path}"),
                &format!("fn main() {{ println!(\"{bin}\"); }}\n"),
            );
        }
    }
    ws.write(
        "crates/alpha/Cargo.toml",
        &(ws.read("crates/alpha/Cargo.toml")
            + "\n[package.metadata.keel]\ninclude = [\"scripts\"]\n"),
    );
    ws.write("crates/alpha/scripts/setup.sh", "#!/bin/sh\necho setup\n");
    ws.write("crates/alpha/scripts/notes/usage.txt", "usage\n");
    ws.write("crates/alpha/README.md", "# alpha\n");
    ws.write(
        "crates/lib/Cargo.toml",
        "[package]\nname = \"lib\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
    );
    ws.write("crates/lib/src/lib.rs", "pub fn f() {}\n");
    ws.write("README.md", "# workspace\n");
    ws.write("LICENSE-MIT", "MIT\n");
    ws.write("LICENSE-APACHE", "Apache\n");
    ws.write("CHANGELOG.md", "# Changes\n");
    ws.write("examples/config.toml", "answer = 42\n");
    set_mode(&ws.path("crates/alpha/scripts/setup.sh"), 0o755);
    ws.lock();
    ws.commit("initial");
    ws
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A copy of examples/ledger in a temporary git repository.
pub fn ledger_workspace() -> TestWorkspace {
    let ws = TestWorkspace::new(keel_bin());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ledger");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE",
        "build.rs",
        "src/main.rs",
        "src/db.rs",
        "src/selfupdate.rs",
        "demo/demo.sh",
    ] {
        ws.write(file, &fs_err::read_to_string(example.join(file)).unwrap());
    }
    // The copy embeds this checkout's keel-update and keel-buildinfo.
    let crates = fs_err::canonicalize(example.join("../../crates")).unwrap();
    let cargo = ws.read("Cargo.toml");
    assert!(
        cargo.contains("path = \"../../crates/keel-update\"")
            && cargo.contains("path = \"../../crates/keel-buildinfo\""),
        "examples/ledger/Cargo.toml changed shape"
    );
    // Behaviour, not speed, is under test: the copy builds unoptimised.
    let cargo = cargo
        .replace("../../crates", crates.to_str().unwrap())
        .replace(
            "lto = \"thin\"",
            "lto = false\nopt-level = 0\ndebug = false",
        )
        .replace("codegen-units = 1", "codegen-units = 16");
    ws.write("Cargo.toml", &cargo);
    crate::set_mode(&ws.path("demo/demo.sh"), 0o755);
    ws.commit("ledger");
    ws
}

/// Where every test builds the example: one target folder, so its dependencies are compiled
/// once per run.
fn ledger_target_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("ledger-target")
}

/// Builds and packages the example with `keel release ARGS`, one test at a time: the tests
/// share a target folder, and a release must package the binaries its own build wrote.
pub fn release_ledger(ws: &TestWorkspace, args: &[&str]) -> RunResult {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut command = ws.keel(["release"].iter().chain(args));
    command.env("CARGO_TARGET_DIR", ledger_target_dir());
    run_command(&mut command)
}
