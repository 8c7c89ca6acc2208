//! The counter as one row of racedemo's table on a PostgreSQL server.

use std::time::Duration;

use tokio_postgres::Statement;
use tokio_postgres::error::SqlState;

use super::pg::{PgClient, PgError};
use super::sql::{Fail, Sql};
use super::{CLEANUP, Claimed, Isolation, run_id, without_password};
use crate::strategy::{StrategyKind, Support};

/// What each strategy does on PostgreSQL.
pub const STRATEGIES: [(StrategyKind, Support); 5] = super::sql::strategies(
    "BEGIN ISOLATION LEVEL <--isolation>, SELECT v, UPDATE SET v = <read + 1>, COMMIT: at repeatable-read and serializable the stale write fails (40001)",
);

pub fn check_url(url: &str) -> Result<(), String> {
    url.parse::<tokio_postgres::Config>()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// racedemo's table. `created` lets the next run sweep rows a killed run left (after a day).
const TABLE: &str = "CREATE TABLE IF NOT EXISTS racedemo_counter \
                     (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, created TIMESTAMPTZ NOT NULL DEFAULT now())";
const DELETE: &str = "DELETE FROM racedemo_counter WHERE id = $1";

/// Makes racedemo's table if needed and the run's row; sweeps rows older than a day.
pub fn set_up(url: &str, deadline: Duration) -> Result<Claimed, String> {
    let (mut client, at) = PgClient::connect(url, deadline)?;
    let fail = |e: PgError| format!("PostgreSQL at {at}: {}", e.describe());
    super::pg::make_table(&mut client, TABLE, "racedemo_counter", "id").map_err(fail)?;
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
    let url = url.to_string();
    let release = move || {
        // The run's own connection first; if it died (killed, or the network went), a fresh
        // one; if that fails too, the note says what is left and how to remove it.
        client.set_deadline(CLEANUP);
        let first = client.execute(DELETE, &[&id]);
        let why = match first {
            Ok(_) => return Ok(()),
            Err(e) => e.describe(),
        };
        let second = PgClient::connect(&url, CLEANUP)
            .and_then(|(mut fresh, _)| fresh.execute(DELETE, &[&id]).map_err(|e| e.describe()));
        second.map(|_| ()).map_err(|again| {
            format!(
                "row id {id} of table racedemo_counter on PostgreSQL at {at} ({why}; then {again}); \
                 remove it with: psql '{}' -c 'DELETE FROM racedemo_counter WHERE id = {id}'",
                without_password(&url)
            )
        })
    };
    Ok(Claimed {
        slot: id as u64,
        details,
        release: Box::new(release),
    })
}

/// One connection, its statements prepared once.
pub struct Postgres {
    client: PgClient,
    at: String,
    id: i64,
    select: Statement,
    select_for_update: Statement,
    set: Statement,
    swap: Statement,
    add: Statement,
}

impl Postgres {
    pub fn open(url: &str, slot: u64, deadline: Duration) -> Result<Self, String> {
        let (mut client, at) = PgClient::connect(url, deadline)?;
        let mut prepare = |sql: &str| {
            client
                .prepare(sql)
                .map_err(|e| format!("PostgreSQL at {at}: {}", e.describe()))
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

    fn fail(&self, e: PgError) -> Fail {
        match e.code() {
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => {
                Fail::Refused("40001 serialization failure")
            }
            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => Fail::Refused("40P01 deadlock"),
            _ => Fail::Fault(format!("PostgreSQL at {}: {}", self.at, e.describe())),
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
        let s = self.set.clone();
        self.client
            .execute(&s, &[&self.id, &(value as i64)])
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    fn swap(&mut self, old: u64) -> Result<bool, Fail> {
        let s = self.swap.clone();
        self.client
            .execute(&s, &[&self.id, &(old as i64)])
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
