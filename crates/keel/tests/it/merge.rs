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
        result
            .stderr
            .contains("hint: pass the output folders of `keel release`"),
        "{}",
        result.stderr
    );
}
