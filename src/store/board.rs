//! A notice board in the store itself, for runs whose workers are on other machines: the
//! run's parameters, who joined, the start signal and every worker's part go through
//! racedemo's own table (`racedemo_board`) or keys (`racedemo:board:…`), which every machine
//! that reaches the counter reaches too.

use std::time::Duration;

use mysql::prelude::Queryable;
use redis::{Value, cmd};

use super::StoreKind;

/// Keys and their values, all text.
pub trait Board: Send {
    /// Writes `value` under `key` unless the key exists: whether it was written.
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String>;
    /// Writes `value` under `key`, replacing any.
    fn put(&mut self, key: &str, value: &str) -> Result<(), String>;
    fn get(&mut self, key: &str) -> Result<Option<String>, String>;
    /// Removes every key that starts with `prefix` (a run's own keys, and only them).
    fn clear(&mut self, prefix: &str) -> Result<(), String>;
}

/// The board of the server at `url`; stores that are not servers have none.
pub fn open(kind: StoreKind, url: &str) -> Result<Box<dyn Board>, String> {
    let board: Result<Box<dyn Board>, String> = match kind {
        StoreKind::Postgres => PgBoard::open(url).map(|b| Box::new(b) as Box<dyn Board>),
        StoreKind::Mysql => MyBoard::open(url).map(|b| Box::new(b) as Box<dyn Board>),
        StoreKind::Redis => RedisBoard::open(url).map(|b| Box::new(b) as Box<dyn Board>),
        other => Err(format!(
            "{} is local to one machine: remote workers need a server both reach",
            other.title()
        )),
    };
    board.map_err(|e| super::scrub(&e, url))
}

struct PgBoard(postgres::Client);

impl PgBoard {
    fn open(url: &str) -> Result<Self, String> {
        let mut config: postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
        config.connect_timeout(Duration::from_secs(5));
        let mut client = config
            .connect(postgres::NoTls)
            .map_err(|e| format!("PostgreSQL: {e}"))?;
        let table =
            "CREATE TABLE IF NOT EXISTS racedemo_board (k TEXT PRIMARY KEY, v TEXT NOT NULL)";
        // Two runs creating it at once: one fails on the catalogue's unique index; again.
        if client.batch_execute(table).is_err() {
            client.batch_execute(table).map_err(pg)?;
        }
        Ok(PgBoard(client))
    }
}

fn pg(e: postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {}", db.message()),
        None => format!("PostgreSQL: {e}"),
    }
}

impl Board for PgBoard {
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String> {
        self.0
            .execute(
                "INSERT INTO racedemo_board (k, v) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&key, &value],
            )
            .map(|n| n == 1)
            .map_err(pg)
    }

    fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        self.0
            .execute(
                "INSERT INTO racedemo_board (k, v) VALUES ($1, $2) \
                 ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                &[&key, &value],
            )
            .map(|_| ())
            .map_err(pg)
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, String> {
        self.0
            .query_opt("SELECT v FROM racedemo_board WHERE k = $1", &[&key])
            .map(|row| row.map(|r| r.get(0)))
            .map_err(pg)
    }

    fn clear(&mut self, prefix: &str) -> Result<(), String> {
        self.0
            .execute(
                "DELETE FROM racedemo_board WHERE left(k, length($1)) = $1",
                &[&prefix],
            )
            .map(|_| ())
            .map_err(pg)
    }
}

struct MyBoard(mysql::Conn);

fn my(e: mysql::Error) -> String {
    format!("MariaDB/MySQL: {e}")
}

impl MyBoard {
    fn open(url: &str) -> Result<Self, String> {
        let opts = mysql::Opts::from_url(url).map_err(|e| e.to_string())?;
        let opts =
            mysql::OptsBuilder::from_opts(opts).tcp_connect_timeout(Some(Duration::from_secs(5)));
        let mut conn = mysql::Conn::new(opts).map_err(my)?;
        conn.query_drop(
            "CREATE TABLE IF NOT EXISTS racedemo_board \
             (k VARCHAR(191) PRIMARY KEY, v MEDIUMTEXT NOT NULL) ENGINE = InnoDB",
        )
        .map_err(my)?;
        Ok(MyBoard(conn))
    }
}

impl Board for MyBoard {
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String> {
        self.0
            .exec_drop(
                "INSERT IGNORE INTO racedemo_board (k, v) VALUES (?, ?)",
                (key, value),
            )
            .map_err(my)?;
        Ok(self.0.affected_rows() == 1)
    }

    fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        self.0
            .exec_drop(
                "INSERT INTO racedemo_board (k, v) VALUES (?, ?) \
                 ON DUPLICATE KEY UPDATE v = VALUES(v)",
                (key, value),
            )
            .map_err(my)
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, String> {
        self.0
            .exec_first("SELECT v FROM racedemo_board WHERE k = ?", (key,))
            .map_err(my)
    }

    fn clear(&mut self, prefix: &str) -> Result<(), String> {
        self.0
            .exec_drop(
                "DELETE FROM racedemo_board WHERE LEFT(k, CHAR_LENGTH(?)) = ?",
                (prefix, prefix),
            )
            .map_err(my)
    }
}

struct RedisBoard(redis::Connection);

/// racedemo's own key space on a Redis server.
const REDIS_PREFIX: &str = "racedemo:board:";

fn rd(e: redis::RedisError) -> String {
    format!("Redis: {e}")
}

impl RedisBoard {
    fn open(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        client
            .get_connection_with_timeout(Duration::from_secs(5))
            .map(RedisBoard)
            .map_err(rd)
    }
}

impl Board for RedisBoard {
    fn create(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let set: Value = cmd("SET")
            .arg(format!("{REDIS_PREFIX}{key}"))
            .arg(value)
            .arg("NX")
            .query(&mut self.0)
            .map_err(rd)?;
        Ok(set != Value::Nil)
    }

    fn put(&mut self, key: &str, value: &str) -> Result<(), String> {
        cmd("SET")
            .arg(format!("{REDIS_PREFIX}{key}"))
            .arg(value)
            .query::<Value>(&mut self.0)
            .map(|_| ())
            .map_err(rd)
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, String> {
        cmd("GET")
            .arg(format!("{REDIS_PREFIX}{key}"))
            .query(&mut self.0)
            .map_err(rd)
    }

    fn clear(&mut self, prefix: &str) -> Result<(), String> {
        // Run names hold no glob characters (checked when given), so MATCH is exact here.
        let pattern = format!("{REDIS_PREFIX}{prefix}*");
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(&mut self.0)
                .map_err(rd)?;
            if !keys.is_empty() {
                cmd("DEL")
                    .arg(&keys)
                    .query::<Value>(&mut self.0)
                    .map_err(rd)?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}
