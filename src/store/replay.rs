//! Hermitage's lost-update schedule (P4), replayed step by step on two connections of a SQL
//! server at one isolation level: T1 reads, T2 reads, T1 writes, T2 writes, T1 commits, T2
//! commits. Each step runs on its transaction's own thread; a step still running after
//! [`BLOCKED_AFTER`] is blocked (on a lock the other holds), and the schedule goes on with the
//! other transaction, as Hermitage's two terminals do.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread;
use std::time::Duration;

use serde::Serialize;

use super::Address;
use super::sql::{Fail, Sql};

/// How long a step may take before the replay calls it blocked.
pub const BLOCKED_AFTER: Duration = Duration::from_millis(300);
/// How long a blocked step may stay blocked before the replay gives up on the server.
const STUCK_AFTER: Duration = Duration::from_secs(15);

/// The outcome of a step that was blocked and then went through.
const DONE_LATE: &str = "done, once unblocked";

/// What the schedule came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Both committed, and the counter went up by one: T1's increment was overwritten.
    Lost,
    /// The server refused one transaction (a serialisation failure or a changed record).
    Aborted,
    /// The two waited on each other and the server killed one.
    Deadlock,
    /// Both committed and both increments counted.
    Serialized,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Lost => "lost",
            Verdict::Aborted => "aborted",
            Verdict::Deadlock => "deadlock",
            Verdict::Serialized => "serialized",
        }
    }
}

/// One step as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// 1 or 2.
    pub tx: u8,
    /// begin, read, write, commit.
    pub op: &'static str,
    /// The value read or written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
    /// ok, blocked, done (a blocked step finishing later), or the server's error.
    pub outcome: String,
}

