//! The counter as one row of racedemo's table on a MariaDB or MySQL server (InnoDB).

use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Statement};

use super::sql::{Fail, Sql};
use super::{CLEANUP, Claimed, Isolation, run_id, without_password};
use crate::strategy::{StrategyKind, Support};

/// What each strategy does on MariaDB/MySQL.
pub const STRATEGIES: [(StrategyKind, Support); 5] = super::sql::strategies(
    "SET TRANSACTION ISOLATION LEVEL <--isolation>, START TRANSACTION, SELECT v, UPDATE SET v = <read + 1>, COMMIT: at repeatable-read (InnoDB's default) the stale write silently succeeds; with snapshot isolation it fails (1020), at serializable the two deadlock (1213)",
);

/// The server error codes a transaction can end with and be tried again.
const DEADLOCK: u16 = 1213;
const RECORD_CHANGED: u16 = 1020;
const LOCK_WAIT_TIMEOUT: u16 = 1205;

pub fn check_url(url: &str) -> Result<(), String> {
    Opts::from_url(url).map(|_| ()).map_err(|e| e.to_string())
}

pub(super) fn describe(e: &mysql::Error) -> String {
    let timed_out = matches!(
        io_kind(e),
        Some(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
    );
    match e {
        mysql::Error::MySqlError(e) => format!("{} ({})", e.message, e.code),
        _ if timed_out => "no answer within the deadline (the server or the network between \
                           stopped without closing the connection)"
            .to_string(),
        e => e.to_string(),
    }
}

/// The kind of the socket error under a driver error, where there is one: a read past its
/// deadline comes back as WouldBlock (or TimedOut), inside the packet codec's error.
fn io_kind(e: &mysql::Error) -> Option<std::io::ErrorKind> {
    match e {
        mysql::Error::IoError(io) => Some(io.kind()),
        mysql::Error::CodecError(c) => std::error::Error::source(c)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind),
        _ => None,
    }
}

/// A connection to `url` whose every read and write gives up after `deadline`: a server that
/// stops answering without closing the connection ends the run instead of hanging it.
pub(super) fn connect(
    url: &str,
    level: Option<Isolation>,
    deadline: Duration,
) -> Result<(Conn, String), String> {
    let opts = Opts::from_url(url).map_err(|e| e.to_string())?;
    let at = format!("{}:{}", opts.get_ip_or_hostname(), opts.get_tcp_port());
    let fail = |e: mysql::Error| format!("MariaDB/MySQL at {at}: {}", describe(&e));
    // TCP as the URL says: the driver would otherwise move a local connection onto the
    // server's Unix socket, past whatever the URL names (a proxy, a tunnel).
    let opts = OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .tcp_connect_timeout(Some(deadline))
        .read_timeout(Some(deadline))
        .write_timeout(Some(deadline));
    let mut conn = Conn::new(opts).map_err(fail)?;
    // One meaning for each level whatever the server's default (MariaDB 11.8 turned snapshot
    // isolation on): set where the server has the variable, asked for where it does not.
    let has_snapshot = snapshot_setting(&mut conn).is_some();
    match (level, has_snapshot) {
        (Some(Isolation::RepeatableReadSnapshot), false) => {
            return Err(format!(
                "MariaDB/MySQL at {at}: this server has no innodb_snapshot_isolation (MariaDB \
                 10.6.18, 10.11.8, 11.4 or later has): repeatable-read+snapshot cannot run here"
            ));
        }
        (l, true) => {
            let on = l == Some(Isolation::RepeatableReadSnapshot);
            conn.query_drop(format!(
                "SET SESSION innodb_snapshot_isolation = {}",
                if on { "ON" } else { "OFF" }
            ))
            .map_err(fail)?;
        }
        _ => {}
    }
    Ok((conn, at))
}

/// The server's `innodb_snapshot_isolation`, or `None` where it has none.
fn snapshot_setting(conn: &mut Conn) -> Option<bool> {
    conn.query_first::<i64, _>("SELECT @@innodb_snapshot_isolation")
        .ok()
        .flatten()
        .map(|v| v != 0)
}

/// racedemo's table. `created` lets the next run sweep rows a killed run left (after a day).
const TABLE: &str = "CREATE TABLE IF NOT EXISTS racedemo_counter \
                     (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, \
                     created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE = InnoDB";
