//! `keel merge`: partial releases from several runners join into one release.

use std::process::Command;

use keel_test::{require_tool, run_ok, snapshot_dir};

use crate::multi;

#[test]
fn merged_partials_equal_one_release_of_every_target() {
    let ws = multi();
    let fake = ["--builder", "fake"];
    let release = |out: &str, targets: &[&str]| {
        let mut args = vec!["release", "--out", out];
        args.extend(fake);
        for target in targets {
            args.extend(["--target", target]);
        }
        ws.run(&args).success();
    };
    release("linux", &["x86_64-unknown-linux-gnu"]);
    release(
        "others",
        &["aarch64-apple-darwin", "x86_64-pc-windows-msvc"],
    );
    release("whole", &[]);

    let merged = ws
        .run(&["merge", "--out", "merged", "linux", "others"])
        .success();
    assert!(
        merged.stdout.contains("Released version 2.1.0"),
        "{}",
        merged.stdout
    );
    run_ok(
        Command::new(require_tool("sha256sum"))
            .args(["-c", "--strict", "SHA256SUMS"])
            .current_dir(ws.path("merged")),
    );
    let merged = snapshot_dir(&ws.path("merged"));
    let whole = snapshot_dir(&ws.path("whole"));
    assert_eq!(
        merged.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        whole.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    assert!(
        merged == whole,
        "the merged release differs from the release of every target"
    );
}

#[test]
fn a_tampered_partial_is_refused() {
    let ws = multi();
    ws.run(&[
        "release",
        "--builder",
        "fake",
        "--out",
        "a",
        "--target",
        "x86_64-unknown-linux-gnu",
    ])
    .success();
    ws.run(&[
        "release",
        "--builder",
        "fake",
        "--out",
        "b",
        "--target",
        "aarch64-apple-darwin",
    ])
    .success();
    let archive = ws.path("b/beta-2.1.0-aarch64-apple-darwin.tar.xz");
    let mut bytes = fs_err::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    fs_err::write(&archive, bytes).unwrap();
    let result = ws.run(&["merge", "--out", "merged", "a", "b"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.starts_with("error: ")
            && result
                .stderr
                .contains("beta-2.1.0-aarch64-apple-darwin.tar.xz does not match its manifest"),
        "{}",
        result.stderr
    );
    assert!(!ws.path("merged").exists());
}

#[test]
fn partials_of_different_releases_or_the_same_target_are_refused() {
    let ws = multi();
    ws.run(&[
        "release",
        "--builder",
        "fake",
        "--out",
        "a",
        "--target",
        "x86_64-unknown-linux-gnu",
    ])
    .success();
    ws.run(&[
        "release",
        "--builder",
        "fake",
        "--out",
        "again",
        "--target",
        "x86_64-unknown-linux-gnu",
    ])
    .success();
    let result = ws.run(&["merge", "--out", "merged", "a", "again"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .contains("target `x86_64-unknown-linux-gnu` appears in more than one manifest"),
        "{}",
        result.stderr
    );

    ws.write(
        "crates/beta/src/main.rs",
        "fn main() { println!(\"beta 2\"); }\n",
    );
    ws.commit("change");
    ws.run(&[
        "release",
        "--builder",
        "fake",
        "--out",
        "b",
        "--target",
        "aarch64-apple-darwin",
    ])
    .success();
    let result = ws.run(&["merge", "--out", "merged", "a", "b"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .contains("the manifests describe different releases: source differs"),
        "{}",
        result.stderr
    );
    assert!(!ws.path("merged").exists());

    let result = ws.run(&["merge", "--out", "merged", "crates"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("is not a keel release"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("hint: run `keel release` first"),
        "{}",
        result.stderr
    );
}

/// A rehearsal report that says `app` passed (or failed) on `target`, bound to the release in
/// `dir`.
pub(crate) fn rehearsal_report(
    ws: &keel_test::TestWorkspace,
    dir: &str,
    app: &str,
    target: &str,
    passed: bool,
) {
    let manifest_text = ws.read(&format!("{dir}/keel-manifest.json"));
    let manifest: serde_json::Value = serde_json::from_str(&manifest_text).unwrap();
    let (archive, artifact) = manifest["artifacts"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, a)| a["kind"] == "archive" && a["app"] == app && a["target"] == target)
        .unwrap();
    let digest = keel_verify::sha256_bytes(manifest_text.as_bytes()).to_hex();
    let report = serde_json::json!({
        "schema_version": 1,
        "manifest_sha256": digest,
        "runs": [{
            "app": app, "target": target, "kind": "first-release",
            "version": manifest["apps"][app]["version"], "archive": archive,
            "archive_sha256": artifact["sha256"], "passed": passed,
            "steps": [{"step": "install", "passed": passed, "millis": 1, "detail": "installed"}],
            "databases": {},
        }],
    });
    ws.write(&format!("{dir}/keel-rehearsal.json"), &report.to_string());
}

#[test]
fn rehearsal_reports_of_partials_are_merged_bound_to_the_merged_release_and_signed() {
    let ws = multi();
    ws.keygen();
    for (out, target) in [
        ("linux", "x86_64-unknown-linux-gnu"),
        ("mac", "aarch64-apple-darwin"),
    ] {
        ws.run(&[
            "release",
            "--builder",
            "fake",
            "--out",
            out,
            "--target",
            target,
        ])
        .success();
        rehearsal_report(&ws, out, "beta", target, true);
    }
    ws.run(&[
        "merge",
        "--out",
        "merged",
        "linux",
        "mac",
        "--sign-key",
        "keys/release.key",
    ])
    .success();
    let merged: serde_json::Value =
        serde_json::from_str(&ws.read("merged/keel-rehearsal.json")).unwrap();
    let digest = keel_verify::sha256_bytes(ws.read("merged/keel-manifest.json").as_bytes());
    assert_eq!(merged["manifest_sha256"], digest.to_hex().as_str());
    let targets: Vec<&str> = merged["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        ["aarch64-apple-darwin", "x86_64-unknown-linux-gnu"]
    );
    let verified = ws
        .run(&["verify", "merged", "--public-key", "keys/release.pub"])
        .success();
    assert!(
        verified
            .stdout
            .contains("ok      keel-rehearsal.json.minisig (signature)"),
        "{}",
        verified.stdout
    );

    // A report that belongs to another release stops the merge before it writes anything.
    ws.write(
        "mac/keel-rehearsal.json",
        &ws.read("mac/keel-rehearsal.json").replacen(
            "\"manifest_sha256\":\"",
            "\"manifest_sha256\":\"0",
            1,
        ),
    );
    let refused = ws.run(&["merge", "--out", "again", "linux", "mac"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("mac/keel-rehearsal.json does not check out")
            && refused
                .stderr
                .contains("it rehearsed the release whose manifest"),
        "{}",
        refused.stderr
    );
    assert!(!ws.path("again").exists());
}
