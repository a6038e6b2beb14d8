//! Bad input: a specific `error:` line, a `hint:` where one helps, exit code 1, and every file
//! the user had left as it was.

use keel_test::{RunResult, TestWorkspace, snapshot_dir};

use crate::{keel_bin, single};

/// The host: what keel builds for by default.
const HOST: &str = keel_schema::HOST_TARGET;

/// A target whose standard library this machine does not have (only the host's is installed,
/// here and on CI).
fn foreign_target() -> &'static str {
    if HOST.starts_with("x86_64") {
        "aarch64-unknown-linux-gnu"
    } else {
        "x86_64-unknown-linux-gnu"
    }
}

/// Releases once into `dist`, so that each failure can be checked to leave it untouched.
fn released(name: &str) -> (TestWorkspace, Vec<(String, Vec<u8>)>) {
    let ws = single(name, "1.0.0");
    ws.run(&["release", "--out", "dist"]).success();
    let before = snapshot_dir(&ws.path("dist"));
    assert!(!before.is_empty());
    (ws, before)
}

#[track_caller]
fn assert_error(result: &RunResult, error: &str, hint: Option<&str>) {
    assert_eq!(result.code, 1, "exit code\nstderr:\n{}", result.stderr);
    let first = result.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: "),
        "first line is not an error line:\n{}",
        result.stderr
    );
    assert!(
        first.contains(error),
        "expected `{error}` in the error line:\n{}",
        result.stderr
    );
    if let Some(hint) = hint {
        assert!(
            result
                .stderr
                .lines()
                .any(|l| l.starts_with("hint: ") && l.contains(hint)),
            "expected hint `{hint}`:\n{}",
            result.stderr
        );
    }
    assert!(!result.stderr.contains("panicked"), "{}", result.stderr);
}

/// No staging or old folders are left beside the output folder.
#[track_caller]
fn assert_no_leftovers(ws: &TestWorkspace) {
    let names: Vec<String> = fs_err::read_dir(ws.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".keel-"))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[test]
fn not_a_cargo_workspace() {
    let ws = TestWorkspace::new(keel_bin());
    let result = ws.run(&["release"]);
    assert_error(
        &result,
        "could not find Cargo.toml in",
        Some("--manifest-path"),
    );
    let result = ws.run(&["plan", "--manifest-path", "nowhere/Cargo.toml"]);
    assert_error(
        &result,
        "nowhere/Cargo.toml does not exist",
        Some("--manifest-path"),
    );
    assert!(snapshot_dir(ws.root()).is_empty(), "keel wrote files");
}

#[test]
fn a_broken_cargo_toml_shows_what_cargo_said() {
    let ws = TestWorkspace::new(keel_bin());
    ws.write("Cargo.toml", "[package]\nname = \"x\"\nversion = \n");
    let result = ws.run(&["plan"]);
    assert_error(&result, "could not read the Cargo workspace", None);
    assert!(result.stderr.contains("Cargo.toml"), "{}", result.stderr);
}