const DELETE: &str = "DELETE FROM racedemo_counter WHERE id = ?";

/// Makes racedemo's table if needed and the run's row; sweeps rows older than a day.
pub fn set_up(url: &str, deadline: Duration) -> Result<Claimed, String> {
    let (mut conn, at) = connect(url, None, deadline)?;
    let fail = |e: mysql::Error| format!("MariaDB/MySQL at {at}: {}", describe(&e));
    make_table(&mut conn, TABLE, "racedemo_counter", "id").map_err(fail)?;
    let id = loop {
        let id = run_id() as i64;
        conn.exec_drop(
            "INSERT IGNORE INTO racedemo_counter (id, v) VALUES (?, 0)",
            (id,),
        )
        .map_err(fail)?;
        if conn.affected_rows() == 1 {
            break id;
        }
    };
    let version: String = conn
        .query_first("SELECT VERSION()")
        .map_err(fail)?
        .unwrap_or_default();
    // MySQL 8 and MariaDB 11.1 renamed tx_isolation.
    let level: String = conn
        .query_first("SELECT @@transaction_isolation")
        .or_else(|_| conn.query_first("SELECT @@tx_isolation"))
        .map_err(fail)?
        .unwrap_or_default();
    let snapshot = match snapshot_setting(&mut conn) {
        Some(_) => "innodb_snapshot_isolation available",
        None => "no innodb_snapshot_isolation",
    };
    let details = format!(
        "{version} at {at}, table racedemo_counter, row id {id}, default isolation {}, {snapshot}",
        level.to_lowercase().replace('-', " ")
    );
    let url = url.to_string();
    let release = move || {
        // The run's own connection first, then a fresh one; else the note says what is left.
        let why = match conn.exec_drop(DELETE, (id,)) {
            Ok(()) => return Ok(()),
            Err(e) => describe(&e),
        };
        drop(conn);
        let second = connect(&url, None, CLEANUP)
            .and_then(|(mut fresh, _)| fresh.exec_drop(DELETE, (id,)).map_err(|e| describe(&e)));
        second.map_err(|again| {
            format!(
                "row id {id} of table racedemo_counter on MariaDB/MySQL at {at} ({why}; then \
                 {again}); remove it with: {}",
                sql_client_command(
                    &url,
                    &format!("DELETE FROM racedemo_counter WHERE id = {id}")
                )
            )
        })
    };
    Ok(Claimed {
        slot: id as u64,
        details,
        release: Box::new(release),
    })
}

/// Makes one of racedemo's tables if it is missing (`create`, which gives it a `created`
/// column), adds `created` to a table an older racedemo made (only when missing), and sweeps
/// the rows a killed run left over a day ago.
pub(super) fn make_table(
    conn: &mut Conn,
    create: &str,
    table: &str,
    key: &str,
) -> Result<(), mysql::Error> {
    conn.query_drop(create)?;
    let has_created: Option<i64> = conn.exec_first(
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() \
         AND table_name = ? AND column_name = 'created'",
        (table,),
    )?;
    if has_created == Some(0) {
        conn.query_drop(format!(
            "ALTER TABLE {table} ADD COLUMN created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
        ))?;
    }
    sweep(conn, table, key);
    Ok(())
}

/// Removes rows of `table` written over a day ago (a killed run's), best effort: found by a
/// plain read, which takes no lock, then deleted one by one by `key`, so that a sweep never
/// locks the rows of runs going on now (a ranged DELETE would, and deadlock with them).
fn sweep(conn: &mut Conn, table: &str, key: &str) {
    let stale: Vec<mysql::Value> = conn
        .query(format!(
            "SELECT {key} FROM {table} WHERE created < NOW() - INTERVAL 1 DAY LIMIT 1000"
        ))
        .unwrap_or_default();
    for k in stale {
        let _ = conn.exec_drop(
            format!("DELETE FROM {table} WHERE {key} = ? AND created < NOW() - INTERVAL 1 DAY"),
            (k,),
        );
    }
}

