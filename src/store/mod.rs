//! Where the counter lives when it is not in one process's memory: a file or a SQLite database
//! that several processes share, and what each strategy does there.
//!
//! A store is set up once per run by the coordinating process ([`Place`]): racedemo's own
//! record or row, named by a run id, created at the start and removed at the end. Every worker,
//! thread or process, opens its own [`Connection`] to it from an [`Address`].

mod file;
mod sqlite;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::strategy::{StrategyKind, Support};

/// The kinds of store, as reports name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Memory,
    File,
    Sqlite,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::File => "file",
            StoreKind::Sqlite => "sqlite",
        }
    }

    /// What `kind` does on this store, from the store's own table: one line, or why not.
    pub fn support(self, kind: StrategyKind) -> Support {
        let table: &[(StrategyKind, Support)] = match self {
            StoreKind::Memory => return kind.about().memory,
            StoreKind::File => &file::STRATEGIES,
            StoreKind::Sqlite => &sqlite::STRATEGIES,
        };
        table
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(Support::Refused("not available on this store"), |&(_, s)| s)
    }

    /// The strategies this store can run, in the table's order: what `compare` runs by default.
    pub fn strategies(self) -> Vec<StrategyKind> {
        crate::strategy::TABLE
            .iter()
            .map(|a| a.kind)
            .filter(|&k| matches!(self.support(k), Support::Does(_)))
            .collect()
    }
}

/// `--store`, as given: the kind, and a path where one was named.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreSpec {
    /// One process's memory: today's counter.
    #[default]
    Memory,
    /// The counter as decimal text in a file; `None`: a fresh file in a temporary folder.
    File(Option<PathBuf>),
    /// One row of a SQLite table; `None`: a fresh database in a temporary folder.
    Sqlite(Option<PathBuf>),
}

impl StoreSpec {
    /// Parses `memory`, `file[:PATH]` or `sqlite[:PATH]`; the message names what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (scheme, path) = match text.split_once(':') {
            Some((scheme, path)) => (scheme, Some(path)),
            None => (text, None),
        };
        let to_path = |p: Option<&str>| -> Result<Option<PathBuf>, String> {
            match p {
                None => Ok(None),
                Some("") => Err(format!("'{text}' names no file after the colon")),
                Some(p) => Ok(Some(PathBuf::from(p))),
            }
        };
        match scheme {
            "memory" if path.is_none() => Ok(StoreSpec::Memory),
            "file" => Ok(StoreSpec::File(to_path(path)?)),
            "sqlite" => Ok(StoreSpec::Sqlite(to_path(path)?)),
            _ => Err(format!(
                "unknown store '{}': racedemo knows memory, file[:PATH] and sqlite[:PATH]",
                redact(text)
            )),
        }
    }

    pub fn kind(&self) -> StoreKind {
        match self {
            StoreSpec::Memory => StoreKind::Memory,
            StoreSpec::File(_) => StoreKind::File,
            StoreSpec::Sqlite(_) => StoreKind::Sqlite,
        }
    }
}

/// `text` with any password in a URL (`scheme://user:secret@host`) replaced by `***`, so that
/// no message ever prints one.
pub fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return text.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => text.to_string(),
    }
}

/// What every worker needs to reach the run's counter: serialised to the worker processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub kind: StoreKind,
    pub path: PathBuf,
    /// The run's own record (file) or row id (SQLite).
    pub slot: u64,
}