impl Event {
    /// `T1 reads 0`, `T2 write blocks`, `T2 write fails (40001 ...)`.
    pub fn describe(&self) -> String {
        let value = self.value.map(|v| format!(" {v}")).unwrap_or_default();
        let (tx, op) = (self.tx, self.op);
        match self.outcome.as_str() {
            "ok" => format!("T{tx} {op}s{value}"),
            "blocked" => format!("T{tx} {op} blocks"),
            DONE_LATE => format!("T{tx} {op}s{value}, unblocked"),
            failed => format!("T{tx} {op} {failed}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replay {
    pub verdict: Verdict,
    /// The error code of the refused transaction, where one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The counter after both ended, from 0.
    pub final_value: u64,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Begin,
    Read,
    Write,
    Commit,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Begin => "begin",
            Op::Read => "read",
            Op::Write => "write",
            Op::Commit => "commit",
        }
    }
}

/// P4: the lost update.
const SCHEDULE: [(u8, Op); 8] = [
    (1, Op::Begin),
    (2, Op::Begin),
    (1, Op::Read),
    (2, Op::Read),
    (1, Op::Write),
    (2, Op::Write),
    (1, Op::Commit),
    (2, Op::Commit),
];

/// One transaction's connection on its own thread.
struct Session {
    orders: Option<Sender<Op>>,
    answers: Receiver<(Op, Result<Option<u64>, Fail>)>,
    handle: Option<thread::JoinHandle<()>>,
    /// The step sent and not yet answered (blocked).
    waiting: Option<Op>,
    failed: Option<String>,
}

impl Session {
    fn start(mut sql: Box<dyn Sql>, address: &Address) -> Session {
        let level = address.isolation;
        let (orders, inbox) = channel::<Op>();
        let (outbox, answers) = channel();
        let handle = thread::spawn(move || {
            let mut read = 0;
            let mut open = false;
            for op in inbox {
                let answer = match op {
                    Op::Begin => sql.begin(level).map(|()| None),
                    Op::Read => sql.select(false).map(|v| {
                        read = v;
                        Some(v)
                    }),
                    Op::Write => sql.set(read + 1).map(|()| Some(read + 1)),
                    Op::Commit => sql.commit().map(|()| None),
                };
                open = match (&answer, op) {
                    (Err(_), _) => {
                        sql.rollback();
                        false
                    }
                    (Ok(_), Op::Begin) => true,
                    (Ok(_), Op::Commit) => false,
                    _ => open,
                };
                if outbox.send((op, answer)).is_err() {
                    break;
                }
            }
            if open {
                sql.rollback();
            }
        });
        Session {
            orders: Some(orders),
            answers,
            handle: Some(handle),
            waiting: None,
            failed: None,
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.orders = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Replays P4 on the run's row at `address` (its isolation level), starting from 0; `admin`
/// resets and reads the counter.
pub fn replay(address: &Address, admin: &mut dyn super::Connection) -> Result<Replay, String> {
    admin.reset()?;
    let mut sessions = [
        Session::start(address.session()?, address),
        Session::start(address.session()?, address),
    ];
    let mut events = Vec::new();
    for (tx, op) in SCHEDULE {
        let s = &mut sessions[usize::from(tx - 1)];
        if s.failed.is_some() {
            continue;
        }
        // Its earlier step is still blocked: the step after it waits, as a terminal would.
        if s.waiting.is_some() {
            hear(s, tx, STUCK_AFTER, &mut events)?;
            if s.failed.is_some() {
                continue;
            }
        }
        s.orders
            .as_ref()
            .expect("open until dropped")
            .send(op)
            .map_err(|_| "a replay connection ended".to_string())?;
        s.waiting = Some(op);
        if !hear(s, tx, BLOCKED_AFTER, &mut events)? {
            events.push(Event {
                tx,
                op: op.name(),
                value: None,
                outcome: "blocked".into(),
            });
        }
        // The other one's blocked step may have gone through (or failed) because of this one.
        let other = usize::from(2 - tx);
        if sessions[other].waiting.is_some() {
            hear(&mut sessions[other], 3 - tx, BLOCKED_AFTER, &mut events)?;
        }
    }
    for (i, s) in sessions.iter_mut().enumerate() {
        if s.waiting.is_some() {
            hear(s, i as u8 + 1, STUCK_AFTER, &mut events)?;
        }
    }
    let error = sessions.iter().find_map(|s| s.failed.clone());
    drop(sessions);
    let final_value = admin.read()?;
    let verdict = match (&error, final_value) {
        (Some(e), _) if e.contains("deadlock") => Verdict::Deadlock,
        (Some(_), _) => Verdict::Aborted,
        (None, 2) => Verdict::Serialized,
        (None, _) => Verdict::Lost,
    };
    Ok(Replay {
        verdict,
        error,
        final_value,
        events,
    })
}

/// Waits up to `wait` for `s`'s step to end and records how it ended; false if it is still
/// running (and, after [`STUCK_AFTER`], an error).
fn hear(s: &mut Session, tx: u8, wait: Duration, events: &mut Vec<Event>) -> Result<bool, String> {
    match s.answers.recv_timeout(wait) {
        Ok((op, answer)) => {
            let blocked_before = events
                .iter()
                .any(|e| e.tx == tx && e.op == op.name() && e.outcome == "blocked");
            s.waiting = None;
            let (value, outcome) = match answer {
                Ok(v) if blocked_before => (v, DONE_LATE.to_string()),
                Ok(v) => (v, "ok".to_string()),
                Err(Fail::Refused(kind)) => {
                    s.failed = Some(kind.to_string());
                    (None, format!("fails: {kind}"))
                }
                Err(Fail::Fault(e)) => return Err(e),
            };
            events.push(Event {
                tx,
                op: op.name(),
                value,
                outcome,
            });
            Ok(true)
        }
        Err(RecvTimeoutError::Timeout) if wait == STUCK_AFTER => Err(format!(
            "the replay's T{tx} stayed blocked for {}s",
            STUCK_AFTER.as_secs()
        )),
        Err(RecvTimeoutError::Timeout) => Ok(false),
        Err(RecvTimeoutError::Disconnected) => Err("a replay connection ended".into()),
    }
}
