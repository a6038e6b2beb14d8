//! The database: schema migrations and the records.

use rusqlite::{params, Connection, OptionalExtension};

/// Schema migrations, in order; migration `i` takes the schema from version `i` to `i + 1`.
/// Never edit a released migration: add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: accounts and entries.
    "CREATE TABLE accounts (
         id   INTEGER PRIMARY KEY,
         name TEXT NOT NULL UNIQUE
     );
     CREATE TABLE entries (
         id           INTEGER PRIMARY KEY,
         account_id   INTEGER NOT NULL REFERENCES accounts(id),
         amount_cents INTEGER NOT NULL
     );",
    // 2: a memo on each entry, and an index for per-account listings.
    "ALTER TABLE entries ADD COLUMN memo TEXT NOT NULL DEFAULT '';
     CREATE INDEX entries_by_account ON entries(account_id);",
];

/// The schema version this program writes and reads.
pub fn latest_version() -> u32 {
    MIGRATIONS.len() as u32
}

pub type Result<T> = std::result::Result<T, String>;

pub fn open(path: &str) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| format!("cannot open database {path}: {e}"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
        .and_then(|_| conn.pragma_update(None, "journal_mode", "WAL"))
        .map_err(|e| format!("cannot set up database {path}: {e}"))?;
    Ok(conn)
}

pub fn version(conn: &Connection) -> Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| format!("cannot read the schema version: {e}"))
}

/// Set by `keel rehearse` to `migrate` when it rehearses a failed migration: the ledger then
/// stops after the first migration it applies, as a migration that breaks half-way would.
pub const REHEARSE_FAIL: &str = "KEEL_REHEARSE_FAIL";

/// Applies the missing migrations, each in its own transaction together with its version bump.
/// Returns the versions applied.
pub fn migrate(conn: &mut Connection) -> Result<Vec<u32>> {
    let fail_part_way = std::env::var(REHEARSE_FAIL).is_ok_and(|v| v == "migrate");
    migrate_with(conn, fail_part_way)
}

fn migrate_with(conn: &mut Connection, fail_part_way: bool) -> Result<Vec<u32>> {
    let current = version(conn)?;
    if current > latest_version() {
        return Err(too_new(current));
    }
    let mut applied = Vec::new();
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let to = index as u32 + 1;
        let tx = conn
            .transaction()
            .map_err(|e| format!("cannot start migration {to}: {e}"))?;
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", to))
            .and_then(|_| tx.commit())
            .map_err(|e| format!("migration to schema version {to} failed: {e}"))?;
        applied.push(to);
        if fail_part_way {
            return Err(format!(
                "stopped after migration {to} because {REHEARSE_FAIL}=migrate (a rehearsal of a failed migration)"
            ));
        }
    }
    Ok(applied)
}

fn too_new(found: u32) -> String {
    format!(
        "the database has schema version {found}, newer than this ledger knows ({}); use a newer ledger",
        latest_version()
    )
}

