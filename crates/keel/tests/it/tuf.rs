//! keel's TUF client against a repository written by python-tuf's metadata API (the reference
//! implementation), through `keel install` and through the conformance entry point.

use std::path::Path;
use std::process::Command;

use keel_test::{Nginx, TestWorkspace, require_tool, run_command, run_ok};

use crate::single;

/// The host: what keel releases for by default, and what installs pick.
const HOST: &str = keel_schema::HOST_TARGET;
const CONFORMANCE_CLIENT: &str = env!("CARGO_BIN_EXE_keel-tuf-client");

const WRITE_REPOSITORY: &str = r#"
import hashlib, json, os, shutil, sys
from datetime import datetime, timedelta, timezone
try:
    from securesystemslib.signer import CryptoSigner
    from tuf.api.metadata import Metadata, Root, Snapshot, TargetFile, Targets, Timestamp
    from tuf.api.serialization.json import JSONSerializer
except ImportError:
    sys.exit("the python package tuf is not installed; run scripts/test.sh")
out, archive, custom = sys.argv[1:4]
name = os.path.basename(archive)
signer = CryptoSigner.generate_ed25519()
expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
root = Metadata(Root(expires=expires))
for role in ["root", "targets", "snapshot", "timestamp"]:
    root.signed.add_key(signer.public_key, role)
targets = Metadata(Targets(expires=expires))
target = TargetFile.from_file(name, archive, ["sha256"])
target.unrecognized_fields["custom"] = json.loads(custom)
targets.signed.targets[name] = target
snapshot = Metadata(Snapshot(expires=expires))
timestamp = Metadata(Timestamp(expires=expires))
for md in (root, targets, snapshot, timestamp):
    md.sign(signer)
os.makedirs(os.path.join(out, "metadata"))
os.makedirs(os.path.join(out, "targets"))
serializer = JSONSerializer(compact=False)
root.to_file(os.path.join(out, "metadata/1.root.json"), serializer)
targets.to_file(os.path.join(out, "metadata/1.targets.json"), serializer)
snapshot.to_file(os.path.join(out, "metadata/1.snapshot.json"), serializer)
timestamp.to_file(os.path.join(out, "metadata/timestamp.json"), serializer)
digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
shutil.copy(archive, os.path.join(out, "targets", f"{digest}.{name}"))
"#;

/// A release built by keel (fake builder), published by python-tuf.
fn python_repository() -> (TestWorkspace, String) {
    let ws = single("app", "2.0.0");
    ws.run(&["release", "--quiet", "--builder", "fake", "--out", "dist"])
        .success();
    let name = format!("app-2.0.0-{HOST}.tar.gz");
    let custom = serde_json::json!({
        "keel": {
            "app": "app", "version": "2.0.0", "target": HOST, "channel": "stable",
            "format": "tar.gz", "executables": [format!("app-2.0.0-{HOST}/app")],
        }
    });
    run_ok(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(WRITE_REPOSITORY)
            .arg(ws.path("pystore"))
            .arg(ws.path(&format!("dist/{name}")))
            .arg(custom.to_string()),
    );
    (ws, name)
}

#[test]
fn keel_installs_from_a_repository_written_by_python_tuf() {
    let (ws, _) = python_repository();
    let nginx = Nginx::serve(&ws.path("pystore"));
    let result = run_command(
        ws.keel([
            "install",
            "--from",
            &nginx.url(""),
            "--app",
            "app",
            "--root",
            ws.path("pystore/metadata/1.root.json").to_str().unwrap(),
            "--dir",
            ws.path("bin").to_str().unwrap(),
            "--target",
            HOST,
        ])
        .env("KEEL_HOME", ws.path("home")),
    )
    .success();
    assert!(
        result.stdout.contains("Installed app 2.0.0"),
        "{}",
        result.stdout
    );
    let out = run_ok(&mut Command::new(ws.path("bin/app")));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("app {HOST} (fake build)")));
}

fn client(dir: &Path, args: &[&str]) -> keel_test::RunResult {
    run_command(
        Command::new(CONFORMANCE_CLIENT)
            .arg("--metadata-dir")
            .arg(dir)
            .args(args),
    )
}

