//! Crash safety: the updating process is killed (SIGKILL) at every step of a transaction and
//! at random instants of a slow migration; after recovery the install is always exactly the
//! old binary with the old data, or the new binary with the migrated data.

use std::process::Command;
use std::time::Duration;

use keel_test::run_command;
use serde_json::json;

use crate::{Fixture, Migration};

const DRIVER: &str = env!("CARGO_BIN_EXE_keel-update-driver");
const ADD_COLUMN: &str =
    "BEGIN; ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 7; PRAGMA user_version=2; COMMIT;";

fn spec(fx: &Fixture, action: &str, release: Option<&keel_update::NewRelease>) -> String {
    let release = release.map(|r| {
        json!({
            "version": r.version,
            "binaries": r.binaries,
            "hooks": r.hooks,
        })
    });
    json!({
        "action": action,
        "home": fx.home(),
        "app": "app",
        "bin_dir": fx.bin_dir(),
        "databases": [fx.db()],
        "release": release,
    })
    .to_string()
}

fn driver(fx: &Fixture, action: &str, release: Option<&keel_update::NewRelease>) -> Command {
    let mut command = Command::new(DRIVER);
    command
        .arg(spec(fx, action, release))
        .env_remove("KEEL_CRASH_AT");
    command
}

fn installed() -> Fixture {
    let fx = Fixture::new();
    fx.create_database();
    let v1 = fx.release("1.0", Migration::Sql("SELECT 1"), 1);
    run_command(&mut driver(&fx, "install", Some(&v1))).success();
    fx
}

/// The install is either `old` (version and dump) or `new`, consistent, with no journal.
#[track_caller]
fn assert_old_or_new(
    fx: &Fixture,
    old: &(String, String),
    new: &(&str, &dyn Fn(&str) -> bool),
) -> bool {
    let version = fx.installed_version();
    let dump = fx.dump();
    keel_update::integrity_check(&fx.db()).unwrap();
    assert!(
        !fx.home().join("app/journal.json").exists(),
        "a journal is left"
    );
    let receipt: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(fx.home().join("app/receipt.json")).unwrap())
            .unwrap();
    assert_eq!(
        format!("app {}", receipt["version"].as_str().unwrap()),
        version,
        "receipt and binary disagree"
    );
    if version == old.0 {
        assert_eq!(dump, old.1, "old binary with changed data");
        false
    } else {
        assert_eq!(version, new.0, "an unexpected version");
        assert!(
            (new.1)(&dump),
            "new binary without the migrated data:\n{dump}"
        );
        true
    }
}

#[test]
fn a_kill_at_every_step_of_an_update_recovers_to_old_or_new() {
    // Up to the check, recovery undoes; after it, recovery completes.
    let points = [
        ("prepared", false),
        ("snapshot-db", false),
        ("snapshotted", false),
        ("swap-binary", false),
        ("swapped", false),
        ("migrate", false),
        ("migrated", false),
        ("check", false),
        ("checked", true),
        ("committed", true),
    ];
    for (point, completes) in points {
        let fx = installed();
        let old = ("app 1.0".to_owned(), fx.dump());
        let v2 = fx.release("2.0", Migration::Sql(ADD_COLUMN), 2);
        let killed = run_command(driver(&fx, "update", Some(&v2)).env("KEEL_CRASH_AT", point));
        assert_eq!(
            killed.code, -1,
            "{point}: the update was not killed: {}",
            killed.stderr
        );
        assert!(
            fx.home().join("app/journal.json").exists(),
            "{point}: no journal after the crash"
        );
        let recovered = run_command(&mut driver(&fx, "recover", None)).success();
        let migrated =
            |dump: &str| dump.starts_with("2\n") && dump.contains("INSERT INTO t VALUES(1,7)");
        let is_new = assert_old_or_new(&fx, &old, &("app 2.0", &migrated));
        assert_eq!(
            is_new, completes,
            "{point}: recovered to the wrong side ({})",
            recovered.stdout
        );
    }
}

