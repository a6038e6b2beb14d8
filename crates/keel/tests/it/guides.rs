//! The operator's and maintainer's guides in `docs/` run as tests: each command block marked
//! `<!-- test: NAME -->` is run for real by a test (the install and upgrade ones by the
//! ledger's update test, the releasing ones here), and every shell block of every guide passes
//! `bash -n` and `shellcheck`.

use std::path::{Path, PathBuf};
use std::process::Command;

use keel_test::{RunResult, require_tool, run_command};

/// Every block a test runs, by guide; a marker in the guides that is not here fails
/// `every_marked_block_is_run_by_a_test`.
const RUN: &[(&str, &[&str])] = &[
    ("install.md", &["install-from-store", "install-by-hand"]),
    (
        "upgrade.md",
        &[
            "update-dry-run",
            "update",
            "update-pinned",
            "doctor",
            "rollback",
            "recover",
        ],
    ),
    (
        "releasing.md",
        &["setup", "release", "rehearse-first", "publish", "refresh"],
    ),
];

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// The shell blocks of a guide: `(marker, code)`.
fn blocks(guide: &str) -> Vec<(Option<String>, String)> {
    let text = fs_err::read_to_string(docs().join(guide)).unwrap();
    let mut found = Vec::new();
    let mut marker = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_prefix("<!-- test: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        {
            marker = Some(name.to_owned());
        } else if line == "```sh" {
            let code: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            found.push((marker.take(), code.join("\n") + "\n"));
        } else if !line.trim().is_empty() {
            marker = None;
        }
    }
    found
}

/// The block of `guide` marked `name`.
pub fn block(guide: &str, name: &str) -> String {
    assert!(
        RUN.iter()
            .any(|(g, names)| *g == guide && names.contains(&name)),
        "{guide}: `{name}` is not listed in RUN"
    );
    blocks(guide)
        .into_iter()
        .find(|(marker, _)| marker.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("docs/{guide} has no block marked `{name}`"))
        .1
}

/// Runs the block of `guide` marked `name` with bash (`-eu`, `pipefail`) in `dir`, with `vars`
/// set and this build's keel first on PATH.
pub fn run(guide: &str, name: &str, dir: &Path, vars: &[(&str, &str)]) -> RunResult {
    let keel_dir = Path::new(crate::keel_bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        keel_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut bash = Command::new(require_tool("bash"));
    bash.args(["-euo", "pipefail", "-c", &block(guide, name)])
        .current_dir(dir)
        .env("PATH", path);
    // The same isolation as a keel run in the workspace: none of the test's own settings.
    for (key, _) in std::env::vars_os() {
        let text = key.to_string_lossy();
        if text.starts_with("KEEL_")
            || text.starts_with("GITHUB_")
            || [
                "SOURCE_DATE_EPOCH",
                "NO_COLOR",
                "CARGO_TARGET_DIR",
                "CARGO_BUILD_TARGET",
            ]
            .contains(&text.as_ref())
        {
            bash.env_remove(&key);
        }
    }
    bash.envs(vars.iter().copied());
    run_command(&mut bash)
}

#[test]
fn every_marked_block_is_run_by_a_test() {
    let mut guides: Vec<String> = fs_err::read_dir(docs())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".md"))
        .collect();
    guides.sort();
    assert_eq!(
        guides,
        ["containers.md", "install.md", "releasing.md", "upgrade.md"]
    );
    for guide in &guides {
        let marked: Vec<String> = blocks(guide).into_iter().filter_map(|(m, _)| m).collect();
        let run: Vec<String> = RUN
            .iter()
            .filter(|(g, _)| g == guide)
            .flat_map(|(_, names)| names.iter().map(|n| n.to_string()))
            .collect();
        assert_eq!(
            marked, run,
            "docs/{guide}: the marked blocks and the ones tests run"
        );
    }
}

#[test]
fn every_shell_block_of_the_guides_is_valid_bash_that_shellcheck_accepts() {
    let shellcheck = require_tool("shellcheck");
    let dir = tempfile::tempdir().unwrap();
    for guide in ["install.md", "upgrade.md", "containers.md", "releasing.md"] {
        let blocks = blocks(guide);
        assert!(!blocks.is_empty(), "docs/{guide} has no shell block");
        for (index, (_, code)) in blocks.iter().enumerate() {
            let file = dir.path().join(format!("{guide}-{index}.sh"));
            // The blocks read variables an earlier block sets (SC2154), which sets them for
            // the later ones (SC2034): shellcheck is told so.
            fs_err::write(
                &file,
                format!("#!/bin/bash\n# shellcheck disable=SC2154,SC2034\n{code}"),
            )
            .unwrap();
            let syntax = run_command(Command::new(require_tool("bash")).arg("-n").arg(&file));
            assert_eq!(
                syntax.code, 0,
                "docs/{guide} block {index}: {}\n{code}",
                syntax.stderr
            );
            let lint = run_command(Command::new(&shellcheck).arg(&file));
            assert_eq!(
                lint.code, 0,
                "docs/{guide} block {index}:\n{}{code}",
                lint.stdout
            );
        }
    }
}

#[test]
fn the_releasing_guide_takes_a_workspace_to_a_rehearsed_published_release() {
    let ws = crate::single("app", "1.0.0");
    assert!(
        ws.path("Cargo.lock").is_file(),
        "keel release builds with --locked"
    );
    let vars = [("KEEL_SIGNING_KEY_PASSWORD", "correct horse battery staple")];
    let step = |name: &str| {
        let result = run("releasing.md", name, ws.root(), &vars);
        assert_eq!(
            result.code, 0,
            "releasing.md `{name}`:\n{}{}",
            result.stdout, result.stderr
        );
        result
    };
    let setup = step("setup");
    assert!(
        setup.stdout.contains("Added [workspace.metadata.keel]"),
        "{}",
        setup.stdout
    );
    assert!(ws.path("keys/release.pub").is_file());
    ws.commit("keel settings");
    step("release");
    let rehearsed = step("rehearse-first");
    assert!(
        rehearsed.stdout.contains("Passed app 1.0.0") && rehearsed.stdout.contains("(signed)"),
        "{}",
        rehearsed.stdout
    );
    let published = step("publish");
    assert!(
        published.stdout.contains("Published app-1.0.0-"),
        "{}",
        published.stdout
    );
    let refreshed = step("refresh");
    assert!(
        refreshed.stdout.contains("Re-signed"),
        "{}",
        refreshed.stdout
    );
    // What the guide made checks out, rehearsal report included.
    let verified = ws
        .run(&[
            "verify",
            "target/keel/dist",
            "--public-key",
            "keys/release.pub",
        ])
        .success();
    assert!(
        verified.stdout.contains("keel-rehearsal.json (rehearsal)"),
        "{}",
        verified.stdout
    );
}
