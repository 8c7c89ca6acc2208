//! A PostgreSQL connection whose every call has a deadline: tokio-postgres on a one-thread
//! runtime of the connection's own. The blocking `postgres` crate has no per-call timeout, so
//! a server that stops answering without closing the connection (a partition, a stalled
//! proxy) kept a worker waiting forever; the kernel cannot tell, since whatever sits in
//! between still acknowledges every byte.

use std::future::Future;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Config, NoTls, Row, Statement, ToStatement};

/// Why a call failed: the server's or the driver's error, or no answer within the deadline.
#[derive(Debug)]
pub enum PgError {
    Driver(tokio_postgres::Error),
    /// Nothing came back for this long: the connection is given up.
    Silent(Duration),
}

impl PgError {
    /// The server's SQLSTATE, where it sent one.
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            PgError::Driver(e) => e.code(),
            PgError::Silent(_) => None,
        }
    }

    /// The server's own message and code where it sent one, else the driver's reason with its
    /// causes (never the URL: the driver does not quote it).
    pub fn describe(&self) -> String {
        match self {
            PgError::Driver(e) => match e.as_db_error() {
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
            },
            PgError::Silent(d) => format!(
                "no answer for {} (the server or the network between stopped without closing \
                 the connection)",
                humantime::format_duration(*d)
            ),
        }
    }
}

/// Makes one of racedemo's tables if it is missing (`create`, which gives it a `created`
/// column), adds `created` to a table an older racedemo made (ALTER takes the table's strongest
/// lock, so only when missing), and sweeps the rows a killed run left over a day ago.
pub fn make_table(
    client: &mut PgClient,
    create: &str,
    table: &str,
    key: &str,
) -> Result<(), PgError> {
    // Two runs creating it at once: one of them fails on the catalogue's unique index; again.
    if let Err(e) = client.batch_execute(create) {
        if e.code() != Some(&SqlState::UNIQUE_VIOLATION) {
            return Err(e);
        }
        client.batch_execute(create)?;
    }
    let has_created = client.query_opt(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() \
         AND table_name = $1 AND column_name = 'created'",
        &[&table],
    )?;
    if has_created.is_none() {
        client.batch_execute(&format!(
            "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS created TIMESTAMPTZ NOT NULL DEFAULT now()"
        ))?;
    }
    sweep(client, table, key);
    Ok(())
}

/// Removes rows of `table` written over a day ago (a killed run's), best effort: found by a
/// plain read, then deleted one by one by `key`, so that a sweep never waits on, or locks, the
/// rows of runs going on now.
fn sweep(client: &mut PgClient, table: &str, key: &str) {
    let Ok(rows) = client.query_raw_text(&format!(
        "SELECT {key}::text FROM {table} WHERE created < now() - interval '1 day' LIMIT 1000"
    )) else {
        return;
    };
    for k in rows {
        let _ = client.execute(
            &format!(
                "DELETE FROM {table} WHERE {key}::text = $1 AND created < now() - interval '1 day'"
            ),
            &[&k],
        );
    }
}

/// One connection and the runtime that drives it.
pub struct PgClient {
    runtime: Runtime,
    client: tokio_postgres::Client,
    deadline: Duration,
}

/// Where a configuration points, as messages name it: host:port.
pub fn place_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

impl PgClient {
    /// Connects to `url`, the whole handshake within `deadline`; every later call gets the
    /// same deadline. The error is worded "PostgreSQL at host:port: reason".
    pub fn connect(url: &str, deadline: Duration) -> Result<(PgClient, String), String> {
        let mut config: Config = url.parse().map_err(|e| format!("{e}"))?;
        let at = place_of(&config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(deadline);
        }
        // Named with the process, so that a DBA (or a test) can tell whose backends these are.
        config.application_name(format!("racedemo (pid {})", std::process::id()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting PostgreSQL's runtime: {e}"))?;
        let connected =
            runtime.block_on(async { tokio::time::timeout(deadline, config.connect(NoTls)).await });
        let (client, connection) = match connected {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                return Err(format!(
                    "PostgreSQL at {at}: {}",
                    PgError::Driver(e).describe()
                ));
            }
            Err(_) => {
                return Err(format!(
                    "PostgreSQL at {at}: {}",
                    PgError::Silent(deadline).describe()
                ));
            }
        };
        // Driven whenever a call below blocks on the runtime; ends when the client is dropped.
        runtime.spawn(connection);
        Ok((
            PgClient {
                runtime,
                client,
                deadline,
            },
            at,
        ))
    }

    fn call<T>(
        &self,
        future: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, PgError> {
        let deadline = self.deadline;
        match self
            .runtime
            .block_on(async { tokio::time::timeout(deadline, future).await })
        {
            Ok(done) => done.map_err(PgError::Driver),
            Err(_) => Err(PgError::Silent(deadline)),
        }
    }

    /// Changes the deadline of later calls (a clean-up that should not wait as long as a
    /// trial may).
    pub fn set_deadline(&mut self, deadline: Duration) {
        self.deadline = deadline;
    }

    pub fn prepare(&mut self, sql: &str) -> Result<Statement, PgError> {
        let client = &self.client;
        let future = client.prepare(sql);
        self.call(future)
    }

    pub fn batch_execute(&mut self, sql: &str) -> Result<(), PgError> {
        let client = &self.client;
        let future = client.batch_execute(sql);
        self.call(future)
    }

    /// The first column of every row `sql` returns, as text.
    pub fn query_raw_text(&mut self, sql: &str) -> Result<Vec<String>, PgError> {
        let client = &self.client;
        let future = client.query(sql, &[]);
        self.call(future)
            .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }

    /// Runs a statement (prepared, or SQL text): the rows it changed.
    pub fn execute<T: ?Sized + ToStatement>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, PgError> {
        let client = &self.client;
        let future = client.execute(statement, params);
        self.call(future)
    }

    /// The one row a statement returns, if any.
    pub fn query_opt<T: ?Sized + ToStatement>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, PgError> {
        let client = &self.client;
        let future = client.query_opt(statement, params);
        self.call(future)
    }

    /// The one row a statement must return.
    pub fn query_one<T: ?Sized + ToStatement>(
        &mut self,
        statement: &T,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, PgError> {
        let client = &self.client;
        let future = client.query_one(statement, params);
        self.call(future)
    }
}
