//! `keel plan`: snapshots of the plan of each fixture, and proof that planning writes nothing.

use keel_test::{TestWorkspace, run_ok, snapshot_dir};

use crate::{multi, single};

/// `text` with the workspace's commit (in full, and its first 12 digits) named `[commit]`:
/// the snapshots hold whatever the fixture's files and the toolchain's `Cargo.lock` hash to.
fn without_commit(ws: &TestWorkspace, text: &str) -> String {
    let head = run_ok(
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(ws.root()),
    );
    let head = String::from_utf8(head.stdout).unwrap();
    let head = head.trim();
    text.replace(head, "[commit]")
        .replace(&head[..12], "[commit]")
}

#[test]
fn plan_of_a_single_binary() {
    let ws = single("solo", "0.9.0");
    // The plan is for the host: the snapshots name it `[host]`, so they hold on any machine.
    let host = keel_schema::HOST_TARGET;
    let json = ws.run(&["plan", "--format", "json"]).success();
    let plan: serde_json::Value =
        serde_json::from_str(&without_commit(&ws, &json.stdout.replace(host, "[host]"))).unwrap();
    insta::assert_json_snapshot!("single_binary_json", plan);
    let text = ws.run(&["plan"]).success();
    insta::assert_snapshot!(
        "single_binary_text",
        without_commit(&ws, &text.stdout.replace(host, "[host]"))
    );
}

#[test]
fn plan_of_a_configured_workspace() {
    let ws = multi();
    let json = ws
        .run(&["plan", "--format", "json", "--tag", "v2.1.0"])
        .success();
    let plan: serde_json::Value = serde_json::from_str(&without_commit(&ws, &json.stdout)).unwrap();
    insta::assert_json_snapshot!("multi_json", plan);
}

#[test]
fn command_line_targets_replace_the_configured_ones() {
    let ws = multi();
    let json = ws
        .run(&[
            "plan",
            "--format",
            "json",
            "--target",
            "aarch64-unknown-linux-musl",
        ])
        .success();
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        plan["targets"],
        serde_json::json!(["aarch64-unknown-linux-musl"])
    );
}

#[test]
fn planning_writes_nothing() {
    let ws = single("pure", "1.0.0");
    let before = snapshot_dir(ws.root());
    ws.run(&["plan"]).success();
    ws.run(&["plan", "--format", "json"]).success();
    assert!(snapshot_dir(ws.root()) == before, "keel plan wrote files");
    assert!(!ws.path("target").exists());
}
