//! Workers on other machines: `racedemo worker --store URL --run NAME` processes that joined
//! this run through the store's notice board ([`crate::store::board`]). The coordinator posts
//! the run, waits for its workers, and per trial posts the order, waits until every worker is
//! armed, posts "go", and collects the parts; heartbeats on the board tell a slow worker from
//! a lost one, as with local processes.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Crew, CrewKind, Order, Part, Stop};
use crate::store::board::Board;
use crate::store::{Isolation, StoreKind};

/// A coordinator whose "alive" mark is older than this is gone: its run can be taken over,
/// and its workers leave.
pub const STALE: Duration = Duration::from_secs(10);
/// How often the coordinator renews its mark, at most.
const TOUCH: Duration = Duration::from_secs(1);
/// How long to sleep between looks at the board.
const POLL: Duration = Duration::from_millis(5);

/// Run names: what a board key and a Redis pattern can hold literally.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "run name '{name}': use 1 to 64 letters, digits, '-', '_' or '.'"
        ))
    }
}

/// A key of run `name` on the board.
pub fn key(name: &str, rest: &str) -> String {
    format!("run:{name}/{rest}")
}

/// What the coordinator posts under `run`: what every worker needs to join.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub kind: StoreKind,
    /// The run's row or key.
    pub slot: u64,
    pub isolation: Option<Isolation>,
    pub workers: usize,
    /// The coordinator, as "host (pid N)".
    pub by: String,
}

/// Who a worker is, under `worker/I`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub host: String,
    pub pid: u32,
}

impl Member {
    pub fn me() -> Member {
        Member {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
        }
    }

    pub fn label(&self) -> String {
        format!("{} (pid {})", self.host, self.pid)
    }
}

/// Under `order`: the next trial, or the end of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "lowercase")]
pub enum Posted {
    Trial { seq: u64, order: Order },
    End,
}

/// Under `beat/I`: alive (`n` grows every beat), and how far in trial `seq`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Beat {
    pub seq: u64,
    pub n: u64,
    pub done: u64,
}

/// Under `part/SEQ/I`: how a worker's trial ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "lowercase")]
pub enum Outcome {
    Done(Part),
    Failed { message: String },
}

pub fn now_ms() -> u64 {
    super::epoch_ns() / 1_000_000
}

/// The coordinator's side.
pub struct Remote {
    board: Box<dyn Board>,
    name: String,
    members: Vec<Member>,
    seq: u64,
    timeout: Duration,
    touched: Instant,
}

impl Remote {
    /// Posts run `name` and waits up to `timeout` for `count` workers to join.
    pub fn start(
        mut board: Box<dyn Board>,
        name: &str,
        record: RunRecord,
        timeout: Duration,
    ) -> Result<Self, String> {
        let text = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        if !board.create(&key(name, "run"), &text)? {
            let alive = board
                .get(&key(name, "alive"))?
                .and_then(|a| a.parse::<u64>().ok());
            if alive.is_some_and(|a| now_ms().saturating_sub(a) < STALE.as_millis() as u64) {
                let by = board
                    .get(&key(name, "run"))?
                    .and_then(|r| serde_json::from_str::<RunRecord>(&r).ok())
                    .map_or("another racedemo".to_string(), |r| r.by);
                return Err(format!(
                    "a run named '{name}' is already going on this store (coordinated by {by}); \
                     name this one differently"
                ));
            }
            // A run left behind by a coordinator that was killed: take its place.
            board.clear(&key(name, ""))?;
            if !board.create(&key(name, "run"), &text)? {
                return Err(format!(
                    "run '{name}' was started by another racedemo just now"
                ));
            }
        }
        board.put(&key(name, "alive"), &now_ms().to_string())?;
        let mut remote = Remote {
            board,
            name: name.to_string(),
            members: Vec::new(),
            seq: 0,
            timeout,
            touched: Instant::now(),
        };
        let started = Instant::now();
        let count = record.workers;
        eprintln!(
            "racedemo: run '{name}' is waiting for {count} worker{}: on each machine, \
             racedemo worker --store URL --run {name}",
            if count == 1 { "" } else { "s" }
        );
        let mut members: Vec<Option<Member>> = vec![None; count];
        while members.iter().any(Option::is_none) {
            for (i, m) in members.iter_mut().enumerate() {
                if m.is_none() {
                    *m = remote
                        .board
                        .get(&key(name, &format!("worker/{i}")))?
                        .and_then(|t| serde_json::from_str(&t).ok());
                }
            }
            let joined = members.iter().flatten().count();
            if joined < count && started.elapsed() > timeout {
                return Err(format!(
                    "only {joined} of {count} remote workers joined run '{name}' within {}",
                    humantime::format_duration(timeout)
                ));
            }
            if crate::harness::interrupted() {
                return Err("interrupted while waiting for remote workers".into());
            }
            remote.touch()?;
            std::thread::sleep(Duration::from_millis(50));
        }
        remote.members = members.into_iter().flatten().collect();
        Ok(remote)
    }

