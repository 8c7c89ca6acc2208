//! Where the counter lives when it is not in one process's memory: a file, a SQLite database,
//! a PostgreSQL or MariaDB/MySQL table, a Redis key; and what each strategy does there.
//!
//! A store is set up once per run by the coordinating process ([`Place`]): racedemo's own
//! record, row or key, named by a run id, created at the start and removed at the end. Every
//! worker, thread or process, opens its own [`Connection`] to it from an [`Address`].

pub mod board;
mod file;
mod isolation;
mod mysql;
mod pg;
mod place;
mod postgres;
mod redis;
pub mod replay;
mod spec;
mod sql;
mod sqlite;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::strategy::{StrategyKind, Support};

pub use isolation::Isolation;
pub use place::Place;
pub(crate) use place::{Claimed, run_id};
pub use spec::{StoreSpec, redact, scrub, without_password};

/// How long any call to a server may go unanswered before the connection is given up, unless
/// `--worker-timeout` says otherwise: a server that stops answering without closing the
/// connection ends the run instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(30);
/// How long removing the run's row or keys may take, per try: a run that already failed
/// should not wait long to say so.
pub const CLEANUP: Duration = Duration::from_secs(2);

/// The kinds of store, as reports name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Memory,
    File,
    Sqlite,
    Postgres,
    Mysql,
    Redis,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::File => "file",
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
            StoreKind::Mysql => "mysql",
            StoreKind::Redis => "redis",
        }
    }

    /// As people write it.
    pub fn title(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::File => "file",
            StoreKind::Sqlite => "SQLite",
            StoreKind::Postgres => "PostgreSQL",
            StoreKind::Mysql => "MariaDB/MySQL",
            StoreKind::Redis => "Redis",
        }
    }

    /// A server reached by URL, which workers on other machines can reach too.
    pub fn is_server(self) -> bool {
        matches!(
            self,
            StoreKind::Postgres | StoreKind::Mysql | StoreKind::Redis
        )
    }

    /// What `kind` does on this store, from the store's own table: one line, or why not.
    pub fn support(self, kind: StrategyKind) -> Support {
        if kind.memory_only() && self != StoreKind::Memory {
            return Support::Refused(
                "an in-memory lock: on a store, `locked` takes the store's own lock (use --lock mutex, the default, or leave --lock out)",
            );
        }
        let table: &[(StrategyKind, Support)] = match self {
            StoreKind::Memory => return kind.about().memory,
            StoreKind::File => &file::STRATEGIES,
            StoreKind::Sqlite => &sqlite::STRATEGIES,
            StoreKind::Postgres => &postgres::STRATEGIES,
            StoreKind::Mysql => &mysql::STRATEGIES,
            StoreKind::Redis => &redis::STRATEGIES,
        };
        table
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(Support::Refused("not available on this store"), |&(_, s)| s)
    }

    /// Whether `kind` can lose updates here: the racy strategies everywhere, and a
    /// transaction whose level lets a stale write through (PostgreSQL's read committed,
    /// InnoDB's read committed and repeatable read).
    pub fn races(self, kind: StrategyKind, level: Option<Isolation>) -> bool {
        if kind != StrategyKind::Transaction {
            return kind.is_racy();
        }
        let level = level.or(Isolation::default_for(self));
        matches!(
            (self, level),
            (
                StoreKind::Postgres,
                Some(Isolation::ReadUncommitted | Isolation::ReadCommitted)
            ) | (
                StoreKind::Mysql,
                Some(
                    Isolation::ReadUncommitted
                        | Isolation::ReadCommitted
                        | Isolation::RepeatableRead
                )
            )
        )
    }

    /// The strategies this store can run, in the table's order: what `compare` runs by default.
    pub fn strategies(self) -> Vec<StrategyKind> {
        crate::strategy::TABLE
            .iter()
            .map(|a| a.kind)
            // The other locks of `locked --lock` run when asked for by name.
            .filter(|&k| !k.memory_only() && matches!(self.support(k), Support::Does(_)))
            .collect()
    }
}

