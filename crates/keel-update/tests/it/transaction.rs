//! Update, failure, rollback, locking.

use keel_schema::receipt::Hook;
use keel_update::{AppHome, Error, Silent};

use crate::{Fixture, Migration};

/// Installs version 1.0 over a database at schema 1.
fn installed() -> (Fixture, AppHome) {
    let fx = Fixture::new();
    fx.create_database();
    let home = AppHome::new(&fx.home(), "app");
    let lock = home.lock().unwrap();
    let v1 = fx.release("1.0", Migration::Sql("SELECT 1"), 1);
    home.install(
        &lock,
        &v1,
        &fx.bin_dir(),
        &[fx.db()],
        keel_update::Origin::default(),
        &Silent,
    )
    .unwrap();
    drop(lock);
    (fx, home)
}

const ADD_COLUMN: &str =
    "BEGIN; ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 7; PRAGMA user_version=2; COMMIT;";

#[test]
fn an_update_swaps_the_binary_and_migrates_the_data() {
    let (fx, home) = installed();
    assert_eq!(fx.installed_version(), "app 1.0");
    let lock = home.lock().unwrap();
    let v2 = fx.release("2.0", Migration::Sql(ADD_COLUMN), 2);
    let receipt = home.update(&lock, &v2, &Silent).unwrap();
    assert_eq!(receipt.version, "2.0");
    assert_eq!(receipt.previous.as_deref(), Some("1.0"));
    assert_eq!(fx.installed_version(), "app 2.0");
    assert_eq!(fx.sql("PRAGMA user_version").trim(), "2");
    assert_eq!(fx.sql("SELECT x, y FROM t ORDER BY x"), "1|7\n2|7\n3|7\n");
    assert!(!home.pending());
    assert_eq!(home.receipt().unwrap().unwrap(), receipt);
    keel_update::integrity_check(&fx.db()).unwrap();
}

#[test]
fn a_migration_that_fails_halfway_leaves_binary_and_data_exactly_as_they_were() {
    let (fx, home) = installed();
    let lock = home.lock().unwrap();
    home.update(
        &lock,
        &fx.release("2.0", Migration::Sql(ADD_COLUMN), 2),
        &Silent,
    )
    .unwrap();
    fx.sql("INSERT INTO t (x) VALUES (4)");
    let before = fx.dump();
    let receipt_before = home.receipt().unwrap();

    let bad = fx.release(
        "3.0",
        Migration::SqlThenFail("CREATE TABLE t3 (z); PRAGMA user_version=3;"),
        3,
    );
    let err = home.update(&lock, &bad, &Silent).unwrap_err();
    match &err {
        Error::HookFailed {
            hook,
            output,
            restored,
            ..
        } => {
            assert_eq!(*hook, Hook::Migrate);
            assert!(output.contains("migration step 2 failed"), "{output}");
            assert_eq!(restored, "2.0");
        }
        other => panic!("unexpected error: {other}"),
    }
    assert_eq!(fx.installed_version(), "app 2.0");
    assert_eq!(fx.dump(), before, "the database changed");
    assert_eq!(home.receipt().unwrap(), receipt_before);
    assert!(!home.pending());
    assert!(!home.dir().join("versions/3.0").exists());
    keel_update::integrity_check(&fx.db()).unwrap();
}

