//! Database snapshots with SQLite's online backup API: consistent while the database is in
//! use, correct for WAL databases (never a bare copy of a file whose latest pages may still
//! sit in `-wal`), and written to a temporary file that is flushed and renamed into place.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::Error;
use crate::io_err;
use keel_fs::sync_dir;

/// How long to wait for another program's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(10);

fn db_err(path: &Path, what: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Database { what, path, source }
}

/// Copies every page of `from` into `to` in one step, waiting out other programs' locks.
fn copy_pages(
    from: &Connection,
    to: &mut Connection,
    locked: &Path,
    what: &'static str,
) -> Result<(), Error> {
    let backup = Backup::new(from, to).map_err(db_err(locked, what))?;
    let started = Instant::now();
    loop {
        match backup.step(-1).map_err(db_err(locked, what))? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked => {
                if started.elapsed() > LOCK_WAIT {
                    return Err(Error::DatabaseLocked {
                        path: locked.to_owned(),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            _ => {}
        }
    }
}

/// Snapshots the database at `db` into `dest`. Returns `false`, writing nothing, when the
/// database does not exist (yet): restoring that snapshot removes the database.
pub(crate) fn snapshot(db: &Path, dest: &Path) -> Result<bool, Error> {
    if !db.exists() {
        return Ok(false);
    }
    let source = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(db_err(db, "open"))?;
    source.busy_timeout(LOCK_WAIT).map_err(db_err(db, "open"))?;
    let temp = dest.with_extension("keel-new");
    let _ = fs_err::remove_file(&temp);
    // The snapshot holds the database's data: its owner's only (SQLite takes an empty file
    // as an empty database, and keeps its mode).
    keel_fs::write_new(&temp, b"")?;
    keel_fs::set_mode(&temp, 0o600)?;
    {
        let mut target = Connection::open(&temp).map_err(db_err(&temp, "create"))?;
        copy_pages(&source, &mut target, db, "snapshot")?;
        target
            .close()
            .map_err(|(_, source)| db_err(&temp, "close")(source))?;
    }
    fs_err::File::open(&temp)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&temp, "flush"))?;
    fs_err::rename(&temp, dest).map_err(io_err(dest, "replace"))?;
    if let Some(dir) = dest.parent() {
        sync_dir(dir)?;
    }
    Ok(true)
}

/// Puts the snapshot `from` back into the database at `db`, in one transaction (a crash
/// leaves the database as it was or as the snapshot); with no snapshot (`None`), removes the
/// database, which did not exist when the snapshot was taken.
pub(crate) fn restore(from: Option<&Path>, db: &Path) -> Result<(), Error> {
    let Some(from) = from else {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            keel_fs::remove_if_there(&path)?;
        }
        return match db.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => Ok(sync_dir(dir)?),
            _ => Ok(()),
        };
    };
    let snapshot = Connection::open(from).map_err(db_err(from, "open"))?;
    let mut live = Connection::open(db).map_err(db_err(db, "open"))?;
    live.busy_timeout(LOCK_WAIT).map_err(db_err(db, "open"))?;
    copy_pages(&snapshot, &mut live, db, "restore")?;
    Ok(())
}

/// `PRAGMA integrity_check`: `Ok(())` or the problems it reports.
pub fn integrity_check(db: &Path) -> Result<(), Error> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(db_err(db, "open"))?;
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(db_err(db, "check"))?;
    if result == "ok" {
        Ok(())
    } else {
        Err(Error::Corrupt {
            path: db.to_owned(),
            detail: result,
        })
    }
}

/// The sha256 of a database's logical content: its schema version, every schema object and
/// every row of every table, in a fixed order. Two databases with the same digest hold the
/// same data, whatever their pages look like; what a rehearsal compares after a rollback.
pub fn logical_digest(db: &Path) -> Result<String, Error> {
    use rusqlite::types::ValueRef;
    use std::io::Write;
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(db_err(db, "open"))?;
    conn.busy_timeout(LOCK_WAIT).map_err(db_err(db, "open"))?;
    let mut out = keel_verify::Sha256Writer::new(std::io::sink());
    let mut put = |bytes: &[u8]| {
        let _ = out.write_all(&(bytes.len() as u64).to_le_bytes());
        let _ = out.write_all(bytes);
    };
    let (user_version, application_id): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
             (SELECT application_id FROM pragma_application_id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db_err(db, "read"))?;
    put(&user_version.to_le_bytes());
    put(&application_id.to_le_bytes());
    let mut objects = conn
        .prepare(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema \
             ORDER BY type, name",
        )
        .map_err(db_err(db, "read"))?;
    let objects: Vec<(String, String, String, String)> = objects
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .and_then(|rows| rows.collect())
        .map_err(db_err(db, "read"))?;
    for (kind, name, table, sql) in &objects {
        for text in [kind, name, table, sql] {
            put(text.as_bytes());
        }
    }
    for (kind, name, _, sql) in &objects {
        // Virtual tables' shadow tables carry their data; the virtual table itself may need
        // a module this program lacks.
        if kind != "table" || sql.starts_with("CREATE VIRTUAL") {
            continue;
        }
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let columns: usize = conn
            .prepare(&format!("SELECT * FROM {quoted} LIMIT 0"))
            .map(|s| s.column_count())
            .map_err(db_err(db, "read"))?;
        if columns == 0 {
            continue;
        }
        let order: Vec<String> = (1..=columns).map(|i| i.to_string()).collect();
        let mut rows = conn
            .prepare(&format!(
                "SELECT * FROM {quoted} ORDER BY {}",
                order.join(", ")
            ))
            .map_err(db_err(db, "read"))?;
        let mut rows = rows.query([]).map_err(db_err(db, "read"))?;
        while let Some(row) = rows.next().map_err(db_err(db, "read"))? {
            put(name.as_bytes());
            for i in 0..columns {
                match row.get_ref(i).map_err(db_err(db, "read"))? {
                    ValueRef::Null => put(b"n"),
                    ValueRef::Integer(v) => {
                        put(b"i");
                        put(&v.to_le_bytes());
                    }
                    ValueRef::Real(v) => {
                        put(b"r");
                        put(&v.to_bits().to_le_bytes());
                    }
                    ValueRef::Text(v) => {
                        put(b"t");
                        put(v);
                    }
                    ValueRef::Blob(v) => {
                        put(b"b");
                        put(v);
                    }
                }
            }
        }
    }
    let (_, digest, _) = out.finish();
    Ok(digest.to_hex())
}