/// Fails unless the database is exactly at the version this program knows.
pub fn require_current(conn: &Connection) -> Result<()> {
    let found = version(conn)?;
    match found.cmp(&latest_version()) {
        std::cmp::Ordering::Less => Err(format!(
            "the database has schema version {found}, older than this ledger ({}); run `ledger migrate`",
            latest_version()
        )),
        std::cmp::Ordering::Greater => Err(too_new(found)),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// Parses an amount such as `12`, `-950.5` or `3200.00` into cents.
pub fn parse_amount(text: &str) -> Result<i64> {
    let bad = || format!("`{text}` is not an amount (for example 12, -950.50)");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !(whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let cents = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)?;
    Ok(if negative { -cents } else { cents })
}

pub fn format_amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

pub fn add(conn: &mut Connection, account: &str, cents: i64, memo: &str) -> Result<i64> {
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    let account_id: i64 = match tx
        .query_row("SELECT id FROM accounts WHERE name = ?1", [account], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| e.to_string())?
    {
        Some(id) => id,
        None => {
            tx.execute("INSERT INTO accounts (name) VALUES (?1)", [account])
                .map_err(|e| e.to_string())?;
            tx.last_insert_rowid()
        }
    };
    tx.execute(
        "INSERT INTO entries (account_id, amount_cents, memo) VALUES (?1, ?2, ?3)",
        params![account_id, cents, memo],
    )
    .map_err(|e| e.to_string())?;
    let id = tx.last_insert_rowid();
    tx.commit().map_err(|e| e.to_string())?;
    Ok(id)
}

pub struct Entry {
    pub id: i64,
    pub account: String,
    pub cents: i64,
    pub memo: String,
}

pub fn list(conn: &Connection) -> Result<Vec<Entry>> {
    let mut statement = conn
        .prepare(
            "SELECT e.id, a.name, e.amount_cents, e.memo FROM entries e
             JOIN accounts a ON a.id = e.account_id ORDER BY e.id",
        )
        .map_err(|e| e.to_string())?;
    let rows = statement
        .query_map([], |r| {
            Ok(Entry {
                id: r.get(0)?,
                account: r.get(1)?,
                cents: r.get(2)?,
                memo: r.get(3)?,
            })
        })
        .map_err(|e| e.to_string())?;
    rows.collect::<std::result::Result<_, _>>()
        .map_err(|e| e.to_string())
}

/// Integrity, foreign keys and schema version; returns the problems found.
pub fn doctor(conn: &Connection) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" {
        problems.push(format!("integrity check: {integrity}"));
    }
    let mut statement = conn
        .prepare("PRAGMA foreign_key_check")
        .map_err(|e| e.to_string())?;
    let violations = statement
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| e.to_string())?
        .count();
    if violations > 0 {
        problems.push(format!("{violations} rows break a foreign key"));
    }
    if let Err(problem) = require_current(conn) {
        problems.push(problem);
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("books.db").to_string_lossy().into_owned();
        (dir, path)
    }

    #[test]
    fn fresh_database_migrates_to_latest_and_again_is_a_no_op() {
        let (_dir, path) = temp_db();
        let mut conn = open(&path).unwrap();
        assert_eq!(
            migrate(&mut conn).unwrap(),
            (1..=latest_version()).collect::<Vec<_>>()
        );
        assert_eq!(migrate(&mut conn).unwrap(), Vec::<u32>::new());
        assert_eq!(version(&conn).unwrap(), latest_version());
        assert!(doctor(&conn).unwrap().is_empty());
    }

    #[test]
    fn records_survive_an_upgrade_from_version_one() {
        let (_dir, path) = temp_db();
        let mut conn = open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute("INSERT INTO accounts (name) VALUES ('cash')", [])
            .unwrap();
        conn.execute(
            "INSERT INTO entries (account_id, amount_cents) VALUES (1, 500)",
            [],
        )
        .unwrap();
        assert!(require_current(&conn)
            .unwrap_err()
            .contains("ledger migrate"));
        assert_eq!(migrate(&mut conn).unwrap(), vec![2]);
        let entries = list(&conn).unwrap();
        assert_eq!(
            (
                entries[0].account.as_str(),
                entries[0].cents,
                entries[0].memo.as_str()
            ),
            ("cash", 500, "")
        );
    }

    #[test]
    fn a_rehearsed_failure_stops_after_one_migration() {
        let (_dir, path) = temp_db();
        let mut conn = open(&path).unwrap();
        let err = migrate_with(&mut conn, true).unwrap_err();
        assert!(err.contains("stopped after migration 1"), "{err}");
        assert_eq!(version(&conn).unwrap(), 1);
        assert_eq!(migrate_with(&mut conn, false).unwrap(), vec![2]);
    }

    #[test]
    fn a_newer_database_is_refused() {
        let (_dir, path) = temp_db();
        let mut conn = open(&path).unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
        assert!(migrate(&mut conn)
            .unwrap_err()
            .contains("newer than this ledger"));
        assert_eq!(doctor(&conn).unwrap().len(), 1);
    }

    #[test]
    fn add_and_list() {
        let (_dir, path) = temp_db();
        let mut conn = open(&path).unwrap();
        migrate(&mut conn).unwrap();
        add(&mut conn, "rent", -95_000, "May").unwrap();
        add(&mut conn, "rent", -95_000, "June").unwrap();
        let entries = list(&conn).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].memo, "June");
        let accounts: i64 = conn
            .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(accounts, 1);
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("12").unwrap(), 1200);
        assert_eq!(parse_amount("-950.5").unwrap(), -95_050);
        assert_eq!(parse_amount("3200.07").unwrap(), 320_007);
        for bad in ["", "1.234", "abc", "-", ".5", "1e3"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(format_amount(-95_050), "-950.50");
        assert_eq!(format_amount(7), "0.07");
    }
}
