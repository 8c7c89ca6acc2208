//! The counter as one row of racedemo's table on a PostgreSQL server.

use std::time::Duration;

use postgres::config::Host;
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, Statement};

use super::sql::{Fail, Sql};
use super::{Claimed, Isolation, run_id};
use crate::strategy::{StrategyKind, Support};

/// What each strategy does on PostgreSQL.
pub const STRATEGIES: [(StrategyKind, Support); 5] = super::sql::strategies(
    "BEGIN ISOLATION LEVEL <--isolation>, SELECT v, UPDATE SET v = <read + 1>, COMMIT: at repeatable-read and serializable the stale write fails (40001)",
);

/// How long racedemo waits for a server that does not answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub fn check_url(url: &str) -> Result<(), String> {
    url.parse::<Config>().map(|_| ()).map_err(|e| e.to_string())
}

/// Where a URL points, as messages name it: host:port.
fn place_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

fn connect(url: &str) -> Result<(Client, String), String> {
    let mut config: Config = url.parse().map_err(|e| format!("{e}"))?;
    let at = place_of(&config);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.application_name("racedemo");
    let client = config
        .connect(NoTls)
        .map_err(|e| format!("PostgreSQL at {at}: {}", describe(&e)))?;
    Ok((client, at))
}

/// The server's own message where it sent one, else the driver's.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            text
        }
    }
}

const TABLE: &str = "CREATE TABLE IF NOT EXISTS racedemo_counter \
                     (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)";

/// Makes racedemo's table if needed and the run's row.
pub fn set_up(url: &str) -> Result<Claimed, String> {
    let (mut client, at) = connect(url)?;
    let fail = |e: postgres::Error| format!("PostgreSQL at {at}: {}", describe(&e));
    // Two runs creating the table at once: one of them fails on the catalogue's unique index.
    if let Err(e) = client.batch_execute(TABLE) {
        if e.code() != Some(&SqlState::UNIQUE_VIOLATION) {
            return Err(fail(e));
        }
        client.batch_execute(TABLE).map_err(fail)?;
    }
    let id = loop {
        let id = run_id() as i64;
        let n = client
            .execute(
                "INSERT INTO racedemo_counter (id, v) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                &[&id],
            )
            .map_err(fail)?;
        if n == 1 {
            break id;
        }
    };
    let version: String = client
        .query_one("SHOW server_version", &[])
        .map_err(fail)?
        .get(0);
    let level: String = client
        .query_one("SHOW default_transaction_isolation", &[])
        .map_err(fail)?
        .get(0);
    let details = format!(
        "PostgreSQL {version} at {at}, table racedemo_counter, row id {id}, default isolation {level}"
    );
    let release = move || {
        let _ = client.execute("DELETE FROM racedemo_counter WHERE id = $1", &[&id]);
    };
    Ok(Claimed {
        slot: id as u64,
        details,
        release: Box::new(release),
    })
}

/// One connection, its statements prepared once.
pub struct Postgres {
    client: Client,
    at: String,
    id: i64,
    select: Statement,
    select_for_update: Statement,
    set: Statement,
    swap: Statement,
    add: Statement,
}

impl Postgres {
    pub fn open(url: &str, slot: u64) -> Result<Self, String> {
        let (mut client, at) = connect(url)?;
        let mut prepare = |sql: &str| {
            client
                .prepare(sql)
                .map_err(|e| format!("PostgreSQL at {at}: {}", describe(&e)))
        };
        Ok(Postgres {
            select: prepare("SELECT v FROM racedemo_counter WHERE id = $1")?,
            select_for_update: prepare("SELECT v FROM racedemo_counter WHERE id = $1 FOR UPDATE")?,
            set: prepare("UPDATE racedemo_counter SET v = $2 WHERE id = $1")?,
            swap: prepare("UPDATE racedemo_counter SET v = $2 + 1 WHERE id = $1 AND v = $2")?,
            add: prepare("UPDATE racedemo_counter SET v = v + 1 WHERE id = $1 RETURNING v")?,
            client,
            at,
            id: slot as i64,
        })
    }

    fn fail(&self, e: postgres::Error) -> Fail {
        match e.code() {
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => {
                Fail::Refused("40001 serialization failure")
            }
            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => Fail::Refused("40P01 deadlock"),
            _ => Fail::Fault(format!("PostgreSQL at {}: {}", self.at, describe(&e))),
        }
    }

    fn value(&mut self, statement: &Statement) -> Result<u64, Fail> {
        match self.client.query_opt(statement, &[&self.id]) {
            Ok(Some(row)) => Ok(row.get::<_, i64>(0) as u64),
            Ok(None) => Err(Fail::Fault(format!(
                "PostgreSQL at {}: the run's row {} is gone",
                self.at, self.id
            ))),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn simple(&mut self, sql: &str) -> Result<(), Fail> {
        self.client.batch_execute(sql).map_err(|e| self.fail(e))
    }
}

impl Sql for Postgres {
    fn select(&mut self, lock: bool) -> Result<u64, Fail> {
        let s = if lock {
            self.select_for_update.clone()
        } else {
            self.select.clone()
        };
        self.value(&s)
    }

    fn set(&mut self, value: u64) -> Result<(), Fail> {
        self.client
            .execute(&self.set, &[&self.id, &(value as i64)])
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    fn swap(&mut self, old: u64) -> Result<bool, Fail> {
        self.client
            .execute(&self.swap, &[&self.id, &(old as i64)])
            .map(|n| n == 1)
            .map_err(|e| self.fail(e))
    }

    fn add(&mut self) -> Result<u64, Fail> {
        let s = self.add.clone();
        self.value(&s).map(|after| after - 1)
    }

    fn begin(&mut self, level: Option<Isolation>) -> Result<(), Fail> {
        match level {
            Some(l) => self.simple(&format!("BEGIN ISOLATION LEVEL {}", l.sql())),
            None => self.simple("BEGIN"),
        }
    }

    fn commit(&mut self) -> Result<(), Fail> {
        self.simple("COMMIT")
    }

    fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }
}