#[test]
fn a_kill_at_every_step_of_a_rollback_recovers_to_the_previous_version() {
    for point in [
        "rollback-prepared",
        "rollback-swapped",
        "rollback-restored",
        "committed",
    ] {
        let fx = installed();
        let old = ("app 1.0".to_owned(), fx.dump());
        let v2 = fx.release("2.0", Migration::Sql(ADD_COLUMN), 2);
        run_command(&mut driver(&fx, "update", Some(&v2))).success();
        fx.sql("INSERT INTO t (x) VALUES (99)");
        let killed = run_command(driver(&fx, "rollback", None).env("KEEL_CRASH_AT", point));
        assert_eq!(killed.code, -1, "{point}: the rollback was not killed");
        run_command(&mut driver(&fx, "recover", None)).success();
        let never = |_: &str| false;
        assert!(
            !assert_old_or_new(&fx, &old, &("app 2.0", &never)),
            "{point}"
        );
    }
}

/// A small deterministic generator: the instants differ between runs of the loop, and a
/// failure can be replayed from the printed seed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn a_kill_at_random_instants_of_a_slow_migration_recovers_to_old_or_new() {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed: {seed}");
    let mut sides = (0, 0);
    let mut inside = 0;
    for round in 0..7 {
        let fx = installed();
        let old = ("app 1.0".to_owned(), fx.dump());
        let v2 = fx.release("2.0", Migration::Slow(40), 2);
        let mut child = driver(&fx, "update", Some(&v2))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let journal = fx.home().join("app/journal.json");
        let hook_running =
            || fs_err::read_to_string(&journal).is_ok_and(|text| text.contains("\"hook_group\""));
        // Rounds 0-2 kill at any instant of the first second and a half; rounds 3-5 once the
        // migration runs, part way through it; round 6 lets the update finish.
        let started = std::time::Instant::now();
        if (3..6).contains(&round) {
            while !hook_running() {
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "round {round}: the update ended before its migration was seen running"
                );
                assert!(started.elapsed() < Duration::from_secs(60), "no migration");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let delay = match round {
            6 => 60_000,
            3..6 => next(&mut seed) % 200,
            _ => 50 + next(&mut seed) % 1500,
        };
        let deadline = std::time::Instant::now() + Duration::from_millis(delay);
        while std::time::Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        child.wait().unwrap();
        // Killed while the migration ran: its hook may still be writing, and recovery must
        // stop it and put the data back.
        if hook_running() {
            inside += 1;
        }
        run_command(&mut driver(&fx, "recover", None)).success();
        let migrated = |dump: &str| {
            dump.starts_with("2\n") && dump.matches("INSERT INTO t VALUES").count() == 43
        };
        if assert_old_or_new(&fx, &old, &("app 2.0", &migrated)) {
            sides.1 += 1;
        } else {
            sides.0 += 1;
        }
    }
    eprintln!(
        "old: {}, new: {}, killed inside the migration: {inside}",
        sides.0, sides.1
    );
    assert!(
        inside >= 3,
        "only {inside} kills landed inside the migration"
    );
    assert!(
        sides.0 >= 3,
        "a kill inside the migration did not roll back"
    );
    assert!(sides.1 >= 1, "the update never completed");
}

#[test]
fn a_full_disk_during_the_snapshot_changes_nothing() {
    let fx = installed();
    // A database of a few MiB, and a snapshot folder on a 256 KiB filesystem.
    fx.sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) \
         INSERT INTO t (x) SELECT randomblob(1000) FROM n",
    );
    let old = ("app 1.0".to_owned(), fx.dump());
    let snapshots = fx.home().join("app/snapshots");
    fs_err::create_dir_all(&snapshots).unwrap();
    let v2 = fx.release("2.0", Migration::Sql(ADD_COLUMN), 2);
    // A private mount namespace: the small filesystem disappears with the process.
    let script = format!(
        "mount -t tmpfs -o size=256k tmpfs '{}' && exec \"$0\" \"$1\"",
        snapshots.display()
    );
    let result = run_command(
        Command::new(keel_test::require_tool("unshare"))
            .args(["-rm", "sh", "-c", &script, DRIVER])
            .arg(spec(&fx, "update", Some(&v2))),
    );
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("could not snapshot the database"),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("full"), "{}", result.stderr);
    let never = |_: &str| false;
    assert!(!assert_old_or_new(&fx, &old, &("app 2.0", &never)));
}
