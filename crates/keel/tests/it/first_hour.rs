//! The mistakes a newcomer makes in the first hour, each made on a fresh workspace: every one
//! ends in an `error:` line that says what went wrong and a `hint:` that says what to do next
//! (exit code 1), and the spellings of earlier versions still work with a warning.

use keel_test::{RunResult, TestWorkspace};

use crate::single;

/// `result` is a refusal whose error line holds `error` and whose hint holds `hint`.
#[track_caller]
fn says(result: &RunResult, error: &str, hint: &str) {
    assert_eq!(result.code, 1, "exit code\nstderr:\n{}", result.stderr);
    let mut lines = result.stderr.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("error: ") && first.contains(error),
        "expected the error line to say `{error}`:\n{}",
        result.stderr
    );
    assert!(
        lines.any(|l| l.starts_with("hint: ") && l.contains(hint)),
        "expected a hint saying `{hint}`:\n{}",
        result.stderr
    );
}

/// A workspace with a key pair in keys/ (password from the environment of `ws.keel`).
fn with_keys(name: &str) -> TestWorkspace {
    let ws = single(name, "1.0.0");
    ws.keygen();
    ws
}

#[test]
fn a_workspace_without_cargo_lock_is_told_to_generate_one() {
    let ws = single("nolock", "1.0.0");
    fs_err::remove_file(ws.path("Cargo.lock")).unwrap();
    let result = ws.run(&["release"]);
    says(&result, "has no Cargo.lock", "cargo generate-lockfile");
    assert!(
        !ws.path("Cargo.lock").exists(),
        "keel made a lock file itself"
    );
}

#[test]
fn a_folder_that_is_not_a_release_says_to_run_keel_release_first() {
    let ws = with_keys("norelease");
    fs_err::create_dir_all(ws.path("empty")).unwrap();
    for args in [
        &["verify", "empty"][..],
        &["notes", "empty"],
        &[
            "publish",
            "empty",
            "--to",
            "store",
            "--sign-key",
            "keys/release.key",
        ],
        &["rehearse", "empty", "--first-release"],
        // With no folder given: the workspace's target/keel/dist, which no release made yet.
        &["verify"],
    ] {
        let result = ws.run(args);
        says(&result, "is not a keel release", "run `keel release` first");
    }
    assert!(!ws.path("store").exists(), "a refused publish made a store");
}

#[test]
fn install_with_a_root_that_is_not_there_says_to_check_the_path() {
    let ws = with_keys("noroot");
    ws.run(&["store", "init", "store", "--sign-key", "keys/release.key"])
        .success();
    let result = keel_test::run_command(
        ws.keel([
            "install",
            "--from",
            "store",
            "--app",
            "noroot",
            "--root",
            "roots/root.json",
        ])
        .env("KEEL_HOME", ws.path("home")),
    );
    says(&result, "roots/root.json", "check the path");
    assert!(
        !result
            .stderr
            .contains("pass the store's root.json with --root"),
        "the hint asks for the flag that was given:\n{}",
        result.stderr
    );
}

#[test]
fn a_store_is_named_by_its_folder_and_its_own_root_is_the_default() {
    let ws = with_keys("folder");
    let home = ws.path("home");
    let bin = ws.path("bin");
    // Not a store: said before anything is locked or downloaded.
    let result = keel_test::run_command(
        ws.keel(["install", "--from", "nowhere", "--app", "folder"])
            .env("KEEL_HOME", &home),
    );
    says(&result, "is not a release store", "keel store init");
    // A store folder made by `keel store init`: accepted as it is, its root trusted by
    // default; the install reaches the store's (empty) metadata and says so.
    ws.run(&["store", "init", "store", "--sign-key", "keys/release.key"])
        .success();
    let empty = ws
        .keel([
            "install",
            "--from",
            "store",
            "--app",
            "folder",
            "--dir",
            bin.to_str().unwrap(),
        ])
        .env("KEEL_HOME", &home)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&empty.stderr);
    assert_eq!(empty.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: the store has no release of folder"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: the store is empty; `keel publish` adds releases"));
    // After a release is published to it, the same command installs it.
    ws.run(&["release", "--sign-key", "keys/release.key"])
        .success();
    ws.run(&[
        "rehearse",
        "--first-release",
        "--sign-key",
        "keys/release.key",
    ])
    .success();
    ws.run(&["publish", "--to", "store", "--sign-key", "keys/release.key"])
        .success();
    let installed = ws
        .keel([
            "install",
            "--from",
            "./store",
            "--app",
            "folder",
            "--dir",
            bin.to_str().unwrap(),
        ])
        .env("KEEL_HOME", &home)
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    assert!(bin.join("folder").is_file());
    // The receipt records the store as a URL, so updates find it from anywhere.
    let receipt = fs_err::read_to_string(home.join("folder/receipt.json")).unwrap();
    let receipt: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    let url = receipt["store_url"].as_str().unwrap();
    assert!(
        url.starts_with("file:///") && url.ends_with("/store/"),
        "{url}"
    );
}

