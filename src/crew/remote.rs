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
/// How long the end of a run waits for its workers to say they left.
const LEAVE: Duration = Duration::from_secs(5);

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

/// The key that says who owns run name `name`, holding the owner's last alive mark: taken by
/// one atomic create, and from a stale owner only by a compare-and-set on its mark.
pub fn claim_key(name: &str) -> String {
    format!("run:{name}")
}

/// An alive mark: the time, and a token no other coordinator's mark has, so that a
/// compare-and-set on it can tell whose it is.
fn mark() -> String {
    format!("{}:{:016x}", now_ms(), rand::random::<u64>())
}

/// Whether `mark` was written within [`STALE`].
pub fn fresh(mark: &str) -> bool {
    let ms = mark.split(':').next().and_then(|m| m.parse::<u64>().ok());
    ms.is_some_and(|at| now_ms().saturating_sub(at) < STALE.as_millis() as u64)
}

/// Takes run name `name` on `board` for this coordinator: the alive mark it now holds, or why
/// not. Exactly one of any number of coordinators started at once gets it.
pub fn claim(board: &mut dyn Board, name: &str) -> Result<String, String> {
    let mine = mark();
    let claim = claim_key(name);
    if board.create(&claim, &mine)? {
        return Ok(mine);
    }
    match board.get(&claim)? {
        // Removed between the two looks: one more try, as anyone else's.
        None => {
            if board.create(&claim, &mine)? {
                Ok(mine)
            } else {
                Err(format!(
                    "run '{name}' was started by another racedemo just now; name this one \
                     differently"
                ))
            }
        }
        Some(theirs) if fresh(&theirs) => {
            let by = board
                .get(&key(name, "run"))?
                .and_then(|r| serde_json::from_str::<RunRecord>(&r).ok())
                .map_or("another racedemo".to_string(), |r| r.by);
            Err(format!(
                "a run named '{name}' is already going on this store (coordinated by {by}); \
                 name this one differently"
            ))
        }
        // A run left behind by a coordinator that was killed: taken over only if its mark is
        // still the stale one seen, so that of two taking over at once, one does.
        Some(stale) => {
            if board.swap(&claim, &stale, &mine)? {
                Ok(mine)
            } else {
                Err(format!(
                    "run '{name}' was taken over by another racedemo just now; name this one \
                     differently"
                ))
            }
        }
    }
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
    /// How long the server may leave a call unanswered (`--worker-timeout`), in ms: the
    /// workers' deadline too, so that a partition ends them as it ends the coordinator.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
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

/// Under `order`: the next trial, or the end of the run (with the fault that ended it, if
/// one did: every worker then exits with status 3, whichever store it is).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "lowercase")]
pub enum Posted {
    Trial {
        seq: u64,
        order: Order,
    },
    End {
        #[serde(default)]
        fault: Option<String>,
    },
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
    kind: StoreKind,
    url: String,
    name: String,
    /// This coordinator's alive mark as last written under the claim key.
    mark: String,
    members: Vec<Member>,
    seq: u64,
    timeout: Duration,
    touched: Instant,
    /// Said once the run is over and its keys removed (or named as left behind).
    closed: bool,
}

impl Remote {
    /// Posts run `name` and waits up to `timeout` for `count` workers to join.
    pub fn start(
        mut board: Box<dyn Board>,
        url: &str,
        name: &str,
        record: RunRecord,
        timeout: Duration,
    ) -> Result<Self, String> {
        let text = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        let mark = claim(board.as_mut(), name)?;
        let mut remote = Remote {
            board,
            kind: record.kind,
            url: url.to_string(),
            name: name.to_string(),
            mark,
            members: Vec::new(),
            seq: 0,
            timeout,
            touched: Instant::now(),
            closed: false,
        };
        // The name is this run's now: whatever an earlier run of the name left goes first.
        remote.board.clear(&key(name, ""))?;
        remote.board.put(&key(name, "run"), &text)?;
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

    /// Renews the alive mark, only while it is still this coordinator's.
    fn touch(&mut self) -> Result<(), String> {
        if self.touched.elapsed() >= TOUCH {
            let next = mark();
            if !self.board.swap(&claim_key(&self.name), &self.mark, &next)? {
                return Err(format!(
                    "run '{}' was taken over by another racedemo while this one was silent for \
                     over {}s",
                    self.name,
                    STALE.as_secs()
                ));
            }
            self.mark = next;
            self.touched = Instant::now();
        }
        Ok(())
    }

    /// Ends the run: tells the workers (and why, when `fault` stopped it), waits a little for
    /// each to say it left, then removes every key of the run. `Some`: what could not be
    /// removed, with the command that removes it.
    pub fn finish(&mut self, fault: Option<&str>) -> Option<String> {
        if self.closed {
            return None;
        }
        self.closed = true;
        // A board that stopped answering should not hold the end up for long.
        self.board.set_deadline(crate::store::CLEANUP);
        let end = Posted::End {
            fault: fault.map(str::to_string),
        };
        let posted = serde_json::to_string(&end)
            .map_err(|e| e.to_string())
            .and_then(|text| self.board.put(&key(&self.name, "order"), &text));
        if posted.is_ok() {
            // Workers see "end" within a few polls, or after the trial they are in; each says
            // it left, so that nothing it writes comes after the clear.
            let since = Instant::now();
            let mut left = vec![false; self.members.len()];
            while left.iter().any(|l| !l) && since.elapsed() < LEAVE {
                for (i, l) in left.iter_mut().enumerate() {
                    if !*l {
                        *l = matches!(
                            self.board.get(&key(&self.name, &format!("left/{i}"))),
                            Ok(Some(_)) | Err(_)
                        );
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let cleared = self
            .board
            .clear(&key(&self.name, ""))
            .and_then(|()| self.board.remove(&claim_key(&self.name)));
        cleared.err().map(|why| {
            format!(
                "the keys of run '{}' on the {} board ({why}; they expire within a day); remove \
                 them with: {}",
                self.name,
                self.kind.title(),
                crate::store::board::removal_command(
                    self.kind,
                    &self.url,
                    &key(&self.name, ""),
                    &claim_key(&self.name)
                )
            )
        })
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

    fn close(&mut self, fault: Option<&str>) -> Option<String> {
        self.finish(fault)
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
    /// A run ended without [`Remote::finish`] (an early return) still ends for its workers.
    fn drop(&mut self) {
        let _ = self.finish(None);
    }
}
