//! A store stays readable while it is published to, and one publisher writes it at a time.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use keel_sign::SigningKey;
use keel_store::{Expiry, publish, refresh};
use keel_test::{Nginx, require_tool};

use crate::{TRIPLE, publish_app, release};

/// python's reference client refreshing in a loop until the stop file exists: every round
/// starts a new updater on the same trusted metadata (as a new process of a real client
/// would) and downloads one target. Prints the rounds, the failures and the timestamp
/// versions it saw.
const LOOP: &str = r#"
import json, os, sys
from tuf.ngclient import Updater
metadata_dir, base, root, target_dir, name, stop = sys.argv[1:7]
os.makedirs(metadata_dir, exist_ok=True)
os.makedirs(target_dir, exist_ok=True)
bootstrap = open(root, "rb").read()
rounds, failures, versions = 0, [], set()
while True:
    stopping = os.path.exists(stop)
    try:
        first = not os.path.exists(os.path.join(metadata_dir, "root.json"))
        updater = Updater(metadata_dir=metadata_dir, metadata_base_url=base + "/metadata/",
                          target_dir=target_dir, target_base_url=base + "/targets/",
                          bootstrap=bootstrap if first else None)
        updater.refresh()
        info = updater.get_targetinfo(name)
        if info is None:
            raise Exception(f"no target {name}")
        path = updater.download_target(info, os.path.join(target_dir, "download"))
        os.remove(path)
        with open(os.path.join(metadata_dir, "timestamp.json")) as f:
            versions.add(json.load(f)["signed"]["version"])
    except Exception as err:
        failures.append(f"round {rounds}: {err!r}")
    rounds += 1
    with open(stop + ".rounds.new", "w") as f:
        f.write(str(rounds))
    os.replace(stop + ".rounds.new", stop + ".rounds")
    if stopping:
        break
print(json.dumps({"rounds": rounds, "failures": failures, "versions": sorted(versions)}))
"#;

