//! `--format json` as a contract: `keel schema --outputs` is the checked-in
//! `schema/keel-outputs.schema.json`, and what the commands really print validates against it
//! (python's `jsonschema`, draft 2020-12).

use std::path::PathBuf;
use std::process::Command;

use keel_test::{Nginx, RunResult, require_tool, run_command};

use crate::single;

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/keel-outputs.schema.json")
}

/// The published schema is generated from the outcome types; when one changes, the file must
/// be regenerated and reviewed (`KEEL_BLESS=1 cargo test -p keel --test it outputs`).
#[test]
fn the_checked_in_schema_is_what_keel_prints() {
    let printed = run_command(Command::new(crate::keel_bin()).args(["schema", "--outputs"]))
        .success()
        .stdout;
    if std::env::var_os("KEEL_BLESS").is_some() {
        fs_err::write(checked_in(), &printed).unwrap();
    }
    let on_disk = fs_err::read_to_string(checked_in()).unwrap_or_default();
    assert!(
        on_disk == printed,
        "schema/keel-outputs.schema.json is out of date with the outcome types; regenerate it \
         with `KEEL_BLESS=1 cargo test -p keel --test it outputs` and review the diff"
    );
}

const VALIDATE: &str = r#"
import json, sys
try:
    from jsonschema import Draft202012Validator
except ImportError:
    sys.exit("the python package jsonschema is not installed; run scripts/test.sh")
schema = json.load(open(sys.argv[1]))
failed = 0
for pair in sys.argv[2:]:
    command, path = pair.split("=", 1)
    sub = dict(schema["properties"][command])
    sub["$defs"] = schema["$defs"]
    errors = list(Draft202012Validator(sub).iter_errors(json.load(open(path))))
    for error in errors:
        print(f"{command}: {error.json_path}: {error.message}")
    failed += len(errors)
sys.exit(1 if failed else 0)
"#;

#[test]
fn what_the_commands_print_validates_against_the_schema() {
    let ws = single("app", "1.0.0");
    let mut outputs: Vec<(&str, RunResult)> = Vec::new();
    let json = |args: &[&str]| {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        ws.run(&all).success()
    };
    outputs.push((
        "keygen",
        json(&["keygen", "--out", "keys/release", "--unencrypted"]),
    ));
    outputs.push(("plan", json(&["plan", "--builder", "fake"])));
    outputs.push(("build", json(&["build", "--builder", "fake"])));
    outputs.push((
        "release",
        json(&[
            "release",
            "--builder",
            "fake",
            "--out",
            "dist",
            "--sign-key",
            "keys/release.key",
        ]),
    ));
    outputs.push((
        "verify",
        json(&["verify", "dist", "--public-key", "keys/release.pub"]),
    ));
    outputs.push(("notes", json(&["notes", "dist"])));
    ws.write("extra.txt", "x\n");
    outputs.push((
        "sign",
        json(&["sign", "extra.txt", "--sign-key", "keys/release.key"]),
    ));
    outputs.push((
        "publish",
        json(&[
            "publish",
            "dist",
            "--to",
            "store",
            "--sign-key",
            "keys/release.key",
        ]),
    ));
    outputs.push((
        "store_init",
        json(&[
            "store",
            "init",
            "other-store",
            "--sign-key",
            "keys/release.key",
        ]),
    ));
    outputs.push((
        "store_refresh",
        json(&[
            "store",
            "refresh",
            "store",
            "--sign-key",
            "keys/release.key",
        ]),
    ));
    let nginx = Nginx::serve(&ws.path("store"));
    let operator = |args: &[String]| {
        let mut all = vec!["--format".to_owned(), "json".to_owned()];
        all.extend_from_slice(args);
        run_command(ws.keel(&all).env("KEEL_HOME", ws.path("operator/keel"))).success()
    };
    let words = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    outputs.push((
        "install",
        operator(&crate::install_args(
            &nginx.url(""),
            "app",
            &ws.path("store/metadata/root.json"),
            &ws.path("operator/bin"),
        )),
    ));
    outputs.push((
        "update",
        operator(&words(&["update", "--app", "app", "--yes"])),
    ));
    outputs.push(("doctor", operator(&words(&["doctor", "--app", "app"]))));
    outputs.push(("recover", operator(&words(&["recover", "--app", "app"]))));
    let dir = ws.path("outputs");
    fs_err::create_dir_all(&dir).unwrap();
    let mut pairs = Vec::new();
    for (index, (command, result)) in outputs.iter().enumerate() {
        let path = dir.join(format!("{index}-{command}.json"));
        fs_err::write(&path, &result.stdout).unwrap();
        pairs.push(format!("{command}={}", path.display()));
    }
    let checked = run_command(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(VALIDATE)
            .arg(checked_in())
            .args(&pairs),
    );
    assert_eq!(
        checked.code, 0,
        "outputs that do not match the schema:\n{}{}",
        checked.stdout, checked.stderr
    );
    // The validator is not vacuous: an output with a field of the wrong type fails.
    let bad = dir.join("bad-doctor.json");
    fs_err::write(&bad, r#"{"app": "app", "ok": "yes", "checks": []}"#).unwrap();
    let refused = run_command(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(VALIDATE)
            .arg(checked_in())
            .arg(format!("doctor={}", bad.display())),
    );
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
}