    /// Each worker, as "host (pid N)", in index order.
    pub fn members(&self) -> Vec<String> {
        self.members.iter().map(Member::label).collect()
    }

    fn touch(&mut self) -> Result<(), String> {
        if self.touched.elapsed() >= TOUCH {
            self.board
                .put(&key(&self.name, "alive"), &now_ms().to_string())?;
            self.touched = Instant::now();
        }
        Ok(())
    }

    fn who(&self, i: usize) -> String {
        format!("remote worker {} ({})", i + 1, self.members[i].label())
    }

    /// Waits until every worker has posted `what/SEQ/I`, watching heartbeats meanwhile.
    fn gather(&mut self, what: &str) -> Result<Vec<String>, Stop> {
        let n = self.members.len();
        let mut got: Vec<Option<String>> = vec![None; n];
        let mut beats: Vec<Option<Beat>> = vec![None; n];
        let mut heard_at = vec![Instant::now(); n];
        let mut moved_at = vec![Instant::now(); n];
        let mut looked = Instant::now();
        while got.iter().any(Option::is_none) {
            for (i, slot) in got.iter_mut().enumerate() {
                if slot.is_none() {
                    let k = key(&self.name, &format!("{what}/{}/{i}", self.seq));
                    *slot = self.board.get(&k)?;
                }
            }
            if crate::harness::interrupted() {
                return Err(Stop::Interrupted);
            }
            self.touch()?;
            // Heartbeats every quarter second: the board is the store being measured.
            if looked.elapsed() >= Duration::from_millis(250) {
                looked = Instant::now();
                for i in (0..n).filter(|&i| got[i].is_none()) {
                    let beat: Option<Beat> = self
                        .board
                        .get(&key(&self.name, &format!("beat/{i}")))?
                        .and_then(|b| serde_json::from_str(&b).ok());
                    if let Some(b) = beat {
                        let before = beats[i];
                        if before.is_none_or(|p| p.n != b.n) {
                            heard_at[i] = Instant::now();
                        }
                        if before.is_none_or(|p| p.done != b.done || p.seq != b.seq) {
                            moved_at[i] = Instant::now();
                        }
                        beats[i] = Some(b);
                    }
                }
                for i in (0..n).filter(|&i| got[i].is_none()) {
                    if heard_at[i].elapsed() > self.timeout {
                        return Err(Stop::Fault(format!(
                            "{} sent nothing for {}; stopped",
                            self.who(i),
                            humantime::format_duration(self.timeout)
                        )));
                    }
                    if moved_at[i].elapsed() > self.timeout * 2 {
                        return Err(Stop::Fault(format!(
                            "{} made no progress for {}; stopped",
                            self.who(i),
                            humantime::format_duration(self.timeout * 2)
                        )));
                    }
                }
            }
            std::thread::sleep(POLL);
        }
        Ok(got.into_iter().flatten().collect())
    }
}

impl Crew for Remote {
    fn kind(&self) -> CrewKind {
        CrewKind::Remote
    }

    fn trial(&mut self, order: &Order) -> Result<Vec<Part>, Stop> {
        self.seq += 1;
        let posted = Posted::Trial {
            seq: self.seq,
            order: order.clone(),
        };
        let text = serde_json::to_string(&posted).map_err(|e| e.to_string())?;
        self.board.put(&key(&self.name, "order"), &text)?;
        self.gather("armed")?;
        self.board
            .put(&key(&self.name, "go"), &self.seq.to_string())?;
        let outcomes = self.gather("part")?;
        let mut parts = Vec::with_capacity(outcomes.len());
        for (i, text) in outcomes.iter().enumerate() {
            match serde_json::from_str::<Outcome>(text) {
                Ok(Outcome::Done(part)) => parts.push(part),
                Ok(Outcome::Failed { message }) => {
                    return Err(Stop::Fault(format!("{}: {message}", self.who(i))));
                }
                Err(e) => {
                    return Err(Stop::Fault(format!(
                        "{} posted something unreadable: {e}",
                        self.who(i)
                    )));
                }
            }
        }
        Ok(parts)
    }
}

impl Drop for Remote {
    /// Tells the workers the run is over, then removes the run's keys from the board.
    fn drop(&mut self) {
        if let Ok(end) = serde_json::to_string(&Posted::End) {
            let _ = self.board.put(&key(&self.name, "order"), &end);
        }
        // Workers see "end" within a few polls; after that, nothing of the run is left.
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.board.clear(&key(&self.name, ""));
    }
}