#[test]
fn a_store_root_in_the_settings_before_the_store_exists_says_to_init_the_store() {
    let ws = with_keys("storefirst");
    let manifest = ws.read("Cargo.toml");
    // A single-package workspace keeps workspace metadata under [workspace].
    ws.write(
        "Cargo.toml",
        &format!(
            "{manifest}\n[workspace]\n\n[workspace.metadata.keel]\nstore = {{ url = \"https://example.com/store\", root = \"store/metadata/root.json\" }}\n"
        ),
    );
    let result = ws.run(&["plan"]);
    says(
        &result,
        "store/metadata/root.json does not exist",
        "keel store init",
    );
    ws.run(&["store", "init", "store", "--sign-key", "keys/release.key"])
        .success();
    ws.run(&["plan"]).success();
    // A store is made once: a second init is refused and changes nothing.
    let root = fs_err::read(ws.path("store/metadata/root.json")).unwrap();
    let again = ws.run(&["store", "init", "store", "--sign-key", "keys/release.key"]);
    says(&again, "is a store already", "publish to it");
    assert_eq!(
        fs_err::read(ws.path("store/metadata/root.json")).unwrap(),
        root
    );
}

#[test]
fn a_rehearsal_without_a_previous_release_names_both_ways() {
    let ws = single("rehearse", "1.0.0");
    ws.run(&["release"]).success();
    let result = ws.run(&["rehearse"]);
    says(
        &result,
        "needs the previous release",
        "pass --from with the store (or the previous release's folder) operators update from, or --first-release",
    );
}

#[test]
fn store_only_refusals_each_say_their_own_reason() {
    let ws = with_keys("storeflags");
    ws.run(&["release", "--sign-key", "keys/release.key"])
        .success();
    let key = ["--sign-key", "keys/release.key"];
    let dry = ws.run(&[&["publish", "--to", "store", "--dry-run"][..], &key].concat());
    says(
        &dry,
        "--dry-run is for `--to github:OWNER/REPO`",
        "publish to a copy of the store",
    );
    let replace = ws.run(&[&["publish", "--to", "store", "--replace"][..], &key].concat());
    says(
        &replace,
        "--replace is for",
        "publish a new version instead",
    );
    assert!(!ws.path("store").exists());
}

#[test]
fn changelog_in_a_repository_without_commits_says_to_commit_first() {
    let ws = single("nocommit", "1.0.0");
    fs_err::remove_dir_all(ws.path(".git")).unwrap();
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(ws.root())
        .status()
        .unwrap();
    assert!(init.success());
    let result = ws.run(&["changelog"]);
    says(&result, "has no commit yet", "commit the work first");
    assert!(
        !result.stderr.contains("malformed object name"),
        "{}",
        result.stderr
    );
    assert!(!ws.path("CHANGELOG.md").exists());
}

