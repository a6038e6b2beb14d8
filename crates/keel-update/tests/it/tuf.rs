//! `keel-tuf-client` (feature `conformance`): keel's TUF client behind the command line of the
//! TUF conformance suite, against a repository python-tuf's metadata API wrote, over nginx.

use std::path::Path;
use std::process::Command;

use keel_test::{Nginx, run_command};

const CONFORMANCE_CLIENT: &str = env!("CARGO_BIN_EXE_keel-tuf-client");

/// A folder holding a repository python-tuf wrote (`pystore`) of one target file (`dist/`).
struct Repository {
    dir: tempfile::TempDir,
    name: String,
}

impl Repository {
    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }
}

fn python_repository() -> Repository {
    let dir = tempfile::tempdir().unwrap();
    let name = "app-2.0.0-x86_64-unknown-linux-gnu.tar.gz".to_owned();
    fs_err::create_dir_all(dir.path().join("dist")).unwrap();
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    fs_err::write(dir.path().join("dist").join(&name), bytes).unwrap();
    let custom = serde_json::json!({"keel": {"app": "app", "version": "2.0.0"}});
    keel_test::python_tuf_repository(
        &dir.path().join("pystore"),
        &dir.path().join("dist").join(&name),
        &custom,
    );
    Repository { dir, name }
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
    let repo = python_repository();
    let (ws, name) = (&repo, repo.name.clone());
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
    let ws = python_repository();
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

/// A repository (python-tuf's metadata API) whose signed timestamp gives the snapshot a
/// length of a terabyte, and whose snapshot file is 5 MiB (whitespace after the JSON).
const OVERSIZED_SNAPSHOT: &str = r#"
import os, sys
from datetime import datetime, timedelta, timezone
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer
out = sys.argv[1]
signer = CryptoSigner.generate_ed25519()
expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=7)
root = Metadata(Root(expires=expires))
for role in ["root", "targets", "snapshot", "timestamp"]:
    root.signed.add_key(signer.public_key, role)
targets = Metadata(Targets(expires=expires))
snapshot = Metadata(Snapshot(expires=expires))
timestamp = Metadata(Timestamp(expires=expires))
timestamp.signed.snapshot_meta.length = 1 << 40
for md in (root, targets, snapshot, timestamp):
    md.sign(signer)
os.makedirs(os.path.join(out, "metadata"))
serializer = JSONSerializer(compact=False)
root.to_file(os.path.join(out, "metadata/1.root.json"), serializer)
targets.to_file(os.path.join(out, "metadata/1.targets.json"), serializer)
snapshot.to_file(os.path.join(out, "metadata/1.snapshot.json"), serializer)
timestamp.to_file(os.path.join(out, "metadata/timestamp.json"), serializer)
with open(os.path.join(out, "metadata/1.snapshot.json"), "a") as f:
    f.write(" " * (5 << 20))
"#;

#[test]
fn a_signed_length_beyond_the_roles_maximum_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    keel_test::run_ok(
        Command::new(keel_test::require_tool("python3"))
            .arg("-c")
            .arg(OVERSIZED_SNAPSHOT)
            .arg(&repo),
    );
    let nginx = Nginx::serve(&repo);
    let metadata = dir.path().join("client");
    let root = repo.join("metadata/1.root.json");
    client(&metadata, &["init", root.to_str().unwrap()]).success();
    let refused = client(
        &metadata,
        &["--metadata-url", &nginx.url("metadata/"), "refresh"],
    );
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    // The snapshot's maximum (4 MiB), not the terabyte the timestamp signed.
    assert!(
        refused
            .stderr
            .contains("is longer than the 4194304 bytes allowed"),
        "{}",
        refused.stderr
    );
}
