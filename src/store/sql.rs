//! The SQL servers' strategies, once: PostgreSQL and MariaDB/MySQL differ in their drivers,
//! placeholders and error codes, not in what an increment is. Each server implements [`Sql`]'s
//! few statements; [`SqlCounter`] turns them into every strategy, and the isolation replay
//! drives them one step at a time.

use super::{Attempt, Connection, Isolation};
use crate::strategy::StrategyKind;

/// Why a statement failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// The server refused this transaction (a serialisation failure, a deadlock), naming the
    /// kind with its error code: counted, and retried as `--retry` allows.
    Refused(&'static str),
    /// The server or the connection failed: the run cannot go on.
    Fault(String),
}

/// One connection's statements on the run's row of `racedemo_counter`.
pub trait Sql: Send {
    /// `SELECT v`, with `FOR UPDATE` when `lock`.
    fn select(&mut self, lock: bool) -> Result<u64, Fail>;
    /// `UPDATE SET v = value`.
    fn set(&mut self, value: u64) -> Result<(), Fail>;
    /// `UPDATE SET v = old + 1 WHERE v = old`: whether the row changed.
    fn swap(&mut self, old: u64) -> Result<bool, Fail>;
    /// `UPDATE SET v = v + 1`, one statement: the value it replaced.
    fn add(&mut self) -> Result<u64, Fail>;
    /// Starts a transaction at `level`, or at the server's default.
    fn begin(&mut self, level: Option<Isolation>) -> Result<(), Fail>;
    fn commit(&mut self) -> Result<(), Fail>;
    /// Ends a failed transaction; a failure here shows at the next statement.
    fn rollback(&mut self);
}

/// Every strategy on a SQL server, over its [`Sql`].
pub struct SqlCounter {
    pub sql: Box<dyn Sql>,
    /// What `transaction` begins with.
    pub level: Option<Isolation>,
}

impl SqlCounter {
    fn read_add_write(&mut self, lock: bool, between: &mut dyn FnMut()) -> Result<u64, Fail> {
        let read = self.sql.select(lock)?;
        between();
        self.sql.set(read + 1)?;
        Ok(read)
    }

    fn in_transaction(
        &mut self,
        level: Option<Isolation>,
        body: impl FnOnce(&mut Self) -> Result<u64, Fail>,
    ) -> Result<u64, Fail> {
        self.sql.begin(level)?;
        let done = body(self).and_then(|read| self.sql.commit().map(|()| read));
        if done.is_err() {
            self.sql.rollback();
        }
        done
    }

    fn try_attempt(
        &mut self,
        strategy: StrategyKind,
        between: &mut dyn FnMut(),
    ) -> Result<Attempt, Fail> {
        Ok(match strategy {
            StrategyKind::Unsafe => Attempt::Done(self.read_add_write(false, between)?),
            // The in-memory locks are refused on stores before a run starts; one that got
            // here would take the store's own lock, as `locked` does.
            StrategyKind::Locked
            | StrategyKind::LockedRwLock
            | StrategyKind::LockedSemaphore
            | StrategyKind::LockedSpin => {
                Attempt::Done(self.in_transaction(None, |s| s.read_add_write(true, between))?)
            }
            StrategyKind::Transaction => {
                let level = self.level;
                Attempt::Done(self.in_transaction(level, |s| s.read_add_write(false, between))?)
            }
            StrategyKind::Atomic => {
                between();
                Attempt::Done(self.sql.add()?)
            }
            StrategyKind::Optimistic => {
                let read = self.sql.select(false)?;
                between();
                if self.sql.swap(read)? {
                    Attempt::Done(read)
                } else {
                    Attempt::Conflict
                }
            }
        })
    }
}

impl Connection for SqlCounter {
    fn attempt(
        &mut self,
        strategy: StrategyKind,
        between: &mut dyn FnMut(),
    ) -> Result<Attempt, String> {
        match self.try_attempt(strategy, between) {
            Ok(a) => Ok(a),
            Err(Fail::Refused(kind)) => Ok(Attempt::Failed(kind)),
            Err(Fail::Fault(e)) => Err(e),
        }
    }

    fn reset(&mut self) -> Result<(), String> {
        self.sql.set(0).map_err(fault)
    }

    fn read(&mut self) -> Result<u64, String> {
        self.sql.select(false).map_err(fault)
    }
}

fn fault(f: Fail) -> String {
    match f {
        Fail::Refused(kind) => format!("refused: {kind}"),
        Fail::Fault(e) => e,
    }
}

/// What each strategy does on a SQL server, with the server's own words for the failures.
pub const fn strategies(
    transaction: &'static str,
) -> [(StrategyKind, crate::strategy::Support); 5] {
    use crate::strategy::Support::Does;
    [
        (
            StrategyKind::Unsafe,
            Does(
                "SELECT v, then UPDATE SET v = <read + 1>, each in its own autocommit statement: a write between them is overwritten",
            ),
        ),
        (
            StrategyKind::Locked,
            Does("BEGIN, SELECT v FOR UPDATE (locks the row), UPDATE SET v = <read + 1>, COMMIT"),
        ),
        (
            StrategyKind::Atomic,
            Does("UPDATE SET v = v + 1: the server reads and writes in one statement"),
        ),
        (
            StrategyKind::Optimistic,
            Does(
                "SELECT v, then UPDATE SET v = <read + 1> WHERE v = <read>; no row changed means another wrote first: read again and retry",
            ),
        ),
        (StrategyKind::Transaction, Does(transaction)),
    ]
}