/// Whether `url` is one the driver for `kind` can use (nothing is connected).
fn check_url(kind: StoreKind, url: &str) -> Result<(), String> {
    match kind {
        StoreKind::Postgres => postgres::check_url(url),
        StoreKind::Mysql => mysql::check_url(url),
        StoreKind::Redis => redis::check_url(url),
        _ => Ok(()),
    }
}

/// What every worker needs to reach the run's counter: serialised to the worker processes
/// (over their stdin, never on a command line, where `ps` would show a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub kind: StoreKind,
    /// A path, or a server's URL as given.
    pub location: String,
    /// The run's own record (file), row id (SQL) or key suffix (Redis).
    pub slot: u64,
    /// What `transaction` begins with; `None`: the server's default.
    #[serde(default)]
    pub isolation: Option<Isolation>,
    /// How long a server may leave a call unanswered, in ms; `None`: [`DEADLINE`].
    #[serde(default)]
    pub deadline_ms: Option<u64>,
}

impl Address {
    /// How long a server may leave a call unanswered.
    pub fn deadline(&self) -> Duration {
        self.deadline_ms.map_or(DEADLINE, Duration::from_millis)
    }

    pub fn path(&self) -> &Path {
        Path::new(&self.location)
    }

    /// How messages and reports name where it is.
    pub fn shown(&self) -> String {
        redact(&self.location)
    }

    /// A connection of this worker's own; a failure is worded without any password.
    pub fn connect(&self) -> Result<Box<dyn Connection>, String> {
        let sql = |sql: Box<dyn sql::Sql>| -> Box<dyn Connection> {
            Box::new(sql::SqlCounter {
                sql,
                level: self.isolation,
            })
        };
        let connected: Result<Box<dyn Connection>, String> = match self.kind {
            StoreKind::File => Ok(Box::new(file::FileCounter::open(self)?)),
            StoreKind::Sqlite => Ok(Box::new(sqlite::SqliteCounter::open(self)?)),
            StoreKind::Postgres | StoreKind::Mysql => self.session().map(sql),
            StoreKind::Redis => redis::Redis::open(&self.location, self.slot, self.deadline())
                .map(|r| Box::new(r) as Box<dyn Connection>),
            StoreKind::Memory => Err("memory is not shared between processes".into()),
        };
        connected.map_err(|e| scrub(&e, &self.location))
    }

    /// A SQL server's statements, one at a time (for the isolation replay).
    pub(crate) fn session(&self) -> Result<Box<dyn sql::Sql>, String> {
        let session: Result<Box<dyn sql::Sql>, String> = match self.kind {
            StoreKind::Postgres => {
                postgres::Postgres::open(&self.location, self.slot, self.deadline())
                    .map(|p| Box::new(p) as Box<dyn sql::Sql>)
            }
            StoreKind::Mysql => {
                mysql::Mysql::open(&self.location, self.slot, self.isolation, self.deadline())
                    .map(|m| Box::new(m) as Box<dyn sql::Sql>)
            }
            other => Err(format!("{} has no SQL transactions", other.title())),
        };
        session.map_err(|e| scrub(&e, &self.location))
    }
}

/// How one attempt at an increment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Done and acknowledged: the value read, so `read + 1` was written.
    Done(u64),
    /// A compare-and-swap found the counter changed: try again (a retry, not an error).
    Conflict,
    /// The store refused this attempt (busy, a serialisation failure): counted under this
    /// kind, and retried only as `--retry` allows.
    Failed(&'static str),
}

/// One worker's open counter.
pub trait Connection: Send {
    /// One attempt at one increment with `strategy`, calling `between` after the read and
    /// before the write where the strategy has both. `Err` is a fault that ends the run.
    fn attempt(
        &mut self,
        strategy: StrategyKind,
        between: &mut dyn FnMut(),
    ) -> Result<Attempt, String>;
    /// Sets the run's counter to zero (the coordinator, before each trial).
    fn reset(&mut self) -> Result<(), String>;
    /// The run's counter now (the coordinator, after each trial).
    fn read(&mut self) -> Result<u64, String>;
}

