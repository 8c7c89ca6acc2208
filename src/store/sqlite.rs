//! The counter as one row of a SQLite table: the web worker's "SELECT the balance, UPDATE it",
//! and the four ways SQL fixes it.
//!
//! racedemo owns the table `racedemo_counter`, one row per run (`id` = the run id), made at the
//! start and deleted at the end. A database racedemo creates is put in WAL mode (readers never
//! block the writer, as in production); an existing one keeps the journal mode it has.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection as Db, ErrorCode, OpenFlags, OptionalExtension, params};

use super::{Address, Attempt, Claimed, Connection, run_id};
use crate::strategy::{StrategyKind, Support};

/// What each strategy does on SQLite.
pub const STRATEGIES: [(StrategyKind, Support); 5] = [
    (
        StrategyKind::Unsafe,
        Support::Does(
            "SELECT v, then UPDATE SET v = <read + 1>, each in its own autocommit statement: a write between them is overwritten",
        ),
    ),
    (
        StrategyKind::Locked,
        Support::Does(
            "BEGIN IMMEDIATE (takes the write lock first), SELECT v, UPDATE SET v = <read + 1>, COMMIT",
        ),
    ),
    (
        StrategyKind::Atomic,
        Support::Does("UPDATE SET v = v + 1: the database reads and writes in one statement"),
    ),
    (
        StrategyKind::Optimistic,
        Support::Does(
            "SELECT v, then UPDATE SET v = <read + 1> WHERE v = <read>; no row changed means another wrote first: read again and retry",
        ),
    ),
    (
        StrategyKind::Transaction,
        Support::Does(
            "BEGIN (deferred), SELECT v, UPDATE SET v = <read + 1>, COMMIT: the upgrade to a write lock fails with SQLITE_BUSY when another wrote since the read",
        ),
    ),
];

/// How long a statement waits for another connection's lock before SQLITE_BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const TABLE: &str = "CREATE TABLE IF NOT EXISTS racedemo_counter \
                     (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)";

fn open(path: &Path, create: bool) -> Result<Db, rusqlite::Error> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let db = Db::open_with_flags(path, flags)?;
    db.busy_timeout(BUSY_TIMEOUT)?;
    Ok(db)
}

/// Why a database cannot hold racedemo's counter, in words.
fn explain(err: &rusqlite::Error) -> String {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "is not a SQLite database; racedemo never overwrites \
                                          a file it did not write (name a new file)"
            .into(),
        Some(ErrorCode::ReadOnly) => "is read-only: racedemo needs to write its table".into(),
        Some(ErrorCode::CannotOpen) => "cannot be opened".into(),
        _ => err.to_string(),
    }
}

/// Makes the table if needed and the run's row; returns its id, what the header says, and
/// how to delete the row again.
pub(super) fn set_up(path: &Path) -> Result<Claimed, String> {
    let existed = path.exists();
    // Two runs making one new database at once: the journal-mode switch and the first writes
    // can be refused at once (SQLite's deadlock avoidance does not wait), so try again until
    // the busy timeout is spent.
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match try_set_up(path, existed) {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            done => return done.map_err(|e| explain(&e)),
        }
    }
}

fn try_set_up(path: &Path, existed: bool) -> rusqlite::Result<Claimed> {
    let db = open(path, true)?;
    // Reading the schema is what fails on a file that is not a database.
    let tables: i64 = db.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    let theirs = existed && tables > 0;
    let mode: String = if theirs {
        db.query_row("PRAGMA journal_mode", [], |r| r.get(0))
    } else {
        db.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
    }?;
    db.execute(TABLE, [])?;
    // Said in the header: at FULL, SQLite's default, every commit waits for the disk, which is
    // most of an increment's cost here.
    let synchronous: i64 = db.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    let synchronous = ["off", "normal", "full", "extra"]
        .get(synchronous as usize)
        .copied()
        .unwrap_or("unknown");
    let id = loop {
        let id = run_id();
        let inserted = db.execute(
            "INSERT OR IGNORE INTO racedemo_counter (id, v) VALUES (?1, 0)",
            params![id as i64],
        )?;
        if inserted == 1 {
            break id;
        }
    };
    let details = format!(
        "table racedemo_counter, row id {id}, journal mode {}{}, synchronous {synchronous}, \
         busy timeout {}s",
        mode.to_lowercase(),
        if theirs { " (the database's own)" } else { "" },
        BUSY_TIMEOUT.as_secs()
    );
    let shown = path.display().to_string();
    let release = move || {
        db.execute(
            "DELETE FROM racedemo_counter WHERE id = ?1",
            params![id as i64],
        )
        .map(|_| ())
        .map_err(|e| {
            format!(
                "row id {id} of table racedemo_counter in {shown} ({e}); remove it with: \
                 sqlite3 '{shown}' 'DELETE FROM racedemo_counter WHERE id = {id}'"
            )
        })
    };
    Ok(Claimed {
        slot: id,
        details,
        release: Box::new(release),
    })
}

