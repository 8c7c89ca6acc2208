//! The counter as one key on a Redis server: `GET` then `SET` races; `INCR`, `WATCH`/`MULTI`/
//! `EXEC` and a lock key are the fixes.

use std::time::Duration;

use redis::{Client, Cmd, ConnectionAddr, Value, cmd};

use super::{Attempt, CLEANUP, Claimed, Connection, run_id};
use crate::strategy::{StrategyKind, Support};

/// What each strategy does on Redis.
pub const STRATEGIES: [(StrategyKind, Support); 5] = [
    (
        StrategyKind::Unsafe,
        Support::Does("GET, then SET <read + 1>: a write between them is overwritten"),
    ),
    (
        StrategyKind::Locked,
        Support::Does(
            "SET a lock key NX PX 10000 with a random token (waiting while another holds it), GET, SET <read + 1>, then delete the lock only if it still holds this token",
        ),
    ),
    (
        StrategyKind::Atomic,
        Support::Does("INCR: the server reads and writes in one command"),
    ),
    (
        StrategyKind::Optimistic,
        Support::Does(
            "WATCH, GET, MULTI, SET <read + 1>, EXEC; EXEC answering nil means another wrote since WATCH: retry",
        ),
    ),
    (
        StrategyKind::Transaction,
        Support::Refused(
            "Redis has no read-then-write transaction: MULTI only queues commands, so nothing read inside it can be used (use optimistic, WATCH/MULTI/EXEC, or atomic, INCR)",
        ),
    ),
];

/// How long the run's key lives unless renewed: every trial's reset sets it again, so only a
/// key whose run was killed expires.
pub const KEY_MS: u64 = 24 * 60 * 60 * 1000;
/// How long a lock key lives if its holder dies without releasing it.
const LOCK_MS: u64 = 10_000;
/// Deletes the lock only for the holder that set it.
const UNLOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

pub fn check_url(url: &str) -> Result<(), String> {
    Client::open(url).map(|_| ()).map_err(|e| e.to_string())
}

/// The run's keys: racedemo's prefix and the run id.
pub fn counter_key(slot: u64) -> String {
    format!("racedemo:counter:{slot}")
}

fn lock_key(slot: u64) -> String {
    format!("racedemo:lock:{slot}")
}

/// Where `client` points, as messages name it: host:port.
fn place_of(client: &Client) -> String {
    match client.get_connection_info().addr() {
        ConnectionAddr::Tcp(host, port) => format!("{host}:{port}"),
        ConnectionAddr::TcpTls { host, port, .. } => format!("{host}:{port}"),
        other => other.to_string(),
    }
}

/// Why a command failed, in words: a timeout says what it means.
pub(super) fn describe(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        "no answer within the deadline (the server or the network between stopped without \
         closing the connection)"
            .into()
    } else {
        e.to_string()
    }
}

/// A connection to `url` whose every command gives up after `deadline`: a server that stops
/// answering without closing the connection ends the run instead of hanging it.
pub(super) fn connect(
    url: &str,
    deadline: Duration,
) -> Result<(redis::Connection, String), String> {
    let client = Client::open(url).map_err(|e| e.to_string())?;
    let at = place_of(&client);
    let fail = |e: redis::RedisError| format!("Redis at {at}: {}", describe(&e));
    let mut conn = client.get_connection_with_timeout(deadline).map_err(fail)?;
    conn.set_read_timeout(Some(deadline)).map_err(fail)?;
    conn.set_write_timeout(Some(deadline)).map_err(fail)?;
    // Named with the process, as CLIENT LIST shows it, so that whose connections these are can
    // be told.
    cmd("CLIENT")
        .arg("SETNAME")
        .arg(format!("racedemo-pid-{}", std::process::id()))
        .query::<Value>(&mut conn)
        .map_err(fail)?;
    Ok((conn, at))
}

/// The `redis-cli` command that runs `args` on the server at `url`, asking for the password
/// rather than printing it.
pub(super) fn cli_command(url: &str, args: &str) -> String {
    match Client::open(url) {
        Ok(c) => {
            let info = c.get_connection_info();
            let (host, port) = match info.addr() {
                ConnectionAddr::Tcp(h, p)
                | ConnectionAddr::TcpTls {
                    host: h, port: p, ..
                } => (h.clone(), *p),
                _ => ("127.0.0.1".into(), 6379),
            };
            let redis = info.redis_settings();
            let db = redis.db();
            format!(
                "redis-cli -h {host} -p {port}{}{}{} {args}",
                redis
                    .username()
                    .map_or(String::new(), |u| format!(" --user {u}")),
                if redis.password().is_some() {
                    " --askpass"
                } else {
                    ""
                },
                if db != 0 {
                    format!(" -n {db}")
                } else {
                    String::new()
                },
            )
        }
        Err(_) => format!("redis-cli -u '{}' {args}", super::without_password(url)),
    }
}

