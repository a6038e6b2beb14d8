//! A publisher killed (SIGKILL) at every step of a publish or a refresh leaves a store that
//! clients read as the old release or the new one, and that the next publish completes.

use std::path::{Path, PathBuf};
use std::process::Command;

use keel_sign::SigningKey;
use keel_store::{Expiry, publish};
use keel_test::{Nginx, RunResult, require_tool, run_command, run_ok};

use crate::{TRIPLE, release};

const DRIVER: &str = env!("CARGO_BIN_EXE_keel-store-driver");

/// python's reference client: refreshes (trusting `root` on its first run, then what it
/// trusts already) and prints which of the named targets the store has, downloading each
/// (so each is checked against its signed length and hashes).
const SEES: &str = r#"
import json, os, sys
from tuf.ngclient import Updater
metadata_dir, base, root, target_dir, *names = sys.argv[1:]
os.makedirs(metadata_dir, exist_ok=True)
os.makedirs(target_dir, exist_ok=True)
first = not os.path.exists(os.path.join(metadata_dir, "root.json"))
updater = Updater(metadata_dir=metadata_dir, metadata_base_url=base + "/metadata/",
                  target_dir=target_dir, target_base_url=base + "/targets/",
                  bootstrap=open(root, "rb").read() if first else None)
updater.refresh()
seen = []
for name in names:
    info = updater.get_targetinfo(name)
    if info is not None:
        updater.download_target(info, os.path.join(target_dir, name))
        seen.append(name)
print(json.dumps(seen))
"#;

struct Setup {
    dir: tempfile::TempDir,
    key_file: PathBuf,
    old: PathBuf,
    new: PathBuf,
    names: [String; 2],
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let key_file = dir.path().join("release.key");
    fs_err::write(&key_file, key.to_text(None).unwrap().expose()).unwrap();
    let old = release(dir.path(), "app", "1.0.0");
    let new = release(dir.path(), "app", "1.1.0");
    let names = ["1.0.0", "1.1.0"].map(|v| format!("app-{v}-{TRIPLE}.tar.gz"));
    Setup {
        dir,
        key_file,
        old,
        new,
        names,
    }
}

fn driver(args: &[&Path], crash_at: Option<&str>) -> std::process::Output {
    let mut command = Command::new(DRIVER);
    command.args(args).env_remove("KEEL_CRASH_AT");
    if let Some(point) = crash_at {
        command.env("KEEL_CRASH_AT", point);
    }
    command.output().unwrap()
}

