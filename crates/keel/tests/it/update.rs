//! Safe updates end to end: the example `ledger`, released, rehearsed and published to a store
//! that nginx serves, installed, updated with a migration, updated to a release whose
//! migration fails halfway (which the rehearsal caught and `keel publish` refused until told
//! why), and rolled back; every step checked against a dump of the database.

use std::path::PathBuf;
use std::process::Command;

use keel_test::{Nginx, RunResult, TestWorkspace, require_tool, run_command, run_ok};

use crate::{ledger_workspace, release_ledger};

/// The host: what keel releases for by default, and what installs pick.
const HOST: &str = keel_schema::HOST_TARGET;

/// Sets the version and appends migrations, then commits.
fn next_version(ws: &TestWorkspace, version: &str, migrations: &[&str]) {
    let cargo = ws.read("Cargo.toml");
    let old = cargo
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap()
        .to_owned();
    ws.write(
        "Cargo.toml",
        &cargo.replacen(&old, &format!("version = \"{version}\""), 1),
    );
    let db = ws.read("src/db.rs");
    let end = "\n];\n\n/// The schema version this program writes and reads.";
    assert!(db.contains(end), "src/db.rs changed shape");
    let added: String = migrations
        .iter()
        .map(|m| format!("\n    \"{m}\","))
        .collect();
    ws.write("src/db.rs", &db.replacen(end, &format!("{added}{end}"), 1));
    // The lock file records the package version.
    let lock = ws.read("Cargo.lock");
    let at = lock.find("name = \"ledger\"\nversion = \"").unwrap()
        + "name = \"ledger\"\nversion = \"".len();
    let close = lock[at..].find('"').unwrap();
    ws.write(
        "Cargo.lock",
        &format!("{}{version}{}", &lock[..at], &lock[at + close..]),
    );
    ws.commit(version);
}

struct Operator {
    home: PathBuf,
    bin: PathBuf,
    db: PathBuf,
}

impl Operator {
    fn keel(&self, ws: &TestWorkspace, args: &[&str]) -> RunResult {
        run_command(ws.keel(args).env("KEEL_HOME", &self.home))
    }

