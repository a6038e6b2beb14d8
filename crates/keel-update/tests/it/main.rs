//! The update transaction against real SQLite databases, with apps that are shell scripts
//! migrating with the real `sqlite3`.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

#[cfg(feature = "crash-points")]
mod crash;
mod transaction;
#[cfg(feature = "conformance")]
mod tuf;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use keel_schema::receipt::UpdateHooks;
use keel_test::{require_tool, run_ok};
use keel_update::NewRelease;

/// A test install: a keel home, a bin folder, a database, and releases to update to.
pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
}

/// What a release's migrate hook does.
pub(crate) enum Migration<'a> {
    /// Runs this SQL.
    Sql(&'a str),
    /// Runs this SQL, which commits, then fails.
    SqlThenFail(&'a str),
    /// Inserts `n` rows one transaction at a time, slowly, then sets the version (for the
    /// crash tests, which run with the `crash-points` feature).
    #[cfg_attr(not(feature = "crash-points"), allow(dead_code))]
    Slow(u32),
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        require_tool("sqlite3");
        let fixture = Fixture {
            dir: tempfile::Builder::new()
                .prefix("keel-update-")
                .tempdir()
                .unwrap(),
        };
        fs_err::create_dir_all(fixture.path("releases")).unwrap();
        fixture
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.path("keel-home")
    }

    pub(crate) fn bin_dir(&self) -> PathBuf {
        self.path("bin")
    }

    pub(crate) fn db(&self) -> PathBuf {
        self.path("data/app.db")
    }

    /// Writes release `version` of the app: a script whose `migrate` hook does `migration`
    /// and whose `check` hook requires schema version `expect`.
    pub(crate) fn release(
        &self,
        version: &str,
        migration: Migration<'_>,
        expect: u32,
    ) -> NewRelease {
        let migrate = match migration {
            Migration::Sql(sql) => format!("sqlite3 \"$2\" \"{sql}\" || exit 1"),
            Migration::SqlThenFail(sql) => format!(
                "sqlite3 \"$2\" \"{sql}\" || exit 1\n    echo 'migration step 2 failed: no such column: total' >&2\n    exit 3"
            ),
            Migration::Slow(n) => format!(
                "i=0\n    while [ $i -lt {n} ]; do sqlite3 \"$2\" \"INSERT INTO t VALUES ($i)\" || exit 1; i=$((i+1)); sleep 0.01; done\n    sqlite3 \"$2\" \"PRAGMA user_version={expect}\""
            ),
        };
        let script = format!(
            "#!/bin/sh\ncase \"$1\" in\n  --version) echo \"app {version}\" ;;\n  migrate)\n    {migrate}\n    ;;\n  check)\n    v=$(sqlite3 \"$2\" 'PRAGMA user_version')\n    [ \"$v\" = \"{expect}\" ] || {{ echo \"schema version is $v, expected {expect}\" >&2; exit 1; }}\n    ;;\nesac\n"
        );
        let path = self.path(&format!("releases/app-{version}"));
        fs_err::write(&path, script).unwrap();
        set_executable(&path);
        NewRelease {
            version: version.to_owned(),
            target: "test-target".parse().unwrap(),
            binaries: BTreeMap::from([("app".to_owned(), path)]),
            hooks: UpdateHooks {
                migrate: Some(vec!["migrate".into(), "{db}".into()]),
                check: Some(vec!["check".into(), "{db}".into()]),
            },
        }
    }

    /// Creates the database at schema version 1 with a few rows, in WAL mode.
    pub(crate) fn create_database(&self) {
        fs_err::create_dir_all(self.db().parent().unwrap()).unwrap();
        self.sql("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3); PRAGMA user_version=1;");
    }

    pub(crate) fn sql(&self, sql: &str) -> String {
        let out = run_ok(Command::new("sqlite3").arg(self.db()).arg(sql));
        String::from_utf8(out.stdout).unwrap()
    }

    /// The database's whole content: its schema version and a dump.
    pub(crate) fn dump(&self) -> String {
        format!("{}{}", self.sql("PRAGMA user_version"), self.sql(".dump"))
    }

    /// What the installed app says its version is.
    pub(crate) fn installed_version(&self) -> String {
        let out = run_ok(Command::new(self.bin_dir().join("app")).arg("--version"));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

pub(crate) fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