#[test]
fn a_workspace_without_binaries() {
    let ws = TestWorkspace::new(keel_bin());
    ws.write(
        "Cargo.toml",
        "[package]\nname = \"just-a-lib\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    );
    ws.write("src/lib.rs", "");
    ws.lock();
    let result = ws.run(&["release", "--out", "dist"]);
    assert_error(
        &result,
        "the workspace has no binary to ship",
        Some("src/main.rs"),
    );
    assert!(!ws.path("dist").exists());
    assert_no_leftovers(&ws);
}

#[test]
fn a_target_whose_standard_library_is_not_installed() {
    let (ws, before) = released("notarget");
    let target = foreign_target();
    let result = ws.run(&["release", "--out", "dist", "--target", target]);
    assert_error(
        &result,
        &format!("the standard library for target `{target}` is not installed"),
        Some(&format!("rustup target add {target}")),
    );
    assert!(result.stderr.contains("CI runner"), "{}", result.stderr);
    assert!(
        snapshot_dir(&ws.path("dist")) == before,
        "the output folder changed"
    );
    assert_no_leftovers(&ws);
}

#[test]
fn an_unknown_target() {
    let ws = single("unknown", "1.0.0");
    let result = ws.run(&["build", "--target", "sparc-nowhere-none"]);
    assert_error(
        &result,
        "unknown target `sparc-nowhere-none`",
        Some("rustc --print target-list"),
    );
}

#[test]
fn a_tag_that_does_not_match_stops_before_building() {
    let (ws, before) = released("tagged");
    let built = ws.path(&format!("target/{HOST}/dist/tagged"));
    fs_err::remove_file(&built).unwrap();
    let result = ws.run(&["release", "--out", "dist", "--tag", "v1.0.1"]);
    assert_error(
        &result,
        "tag `v1.0.1` does not match the version in Cargo.toml (tagged 1.0.0)",
        Some("bump that version"),
    );
    assert!(!built.exists(), "keel built before checking the tag");
    let result = ws.run(&["plan", "--tag", "release-1"]);
    assert_error(
        &result,
        "tag `release-1` is not of the form",
        Some("v1.2.3"),
    );
    assert!(snapshot_dir(&ws.path("dist")) == before);
    assert_no_leftovers(&ws);
}

#[test]
fn an_unwritable_output_folder() {
    let ws = single("unwritable", "1.0.0");
    ws.write("a-file", "keep me\n");
    let result = ws.run(&["release", "--out", "a-file/dist"]);
    assert_error(&result, "cannot write the output folder", Some("--out"));
    assert_eq!(ws.read("a-file"), "keep me\n");
    // It failed before building anything.
    assert!(!ws.path(&format!("target/{HOST}")).exists());
    let result = ws.run(&["release", "--out", "a-file"]);
    assert_error(&result, "is a file", Some("--out"));
    assert_eq!(ws.read("a-file"), "keep me\n");
}

#[test]
fn a_folder_keel_did_not_write_is_never_replaced() {
    let ws = single("foreign", "1.0.0");
    ws.write("precious/notes.txt", "mine\n");
    let result = ws.run(&["release", "--out", "precious"]);
    assert_error(&result, "refusing to replace", Some("--out"));
    assert_eq!(ws.read("precious/notes.txt"), "mine\n");
    assert_no_leftovers(&ws);
}

#[test]
fn a_failing_cargo_build_shows_its_output_and_keeps_the_previous_release() {
    let (ws, before) = released("broken");
    ws.write(
        "src/main.rs",
        "fn main() { let x: u32 = \"not a number\"; }\n",
    );
    let result = ws.run(&["release", "--out", "dist"]);
    assert_error(
        &result,
        &format!("cargo build failed for target `{HOST}`"),
        None,
    );
    assert!(
        result.stderr.contains("mismatched types"),
        "cargo's output is missing:\n{}",
        result.stderr
    );
    assert!(
        snapshot_dir(&ws.path("dist")) == before,
        "the output folder changed"
    );
    assert_no_leftovers(&ws);
}

#[test]
fn a_misspelt_setting_is_named() {
    let ws = single("typo", "1.0.0");
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml") + "\n[workspace.metadata.keel]\ntragets = []\n"),
    );
    let result = ws.run(&["plan"]);
    assert_error(
        &result,
        "invalid [workspace.metadata.keel]",
        Some("keel init"),
    );
    assert!(
        result.stderr.contains("unknown field `tragets`"),
        "{}",
        result.stderr
    );
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml")
            .replace("tragets = []", "unix-archive = \"rar\"")),
    );
    let result = ws.run(&["plan"]);
    assert!(result.stderr.contains("rar"), "{}", result.stderr);
}

#[test]
fn a_missing_include_is_named() {
    let ws = single("inc", "1.0.0");
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml") + "\n[package.metadata.keel]\ninclude = [\"docs/guide.md\"]\n"),
    );
    let result = ws.run(&["plan"]);
    assert_error(&result, "`include` entry `docs/guide.md`", None);
    assert!(
        result.stderr.contains("does not exist"),
        "{}",
        result.stderr
    );
    ws.write(
        "Cargo.toml",
        &ws.read("Cargo.toml").replace("docs/guide.md", "../outside"),
    );
    assert_error(&ws.run(&["plan"]), "no `..`", None);
}

#[test]
fn a_missing_lock_file() {
    let ws = single("nolock", "1.0.0");
    fs_err::remove_file(ws.path("Cargo.lock")).unwrap();
    let result = ws.run(&["release", "--out", "dist"]);
    assert_error(
        &result,
        "has no Cargo.lock",
        Some("cargo generate-lockfile"),
    );
    assert!(
        !ws.path("Cargo.lock").exists(),
        "keel created the lock file"
    );
}

#[test]
fn a_bad_source_date_epoch() {
    let ws = single("sde", "1.0.0");
    let result = keel_test::run_command(ws.keel(["release"]).env("SOURCE_DATE_EPOCH", "yesterday"));
    assert_error(
        &result,
        "SOURCE_DATE_EPOCH is `yesterday`",
        Some("Unix time"),
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let ws = single("usage", "1.0.0");
    let result = ws.run(&["release", "--no-such-flag"]);
    assert_eq!(result.code, 2, "{}", result.stderr);
    assert!(result.stderr.starts_with("error: "), "{}", result.stderr);
    let result = ws.run(&["release", "--builder", "magic"]);
    assert_eq!(result.code, 2, "{}", result.stderr);
}
