//! Integration tests of the `keel` binary: real runs on temporary workspaces, outputs checked
//! with the real `tar`, `unzip` and `sha256sum`.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

mod errors;
mod init;
mod merge;
mod plan;
mod release;
mod signing;
mod store;
mod tuf;
mod update;

use keel_test::TestWorkspace;

/// The `keel` binary under test.
fn keel_bin() -> &'static str {
    env!("CARGO_BIN_EXE_keel")
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