    fn ledger(&self, args: &[&str]) -> String {
        let out = run_ok(
            Command::new(self.bin.join("ledger"))
                .arg("--db")
                .arg(&self.db)
                .args(args),
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The ledger's own commands on keel's state (its embedded updater), as the operator
    /// runs them.
    fn ledger_updater(&self, args: &[&str]) -> String {
        let out = run_ok(
            Command::new(self.bin.join("ledger"))
                .env("KEEL_HOME", &self.home)
                .arg("--db")
                .arg(&self.db)
                .args(args),
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn version(&self) -> String {
        let out = run_ok(Command::new(self.bin.join("ledger")).arg("--version"));
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines().next().unwrap_or_default().to_owned()
    }

    /// The schema version and a full dump of the database.
    fn dump(&self) -> String {
        let sql = |arg: &str| {
            let out = run_ok(Command::new(require_tool("sqlite3")).arg(&self.db).arg(arg));
            String::from_utf8(out.stdout).unwrap()
        };
        sql("PRAGMA user_version") + &sql(".dump")
    }
}

fn publish(ws: &TestWorkspace, extra: &[&str]) -> RunResult {
    let mut args = vec![
        "publish",
        "dist",
        "--to",
        "store",
        "--sign-key",
        "keys/release.key",
    ];
    args.extend_from_slice(extra);
    run_command(&mut ws.keel(args))
}

fn rehearse(ws: &TestWorkspace, extra: &[&str]) -> RunResult {
    let mut args = vec!["rehearse", "dist", "--sign-key", "keys/release.key"];
    args.extend_from_slice(extra);
    run_command(&mut ws.keel(args))
}

fn rehearsal(ws: &TestWorkspace) -> serde_json::Value {
    serde_json::from_str(&ws.read("dist/keel-rehearsal.json")).unwrap()
}

#[test]
fn ledger_is_rehearsed_installed_updated_refuses_a_broken_migration_and_rolls_back_over_http() {
    let ws = ledger_workspace();
    ws.keygen();
    release_ledger(
        &ws,
        &["--quiet", "--out", "dist", "--sign-key", "keys/release.key"],
    )
    .success();
    // The ledger keeps a database: no publish before a rehearsal.
    let refused = publish(&ws, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("ledger keep(s) databases and the release has no keel-rehearsal.json"),
        "{}",
        refused.stderr
    );
    assert!(
        !ws.path("store").exists(),
        "a refused publish created the store"
    );
    let first = rehearse(&ws, &["--first-release"]).success();
    assert!(
        first
            .stderr
            .contains("a first release: fresh install, migrate and check only")
            && first
                .stdout
                .contains(&format!("Passed ledger 1.0.0 on {HOST}: first release")),
        "{}{}",
        first.stdout,
        first.stderr
    );
    let report = rehearsal(&ws);
    let steps: Vec<&str> = report["runs"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["install", "migrate", "check"]);
    ws.run(&["verify", "dist", "--public-key", "keys/release.pub"])
        .success();
    let published = publish(&ws, &[]).success();
    assert!(
        published
            .stdout
            .contains(&format!("Published ledger-1.0.0-{HOST}.tar.gz to `stable`")),
        "{}",
        published.stdout
    );
    let nginx = Nginx::serve(&ws.path("store"));

    let op = Operator {
        home: ws.path("operator/keel"),
        bin: ws.path("operator/bin"),
        db: ws.path("operator/data/books.db"),
    };
    fs_err::create_dir_all(op.db.parent().unwrap()).unwrap();
    let store_url = nginx.url("");
    let root = ws.path("store/metadata/root.json");
    // docs/install.md, by hand: the signed checksum list, the archive, migrate and doctor.
    let by_hand = ws.path("operator/by-hand");
    fs_err::create_dir_all(&by_hand).unwrap();
    let archive = format!("ledger-1.0.0-{HOST}.tar.gz");
    for (from, to) in [
        (format!("dist/{archive}"), archive.as_str()),
        ("dist/SHA256SUMS".to_owned(), "SHA256SUMS"),
        ("dist/SHA256SUMS.minisig".to_owned(), "SHA256SUMS.minisig"),
        ("keys/release.pub".to_owned(), "release.pub"),
    ] {
        fs_err::copy(ws.path(&from), by_hand.join(to)).unwrap();
    }
    let guide_vars = |version: &str| {
        vec![
            ("APP", "ledger".to_owned()),
            ("VERSION", version.to_owned()),
            ("TARGET", HOST.to_owned()),
            ("STORE", store_url.clone()),
            ("ROOT", root.display().to_string()),
            ("PUBKEY", "release.pub".to_owned()),
            ("BIN", op.bin.display().to_string()),
            ("DB", op.db.display().to_string()),
            ("KEEL_HOME", op.home.display().to_string()),
        ]
    };
    let guide = |file: &str, name: &str, dir: &std::path::Path, vars: &[(&str, String)]| {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::guides::run(file, name, dir, &vars)
    };
    let mut by_hand_vars = guide_vars("1.0.0");
    by_hand_vars.retain(|(k, _)| *k != "DB");
    by_hand_vars.push(("DB", "by-hand.db".to_owned()));
    let manual = guide("install.md", "install-by-hand", &by_hand, &by_hand_vars).success();
    assert!(
        manual.stdout.contains(&format!("{archive}: OK"))
            && manual
                .stdout
                .contains("Signature and comment signature verified")
            && manual.stdout.contains("by-hand.db: ok (schema version 2)"),
        "{}{}",
        manual.stdout,
        manual.stderr
    );

    // docs/install.md, from the store: install, migrate, doctor.
    let installed = guide(
        "install.md",
        "install-from-store",
        ws.root(),
        &guide_vars("1.0.0"),
    )
    .success();
    assert!(
        installed.stdout.contains("Installed ledger 1.0.0"),
        "{}",
        installed.stdout
    );
    assert_eq!(op.version(), "ledger 1.0.0");
    op.ledger(&["add", "salary", "3200", "--memo", "May"]);
    op.ledger(&["add", "rent", "-950"]);
    let dump_1_0 = op.dump();

    // 1.1.0 adds a column with a back-filled value: rehearsed from the store's 1.0.0, then
    // published; the update keeps the records and migrates the schema.
    next_version(
        &ws,
        "1.1.0",
        &[
            "ALTER TABLE entries ADD COLUMN direction TEXT NOT NULL DEFAULT ''; UPDATE entries SET direction = CASE WHEN amount_cents < 0 THEN 'out' ELSE 'in' END;",
        ],
    );
    release_ledger(
        &ws,
        &["--quiet", "--out", "dist", "--sign-key", "keys/release.key"],
    )
    .success();
    let rehearsed = rehearse(&ws, &["--from", "store"]).success();
    assert!(
        rehearsed.stdout.contains(&format!(
            "Passed ledger 1.1.0 on {HOST}: update from 1.0.0, rollback and a failed migration"
        )) && rehearsed.stdout.contains("keel-rehearsal.json (signed)"),
        "{}",
        rehearsed.stdout
    );
    assert!(
        rehearsed
            .stderr
            .contains("the migration failed part way (KEEL_REHEARSE_FAIL=migrate)"),
        "{}",
        rehearsed.stderr
    );
    let report = rehearsal(&ws);
    let run = &report["runs"][0];
    assert_eq!(
        (run["kind"].as_str(), run["previous"].as_str()),
        (Some("update"), Some("1.0.0"))
    );
    let steps: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "install-previous",
            "seed",
            "update",
            "verify",
            "rollback",
            "failed-migration"
        ]
    );
    let db = &run["databases"]["db-0"];
    let content = |stage: &str| db[stage]["content_sha256"].as_str().unwrap().to_owned();
    assert_ne!(
        content("before"),
        content("updated"),
        "the migration changed nothing"
    );
    assert_eq!(content("before"), content("rolled_back"));
    assert_eq!(content("before"), content("failed_migration"));
    let verified = ws
        .run(&["verify", "dist", "--public-key", "keys/release.pub"])
        .success();
    assert!(
        verified.stdout.contains("keel-rehearsal.json (rehearsal)")
            && verified
                .stdout
                .contains("keel-rehearsal.json.minisig (signature)"),
        "{}",
        verified.stdout
    );
    // A report edited after signing no longer verifies, and is not accepted for publishing.
    let honest = ws.read("dist/keel-rehearsal.json");
    ws.write(
        "dist/keel-rehearsal.json",
        &honest.replacen("\"1.0.0\"", "\"0.9.0\"", 1),
    );
    let tampered = ws.run(&["verify", "dist", "--public-key", "keys/release.pub"]);
    assert_eq!(tampered.code, 1, "{}", tampered.stdout);
    let refused = publish(&ws, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    ws.write("dist/keel-rehearsal.json", &honest);
    publish(&ws, &[]).success();
    // docs/upgrade.md: look, then update in the maintenance window.
    let dry = guide(
        "upgrade.md",
        "update-dry-run",
        ws.root(),
        &guide_vars("1.1.0"),
    )
    .success();
    assert!(
        dry.stdout.contains("Would update ledger 1.0.0 to 1.1.0"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        op.version(),
        "ledger 1.0.0",
        "--dry-run changed the install"
    );
    // The embedded updater reads the same install (its store, channel and root).
    let own = op.ledger_updater(&["update", "--dry-run"]);
    assert!(own.contains("would update ledger 1.0.0 to 1.1.0"), "{own}");
    let updated = guide("upgrade.md", "update", ws.root(), &guide_vars("1.1.0")).success();
    assert!(
        updated.stdout.contains("Updated ledger 1.0.0 to 1.1.0"),
        "{}",
        updated.stdout
    );
    assert_eq!(op.version(), "ledger 1.1.0");
    let listed = op.ledger(&["list"]);
    assert!(
        listed.contains("salary") && listed.contains("-950.00"),
        "{listed}"
    );
    let dump_1_1 = op.dump();
    assert!(
        dump_1_1.starts_with("3\n")
            && dump_1_1.contains("'May','in'")
            && dump_1_1.contains("'','out'"),
        "{dump_1_1}"
    );
    let again = op.keel(&ws, &["update", "--app", "ledger"]).success();
    assert!(
        again.stdout.contains("ledger 1.1.0 is up to date"),
        "{}",
        again.stdout
    );
    let own = op.ledger_updater(&["update"]);
    assert!(own.contains("ledger 1.1.0 is up to date"), "{own}");

    // 1.2.0's migrations commit one step, then fail: nothing of it remains.
    next_version(
        &ws,
        "1.2.0",
        &[
            "CREATE TABLE notes (body TEXT);",
            "INSERT INTO no_such_table VALUES (1);",
        ],
    );
    release_ledger(
        &ws,
        &["--quiet", "--out", "dist", "--sign-key", "keys/release.key"],
    )
    .success();
    // The rehearsal catches the broken migration, and `keel publish` refuses the release...
    let caught = rehearse(&ws, &["--from", "store"]);
    assert_eq!(caught.code, 1, "{}", caught.stderr);
    assert!(
        caught
            .stderr
            .contains("error: the rehearsal failed: ledger 1.2.0")
            && caught.stderr.contains("at update:")
            && caught.stderr.contains("no such table: no_such_table")
            && caught.stderr.contains(
                "the automatic rollback restored 1 binary(ies) byte for byte and 1 database(s) row for row"
            ),
        "{}",
        caught.stderr
    );
    let refused = publish(&ws, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "the rehearsal of ledger 1.2.0 on {HOST} failed at update"
        )),
        "{}",
        refused.stderr
    );
    // ...unless told why (here: to show what the updater does with it).
    publish(
        &ws,
        &["--no-rehearsal", "the updater's rollback is under test"],
    )
    .success();
    let failed = op.keel(&ws, &["update", "--app", "ledger", "--yes"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed
            .stderr
            .contains("the new version's migrate hook failed"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("no such table: no_such_table"),
        "the hook's output is missing:\n{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("rolled back to 1.1.0"),
        "{}",
        failed.stderr
    );
    assert_eq!(op.version(), "ledger 1.1.0");
    assert_eq!(
        op.dump(),
        dump_1_1,
        "the failed update changed the database"
    );
    let doctor = guide("upgrade.md", "doctor", ws.root(), &guide_vars("1.2.0")).success();
    assert!(
        doctor.stdout.contains("ok      no interrupted update"),
        "{}",
        doctor.stdout
    );

    // Rollback returns 1.0.0 and the data it had.
    let refused = op.keel(&ws, &["rollback", "--app", "ledger"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("changes made since then are lost")
            && refused.stderr.contains("--yes"),
        "{}",
        refused.stderr
    );
    let rolled_back = guide("upgrade.md", "rollback", ws.root(), &guide_vars("1.1.0")).success();
    assert!(
        rolled_back
            .stdout
            .contains("Rolled back ledger 1.1.0 to 1.0.0"),
        "{}",
        rolled_back.stdout
    );
    assert_eq!(op.version(), "ledger 1.0.0");
    assert_eq!(op.dump(), dump_1_0);
    op.keel(&ws, &["doctor", "--app", "ledger"]).success();

    // docs/upgrade.md: pinned to 1.1.0 (1.2.0 is newer), the same migration gives the same data.
    let pinned = guide(
        "upgrade.md",
        "update-pinned",
        ws.root(),
        &guide_vars("1.1.0"),
    )
    .success();
    assert!(
        pinned.stdout.contains("Updated ledger 1.0.0 to 1.1.0"),
        "{}",
        pinned.stdout
    );
    assert_eq!(op.dump(), dump_1_1);
    let recovered = guide("upgrade.md", "recover", ws.root(), &guide_vars("1.1.0")).success();
    assert!(
        recovered.stdout.contains("ledger: no interrupted update"),
        "{}",
        recovered.stdout
    );
}