/// Sets the run's key to 0 (a key no other run holds).
pub fn set_up(url: &str, deadline: Duration) -> Result<Claimed, String> {
    let (mut conn, at) = connect(url, deadline)?;
    let fail = |e: redis::RedisError| format!("Redis at {at}: {}", describe(&e));
    let slot = loop {
        let slot = run_id();
        let set: Value = cmd("SET")
            .arg(counter_key(slot))
            .arg(0)
            .arg("NX")
            .arg("PX")
            .arg(KEY_MS)
            .query(&mut conn)
            .map_err(fail)?;
        if set != Value::Nil {
            break slot;
        }
    };
    let info: String = cmd("INFO").arg("server").query(&mut conn).map_err(fail)?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    let details = format!(
        "Redis {version} at {at}, key {}, lock key {}",
        counter_key(slot),
        lock_key(slot)
    );
    let url = url.to_string();
    let release = move || {
        let del = |conn: &mut redis::Connection| {
            cmd("DEL")
                .arg(counter_key(slot))
                .arg(lock_key(slot))
                .query::<Value>(conn)
                .map(|_| ())
                .map_err(|e| describe(&e))
        };
        // The run's own connection first, then a fresh one; else the note says what is left.
        let _ = conn.set_read_timeout(Some(CLEANUP));
        let why = match del(&mut conn) {
            Ok(()) => return Ok(()),
            Err(why) => why,
        };
        let second = connect(&url, CLEANUP).and_then(|(mut fresh, _)| del(&mut fresh));
        second.map_err(|again| {
            format!(
                "key {} on Redis at {at} ({why}; then {again}; it expires by itself within a \
                 day); remove it with: {}",
                counter_key(slot),
                cli_command(
                    &url,
                    &format!("DEL {} {}", counter_key(slot), lock_key(slot))
                )
            )
        })
    };
    Ok(Claimed {
        slot,
        details,
        release: Box::new(release),
    })
}

/// One connection.
pub struct Redis {
    conn: redis::Connection,
    at: String,
    key: String,
    lock: String,
}

impl Redis {
    pub fn open(url: &str, slot: u64, deadline: Duration) -> Result<Self, String> {
        let (conn, at) = connect(url, deadline)?;
        Ok(Redis {
            conn,
            at,
            key: counter_key(slot),
            lock: lock_key(slot),
        })
    }

    fn run<T: redis::FromRedisValue>(&mut self, command: &Cmd) -> Result<T, String> {
        command
            .query(&mut self.conn)
            .map_err(|e| format!("Redis at {}: {}", self.at, describe(&e)))
    }

    fn get(&mut self) -> Result<u64, String> {
        let v: Option<u64> = self.run(cmd("GET").arg(&self.key))?;
        v.ok_or_else(|| format!("Redis at {}: the run's key {} is gone", self.at, self.key))
    }

    fn set(&mut self, value: u64) -> Result<(), String> {
        self.run::<Value>(cmd("SET").arg(&self.key).arg(value).arg("PX").arg(KEY_MS))
            .map(|_| ())
    }

    fn lock(&mut self) -> Result<u64, String> {
        let token: u64 = rand::random();
        let mut pause = 10;
        loop {
            let got: Value = self.run(
                cmd("SET")
                    .arg(&self.lock)
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(LOCK_MS),
            )?;
            if got != Value::Nil {
                return Ok(token);
            }
            // Held by another: wait a little, a little longer each time (at most 1 ms), so
            // that waiting workers do not flood the server.
            std::thread::sleep(Duration::from_micros(rand::random_range(0..=pause)));
            pause = (pause * 2).min(1_000);
        }
    }

    fn unlock(&mut self, token: u64) -> Result<(), String> {
        self.run::<Value>(cmd("EVAL").arg(UNLOCK).arg(1).arg(&self.lock).arg(token))
            .map(|_| ())
    }
}

impl Connection for Redis {
    fn attempt(
        &mut self,
        strategy: StrategyKind,
        between: &mut dyn FnMut(),
    ) -> Result<Attempt, String> {
        Ok(match strategy {
            StrategyKind::Unsafe => {
                let read = self.get()?;
                between();
                self.set(read + 1)?;
                Attempt::Done(read)
            }
            // The in-memory locks are refused on stores before a run starts; one that got
            // here would take the store's own lock, as `locked` does.
            StrategyKind::Locked
            | StrategyKind::LockedRwLock
            | StrategyKind::LockedSemaphore
            | StrategyKind::LockedSpin => {
                let token = self.lock()?;
                let done = self.get().and_then(|read| {
                    between();
                    self.set(read + 1).map(|()| read)
                });
                self.unlock(token)?;
                Attempt::Done(done?)
            }
            StrategyKind::Atomic => {
                between();
                let after: u64 = self.run(cmd("INCR").arg(&self.key))?;
                Attempt::Done(after - 1)
            }
            StrategyKind::Optimistic => {
                self.run::<Value>(cmd("WATCH").arg(&self.key))?;
                let read = self.get()?;
                between();
                self.run::<Value>(&cmd("MULTI"))?;
                self.run::<Value>(
                    cmd("SET")
                        .arg(&self.key)
                        .arg(read + 1)
                        .arg("PX")
                        .arg(KEY_MS),
                )?;
                match self.run::<Value>(&cmd("EXEC"))? {
                    Value::Nil => Attempt::Conflict,
                    _ => Attempt::Done(read),
                }
            }
            StrategyKind::Transaction => {
                return Err("Redis has no read-then-write transaction".into());
            }
        })
    }

    fn reset(&mut self) -> Result<(), String> {
        // Renews the key's expiry: only a key whose run stopped renewing it ever expires.
        self.run::<Value>(cmd("SET").arg(&self.key).arg(0).arg("PX").arg(KEY_MS))
            .map(|_| ())
    }

    fn read(&mut self) -> Result<u64, String> {
        self.get()
    }
}