impl Address {
    /// A connection of this worker's own.
    pub fn connect(&self) -> Result<Box<dyn Connection>, String> {
        match self.kind {
            StoreKind::File => Ok(Box::new(file::FileCounter::open(self)?)),
            StoreKind::Sqlite => Ok(Box::new(sqlite::SqliteCounter::open(self)?)),
            StoreKind::Memory => Err("memory is not shared between processes".into()),
        }
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

/// The run's counter in a store, set up by the coordinating process: its own record or row,
/// removed again when this is dropped (with the temporary folder, when racedemo made one).
pub struct Place {
    address: Address,
    /// What the header says about the store beyond its kind and location.
    pub details: String,
    admin: Box<dyn Connection>,
    release: Option<Box<dyn FnOnce() + Send>>,
    // Dropped last: the folder holding a default store.
    _temp: Option<tempfile::TempDir>,
}

impl Place {
    /// Sets up the run's counter in `spec`; a path that cannot hold one is bad input.
    pub fn open(spec: &StoreSpec) -> Result<Place, Error> {
        let (temp, path, given) = match spec {
            StoreSpec::Memory => {
                return Err(Error::input("memory is not a shared store"));
            }
            StoreSpec::File(Some(p)) | StoreSpec::Sqlite(Some(p)) => (None, p.clone(), true),
            StoreSpec::File(None) | StoreSpec::Sqlite(None) => {
                let dir = tempfile::Builder::new()
                    .prefix("racedemo-")
                    .tempdir()
                    .map_err(Error::io("making a temporary folder for the store"))?;
                let name = match spec.kind() {
                    StoreKind::File => "counter.txt",
                    _ => "counter.db",
                };
                let path = dir.path().join(name);
                (Some(dir), path, false)
            }
        };
        if given {
            check_folder(spec.kind(), &path)?;
        }
        let flag = format!("--store {}:{}", spec.kind().name(), path.display());
        let Claimed {
            slot,
            details,
            release,
        } = match spec.kind() {
            StoreKind::File => file::set_up(&path),
            _ => sqlite::set_up(&path),
        }
        .map_err(|e| Error::input(format!("{flag}: {e}")))?;
        let address = Address {
            kind: spec.kind(),
            path,
            slot,
        };
        let admin = address
            .connect()
            .map_err(|e| Error::input(format!("{flag}: {e}")))?;
        Ok(Place {
            address,
            details,
            admin,
            release: Some(release),
            _temp: temp,
        })
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The coordinator's own connection: resets before a trial, reads after.
    pub fn admin(&mut self) -> &mut dyn Connection {
        self.admin.as_mut()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

/// A store path's folder must exist: racedemo makes files, never folders.
fn check_folder(kind: StoreKind, path: &Path) -> Result<(), Error> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Error::input(format!(
            "--store {}:{}: no such folder {}",
            kind.name(),
            path.display(),
            folder.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::input(format!(
            "--store {}:{}: is a folder; name a file in it",
            kind.name(),
            path.display()
        )));
    }
    Ok(())
}

/// What setting up a store gave the run: its own record or row, how the header describes it,
/// and how to give it back.
pub(crate) struct Claimed {
    pub slot: u64,
    pub details: String,
    pub release: Box<dyn FnOnce() + Send>,
}

/// A run id for a new record or row: random, so that runs started at once do not collide.
fn run_id() -> u64 {
    u64::from(rand::random::<u32>()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_flags_parse_to_a_kind_and_an_optional_path() {
        assert_eq!(StoreSpec::parse("memory"), Ok(StoreSpec::Memory));
        assert_eq!(StoreSpec::parse("file"), Ok(StoreSpec::File(None)));
        assert_eq!(
            StoreSpec::parse("sqlite:/tmp/x.db"),
            Ok(StoreSpec::Sqlite(Some("/tmp/x.db".into())))
        );
        assert!(
            StoreSpec::parse("file:")
                .unwrap_err()
                .contains("names no file")
        );
        let unknown = StoreSpec::parse("postgres://me:hunter2@db/test").unwrap_err();
        assert!(unknown.contains("unknown store"), "{unknown}");
        assert!(!unknown.contains("hunter2"), "{unknown}");
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact("redis://u:pw@h:6379/0"), "redis://u:***@h:6379/0");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:/tmp/a.db"), "sqlite:/tmp/a.db");
    }

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