#[test]
fn the_conformance_client_refreshes_downloads_and_refuses_a_tampered_target() {
    let (ws, name) = python_repository();
    let nginx = Nginx::serve(&ws.path("pystore"));
    let metadata = ws.path("client/metadata");
    let downloads = ws.path("client/downloads");
    let root = ws.path("pystore/metadata/1.root.json");
    client(&metadata, &["init", root.to_str().unwrap()]).success();
    let metadata_url = nginx.url("metadata/");
    client(&metadata, &["--metadata-url", &metadata_url, "refresh"]).success();
    // The metadata folder holds the trusted metadata, unversioned, and nothing else.
    let files = |dir: &Path| {
        let mut names: Vec<String> = fs_err::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let trusted = [
        "root.json",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ];
    assert_eq!(files(&metadata), trusted);
    let download = |target_url: &str| {
        client(
            &metadata,
            &[
                "--metadata-url",
                &metadata_url,
                "--target-name",
                &name,
                "--target-name",
                &name,
                "--target-base-url",
                target_url,
                "--target-dir",
                downloads.to_str().unwrap(),
                "download",
            ],
        )
    };
    download(&nginx.url("targets/")).success();
    let good = fs_err::read(ws.path(&format!("dist/{name}"))).unwrap();
    assert_eq!(fs_err::read(downloads.join(&name)).unwrap(), good);
    assert_eq!(files(&metadata), trusted);
    assert_eq!(files(&downloads), std::slice::from_ref(&name));

    // A target already there with the signed hashes is kept, not downloaded again: the
    // server that would serve it now is gone.
    use std::os::unix::fs::MetadataExt;
    let inode = fs_err::metadata(downloads.join(&name)).unwrap().ino();
    download(&nginx.url("gone/")).success();
    assert_eq!(
        fs_err::metadata(downloads.join(&name)).unwrap().ino(),
        inode
    );

    // A tampered copy of the target, served elsewhere, is refused with exit code 1.
    let evil = ws.path("evil");
    fs_err::create_dir_all(&evil).unwrap();
    let original = fs_err::read_dir(ws.path("pystore/targets"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let mut bytes = fs_err::read(original.path()).unwrap();
    bytes[10] ^= 1;
    fs_err::write(evil.join(original.file_name()), bytes).unwrap();
    let evil_server = Nginx::serve(&evil);
    // A stale file in its place is not the target: the client fetches, refuses the tampered
    // bytes with exit code 1, and leaves the file that was there.
    fs_err::write(downloads.join(&name), "stale").unwrap();
    let refused = download(&evil_server.url(""));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.starts_with("error: "), "{}", refused.stderr);
    assert_eq!(fs_err::read(downloads.join(&name)).unwrap(), b"stale");
    assert_eq!(files(&downloads), std::slice::from_ref(&name));
    download(&nginx.url("targets/")).success();
    assert_eq!(fs_err::read(downloads.join(&name)).unwrap(), good);
}

#[test]
fn a_clock_set_well_back_is_refused_and_a_small_step_back_is_not() {
    let (ws, _) = python_repository();
    let nginx = Nginx::serve(&ws.path("pystore"));
    let metadata = ws.path("client/metadata");
    let root = ws.path("pystore/metadata/1.root.json");
    client(&metadata, &["init", root.to_str().unwrap()]).success();
    let metadata_url = nginx.url("metadata/");
    let refresh = || client(&metadata, &["--metadata-url", &metadata_url, "refresh"]);
    refresh().success();
    // keel records when it last read the store beside the metadata folder.
    let record = ws.path("client/metadata.last-read");
    let recorded: u64 = fs_err::read_to_string(&record)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        recorded <= now && now - recorded < 600,
        "{recorded} vs {now}"
    );
    // A clock a minute behind the last read (an NTP step) is accepted...
    fs_err::write(&record, (now + 60).to_string()).unwrap();
    refresh().success();
    // ...two hours behind is refused, saying why.
    fs_err::write(&record, (now + 7200).to_string()).unwrap();
    let refused = refresh();
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("behind the time it last read the store"),
        "{}",
        refused.stderr
    );
}
