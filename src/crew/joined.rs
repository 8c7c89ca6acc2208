//! `racedemo worker`: one worker of a run coordinated from another machine. It waits for the
//! run to appear on the store's board, claims a place in it, and runs each trial it is
//! ordered to with the same loop as every other worker, until the run ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use super::remote::{Beat, Member, Outcome, Posted, RunRecord, STALE, claim_key, fresh, key};
use super::{BEAT, work};
use crate::store::board::{self, Board};
use crate::store::{Address, Counts, StoreKind};

/// What a worker did over the whole run.
pub struct Served {
    pub index: usize,
    pub of: usize,
    pub trials: u64,
    pub counts: Counts,
}

/// Joins run `name` on the store at `url`, waiting up to `wait` for it to appear, and serves
/// it to the end.
pub fn serve(kind: StoreKind, url: &str, name: &str, wait: Duration) -> Result<Served, String> {
    let mut board = board::open(kind, url, crate::store::DEADLINE)?;
    let shown = crate::store::redact(url);
    let started = Instant::now();
    let record = loop {
        let record: Option<RunRecord> = board
            .get(&key(name, "run"))?
            .and_then(|r| serde_json::from_str(&r).ok());
        if let Some(r) = record
            && alive(board.as_mut(), name)?
        {
            break r;
        }
        if started.elapsed() > wait {
            return Err(format!(
                "no run named '{name}' appeared on {shown} within {}",
                humantime::format_duration(wait)
            ));
        }
        if crate::harness::interrupted() {
            return Err("interrupted while waiting for the run".into());
        }
        thread::sleep(Duration::from_millis(100));
    };
    if record.kind != kind {
        return Err(format!(
            "run '{name}' counts on {}, not {}",
            record.kind.title(),
            kind.title()
        ));
    }
    // From here on, the run's deadline: a partition ends this worker as it ends the run.
    if let Some(ms) = record.deadline_ms {
        board = board::open(kind, url, Duration::from_millis(ms))?;
    }
    let me = serde_json::to_string(&Member::me()).map_err(|e| e.to_string())?;
    let mut index = None;
    for i in 0..record.workers {
        if board.create(&key(name, &format!("worker/{i}")), &me)? {
            index = Some(i);
            break;
        }
    }
    let Some(index) = index else {
        return Err(format!(
            "run '{name}' already has its {} workers",
            record.workers
        ));
    };
    let address = Address {
        kind,
        location: url.to_string(),
        slot: record.slot,
        isolation: record.isolation,
        deadline_ms: record.deadline_ms,
    };
    let mut conn = address.connect()?;
    let mut mine = Mine {
        name: name.to_string(),
        index,
        seq: 0,
    };
    eprintln!(
        "racedemo worker: joined run '{name}' as worker {} of {} (coordinated by {})",
        index + 1,
        record.workers,
        record.by
    );
    let mut served = Served {
        index,
        of: record.workers,
        trials: 0,
        counts: Counts::default(),
    };
    let mut last = 0;
    let mut checked = Instant::now();
    loop {
        if crate::harness::interrupted() {
            return Err("interrupted".into());
        }
        let posted: Option<Posted> = board
            .get(&key(name, "order"))?
            .and_then(|p| serde_json::from_str(&p).ok());
        match posted {
            Some(Posted::End { fault }) => {
                // Said before leaving, so that the coordinator clears the run after this
                // worker's last write; then this worker's own keys go.
                let _ = board.put(&key(name, &format!("left/{index}")), "1");
                mine.remove(board.as_mut());
                return match fault {
                    None => Ok(served),
                    Some(fault) => Err(format!("run '{name}' stopped: {fault}")),
                };
            }
            Some(Posted::Trial { seq, order }) if seq > last => {
                last = seq;
                mine.seq = seq;
                board.put(&key(name, &format!("armed/{seq}/{index}")), "1")?;
                if !wait_for_go(board.as_mut(), name, seq)? {
                    // The run ended while this trial was being armed: the order now says how.
                    continue;
                }
                let part =
                    with_heartbeat(kind, url, address.deadline(), name, seq, index, |done| {
                        work(conn.as_mut(), &order, index, done)
                    })?;
                let outcome = match part {
                    Ok(part) => {
                        served.trials += 1;
                        served.counts.merge(&part.counts);
                        Outcome::Done(part)
                    }
                    Err(message) => Outcome::Failed { message },
                };
                let text = serde_json::to_string(&outcome).map_err(|e| e.to_string())?;
                board.put(&key(name, &format!("part/{seq}/{index}")), &text)?;
                if let Outcome::Failed { message } = outcome {
                    return Err(message);
                }
            }
            _ => {}
        }
        if checked.elapsed() > Duration::from_secs(1) {
            checked = Instant::now();
            if !alive(board.as_mut(), name)? {
                // Gone without saying "end" (killed, or it cleared the run while this worker
                // was still in a trial): nothing of this worker's may stay behind it.
                mine.remove(board.as_mut());
                return Err(format!(
                    "the coordinator of run '{name}' stopped answering before the run's end"
                ));
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether run `name`'s coordinator marked itself alive recently.
fn alive(board: &mut dyn Board, name: &str) -> Result<bool, String> {
    Ok(board.get(&claim_key(name))?.is_some_and(|m| fresh(&m)))
}

/// What this worker writes on the board, so that it can remove it when the run is over and
/// nothing of it outlives the run, even a write that came after the coordinator's clear.
struct Mine {
    name: String,
    index: usize,
    /// The last trial it was ordered to run.
    seq: u64,
}

impl Mine {
    fn remove(&self, board: &mut dyn Board) {
        board.set_deadline(crate::store::CLEANUP);
        let i = self.index;
        for rest in [
            format!("beat/{i}"),
            format!("armed/{}/{i}", self.seq),
            format!("part/{}/{i}", self.seq),
            format!("worker/{i}"),
        ] {
            // The coordinator clears whatever this cannot.
            let _ = board.remove(&key(&self.name, &rest));
        }
    }
}

/// Waits for the coordinator's "go" for trial `seq`: polled every millisecond, so that the
/// workers start within about a millisecond of each other. False when the run ended instead
/// (its coordinator posted "end" or cleared the run): another worker never armed for this
/// trial, and the run stopped without it.
fn wait_for_go(board: &mut dyn Board, name: &str, seq: u64) -> Result<bool, String> {
    let since = Instant::now();
    let mut looked = Instant::now();
    loop {
        if board.get(&key(name, "go"))?.as_deref() == Some(&seq.to_string()) {
            return Ok(true);
        }
        if looked.elapsed() > Duration::from_millis(100) {
            looked = Instant::now();
            let ended = match board.get(&key(name, "order"))? {
                None => true,
                Some(p) => matches!(serde_json::from_str(&p), Ok(Posted::End { .. })),
            };
            if ended {
                return Ok(false);
            }
        }
        if since.elapsed() > STALE && !alive(board, name)? {
            return Err(format!("the coordinator of run '{name}' stopped answering"));
        }
        if crate::harness::interrupted() {
            return Err("interrupted".into());
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `trial` while a second thread, on a board connection of its own, posts a beat every
/// [`BEAT`].
fn with_heartbeat<T: Send>(
    kind: StoreKind,
    url: &str,
    deadline: Duration,
    name: &str,
    seq: u64,
    index: usize,
    trial: impl FnOnce(&AtomicU64) -> T,
) -> Result<T, String> {
    let mut beats = board::open(kind, url, deadline)?;
    let done = AtomicU64::new(0);
    let (finished, wait) = mpsc::channel::<()>();
    let beat_key = key(name, &format!("beat/{index}"));
    Ok(thread::scope(|scope| {
        let done = &done;
        scope.spawn(move || {
            let mut n = 0;
            while let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(BEAT) {
                n += 1;
                let beat = Beat {
                    seq,
                    n,
                    done: done.load(Ordering::Relaxed),
                };
                if let Ok(text) = serde_json::to_string(&beat) {
                    let _ = beats.put(&beat_key, &text);
                }
            }
        });
        let result = trial(done);
        drop(finished);
        result
    }))
}