fn killed(output: &std::process::Output, point: &str) {
    assert!(
        output.status.code().is_none(),
        "the publisher was not killed at {point}: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn sees(state: &Path, nginx: &Nginx, store: &str, root: &Path, names: &[String]) -> RunResult {
    run_command(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(SEES)
            .arg(state.join("metadata"))
            .arg(nginx.url(store).trim_end_matches('/'))
            .arg(root)
            .arg(state.join("targets"))
            .args(names),
    )
}

fn seen(result: RunResult) -> Vec<String> {
    let out = result.success();
    serde_json::from_str(&out.stdout).unwrap()
}

const PUBLISH_POINTS: [&str; 5] = [
    "locked",
    "target-copied",
    "targets-written",
    "snapshot-written",
    "timestamp-written",
];

#[test]
fn a_publisher_killed_at_every_step_leaves_the_old_release_or_the_new_one() {
    let s = setup();
    let base = s.dir.path().join("base");
    let out = driver(&[Path::new("publish"), &base, &s.old, &s.key_file], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = s.dir.path().join("served");
    fs_err::create_dir_all(&served).unwrap();
    let nginx = Nginx::serve(&served);
    let root = base.join("metadata/1.root.json");
    // A client that trusted the old release before the publish began.
    let trusting = s.dir.path().join("trusting");
    let store = served.join("base");
    run_ok(Command::new("cp").arg("-a").arg(&base).arg(&store));
    assert_eq!(
        seen(sees(&trusting, &nginx, "base", &root, &s.names)),
        [s.names[0].clone()]
    );

    for point in PUBLISH_POINTS {
        let store = served.join(point);
        run_ok(Command::new("cp").arg("-a").arg(&base).arg(&store));
        let out = driver(
            &[Path::new("publish"), &store, &s.new, &s.key_file],
            Some(point),
        );
        killed(&out, point);
        let expected: &[String] = if point == "timestamp-written" {
            &s.names
        } else {
            &s.names[..1]
        };
        // A new client, and one that trusted the old release.
        let fresh = s.dir.path().join(format!("fresh-{point}"));
        assert_eq!(
            seen(sees(&fresh, &nginx, point, &root, &s.names)),
            expected,
            "{point}"
        );
        let old_client = s.dir.path().join(format!("old-{point}"));
        run_ok(Command::new("cp").arg("-a").arg(&trusting).arg(&old_client));
        assert_eq!(
            seen(sees(&old_client, &nginx, point, &root, &s.names)),
            expected,
            "{point}"
        );
        // The dead publisher's lock went with it: the next publish completes.
        let out = driver(&[Path::new("publish"), &store, &s.new, &s.key_file], None);
        assert!(
            out.status.success(),
            "publishing again after a kill at {point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            seen(sees(&old_client, &nginx, point, &root, &s.names)),
            s.names
        );
    }
}

#[test]
fn a_first_publish_killed_at_every_step_is_completed_by_the_next() {
    let s = setup();
    let served = s.dir.path().join("served");
    let nginx = Nginx::serve(&served);
    for point in [
        "locked",
        "root-written",
        "target-copied",
        "targets-written",
        "snapshot-written",
    ] {
        let store = served.join(point);
        let out = driver(
            &[Path::new("publish"), &store, &s.old, &s.key_file],
            Some(point),
        );
        killed(&out, point);
        // No timestamp yet: the store has no release for any client.
        assert!(!store.join("metadata/timestamp.json").exists(), "{point}");
        let out = driver(&[Path::new("publish"), &store, &s.old, &s.key_file], None);
        assert!(
            out.status.success(),
            "publishing again after a kill at {point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let state = s.dir.path().join(format!("client-{point}"));
        let root = store.join("metadata/root.json");
        assert_eq!(
            seen(sees(&state, &nginx, point, &root, &s.names)),
            [s.names[0].clone()]
        );
    }
}

#[test]
fn a_refresh_killed_at_every_step_leaves_a_readable_store() {
    let s = setup();
    let served = s.dir.path().join("served");
    let base = served.join("base");
    let key = SigningKey::from_text(
        &keel_sign::Secret::new(fs_err::read_to_string(&s.key_file).unwrap()),
        None,
    )
    .unwrap();
    let long_ago = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * 20))
        .unwrap();
    // Published 20 days ago: the timestamp has expired and the snapshot is due.
    publish(
        &base,
        &s.old,
        &key,
        None,
        "stable",
        &Expiry::default(),
        long_ago,
    )
    .unwrap();
    let nginx = Nginx::serve(&served);
    let root = base.join("metadata/1.root.json");
    for point in ["locked", "snapshot-written", "timestamp-written"] {
        let store = served.join(point);
        run_ok(Command::new("cp").arg("-a").arg(&base).arg(&store));
        let out = driver(&[Path::new("refresh"), &store, &s.key_file], Some(point));
        killed(&out, point);
        let state = s.dir.path().join(format!("client-{point}"));
        let result = sees(&state, &nginx, point, &root, &s.names);
        if point == "timestamp-written" {
            assert_eq!(seen(result), [s.names[0].clone()]);
        } else {
            // The old metadata, whole: refused only because it expired.
            assert_ne!(result.code, 0, "{point}");
            assert!(
                result.stderr.contains("xpired"),
                "{point}: {}",
                result.stderr
            );
        }
        let out = driver(&[Path::new("refresh"), &store, &s.key_file], None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            seen(sees(&state, &nginx, point, &root, &s.names)),
            [s.names[0].clone()],
            "{point}"
        );
    }
}