#[test]
fn a_failing_check_rolls_back_too() {
    let (fx, home) = installed();
    let before = fx.dump();
    let lock = home.lock().unwrap();
    // Migrates to 2 but checks for 5.
    let bad = fx.release("2.0", Migration::Sql(ADD_COLUMN), 5);
    let err = home.update(&lock, &bad, &Silent).unwrap_err();
    assert!(
        matches!(
            err,
            Error::HookFailed {
                hook: Hook::Check,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("schema version is 2, expected 5"),
        "{err}"
    );
    assert_eq!(fx.installed_version(), "app 1.0");
    assert_eq!(fx.dump(), before);
}

#[test]
fn rollback_returns_the_previous_version_and_its_data() {
    let (fx, home) = installed();
    let before = fx.dump();
    let lock = home.lock().unwrap();
    home.update(
        &lock,
        &fx.release("2.0", Migration::Sql(ADD_COLUMN), 2),
        &Silent,
    )
    .unwrap();
    fx.sql("INSERT INTO t (x, y) VALUES (9, 9)");
    let receipt = home.rollback(&lock, &Silent).unwrap();
    assert_eq!(receipt.version, "1.0");
    assert_eq!(receipt.previous, None);
    assert_eq!(fx.installed_version(), "app 1.0");
    assert_eq!(fx.dump(), before);
    assert!(matches!(
        home.rollback(&lock, &Silent),
        Err(Error::NothingToRollBack { .. })
    ));
    // Only the current version is kept after a rollback.
    assert!(!home.dir().join("versions/2.0").exists());
}

#[test]
fn two_versions_and_one_snapshot_are_kept() {
    let (fx, home) = installed();
    let lock = home.lock().unwrap();
    home.update(
        &lock,
        &fx.release("2.0", Migration::Sql(ADD_COLUMN), 2),
        &Silent,
    )
    .unwrap();
    home.update(
        &lock,
        &fx.release("3.0", Migration::Sql("PRAGMA user_version=3"), 3),
        &Silent,
    )
    .unwrap();
    let mut versions: Vec<String> = fs_err::read_dir(home.dir().join("versions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    versions.sort();
    assert_eq!(versions, ["2.0", "3.0"]);
    let snapshots: Vec<String> = fs_err::read_dir(home.dir().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(snapshots, ["2.0"]);
}

#[test]
fn one_update_at_a_time() {
    let (_fx, home) = installed();
    let _lock = home.lock().unwrap();
    assert!(matches!(home.lock(), Err(Error::Busy { .. })));
}

#[test]
fn a_database_locked_by_a_running_program_stops_the_update_before_anything_changes() {
    let fx = Fixture::new();
    fs_err::create_dir_all(fx.db().parent().unwrap()).unwrap();
    // A rollback-journal database, held by another program in an exclusive transaction.
    fx.sql("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1); PRAGMA user_version=1;");
    let home = AppHome::new(&fx.home(), "app");
    let lock = home.lock().unwrap();
    home.install(
        &lock,
        &fx.release("1.0", Migration::Sql("SELECT 1"), 1),
        &fx.bin_dir(),
        &[fx.db()],
        keel_update::Origin::default(),
        &Silent,
    )
    .unwrap();
    let before = fx.dump();
    let mut holder = std::process::Command::new("sqlite3")
        .arg(fx.db())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let stdin = holder.stdin.as_mut().unwrap();
        stdin
            .write_all(b"BEGIN EXCLUSIVE; INSERT INTO t VALUES (2); SELECT 'held';\n")
            .unwrap();
        stdin.flush().unwrap();
    }
    // Wait until the other program holds the lock.
    {
        use std::io::Read;
        let mut buf = [0u8; 5];
        holder
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut buf)
            .unwrap();
    }
    let started = std::time::Instant::now();
    let err = home
        .update(
            &lock,
            &fx.release("2.0", Migration::Sql(ADD_COLUMN), 2),
            &Silent,
        )
        .unwrap_err();
    assert!(matches!(err, Error::DatabaseLocked { .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    drop(holder.stdin.take());
    holder.wait().unwrap();
    assert_eq!(fx.installed_version(), "app 1.0");
    assert_eq!(fx.dump(), before);
    assert!(!home.pending());
}

#[test]
fn a_database_created_by_the_new_version_is_removed_on_rollback() {
    let fx = Fixture::new();
    let home = AppHome::new(&fx.home(), "app");
    let lock = home.lock().unwrap();
    home.install(
        &lock,
        &fx.release("1.0", Migration::Sql("SELECT 1"), 0),
        &fx.bin_dir(),
        &[fx.db()],
        keel_update::Origin::default(),
        &Silent,
    )
    .unwrap();
    fs_err::create_dir_all(fx.db().parent().unwrap()).unwrap();
    assert!(!fx.db().exists());
    let bad = fx.release(
        "2.0",
        Migration::SqlThenFail("CREATE TABLE t (x); PRAGMA user_version=2;"),
        2,
    );
    home.update(&lock, &bad, &Silent).unwrap_err();
    assert!(
        !fx.db().exists(),
        "the database the failed version created is still there"
    );
}

#[test]
fn the_same_version_is_not_installed_twice() {
    let (fx, home) = installed();
    let lock = home.lock().unwrap();
    let err = home
        .update(
            &lock,
            &fx.release("1.0", Migration::Sql("SELECT 1"), 1),
            &Silent,
        )
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyInstalled { .. }), "{err}");
}

#[test]
fn the_hooks_see_the_variables_a_home_sets() {
    let (fx, home) = installed();
    let home = home.with_hook_env("REHEARSAL_MARK", "42");
    let lock = home.lock().unwrap();
    let v2 = fx.release(
        "2.0",
        Migration::Sql(
            "BEGIN; INSERT INTO t VALUES ($REHEARSAL_MARK); PRAGMA user_version=2; COMMIT;",
        ),
        2,
    );
    home.update(&lock, &v2, &Silent).unwrap();
    assert_eq!(fx.sql("SELECT x FROM t ORDER BY x"), "1\n2\n3\n42\n");
}

#[test]
fn a_failure_injected_after_a_completed_migration_restores_the_data_row_for_row() {
    let (fx, home) = installed();
    let before = fx.dump();
    let digest_before = keel_update::logical_digest(&fx.db()).unwrap();
    let home = home.failing_after(Hook::Migrate);
    let lock = home.lock().unwrap();
    let err = home
        .update(
            &lock,
            &fx.release("2.0", Migration::Sql(ADD_COLUMN), 2),
            &Silent,
        )
        .unwrap_err();
    match &err {
        Error::Injected { hook, restored } => {
            assert_eq!((*hook, restored.as_str()), (Hook::Migrate, "1.0"));
        }
        other => panic!("unexpected error: {other}"),
    }
    assert!(err.to_string().contains("rolled back to 1.0"), "{err}");
    assert_eq!(fx.installed_version(), "app 1.0");
    assert_eq!(fx.dump(), before);
    assert_eq!(
        keel_update::logical_digest(&fx.db()).unwrap(),
        digest_before
    );
    assert!(!home.pending());
}

#[test]
fn the_logical_digest_follows_the_rows_and_the_schema_not_the_pages() {
    let (fx, _home) = installed();
    let digest = || keel_update::logical_digest(&fx.db()).unwrap();
    let first = digest();
    assert_eq!(first.len(), 64);
    // Rewriting every page (VACUUM) changes the file, not the content.
    fx.sql("VACUUM");
    assert_eq!(digest(), first);
    fx.sql("UPDATE t SET x = 4 WHERE x = 3");
    let changed = digest();
    assert_ne!(changed, first);
    fx.sql("UPDATE t SET x = 3 WHERE x = 4");
    assert_eq!(digest(), first);
    fx.sql("PRAGMA user_version=9");
    assert_ne!(digest(), first, "the schema version is part of the content");
    fx.sql("PRAGMA user_version=1; CREATE INDEX t_x ON t(x)");
    assert_ne!(digest(), first, "the schema is part of the content");
}

#[test]
fn a_receipt_written_with_a_byte_order_mark_is_read_and_updated() {
    // Windows PowerShell 5.1's `Set-Content -Encoding UTF8` starts the file with a BOM.
    let (fx, home) = installed();
    let path = fx.home().join("app/receipt.json");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(fs_err::read(&path).unwrap());
    fs_err::write(&path, &bytes).unwrap();
    let receipt = home.receipt().unwrap().unwrap();
    assert_eq!(receipt.version, "1.0");
    let lock = home.lock().unwrap();
    let v2 = fx.release("2.0", Migration::Sql(ADD_COLUMN), 2);
    assert_eq!(home.update(&lock, &v2, &Silent).unwrap().version, "2.0");
    assert!(home.doctor_report().ok, "{:?}", home.doctor_report());
}

#[test]
fn the_app_state_and_the_snapshots_of_a_private_database_are_its_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| fs_err::metadata(path).unwrap().permissions().mode() & 0o777;
    let (fx, home) = installed();
    fs_err::set_permissions(fx.db(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let lock = home.lock().unwrap();
    let v2 = fx.release("2.0", Migration::Sql(ADD_COLUMN), 2);
    home.update(&lock, &v2, &Silent).unwrap();
    let app = fx.home().join("app");
    let snapshot = app.join("snapshots/1.0/db-0.sqlite");
    assert!(snapshot.is_file(), "no snapshot at {}", snapshot.display());
    assert_eq!(mode(&snapshot), 0o600, "{}", snapshot.display());
    for dir in [app.clone(), app.join("snapshots/1.0")] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    assert_eq!(mode(&app.join("receipt.json")), 0o600);
    // The live database keeps its own mode.
    assert_eq!(mode(&fx.db()), 0o600);
}

#[test]
fn recovery_never_signals_a_process_the_journal_does_not_know_for_sure() {
    use std::os::unix::process::CommandExt;
    let (fx, home) = installed();
    // A live process of its own group that keel did not start (after a reboot, the number a
    // journal recorded may be anyone's).
    let mut unrelated = std::process::Command::new("sleep")
        .arg("30")
        .process_group(0)
        .spawn()
        .unwrap();
    let receipt = fs_err::read_to_string(fx.home().join("app/receipt.json")).unwrap();
    let receipt: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    // The journal of a committed update whose hook was that number: one from before keel
    // recorded who the process was, one naming another boot.
    for process in [
        serde_json::Value::Null,
        serde_json::json!({"boot": "another-boot", "start": "1"}),
    ] {
        let mut journal = serde_json::json!({
            "kind": "update",
            "phase": "committed",
            "before": receipt,
            "after": receipt,
            "snapshotted": [true],
            "hook_group": unrelated.id(),
        });
        if !process.is_null() {
            journal["hook_process"] = process;
        }
        fs_err::write(fx.home().join("app/journal.json"), journal.to_string()).unwrap();
        let lock = home.lock().unwrap();
        home.recover(&lock, &Silent).unwrap();
        drop(lock);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            unrelated.try_wait().unwrap().is_none(),
            "recovery killed a process it did not start"
        );
    }
    unrelated.kill().unwrap();
    unrelated.wait().unwrap();
}