/// One worker's connection.
pub(super) struct SqliteCounter {
    db: Db,
    id: i64,
}

const SELECT: &str = "SELECT v FROM racedemo_counter WHERE id = ?1";
const SET: &str = "UPDATE racedemo_counter SET v = ?2 WHERE id = ?1";
const ADD: &str = "UPDATE racedemo_counter SET v = v + 1 WHERE id = ?1 RETURNING v";
const SWAP: &str = "UPDATE racedemo_counter SET v = ?2 WHERE id = ?1 AND v = ?3";

impl SqliteCounter {
    pub(super) fn open(address: &Address) -> Result<Self, String> {
        let db = open(address.path(), false)
            .map_err(|e| format!("{}: {}", address.path().display(), explain(&e)))?;
        Ok(SqliteCounter {
            db,
            id: address.slot as i64,
        })
    }

    fn select(&self) -> rusqlite::Result<u64> {
        let v: Option<i64> = self
            .db
            .prepare_cached(SELECT)?
            .query_row([self.id], |r| r.get(0))
            .optional()?;
        // The row is gone only if the run's clean-up ran: report it as such.
        v.map(|v| v as u64)
            .ok_or(rusqlite::Error::QueryReturnedNoRows)
    }

    fn set(&self, value: u64) -> rusqlite::Result<()> {
        self.db
            .prepare_cached(SET)?
            .execute(params![self.id, value as i64])
            .map(|_| ())
    }

    fn read_add_write(&self, between: &mut dyn FnMut()) -> rusqlite::Result<u64> {
        let read = self.select()?;
        between();
        self.set(read + 1)?;
        Ok(read)
    }

    /// `body` inside `BEGIN <how>` ... `COMMIT`, rolled back when any of it fails.
    fn in_transaction(
        &self,
        how: &str,
        body: impl FnOnce(&Self) -> rusqlite::Result<u64>,
    ) -> rusqlite::Result<u64> {
        self.db.prepare_cached(how)?.execute([])?;
        let done = body(self).and_then(|read| {
            self.db.prepare_cached("COMMIT")?.execute([])?;
            Ok(read)
        });
        if done.is_err() && !self.db.is_autocommit() {
            let _ = self.db.execute("ROLLBACK", []);
        }
        done
    }

    fn try_attempt(
        &self,
        strategy: StrategyKind,
        between: &mut dyn FnMut(),
    ) -> rusqlite::Result<Attempt> {
        Ok(match strategy {
            StrategyKind::Unsafe => Attempt::Done(self.read_add_write(between)?),
            // The in-memory locks are refused on stores before a run starts; one that got
            // here would take the store's own lock, as `locked` does.
            StrategyKind::Locked
            | StrategyKind::LockedRwLock
            | StrategyKind::LockedSemaphore
            | StrategyKind::LockedSpin => Attempt::Done(
                self.in_transaction("BEGIN IMMEDIATE", |s| s.read_add_write(between))?,
            ),
            StrategyKind::Transaction => {
                Attempt::Done(self.in_transaction("BEGIN DEFERRED", |s| s.read_add_write(between))?)
            }
            StrategyKind::Atomic => {
                between();
                let after: i64 = self
                    .db
                    .prepare_cached(ADD)?
                    .query_row([self.id], |r| r.get(0))?;
                Attempt::Done(after as u64 - 1)
            }
            StrategyKind::Optimistic => {
                let read = self.select()?;
                between();
                let changed = self.db.prepare_cached(SWAP)?.execute(params![
                    self.id,
                    (read + 1) as i64,
                    read as i64
                ])?;
                if changed == 1 {
                    Attempt::Done(read)
                } else {
                    Attempt::Conflict
                }
            }
        })
    }
}

