//! Signed releases: keys from `keel keygen`, signatures checked by the real `minisign`, SBOMs
//! validated against the official CycloneDX 1.5 schema, provenance envelopes checked by an
//! independent Ed25519 implementation, and `keel verify` catching every kind of tampering.

use std::path::Path;
use std::process::Command;

use keel_test::{RunResult, TestWorkspace, require_tool, run_command, run_ok, snapshot_dir};
use serde_json::Value;

use crate::{keel_bin, multi, single};

/// The host: what keel releases for by default, and what installs pick.
const HOST: &str = keel_schema::HOST_TARGET;

/// Runs a Python check script with arguments; fails the test naming what is missing.
fn python(script: &str, args: &[&Path]) -> RunResult {
    let mut command = Command::new(require_tool("python3"));
    command.arg("-c").arg(script).args(args);
    run_command(&mut command)
}

fn keygen_unencrypted(ws: &TestWorkspace) {
    ws.keygen();
}

fn signed_release(name: &str) -> TestWorkspace {
    let ws = single(name, "1.0.0");
    keygen_unencrypted(&ws);
    ws.run(&["release", "--out", "dist", "--sign-key", "keys/release.key"])
        .success();
    ws
}

#[test]
fn a_signed_release_checks_out_with_minisign_and_keel_verify() {
    let ws = signed_release("signed");
    let dist = ws.path("dist");
    let minisign = require_tool("minisign");
    for file in ["SHA256SUMS", "keel-manifest.json"] {
        let out = run_ok(
            Command::new(&minisign)
                .args(["-Vm", file, "-p"])
                .arg(ws.path("keys/release.pub"))
                .current_dir(&dist),
        );
        let out = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.contains(&format!(
                "Trusted comment: keel release app=signed version=1.0.0 file={file}"
            )),
            "{out}"
        );
    }
    let before = snapshot_dir(&dist);
    let verified = ws
        .run(&["verify", "dist", "--public-key", "keys/release.pub"])
        .success();
    assert!(
        verified.stdout.contains(", 0 failed, 0 skipped"),
        "{}",
        verified.stdout
    );
    assert!(
        verified
            .stdout
            .contains("ok      keel-manifest.json.minisig (signature)"),
        "{}",
        verified.stdout
    );
    assert!(
        snapshot_dir(&dist) == before,
        "keel verify changed the release"
    );

    let m: Value = serde_json::from_str(&ws.read("dist/keel-manifest.json")).unwrap();
    assert_eq!(m["artifacts"]["SHA256SUMS.minisig"]["kind"], "signature");
    assert_eq!(
        m["artifacts"]["SHA256SUMS.minisig"]["signature_of"],
        "SHA256SUMS"
    );
    assert_eq!(
        m["artifacts"]["keel-provenance.intoto.jsonl"]["kind"],
        "provenance"
    );
    assert_eq!(
        m["artifacts"][format!("signed-1.0.0-{HOST}.cdx.json")]["kind"],
        "sbom"
    );

    // JSON for programs.
    let json = ws
        .run(&[
            "verify",
            "dist",
            "--public-key",
            "keys/release.pub",
            "--format",
            "json",
        ])
        .success();
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert!(json["checks"].as_array().unwrap().len() >= 10);
}

#[test]
fn signed_releases_are_reproducible() {
    let ws = signed_release("again");
    ws.run(&[
        "release",
        "--out",
        "dist2",
        "--sign-key",
        "keys/release.key",
    ])
    .success();
    assert!(snapshot_dir(&ws.path("dist")) == snapshot_dir(&ws.path("dist2")));
}

