//! keel's TUF client against a repository written by python-tuf's metadata API (the reference
//! implementation), through `keel install`. (The conformance entry point, `keel-tuf-client`, is
//! tested in keel-update.)

use std::process::Command;

use keel_test::{Nginx, TestWorkspace, run_command, run_ok};

use crate::single;

/// The host: what keel releases for by default, and what installs pick.
const HOST: &str = keel_schema::HOST_TARGET;

/// A release built by keel (fake builder), published by python-tuf.
fn python_repository() -> (TestWorkspace, String) {
    let ws = single("app", "2.0.0");
    ws.run(&["release", "--quiet", "--builder", "fake", "--out", "dist"])
        .success();
    let name = format!("app-2.0.0-{HOST}.tar.gz");
    let custom = serde_json::json!({
        "keel": {
            "app": "app", "version": "2.0.0", "target": HOST, "channel": "stable",
            "format": "tar.gz", "executables": [format!("app-2.0.0-{HOST}/app")],
        }
    });
    keel_test::python_tuf_repository(
        &ws.path("pystore"),
        &ws.path(&format!("dist/{name}")),
        &custom,
    );
    (ws, name)
}

#[test]
fn keel_installs_from_a_repository_written_by_python_tuf() {
    let (ws, _) = python_repository();
    let nginx = Nginx::serve(&ws.path("pystore"));
    let result = run_command(
        ws.keel(crate::install_args(
            &nginx.url(""),
            "app",
            &ws.path("pystore/metadata/1.root.json"),
            &ws.path("bin"),
        ))
        .env("KEEL_HOME", ws.path("home")),
    )
    .success();
    assert!(
        result.stdout.contains("Installed app 2.0.0"),
        "{}",
        result.stdout
    );
    let out = run_ok(&mut Command::new(ws.path("bin/app")));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("app {HOST} (fake build)")));
}
