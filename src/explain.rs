//! `--explain`: one more trial with its increments recorded, and one lost update in it told
//! step by step ("thread 1 read 41; thread 2 read 41; thread 1 wrote 42; thread 2 wrote 42").
//!
//! Recording runs through the same harness, start gate and strategy code as every other trial;
//! it reads the clock just before each increment and just after it, never between the read and
//! the write, so the race window is the ordinary one. Only the first increments of each thread
//! are kept, [`MAX_RECORDED`] in all, so memory stays bounded however long the trial.

use std::collections::HashMap;
use std::io;
use std::marker::PhantomData;
use std::time::Instant;

use serde::Serialize;

use crate::counter::{CounterSpec, increment_loop};
use crate::harness::{self, Plan, ThreadCtx, Workload};
use crate::strategy::Strategy;
use crate::sync::{Mutex, PoisonError};
use crate::window::{Closed, Window};

/// Increments recorded per trial, over all threads: 2.4 MB of records.
pub const MAX_RECORDED: u64 = 100_000;

/// Recorded trials tried before giving up on finding a lost update.
pub const ATTEMPTS: u64 = 20;

/// One recorded increment: the value read (so `read + 1` was written), and when, in ns since
/// the trial's state was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Increment {
    pub read: u64,
    /// Just before the increment began.
    pub before_ns: u64,
    /// Just after it ended.
    pub after_ns: u64,
}

/// The counter workload with strategy `S`, recording each thread's first increments.
pub struct Recorder<S> {
    spec: CounterSpec,
    per_thread: u64,
    strategy: PhantomData<fn() -> S>,
}

impl<S: Strategy> Recorder<S> {
    pub fn new(spec: CounterSpec) -> Self {
        Recorder {
            spec,
            per_thread: spec
                .iterations
                .min(MAX_RECORDED / spec.threads as u64)
                .max(1),
            strategy: PhantomData,
        }
    }

    /// Increments recorded per thread.
    pub fn per_thread(&self) -> u64 {
        self.per_thread
    }

    fn run<W: Window>(&self, state: &Recording<S::Counter>, index: usize, window: &mut W) {
        let mut log = Vec::with_capacity(self.per_thread as usize);
        for _ in 0..self.per_thread {
            let before_ns = state.epoch.elapsed().as_nanos() as u64;
            let read = S::increment(&state.counter, window);
            let after_ns = state.epoch.elapsed().as_nanos() as u64;
            log.push(Increment {
                read,
                before_ns,
                after_ns,
            });
        }
        increment_loop::<S, W>(
            &state.counter,
            self.spec.iterations - self.per_thread,
            window,
        );
        *state.logs[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = log;
    }
}

/// A trial's counter and what each thread recorded.
pub struct Recording<C> {
    counter: C,
    epoch: Instant,
    logs: Vec<Mutex<Vec<Increment>>>,
}

/// What a recorded trial ended with.
pub struct Recorded {
    pub final_value: u64,
    /// Per thread, in the order it made them.
    pub logs: Vec<Vec<Increment>>,
}

impl<S: Strategy> Workload for Recorder<S> {
    type State = Recording<S::Counter>;
    type Outcome = Recorded;

    fn threads(&self) -> usize {
        self.spec.threads
    }

    fn fresh(&self) -> Self::State {
        Recording {
            counter: S::Counter::default(),
            epoch: Instant::now(),
            logs: (0..self.spec.threads)
                .map(|_| Mutex::new(Vec::new()))
                .collect(),
        }
    }

    fn run_thread(&self, state: &Self::State, ctx: ThreadCtx) {
        if self.spec.window.is_closed() {
            self.run(state, ctx.index, &mut Closed);
        } else {
            self.run(state, ctx.index, &mut self.spec.window.open(ctx.seed));
        }
    }

    fn outcome(&self, state: Self::State) -> Recorded {
        Recorded {
            final_value: S::value(&state.counter),
            logs: state
                .logs
                .into_iter()
                .map(|l| l.into_inner().unwrap_or_else(PoisonError::into_inner))
                .collect(),
        }
    }