/// What a worker's increments came to: the one tally of retries and errors every store and
/// every kind of worker keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Increments the store acknowledged.
    pub acknowledged: u64,
    /// Attempts made again: after a failed compare-and-swap, or a failure `--retry` allowed.
    pub retries: u64,
    /// Increments abandoned after a failure with no retry left: never acknowledged.
    pub given_up: u64,
    /// Failures by kind (busy, torn-read, ...), whether retried or not.
    pub errors: BTreeMap<String, u64>,
}

impl Counts {
    pub fn merge(&mut self, other: &Counts) {
        self.acknowledged += other.acknowledged;
        self.retries += other.retries;
        self.given_up += other.given_up;
        for (kind, n) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += n;
        }
    }
}

/// One increment, with the one retry policy of every store: a compare-and-swap that missed is
/// tried again at once; a failure is tried again at most `retry` times, after a random pause
/// that doubles with each failure (from up to 100 µs to up to 10 ms), as production retry loops
/// do: retried at once, SQLite's refused transactions only collide again. Returns the value
/// read when the increment was acknowledged.
pub fn increment(
    conn: &mut dyn Connection,
    strategy: StrategyKind,
    retry: u64,
    between: &mut dyn FnMut(),
    counts: &mut Counts,
) -> Result<Option<u64>, String> {
    let mut failures = 0;
    loop {
        match conn.attempt(strategy, between)? {
            Attempt::Done(read) => {
                counts.acknowledged += 1;
                return Ok(Some(read));
            }
            Attempt::Conflict => counts.retries += 1,
            Attempt::Failed(kind) => {
                *counts.errors.entry(kind.to_string()).or_default() += 1;
                if failures == retry {
                    counts.given_up += 1;
                    return Ok(None);
                }
                backoff(failures);
                failures += 1;
                counts.retries += 1;
            }
        }
    }
}

/// Sleeps a random time up to 100 µs x 2^failures, at most 10 ms.
fn backoff(failures: u64) {
    let most = (100u64 << failures.min(7)).min(10_000);
    std::thread::sleep(std::time::Duration::from_micros(rand::random_range(
        0..=most,
    )));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every attempt the first `fail` times, then succeeds.
    struct Flaky {
        fail: u64,
        conflicts: u64,
    }

    impl Connection for Flaky {
        fn attempt(&mut self, _: StrategyKind, _: &mut dyn FnMut()) -> Result<Attempt, String> {
            if self.conflicts > 0 {
                self.conflicts -= 1;
                return Ok(Attempt::Conflict);
            }
            if self.fail > 0 {
                self.fail -= 1;
                return Ok(Attempt::Failed("busy"));
            }
            Ok(Attempt::Done(7))
        }
        fn reset(&mut self) -> Result<(), String> {
            Ok(())
        }
        fn read(&mut self) -> Result<u64, String> {
            Ok(0)
        }
    }

    #[test]
    fn failures_are_retried_only_as_often_as_allowed_and_conflicts_always() {
        let mut counts = Counts::default();
        let mut conn = Flaky {
            fail: 3,
            conflicts: 2,
        };
        let r = increment(
            &mut conn,
            StrategyKind::Transaction,
            1,
            &mut || {},
            &mut counts,
        );
        assert_eq!(r, Ok(None));
        assert_eq!(counts.acknowledged, 0);
        assert_eq!(counts.given_up, 1);
        assert_eq!(counts.retries, 3, "two conflicts and one allowed retry");
        assert_eq!(counts.errors.get("busy"), Some(&2));
        let r = increment(
            &mut conn,
            StrategyKind::Transaction,
            5,
            &mut || {},
            &mut counts,
        );
        assert_eq!(r, Ok(Some(7)));
        assert_eq!(counts.acknowledged, 1);
        assert_eq!(counts.errors.get("busy"), Some(&3));
        assert_eq!(counts.retries, 4);
    }

    #[test]
    fn each_store_says_what_it_does_or_why_not() {
        assert_eq!(
            StoreKind::File.strategies(),
            [StrategyKind::Unsafe, StrategyKind::Locked]
        );
        assert_eq!(StoreKind::Sqlite.strategies().len(), 5);
        assert_eq!(StoreKind::Memory.strategies(), StrategyKind::ALL);
        assert!(matches!(
            StoreKind::File.support(StrategyKind::Atomic),
            Support::Refused(_)
        ));
    }
}