#[test]
fn clients_refreshing_in_a_loop_during_20_publishes_never_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    let expiry = Expiry::default();
    publish_app(&store, dir.path(), "app", "1.0.0", &key, now);
    let releases: Vec<_> = (1..=20)
        .map(|patch| release(dir.path(), "app", &format!("1.0.{patch}")))
        .collect();
    let nginx = Nginx::serve(&store);
    let base = nginx.url("").trim_end_matches('/').to_owned();
    let root = store.join("metadata/root.json");
    let name = format!("app-1.0.0-{TRIPLE}.tar.gz");
    let stop = dir.path().join("stop");

    // python's reference client, in its own process.
    let python = Command::new(require_tool("python3"))
        .arg("-c")
        .arg(LOOP)
        .arg(dir.path().join("python/metadata"))
        .arg(&base)
        .arg(&root)
        .arg(dir.path().join("python/targets"))
        .arg(&name)
        .arg(&stop)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // keel's own client (the one `keel update` and apps use), in a thread.
    let stopping = Arc::new(AtomicBool::new(false));
    let keel_rounds = Arc::new(AtomicU32::new(0));
    let keel_client = {
        let (stopping, base, name) = (stopping.clone(), base.clone(), name.clone());
        let done = keel_rounds.clone();
        let root = fs_err::read(&root).unwrap();
        let state = dir.path().join("keel");
        std::thread::spawn(move || {
            let (mut rounds, mut failures, mut catalogues) = (0u32, Vec::new(), Vec::new());
            loop {
                let last = stopping.load(Ordering::SeqCst);
                let download = state.join("download");
                let _ = fs_err::remove_file(&download);
                let options = keel_update::store::ClientOptions::default();
                match keel_update::store::Store::open(
                    &base,
                    &root,
                    &state.join("trusted"),
                    &options,
                )
                .and_then(|store| {
                    store.download_target(&name, &download)?;
                    Ok(store.catalogue().len())
                }) {
                    Ok(count) => catalogues.push(count),
                    Err(err) => failures.push(format!("round {rounds}: {err:#}")),
                }
                rounds += 1;
                done.store(rounds, Ordering::SeqCst);
                if last {
                    return (rounds, failures, catalogues);
                }
            }
        })
    };
    // Both clients have read the first release before the publishes begin.
    let python_rounds = || {
        fs_err::read_to_string(dir.path().join("stop.rounds"))
            .ok()
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let wait_until = |done: &dyn Fn() -> bool, what: &str| {
        let started = Instant::now();
        while !done() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{what} stalled"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_until(&|| python_rounds() >= 1, "python's client");
    wait_until(&|| keel_rounds.load(Ordering::SeqCst) >= 1, "keel's client");
    // Each publish waits for a whole round of python's client to begin and end after the
    // previous one, so that reads and writes interleave; keel's client (slower: about a
    // second a round on this machine) reads as it goes.
    let next_round = || {
        let target = python_rounds() + 2;
        wait_until(&|| python_rounds() >= target, "python's client");
    };

    let mut version = 1;
    for (n, dir) in releases.iter().enumerate() {
        version += 1;
        let published = publish(&store, dir, &key, None, "stable", &expiry, now).unwrap();
        assert_eq!(published.version, version);
        // Refresh between publishes too: it rewrites the timestamp alone.
        if n % 5 == 4 {
            version += 1;
            let refreshed = refresh(&store, &key, &expiry, now).unwrap();
            assert_eq!(refreshed.timestamp.version, version);
        }
        next_round();
    }
    fs_err::write(&stop, "").unwrap();
    stopping.store(true, Ordering::SeqCst);

    let output = python.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["failures"], serde_json::json!([]), "{report}");
    let versions = report["versions"].as_array().unwrap();
    assert!(
        versions.len() >= 10,
        "python's client saw too few versions to have read during the publishes: {report}"
    );
    // The last round began after the last publish: it saw the last release.
    assert_eq!(versions.last().unwrap(), version, "{report}");

    let (rounds, failures, catalogues) = keel_client.join().unwrap();
    assert!(failures.is_empty(), "keel's client failed: {failures:#?}");
    // Its first round was before the publishes, its last after them.
    assert_eq!(catalogues.first(), Some(&1), "{rounds} rounds");
    assert_eq!(catalogues.last(), Some(&21), "{rounds} rounds");
}

#[test]
fn a_second_publisher_is_refused_at_once_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    let expiry = Expiry::default();
    publish_app(&store, dir.path(), "app", "1.0.0", &key, now);
    // Another process holds the lock (flock(1), as a publisher would; `-o`: only flock
    // itself holds it, not the command it runs).
    let mut holder = Guard(
        Command::new(require_tool("flock"))
            .arg("-o")
            .arg(store.join(keel_store::LOCK_FILE_NAME))
            .args(["sleep", "20"])
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    loop {
        let probe = Command::new(require_tool("flock"))
            .arg("-n")
            .arg(store.join(keel_store::LOCK_FILE_NAME))
            .arg("true")
            .status()
            .unwrap();
        if !probe.success() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "flock did not take the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = keel_test::snapshot_dir(&store);
    let err = publish(
        &store,
        &release(dir.path(), "app", "1.1.0"),
        &key,
        None,
        "stable",
        &expiry,
        now,
    )
    .unwrap_err();
    assert!(matches!(err, keel_store::Error::Busy { .. }), "{err}");
    let err = refresh(&store, &key, &expiry, now).unwrap_err();
    assert!(matches!(err, keel_store::Error::Busy { .. }), "{err}");
    assert!(
        keel_test::snapshot_dir(&store) == before,
        "the store changed"
    );
    holder.0.kill().unwrap();
    holder.0.wait().unwrap();
    publish_app(&store, dir.path(), "app", "1.1.0", &key, now);
}

/// Kills the child when the test ends, however it ends.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