#[test]
fn a_key_from_the_environment_with_a_password_and_secrets_never_printed() {
    let ws = single("ci", "1.0.0");
    let password = "hunter2-but-longer";
    run_command(
        ws.keel(["keygen", "--out", "ci"])
            .env("KEEL_SIGNING_KEY_PASSWORD", password),
    )
    .success();
    let secret = ws.read("ci.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs_err::metadata(ws.path("ci.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let secret_line = secret.lines().nth(1).unwrap().to_owned();
    let check_quiet = |result: &RunResult| {
        for text in [&result.stdout, &result.stderr] {
            assert!(
                !text.contains(password),
                "the password was printed:\n{text}"
            );
            assert!(
                !text.contains(&secret_line),
                "the secret key was printed:\n{text}"
            );
        }
    };
    let result = run_command(
        ws.keel(["release", "--out", "dist"])
            .env("KEEL_SIGNING_KEY", &secret)
            .env("KEEL_SIGNING_KEY_PASSWORD", password),
    )
    .success();
    check_quiet(&result);
    ws.run(&["verify", "dist", "--public-key", "ci.pub"])
        .success();

    // The wrong password: a clear error, nothing written, nothing secret shown.
    let result = run_command(
        ws.keel(["release", "--out", "dist"])
            .env("KEEL_SIGNING_KEY", &secret)
            .env("KEEL_SIGNING_KEY_PASSWORD", "wrong"),
    );
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .starts_with("error: cannot use the signing key from KEEL_SIGNING_KEY: wrong password"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("hint: check the password"),
        "{}",
        result.stderr
    );
    check_quiet(&result);
    // No password and no terminal.
    let result = run_command(
        ws.keel(["release", "--out", "dist"])
            .env("KEEL_SIGNING_KEY", &secret),
    );
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("no terminal to ask for it"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("hint: set KEEL_SIGNING_KEY_PASSWORD"),
        "{}",
        result.stderr
    );
    ws.run(&["verify", "dist", "--public-key", "ci.pub"])
        .success();
}

#[test]
fn corrupt_keys_and_keygen_mistakes_are_named() {
    let ws = single("keys", "1.0.0");
    keygen_unencrypted(&ws);
    let result = ws.run(&["keygen", "--out", "keys/release", "--unencrypted"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("keys/release.pub already exists"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("--force"), "{}", result.stderr);
    let no_password = ws.run(&["keygen", "--out", "other"]);
    assert_eq!(no_password.code, 1);
    assert!(
        no_password
            .stderr
            .contains("hint: set KEEL_SIGNING_KEY_PASSWORD"),
        "{}",
        no_password.stderr
    );

    let key = ws.read("keys/release.key");
    ws.write("truncated.key", &key[..key.len() - 30]);
    let result = ws.run(&["release", "--out", "dist", "--sign-key", "truncated.key"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .contains("cannot use the signing key from truncated.key: not a minisign secret key"),
        "{}",
        result.stderr
    );
    assert!(!ws.path("dist").exists());

    ws.run(&["release", "--out", "dist"]).success();
    ws.write("bad.pub", "untrusted comment: x\nnot base64!\n");
    let result = ws.run(&["verify", "dist", "--public-key", "bad.pub"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .contains("cannot use the public key bad.pub: not a minisign public key"),
        "{}",
        result.stderr
    );
}

/// Flips one bit in the middle of `path`.
fn flip_a_byte(path: &Path) {
    let mut bytes = fs_err::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs_err::write(path, bytes).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs_err::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn verify_catches_tampering_with_every_kind_of_file() {
    let ws = signed_release("tamper");
    let files: Vec<String> = fs_err::read_dir(ws.path("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // Archive, .sha256, SBOM, source archive and its .sha256, installer, page, SHA256SUMS and
    // its signature, provenance, manifest and its signature.
    assert_eq!(files.len(), 12, "{files:?}");
    for file in &files {
        let copy = ws.path(&format!("tampered-{file}"));
        copy_dir(&ws.path("dist"), &copy);
        flip_a_byte(&copy.join(file));
        let before = snapshot_dir(&copy);
        let result = ws.run(&[
            "verify",
            copy.to_str().unwrap(),
            "--public-key",
            "keys/release.pub",
        ]);
        assert_eq!(
            result.code, 1,
            "flipping a byte of {file} went unnoticed:\n{}",
            result.stdout
        );
        let all = format!("{}{}", result.stdout, result.stderr);
        assert!(
            all.contains(file.as_str()),
            "the failure does not name {file}:\n{all}"
        );
        assert!(result.stderr.contains("error: "), "{}", result.stderr);
        assert!(snapshot_dir(&copy) == before, "verify changed {file}");
    }
}

#[test]
fn verify_catches_missing_extra_and_foreign_signed_files() {
    let ws = signed_release("complete");
    let archive = format!("complete-1.0.0-{HOST}.tar.gz");

    copy_dir(&ws.path("dist"), &ws.path("missing"));
    fs_err::remove_file(ws.path(&format!("missing/{archive}"))).unwrap();
    let result = ws.run(&["verify", "missing", "--public-key", "keys/release.pub"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stdout
            .contains(&format!("failed  {archive} (size and sha256): missing")),
        "{}",
        result.stdout
    );

    copy_dir(&ws.path("dist"), &ws.path("extra"));
    fs_err::write(ws.path("extra/installer.sh"), "#!/bin/sh\n").unwrap();
    let result = ws.run(&["verify", "extra", "--public-key", "keys/release.pub"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stdout
            .contains("failed  installer.sh (listed): this file is not in the manifest"),
        "{}",
        result.stdout
    );

    // Checked with another maintainer's key.
    ws.run(&["keygen", "--out", "keys/other", "--unencrypted"])
        .success();
    let result = ws.run(&["verify", "dist", "--public-key", "keys/other.pub"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stdout
            .contains("keel-manifest.json.minisig (signature): signed by key"),
        "{}",
        result.stdout
    );

    // Without a key, the contents are checked and the signatures reported as skipped.
    let result = ws.run(&["verify", "dist"]).success();
    assert!(
        result
            .stdout
            .contains("skipped keel-manifest.json.minisig (signature): no --public-key given"),
        "{}",
        result.stdout
    );
    assert!(
        result.stderr.contains("warning: no --public-key given"),
        "{}",
        result.stderr
    );
    // With a key, an unsigned release fails.
    ws.run(&["release", "--out", "unsigned"]).success();
    let result = ws.run(&["verify", "unsigned", "--public-key", "keys/release.pub"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stdout.contains("keel-manifest.json is not signed"),
        "{}",
        result.stdout
    );
}

#[test]
fn keel_verifies_files_signed_by_minisign_and_keel_sign_makes_minisign_signatures() {
    let ws = single("files", "1.0.0");
    keygen_unencrypted(&ws);
    ws.write("notes.txt", "release notes\n");
    let result = ws
        .run(&["sign", "notes.txt", "--sign-key", "keys/release.key"])
        .success();
    assert!(
        result.stdout.contains("Wrote notes.txt.minisig"),
        "{}",
        result.stdout
    );
    let out = run_ok(
        Command::new(require_tool("minisign"))
            .args(["-Vm", "notes.txt", "-p", "keys/release.pub"])
            .current_dir(ws.root()),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Trusted comment: file=notes.txt"));
    let result = ws.run(&["sign", "notes.txt"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("error: no signing key"),
        "{}",
        result.stderr
    );
}

#[test]
fn the_sbom_validates_against_the_official_cyclonedx_1_5_schema() {
    let ws = multi();
    ws.run(&["release", "--builder", "fake", "--out", "dist"])
        .success();
    let script = "import sys\n\
        try:\n    from cyclonedx.validation.json import JsonStrictValidator\n    from cyclonedx.schema import SchemaVersion\n\
        except ImportError:\n    sys.exit('the python package cyclonedx-python-lib[json-validation] is not installed; run scripts/test.sh')\n\
        validator = JsonStrictValidator(SchemaVersion.V1_5)\n\
        for path in sys.argv[1:]:\n    error = validator.validate_str(open(path).read())\n    if error is not None:\n        sys.exit(f'{path}: {error}')\n";
    let sboms: Vec<std::path::PathBuf> = fs_err::read_dir(ws.path("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".cdx.json"))
        .collect();
    assert_eq!(sboms.len(), 6);
    let refs: Vec<&Path> = sboms.iter().map(|p| p.as_path()).collect();
    python(script, &refs).success();
    // And the validator rejects a document that breaks the schema.
    let mut broken: Value =
        serde_json::from_str(&fs_err::read_to_string(&sboms[0]).unwrap()).unwrap();
    broken["components"] = Value::from("not a list");
    fs_err::write(ws.path("broken.cdx.json"), broken.to_string()).unwrap();
    assert_ne!(python(script, &[&ws.path("broken.cdx.json")]).code, 0);
}

#[test]
fn the_sbom_lists_exactly_the_crates_in_the_binary_for_its_target() {
    let ws = TestWorkspace::new(keel_bin());
    ws.write(
        "Cargo.toml",
        r#"[package]
name = "app"
version = "1.0.0"
edition = "2021"
license = "MIT"

[dependencies]
core-lib = { path = "core-lib", features = ["extra"] }
derive-it = { path = "derive-it" }

[target.'cfg(windows)'.dependencies]
win-only = { path = "win-only" }

[build-dependencies]
build-helper = { path = "build-helper" }

[dev-dependencies]
test-helper = { path = "test-helper" }

[workspace]
"#,
    );
    ws.write("src/main.rs", "fn main() {}\n");
    ws.write("build.rs", "fn main() {}\n");
    for (name, extra) in [
        (
            "core-lib",
            "license = \"Apache-2.0\"\n\n[features]\nextra = []\n",
        ),
        ("win-only", ""),
        ("build-helper", ""),
        ("test-helper", ""),
        ("derive-it", "\n[lib]\nproc-macro = true\n"),
    ] {
        ws.write(
            &format!("{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{extra}"
            ),
        );
        ws.write(&format!("{name}/src/lib.rs"), "");
    }
    ws.lock();
    ws.commit("deps");
    ws.run(&[
        "release",
        "--builder",
        "fake",
        "--out",
        "dist",
        "--target",
        HOST,
        "--target",
        "x86_64-pc-windows-msvc",
    ])
    .success();
    let components = |target: &str| -> Vec<String> {
        let bom: Value =
            serde_json::from_str(&ws.read(&format!("dist/app-1.0.0-{target}.cdx.json"))).unwrap();
        bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(components(HOST), ["core-lib"]);
    assert_eq!(
        components("x86_64-pc-windows-msvc"),
        ["core-lib", "win-only"]
    );
    let bom: Value =
        serde_json::from_str(&ws.read(&format!("dist/app-1.0.0-{HOST}.cdx.json"))).unwrap();
    let core = &bom["components"][0];
    assert_eq!(core["licenses"][0]["expression"], "Apache-2.0");
    assert_eq!(core["purl"], "pkg:cargo/core-lib@0.1.0");
    assert!(
        core["properties"]
            .to_string()
            .contains("\"value\":\"extra\""),
        "{core}"
    );
    assert_eq!(bom["metadata"]["timestamp"], "2024-05-01T12:00:00Z");
    assert_eq!(bom["metadata"]["component"]["name"], "app");
    assert_eq!(bom["dependencies"][0]["ref"], "pkg:cargo/app@1.0.0");
    assert_eq!(
        bom["dependencies"][0]["dependsOn"],
        serde_json::json!(["pkg:cargo/core-lib@0.1.0"])
    );
}

#[test]
fn registry_crates_carry_their_cargo_lock_checksums() {
    // The example's dependencies come from the registry; the fake builder skips compiling them.
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/ledger/Cargo.toml"
    );
    let out = tempfile::tempdir().unwrap();
    let ws = TestWorkspace::new(keel_bin());
    ws.run(&[
        "release",
        "--builder",
        "fake",
        "--manifest-path",
        example,
        "--out",
        out.path().to_str().unwrap(),
    ])
    .success();
    let bom: Value = serde_json::from_str(
        &fs_err::read_to_string(out.path().join(format!("ledger-1.0.0-{HOST}.cdx.json"))).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"rusqlite") && names.contains(&"libsqlite3-sys") && names.contains(&"clap"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"cc"),
        "a build dependency is listed: {names:?}"
    );
    assert!(
        !names.contains(&"clap_derive"),
        "a procedural macro is listed: {names:?}"
    );
    let lock = fs_err::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/ledger/Cargo.lock"
    ))
    .unwrap();
    let rusqlite = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rusqlite")
        .unwrap();
    let checksum = rusqlite["hashes"][0]["content"].as_str().unwrap();
    assert!(
        lock.contains(&format!("checksum = \"{checksum}\"")),
        "{checksum} is not in Cargo.lock"
    );
    assert_eq!(rusqlite["hashes"][0]["alg"], "SHA-256");
}

#[test]
fn the_provenance_envelope_verifies_with_an_independent_ed25519() {
    let ws = signed_release("prov");
    let script = "import base64, json, sys\n\
        try:\n    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey\n\
        except ImportError:\n    sys.exit('the python package cryptography is not installed; run scripts/test.sh')\n\
        envelope = json.loads(open(sys.argv[1]).read())\n\
        raw = base64.b64decode(open(sys.argv[2]).read().splitlines()[1])\n\
        key = Ed25519PublicKey.from_public_bytes(raw[10:42])\n\
        payload = base64.b64decode(envelope['payload'])\n\
        ptype = envelope['payloadType'].encode()\n\
        pae = b'DSSEv1 %d %s %d %s' % (len(ptype), ptype, len(payload), payload)\n\
        key.verify(base64.b64decode(envelope['signatures'][0]['sig']), pae)\n\
        statement = json.loads(payload)\n\
        assert statement['_type'] == 'https://in-toto.io/Statement/v1', statement['_type']\n\
        assert statement['predicateType'] == 'https://slsa.dev/provenance/v1'\n\
        print(len(statement['subject']))\n";
    let envelope = ws.path("dist/keel-provenance.intoto.jsonl");
    let result = python(script, &[&envelope, &ws.path("keys/release.pub")]).success();
    // Archive, .sha256, SBOM, source archive, its .sha256, installer, page and SHA256SUMS.
    assert_eq!(result.stdout.trim(), "8");
    let statement = {
        let envelope: Value =
            serde_json::from_str(&ws.read("dist/keel-provenance.intoto.jsonl")).unwrap();
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap();
        serde_json::from_slice::<Value>(&payload).unwrap()
    };
    let definition = &statement["predicate"]["buildDefinition"];
    assert_eq!(
        definition["externalParameters"]["command"],
        serde_json::json!(["keel", "release", "--target", HOST])
    );
    let head = run_ok(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(ws.root()),
    );
    assert_eq!(
        definition["resolvedDependencies"][0]["digest"]["gitCommit"],
        String::from_utf8(head.stdout).unwrap().trim()
    );
    assert!(
        !ws.read("dist/keel-provenance.intoto.jsonl")
            .contains(ws.root().to_str().unwrap()),
        "a host path leaked"
    );

    // A flipped byte in the statement fails the independent check too.
    let mut envelope: Value =
        serde_json::from_str(&ws.read("dist/keel-provenance.intoto.jsonl")).unwrap();
    let payload = envelope["payload"].as_str().unwrap().to_owned();
    envelope["payload"] = Value::from(payload.replacen('A', "B", 1));
    fs_err::write(ws.path("forged.jsonl"), envelope.to_string()).unwrap();
    assert_ne!(
        python(
            script,
            &[&ws.path("forged.jsonl"), &ws.path("keys/release.pub")]
        )
        .code,
        0
    );
}
