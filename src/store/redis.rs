//! The counter as one key on a Redis server: `GET` then `SET` races; `INCR`, `WATCH`/`MULTI`/
//! `EXEC` and a lock key are the fixes.

use std::time::Duration;

use redis::{Client, Cmd, ConnectionAddr, Value, cmd};

use super::{Attempt, Claimed, Connection, run_id};
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

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
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

fn connect(url: &str) -> Result<(redis::Connection, String), String> {
    let client = Client::open(url).map_err(|e| e.to_string())?;
    let at = match client.get_connection_info().addr() {
        ConnectionAddr::Tcp(host, port) => format!("{host}:{port}"),
        ConnectionAddr::TcpTls { host, port, .. } => format!("{host}:{port}"),
        other => other.to_string(),
    };
    let conn = client
        .get_connection_with_timeout(CONNECT_TIMEOUT)
        .map_err(|e| format!("Redis at {at}: {e}"))?;
    Ok((conn, at))
}

/// Sets the run's key to 0 (a key no other run holds).
pub fn set_up(url: &str) -> Result<Claimed, String> {
    let (mut conn, at) = connect(url)?;
    let fail = |e: redis::RedisError| format!("Redis at {at}: {e}");
    let slot = loop {
        let slot = run_id();
        let set: Value = cmd("SET")
            .arg(counter_key(slot))
            .arg(0)
            .arg("NX")
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
    let release = move || {
        let _ = cmd("DEL")
            .arg(counter_key(slot))
            .arg(lock_key(slot))
            .query::<Value>(&mut conn);
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
    pub fn open(url: &str, slot: u64) -> Result<Self, String> {
        let (conn, at) = connect(url)?;
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
            .map_err(|e| format!("Redis at {}: {e}", self.at))
    }

    fn get(&mut self) -> Result<u64, String> {
        let v: Option<u64> = self.run(cmd("GET").arg(&self.key))?;
        v.ok_or_else(|| format!("Redis at {}: the run's key {} is gone", self.at, self.key))
    }

    fn set(&mut self, value: u64) -> Result<(), String> {
        self.run::<Value>(cmd("SET").arg(&self.key).arg(value))
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
                self.run::<Value>(cmd("SET").arg(&self.key).arg(read + 1))?;
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
        self.set(0)
    }

    fn read(&mut self) -> Result<u64, String> {
        self.get()
    }
}