#[test]
fn the_old_spellings_still_work_and_say_the_new_ones() {
    let ws = with_keys("spellings");
    // `--key` for a secret key: the release is signed, with one warning.
    let old = ws.run(&["release", "--key", "keys/release.key"]).success();
    assert!(ws.path("target/keel/dist/SHA256SUMS.minisig").is_file());
    assert_eq!(
        old.stderr
            .matches("warning: `--key` for a secret key is deprecated: write `--sign-key`")
            .count(),
        1,
        "{}",
        old.stderr
    );
    // `--key` for a public key on verify: its own meaning there, no warning.
    let verified = ws.run(&["verify", "--key", "keys/release.pub"]).success();
    assert!(
        !verified.stderr.contains("deprecated"),
        "{}",
        verified.stderr
    );
    ws.run(&["verify", "--public-key", "keys/release.pub"])
        .success();
    // Both spellings at once are refused by the parser.
    let both = ws.run(&[
        "release",
        "--key",
        "keys/release.key",
        "--sign-key",
        "keys/release.key",
    ]);
    assert_eq!(both.code, 2, "{}", both.stderr);
    // `install --version VERSION` and `update --to VERSION`: the version asked for, warned.
    ws.run(&["store", "init", "store", "--sign-key", "keys/release.key"])
        .success();
    let home = ws.path("home");
    let install = keel_test::run_command(
        ws.keel([
            "install",
            "--from",
            "store",
            "--app",
            "spellings",
            "--version",
            "1.0.0",
        ])
        .env("KEEL_HOME", &home),
    );
    assert!(
        install
            .stderr
            .contains("warning: `keel install --version` is deprecated: write `--app-version`"),
        "{}",
        install.stderr
    );
    let update = keel_test::run_command(
        ws.keel(["update", "--app", "spellings", "--to", "1.0.0"])
            .env("KEEL_HOME", &home),
    );
    assert!(
        update
            .stderr
            .starts_with("warning: `keel update --to` is deprecated: write `--app-version`"),
        "{}",
        update.stderr
    );
    // `-V` prints keel's version on install too.
    let version = ws.run(&["install", "-V"]).success();
    assert!(
        version.stdout.starts_with("keel-install "),
        "{}",
        version.stdout
    );
}

#[test]
fn keel_releases_itself_with_keel_and_its_installer() {
    // The repository's own settings: one app, the keel command, with its licences and an
    // installer named as the README's install line fetches it.
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let planned = keel_test::run_command(
        std::process::Command::new(crate::keel_bin())
            .args(["plan", "--format", "json", "--manifest-path"])
            .arg(&repo),
    )
    .success();
    let plan: serde_json::Value = serde_json::from_str(&planned.stdout).unwrap();
    let apps: Vec<&str> = plan["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(apps, ["keel"]);
    let files: Vec<&str> = plan["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["file_name"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"keel-installer.sh"), "{files:?}");
    let readme = fs_err::read_to_string(repo.with_file_name("README.md")).unwrap();
    assert!(
        readme.contains("releases/latest/download/keel-installer.sh"),
        "the README's install line names another file"
    );
}

#[test]
fn publishing_to_github_without_a_network_says_so_at_once() {
    let ws = single("offline", "1.0.0");
    let manifest = ws.read("Cargo.toml");
    ws.write(
        "Cargo.toml",
        &manifest.replace(
            "description = ",
            "repository = \"https://github.com/o/offline\"\ndescription = ",
        ),
    );
    ws.commit("repository");
    let tagged = std::process::Command::new("git")
        .args(["tag", "v1.0.0"])
        .current_dir(ws.root())
        .status()
        .unwrap();
    assert!(tagged.success());
    ws.run(&["release", "--tag"]).success();
    // A host with no address, as every host is without a network (`.invalid` never resolves).
    let result = keel_test::run_command(
        ws.keel(["publish", "--to", "github:o/offline"])
            .env("GITHUB_TOKEN", "token-never-shown")
            .env("KEEL_GITHUB_API_URL", "https://api.keel-test.invalid"),
    );
    says(
        &result,
        "cannot reach api.keel-test.invalid",
        "check this machine's network connection",
    );
    assert!(
        !result.stderr.contains("failed 5 times"),
        "{}",
        result.stderr
    );
    assert!(!result.stderr.contains("token-never-shown"));
}