    fn is_tiny(&self) -> bool {
        // Recorded trials always run one by one, through the start gate.
        false
    }
}

/// What `--explain` found, for the reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Which recorded trial this comes from (1 = the first).
    pub attempt: u64,
    /// Increments recorded per thread (the first ones).
    pub recorded_per_thread: u64,
    /// A lost update was found, and `steps` tell it; otherwise `steps` show two increments
    /// that followed each other correctly.
    pub lost_update: bool,
    pub steps: Vec<Step>,
    /// The recorded trial's final value and the one expected.
    pub final_value: u64,
    pub expected: u64,
    /// Who made the increments: "thread" or "process".
    pub who: &'static str,
    /// The recorded trial is one of the counted ones (on a store every trial records its
    /// first increments); else it ran after them.
    pub counted: bool,
}

/// One step of the story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    /// ns since the first step; absent where the clock cannot order the steps (a lock wait
    /// falls between the clock read and the read itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ns: Option<u64>,
    /// Counted from 1, as people count.
    pub thread: usize,
    pub action: Action,
    pub value: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Read,
    Wrote,
}

/// Records trials of `spec` with strategy `S`, as `plan` starts them, until one shows a lost
/// update ([`ATTEMPTS`] at most; one for a strategy that cannot lose one), and tells it.
pub fn record<S: Strategy>(spec: &CounterSpec, plan: &Plan) -> io::Result<Explanation> {
    let recorder = Recorder::<S>::new(*spec);
    let one = Plan {
        trials: 1,
        duration: None,
        ..*plan
    };
    let attempts = if S::KIND.is_racy() { ATTEMPTS } else { 1 };
    let mut last = None;
    for attempt in 1..=attempts {
        let mut recorded = None;
        harness::run(&recorder, &one, |trial| recorded = Some(trial.outcome))?;
        let Some(recorded) = recorded else { break };
        let explanation = |lost_update, steps| Explanation {
            attempt,
            recorded_per_thread: recorder.per_thread(),
            lost_update,
            steps,
            final_value: recorded.final_value,
            expected: spec.expected(),
            who: "thread",
            counted: false,
        };
        if let Some(steps) = lost_update(&recorded.logs) {
            return Ok(explanation(true, steps));
        }
        last = Some(explanation(
            false,
            handoff(&recorded.logs).unwrap_or_default(),
        ));
        if harness::interrupted() {
            break;
        }
    }
    Ok(last.unwrap_or(Explanation {
        attempt: 0,
        recorded_per_thread: recorder.per_thread(),
        lost_update: false,
        steps: Vec::new(),
        final_value: 0,
        expected: spec.expected(),
        who: "thread",
        counted: false,
    }))
}

/// Tells the first lost update in `logs`: two threads that read the same value, so that both
/// wrote the same value and one increment vanished. Prefers a pair whose increments overlapped
/// in time (the textbook interleaving); among those, the earliest.
pub fn lost_update(logs: &[Vec<Increment>]) -> Option<Vec<Step>> {
    let mut by_value: HashMap<u64, Vec<(usize, Increment)>> = HashMap::new();
    for (thread, log) in logs.iter().enumerate() {
        for &inc in log {
            by_value.entry(inc.read).or_default().push((thread, inc));
        }
    }
    // (overlapped, start, first, second), each increment with its thread.
    type Pair = (bool, u64, (usize, Increment), (usize, Increment));
    let mut best: Option<Pair> = None;
    for incs in by_value.values() {
        for (i, &(ta, a)) in incs.iter().enumerate() {
            for &(tb, b) in &incs[i + 1..] {
                if ta == tb {
                    continue;
                }
                let overlapped = a.before_ns <= b.after_ns && b.before_ns <= a.after_ns;
                let start = a.before_ns.min(b.before_ns);
                // Overlapping pairs first, then the earliest.
                let better = best.is_none_or(|(o, s, ..)| (overlapped, !start) > (o, !s));
                if better {
                    let (first, second) = if a.before_ns <= b.before_ns {
                        ((ta, a), (tb, b))
                    } else {
                        ((tb, b), (ta, a))
                    };
                    best = Some((overlapped, start, first, second));
                }
            }
        }
    }
    let (_, _, (ta, a), (tb, b)) = best?;
    let mut steps = vec![
        (a.before_ns, ta, Action::Read, a.read),
        (b.before_ns, tb, Action::Read, b.read),
        (a.after_ns, ta, Action::Wrote, a.read + 1),
        (b.after_ns, tb, Action::Wrote, b.read + 1),
    ];
    // Both reads came before either write could be seen (both read the same value), so the
    // reads lead even where the clock says otherwise.
    steps[2..].sort_by_key(|s| s.0);
    Some(timeline(&steps, true))
}