impl Connection for SqliteCounter {
    fn attempt(
        &mut self,
        strategy: StrategyKind,
        between: &mut dyn FnMut(),
    ) -> Result<Attempt, String> {
        match self.try_attempt(strategy, between) {
            Ok(attempt) => Ok(attempt),
            Err(e) => match e.sqlite_error_code() {
                Some(ErrorCode::DatabaseBusy) => Ok(Attempt::Failed("busy")),
                Some(ErrorCode::DatabaseLocked) => Ok(Attempt::Failed("locked")),
                _ => Err(format!("SQLite: {e}")),
            },
        }
    }

    fn reset(&mut self) -> Result<(), String> {
        self.set(0).map_err(|e| format!("SQLite: {e}"))
    }

    fn read(&mut self) -> Result<u64, String> {
        self.select().map_err(|e| format!("SQLite: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreKind;

    fn connect(path: &Path, slot: u64) -> SqliteCounter {
        SqliteCounter::open(&Address {
            kind: StoreKind::Sqlite,
            location: path.display().to_string(),
            slot,
            isolation: None,
            deadline_ms: None,
        })
        .unwrap()
    }

    #[test]
    fn every_strategy_counts_exactly_on_one_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let Claimed {
            slot: id,
            details,
            release,
        } = set_up(&path).unwrap();
        assert!(details.contains("journal mode wal"), "{details}");
        let mut c = connect(&path, id);
        for kind in StoreKind::Sqlite.strategies() {
            c.reset().unwrap();
            for expected in 0..5 {
                assert_eq!(c.attempt(kind, &mut || {}), Ok(Attempt::Done(expected)));
            }
            assert_eq!(c.read(), Ok(5), "{kind:?}");
        }
        release().unwrap();
        let left: i64 = Db::open(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM racedemo_counter", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "the run's row is deleted at the end");
    }

    /// A new database with the run's row, and two connections to it.
    fn two_connections() -> (
        tempfile::TempDir,
        super::super::place::Release,
        SqliteCounter,
        SqliteCounter,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let Claimed { slot, release, .. } = set_up(&path).unwrap();
        let (a, b) = (connect(&path, slot), connect(&path, slot));
        (dir, release, a, b)
    }

    #[test]
    fn a_stale_compare_and_swap_is_a_conflict_not_a_write() {
        let (_dir, _release, mut a, mut b) = two_connections();
        // b increments between a's read and a's write.
        let got = a.attempt(StrategyKind::Optimistic, &mut || {
            b.attempt(StrategyKind::Atomic, &mut || {}).unwrap();
        });
        assert_eq!(got, Ok(Attempt::Conflict));
        assert_eq!(a.read(), Ok(1));
    }

    #[test]
    fn a_deferred_transaction_that_read_a_stale_value_fails_busy() {
        let (_dir, _release, mut a, mut b) = two_connections();
        let got = a.attempt(StrategyKind::Transaction, &mut || {
            b.attempt(StrategyKind::Atomic, &mut || {}).unwrap();
        });
        assert_eq!(got, Ok(Attempt::Failed("busy")));
        assert_eq!(a.read(), Ok(1), "the failed transaction wrote nothing");
        // And the unsafe read-then-write overwrites the same way, silently.
        let got = a.attempt(StrategyKind::Unsafe, &mut || {
            b.attempt(StrategyKind::Atomic, &mut || {}).unwrap();
        });
        assert_eq!(got, Ok(Attempt::Done(1)));
        assert_eq!(a.read(), Ok(2), "b's increment was lost");
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        std::fs::write(
            &path,
            "not a database, just text that is long enough ".repeat(20),
        )
        .unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = set_up(&path).err().unwrap();
        assert!(err.contains("not a SQLite database"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