/// The `mariadb` command that runs `sql` on the server at `url`, asking for the password
/// rather than printing it.
pub(super) fn sql_client_command(url: &str, sql: &str) -> String {
    match Opts::from_url(url) {
        Ok(o) => format!(
            "mariadb -h {} -P {}{}{}{} -e '{sql}'",
            o.get_ip_or_hostname(),
            o.get_tcp_port(),
            o.get_user().map_or(String::new(), |u| format!(" -u {u}")),
            if o.get_pass().is_some() { " -p" } else { "" },
            o.get_db_name().map_or(String::new(), |d| format!(" {d}")),
        ),
        Err(_) => format!("mariadb '{}' -e '{sql}'", without_password(url)),
    }
}

/// One connection, its statements prepared once.
pub struct Mysql {
    conn: Conn,
    at: String,
    id: i64,
    select: Statement,
    select_for_update: Statement,
    set: Statement,
    swap: Statement,
    add: Statement,
}

impl Mysql {
    pub fn open(
        url: &str,
        slot: u64,
        level: Option<Isolation>,
        deadline: Duration,
    ) -> Result<Self, String> {
        let (mut conn, at) = connect(url, level, deadline)?;
        let mut prepare = |sql: &str| {
            conn.prep(sql)
                .map_err(|e| format!("MariaDB/MySQL at {at}: {}", describe(&e)))
        };
        Ok(Mysql {
            select: prepare("SELECT v FROM racedemo_counter WHERE id = ?")?,
            select_for_update: prepare("SELECT v FROM racedemo_counter WHERE id = ? FOR UPDATE")?,
            set: prepare("UPDATE racedemo_counter SET v = ? WHERE id = ?")?,
            swap: prepare("UPDATE racedemo_counter SET v = ? + 1 WHERE id = ? AND v = ?")?,
            // LAST_INSERT_ID(expr) hands the new value back on this connection, in the same
            // statement: MariaDB's UPDATE has no RETURNING.
            add: prepare("UPDATE racedemo_counter SET v = LAST_INSERT_ID(v + 1) WHERE id = ?")?,
            conn,
            at,
            id: slot as i64,
        })
    }

    fn fail(&self, e: mysql::Error) -> Fail {
        if let mysql::Error::MySqlError(m) = &e {
            match m.code {
                DEADLOCK => return Fail::Refused("1213 deadlock"),
                RECORD_CHANGED => return Fail::Refused("1020 record changed"),
                LOCK_WAIT_TIMEOUT => return Fail::Refused("1205 lock wait timeout"),
                _ => {}
            }
        }
        Fail::Fault(format!("MariaDB/MySQL at {}: {}", self.at, describe(&e)))
    }

    fn simple(&mut self, sql: &str) -> Result<(), Fail> {
        self.conn.query_drop(sql).map_err(|e| self.fail(e))
    }
}

impl Sql for Mysql {
    fn select(&mut self, lock: bool) -> Result<u64, Fail> {
        let s = if lock {
            self.select_for_update.clone()
        } else {
            self.select.clone()
        };
        match self.conn.exec_first::<i64, _, _>(&s, (self.id,)) {
            Ok(Some(v)) => Ok(v as u64),
            Ok(None) => Err(Fail::Fault(format!(
                "MariaDB/MySQL at {}: the run's row {} is gone",
                self.at, self.id
            ))),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn set(&mut self, value: u64) -> Result<(), Fail> {
        let s = self.set.clone();
        self.conn
            .exec_drop(&s, (value as i64, self.id))
            .map_err(|e| self.fail(e))
    }

    fn swap(&mut self, old: u64) -> Result<bool, Fail> {
        let s = self.swap.clone();
        self.conn
            .exec_drop(&s, (old as i64, self.id, old as i64))
            .map_err(|e| self.fail(e))?;
        Ok(self.conn.affected_rows() == 1)
    }

    fn add(&mut self) -> Result<u64, Fail> {
        let s = self.add.clone();
        self.conn
            .exec_drop(&s, (self.id,))
            .map_err(|e| self.fail(e))?;
        Ok(self.conn.last_insert_id() - 1)
    }

    fn begin(&mut self, level: Option<Isolation>) -> Result<(), Fail> {
        if let Some(l) = level {
            // For the next transaction only.
            self.simple(&format!("SET TRANSACTION ISOLATION LEVEL {}", l.sql()))?;
        }
        self.simple("START TRANSACTION")
    }

    fn commit(&mut self) -> Result<(), Fail> {
        self.simple("COMMIT")
    }

    fn rollback(&mut self) {
        let _ = self.conn.query_drop("ROLLBACK");
    }
}