/// Two increments by different threads, one after the other, each reading what the one
/// before wrote: what a correct strategy does every time.
pub fn handoff(logs: &[Vec<Increment>]) -> Option<Vec<Step>> {
    let mut writer: HashMap<u64, usize> = HashMap::new();
    for (thread, log) in logs.iter().enumerate() {
        for inc in log {
            writer.insert(inc.read + 1, thread);
        }
    }
    let mut pairs: Vec<(u64, usize, usize)> = logs
        .iter()
        .enumerate()
        .flat_map(|(tb, log)| log.iter().map(move |inc| (inc.read, tb)))
        .filter_map(|(v, tb)| {
            writer
                .get(&v)
                .filter(|&&ta| ta != tb)
                .map(|&ta| (v, ta, tb))
        })
        .collect();
    pairs.sort_unstable();
    let &(v, ta, tb) = pairs.first()?;
    Some(timeline(
        &[
            (0, ta, Action::Read, v - 1),
            (0, ta, Action::Wrote, v),
            (0, tb, Action::Read, v),
            (0, tb, Action::Wrote, v + 1),
        ],
        false,
    ))
}

fn timeline(steps: &[(u64, usize, Action, u64)], timed: bool) -> Vec<Step> {
    let origin = steps.iter().map(|s| s.0).min().unwrap_or(0);
    steps
        .iter()
        .map(|&(ns, thread, action, value)| Step {
            ns: timed.then(|| ns - origin),
            thread: thread + 1,
            action,
            value,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(read: u64, before_ns: u64, after_ns: u64) -> Increment {
        Increment {
            read,
            before_ns,
            after_ns,
        }
    }

    fn said(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| {
                let verb = match s.action {
                    Action::Read => "read",
                    Action::Wrote => "wrote",
                };
                match s.ns {
                    Some(ns) => format!("+{ns} thread {} {verb} {}", s.thread, s.value),
                    None => format!("thread {} {verb} {}", s.thread, s.value),
                }
            })
            .collect()
    }

    #[test]
    fn two_threads_that_read_the_same_value_are_the_lost_update() {
        let logs = vec![
            vec![inc(0, 0, 10), inc(1, 20, 30), inc(41, 100, 140)],
            vec![inc(2, 40, 50), inc(41, 110, 150)],
        ];
        assert_eq!(
            said(&lost_update(&logs).unwrap()),
            [
                "+0 thread 1 read 41",
                "+10 thread 2 read 41",
                "+40 thread 1 wrote 42",
                "+50 thread 2 wrote 42"
            ]
        );
    }

    #[test]
    fn overlapping_pairs_win_over_earlier_ones_that_did_not_overlap() {
        // Value 5 read by both, but far apart in time (clock skew or a re-written value);
        // value 9 read by both while both increments were in flight.
        let logs = vec![
            vec![inc(5, 0, 10), inc(9, 500, 540)],
            vec![inc(5, 300, 310), inc(9, 520, 560)],
        ];
        let story = said(&lost_update(&logs).unwrap());
        assert_eq!(story[0], "+0 thread 1 read 9");
    }

    #[test]
    fn no_shared_read_means_no_lost_update_but_a_handoff() {
        let logs = vec![vec![inc(0, 0, 5), inc(2, 20, 25)], vec![inc(1, 10, 15)]];
        assert!(lost_update(&logs).is_none());
        assert_eq!(
            said(&handoff(&logs).unwrap()),
            [
                "thread 1 read 0",
                "thread 1 wrote 1",
                "thread 2 read 1",
                "thread 2 wrote 2"
            ]
        );
    }

    #[test]
    fn one_thread_alone_has_neither() {
        let logs = vec![vec![inc(0, 0, 5), inc(1, 6, 9)]];
        assert!(lost_update(&logs).is_none());
        assert!(handoff(&logs).is_none());
    }
}
