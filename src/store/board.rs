//! A notice board in the store itself, for runs whose workers are on other machines: the
//! run's parameters, who joined, the start signal and every worker's part go through
//! racedemo's own table (`racedemo_board`) or keys (`racedemo:board:…`), which every machine
//! that reaches the counter reaches too.
//!
//! Every call has the connection's deadline, so a board that stops answering ends the run; a
//! row carries the time it was written and a key an expiry, so what a killed run left goes
//! within a day even if nobody removes it.

use std::time::Duration;

use mysql::prelude::Queryable;
use redis::{Value, cmd};

use super::StoreKind;
use super::pg::{PgClient, PgError};

/// Keys and their values, all text.
pub trait Board: Send {
    /// Writes `value` under `key` unless the key exists: whether it was written. One atomic
    /// step on every store: of many callers at once, exactly one gets `true`.
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String>;
    /// Writes `value` under `key`, replacing any.
    fn put(&mut self, key: &str, value: &str) -> Result<(), String>;
    fn get(&mut self, key: &str) -> Result<Option<String>, String>;
    /// Replaces `key`'s value by `new` only if it is still `old`, in one atomic step: whether
    /// it was replaced.
    fn swap(&mut self, key: &str, old: &str, new: &str) -> Result<bool, String>;
    /// Removes `key` alone.
    fn remove(&mut self, key: &str) -> Result<(), String>;
    /// Removes every key that starts with `prefix` (a run's own keys, and only them).
    fn clear(&mut self, prefix: &str) -> Result<(), String>;
    /// Makes later calls give up after `deadline` (a clean-up that should not wait as long
    /// as a trial may).
    fn set_deadline(&mut self, deadline: Duration);
}

/// The board of the server at `url`; stores that are not servers have none. Every call gives
/// up after `deadline`.
pub fn open(kind: StoreKind, url: &str, deadline: Duration) -> Result<Box<dyn Board>, String> {
    let board: Result<Box<dyn Board>, String> = match kind {
        StoreKind::Postgres => PgBoard::open(url, deadline).map(|b| Box::new(b) as Box<dyn Board>),
        StoreKind::Mysql => MyBoard::open(url, deadline).map(|b| Box::new(b) as Box<dyn Board>),
        StoreKind::Redis => RedisBoard::open(url, deadline).map(|b| Box::new(b) as Box<dyn Board>),
        other => Err(format!(
            "{} is local to one machine: remote workers need a server both reach",
            other.title()
        )),
    };
    board.map_err(|e| super::scrub(&e, url))
}

/// The command that removes `key` and every key that starts with `prefix` from the board of
/// the server at `url`, for a note when racedemo could not.
pub fn removal_command(kind: StoreKind, url: &str, prefix: &str, key: &str) -> String {
    let n = prefix.chars().count();
    match kind {
        StoreKind::Postgres => format!(
            "psql '{}' -c \"DELETE FROM racedemo_board WHERE k = '{key}' OR left(k, {n}) = '{prefix}'\"",
            super::without_password(url)
        ),
        StoreKind::Mysql => super::mysql::sql_client_command(
            url,
            &format!(
                "DELETE FROM racedemo_board WHERE k = \"{key}\" OR LEFT(k, {n}) = \"{prefix}\""
            ),
        ),
        _ => format!(
            "{} --scan --pattern '{REDIS_PREFIX}{prefix}*' | xargs {} {REDIS_PREFIX}{key}",
            super::redis::cli_command(url, ""),
            super::redis::cli_command(url, "DEL")
        ),
    }
}

/// How long a row or key of the board lives if nobody removes it.
const EXPIRY_MS: u64 = 24 * 60 * 60 * 1000;

struct PgBoard {
    client: PgClient,
    at: String,
}

impl PgBoard {
    fn open(url: &str, deadline: Duration) -> Result<Self, String> {
        let (mut client, at) = PgClient::connect(url, deadline)?;
        let table = "CREATE TABLE IF NOT EXISTS racedemo_board \
                     (k TEXT PRIMARY KEY, v TEXT NOT NULL, created TIMESTAMPTZ NOT NULL DEFAULT now())";
        super::pg::make_table(&mut client, table, "racedemo_board", "k")
            .map_err(|e| format!("PostgreSQL at {at}: {}", e.describe()))?;
        Ok(PgBoard { client, at })
    }

    fn fail(&self, e: PgError) -> String {
        format!("PostgreSQL at {}: {}", self.at, e.describe())
    }
}

impl Board for PgBoard {
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String> {
        self.client
            .execute(
                "INSERT INTO racedemo_board (k, v) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&key, &value],
            )
            .map(|n| n == 1)
            .map_err(|e| self.fail(e))
    }

    fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        self.client
            .execute(
                "INSERT INTO racedemo_board (k, v) VALUES ($1, $2) \
                 ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, created = now()",
                &[&key, &value],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, String> {
        self.client
            .query_opt("SELECT v FROM racedemo_board WHERE k = $1", &[&key])
            .map(|row| row.map(|r| r.get(0)))
            .map_err(|e| self.fail(e))
    }

    fn swap(&mut self, key: &str, old: &str, new: &str) -> Result<bool, String> {
        self.client
            .execute(
                "UPDATE racedemo_board SET v = $3, created = now() WHERE k = $1 AND v = $2",
                &[&key, &old, &new],
            )
            .map(|n| n == 1)
            .map_err(|e| self.fail(e))
    }

    fn remove(&mut self, key: &str) -> Result<(), String> {
        self.client
            .execute("DELETE FROM racedemo_board WHERE k = $1", &[&key])
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    fn clear(&mut self, prefix: &str) -> Result<(), String> {
        self.client
            .execute(
                "DELETE FROM racedemo_board WHERE left(k, length($1)) = $1",
                &[&prefix],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    fn set_deadline(&mut self, deadline: Duration) {
        self.client.set_deadline(deadline);
    }
}

struct MyBoard {
    conn: mysql::Conn,
    at: String,
}

impl MyBoard {
    fn open(url: &str, deadline: Duration) -> Result<Self, String> {
        let (mut conn, at) = super::mysql::connect(url, None, deadline)?;
        let fail =
            |e: mysql::Error| format!("MariaDB/MySQL at {at}: {}", super::mysql::describe(&e));
        super::mysql::make_table(
            &mut conn,
            "CREATE TABLE IF NOT EXISTS racedemo_board \
             (k VARCHAR(191) PRIMARY KEY, v MEDIUMTEXT NOT NULL, \
             created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE = InnoDB",
            "racedemo_board",
            "k",
        )
        .map_err(fail)?;
        Ok(MyBoard { conn, at })
    }

    fn fail(&self, e: mysql::Error) -> String {
        format!(
            "MariaDB/MySQL at {}: {}",
            self.at,
            super::mysql::describe(&e)
        )
    }
}

impl Board for MyBoard {
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let done = self.conn.exec_drop(
            "INSERT IGNORE INTO racedemo_board (k, v) VALUES (?, ?)",
            (key, value),
        );
        done.map_err(|e| self.fail(e))?;
        Ok(self.conn.affected_rows() == 1)
    }

    fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        let done = self.conn.exec_drop(
            "INSERT INTO racedemo_board (k, v) VALUES (?, ?) \
             ON DUPLICATE KEY UPDATE v = VALUES(v), created = CURRENT_TIMESTAMP",
            (key, value),
        );
        done.map_err(|e| self.fail(e))
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, String> {
        let got = self
            .conn
            .exec_first("SELECT v FROM racedemo_board WHERE k = ?", (key,));
        got.map_err(|e| self.fail(e))
    }

    fn swap(&mut self, key: &str, old: &str, new: &str) -> Result<bool, String> {
        let done = self.conn.exec_drop(
            "UPDATE racedemo_board SET v = ?, created = CURRENT_TIMESTAMP WHERE k = ? AND v = ?",
            (new, key, old),
        );
        done.map_err(|e| self.fail(e))?;
        Ok(self.conn.affected_rows() == 1)
    }

    fn remove(&mut self, key: &str) -> Result<(), String> {
        let done = self
            .conn
            .exec_drop("DELETE FROM racedemo_board WHERE k = ?", (key,));
        done.map_err(|e| self.fail(e))
    }

    fn clear(&mut self, prefix: &str) -> Result<(), String> {
        let done = self.conn.exec_drop(
            "DELETE FROM racedemo_board WHERE LEFT(k, CHAR_LENGTH(?)) = ?",
            (prefix, prefix),
        );
        done.map_err(|e| self.fail(e))
    }

    fn set_deadline(&mut self, _: Duration) {
        // The driver takes its socket deadlines at connect only: the board keeps the run's.
    }
}

struct RedisBoard {
    conn: redis::Connection,
    at: String,
}

/// racedemo's own key space on a Redis server.
const REDIS_PREFIX: &str = "racedemo:board:";

/// Replaces a key's value only if it still holds the old one, keeping the expiry fresh.
const SWAP: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                    redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end";

impl RedisBoard {
    fn open(url: &str, deadline: Duration) -> Result<Self, String> {
        let (conn, at) = super::redis::connect(url, deadline)?;
        Ok(RedisBoard { conn, at })
    }

    fn run<T: redis::FromRedisValue>(&mut self, command: &redis::Cmd) -> Result<T, String> {
        command
            .query(&mut self.conn)
            .map_err(|e| format!("Redis at {}: {}", self.at, super::redis::describe(&e)))
    }
}

impl Board for RedisBoard {
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let set: Value = self.run(
            cmd("SET")
                .arg(format!("{REDIS_PREFIX}{key}"))
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(EXPIRY_MS),
        )?;
        Ok(set != Value::Nil)
    }

    fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        self.run::<Value>(
            cmd("SET")
                .arg(format!("{REDIS_PREFIX}{key}"))
                .arg(value)
                .arg("PX")
                .arg(EXPIRY_MS),
        )
        .map(|_| ())
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, String> {
        self.run(cmd("GET").arg(format!("{REDIS_PREFIX}{key}")))
    }

    fn swap(&mut self, key: &str, old: &str, new: &str) -> Result<bool, String> {
        let n: i64 = self.run(
            cmd("EVAL")
                .arg(SWAP)
                .arg(1)
                .arg(format!("{REDIS_PREFIX}{key}"))
                .arg(old)
                .arg(new)
                .arg(EXPIRY_MS),
        )?;
        Ok(n == 1)
    }

    fn remove(&mut self, key: &str) -> Result<(), String> {
        self.run::<Value>(cmd("DEL").arg(format!("{REDIS_PREFIX}{key}")))
            .map(|_| ())
    }

    fn clear(&mut self, prefix: &str) -> Result<(), String> {
        // Run names hold no glob characters (checked when given), so MATCH is exact here.
        let pattern = format!("{REDIS_PREFIX}{prefix}*");
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self.run(
                cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000),
            )?;
            if !keys.is_empty() {
                self.run::<Value>(cmd("DEL").arg(&keys))?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    fn set_deadline(&mut self, deadline: Duration) {
        let _ = self.conn.set_read_timeout(Some(deadline));
        let _ = self.conn.set_write_timeout(Some(deadline));
    }
}
