//! The harness: runs any [`Workload`] for a number of trials, each on fresh shared state,
//! with its threads released together, and times every thread's loop.
//!
//! It knows nothing about counters, strategies or reports: a workload says what one thread
//! does and what outcome a trial had; the caller decides what to keep of each trial.

mod gate;

use std::io;
use std::thread;
use std::time::Instant;

use gate::StartGate;
pub use gate::StartMode;

/// What a thread is told about itself.
#[derive(Debug, Clone, Copy)]
pub struct ThreadCtx {
    /// 0-based index among the trial's threads.
    pub index: usize,
    /// A seed of its own for this thread in this trial, derived from the run's seed.
    pub seed: u64,
}

/// Something many threads do at once, many times over.
pub trait Workload: Sync {
    /// What the threads share during one trial.
    type State: Sync;
    /// What a finished trial is judged on.
    type Outcome;

    /// How many threads one trial runs.
    fn threads(&self) -> usize;
    /// Fresh shared state for a new trial.
    fn fresh(&self) -> Self::State;
    /// One thread's part of a trial; the harness times exactly this call.
    fn run_thread(&self, state: &Self::State, ctx: ThreadCtx);
    /// The outcome of a trial, once every thread has joined.
    fn outcome(&self, state: Self::State) -> Self::Outcome;
}

/// How trials are run, whatever the workload.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub trials: u64,
    pub start: StartMode,
    pub seed: u64,
    /// Logical CPUs of the machine; more threads than this makes the start gate yield.
    pub cpus: usize,
}

/// When one thread was inside its loop, in nanoseconds from the trial's first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start_ns: u64,
    pub end_ns: u64,
}

/// One finished trial.
#[derive(Debug)]
pub struct Trial<O> {
    pub outcome: O,
    /// Every thread's loop, sorted by start.
    pub spans: Vec<Span>,
}

impl<O> Trial<O> {
    /// From the first thread's start to the last thread's end.
    pub fn elapsed_ns(&self) -> u64 {
        self.spans.iter().map(|s| s.end_ns).max().unwrap_or(0)
    }
}

/// Runs `plan.trials` trials of `workload`, handing each to `on_trial` as soon as it ends, so
/// the caller's memory, not the harness's, decides what is kept.
pub fn run<W: Workload>(
    workload: &W,
    plan: &Plan,
    mut on_trial: impl FnMut(Trial<W::Outcome>),
) -> io::Result<()> {
    for trial in 0..plan.trials {
        on_trial(run_trial(workload, plan, trial)?);
    }
    Ok(())
}

fn run_trial<W: Workload>(workload: &W, plan: &Plan, trial: u64) -> io::Result<Trial<W::Outcome>> {
    let threads = workload.threads();
    let state = workload.fresh();
    let gate = StartGate::new(plan.start, threads, plan.cpus);
    let times = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let ctx = ThreadCtx {
                index,
                seed: thread_seed(plan.seed, trial, index),
            };
            let (gate, state) = (&gate, &state);
            let spawned = thread::Builder::new()
                .name(format!("racedemo-{index}"))
                .spawn_scoped(scope, move || {
                    if !gate.wait() {
                        return None;
                    }
                    let start = Instant::now();
                    workload.run_thread(state, ctx);
                    Some((start, Instant::now()))
                });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(err) => {
                    gate.abort();
                    return Err(err);
                }
            }
        }
        // A worker that panicked is a bug in racedemo: let the panic surface as it is.
        Ok(handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<_>>())
    })?;
    let times: Vec<(Instant, Instant)> = times.into_iter().flatten().collect();
    Ok(Trial {
        outcome: workload.outcome(state),
        spans: spans_from(&times),
    })
}

fn spans_from(times: &[(Instant, Instant)]) -> Vec<Span> {
    let Some(origin) = times.iter().map(|t| t.0).min() else {
        return Vec::new();
    };
    let ns = |t: Instant| t.duration_since(origin).as_nanos().min(u64::MAX as u128) as u64;
    let mut spans: Vec<Span> = times
        .iter()
        .map(|&(s, e)| Span {
            start_ns: ns(s),
            end_ns: ns(e),
        })
        .collect();
    spans.sort_by_key(|s| s.start_ns);
    spans
}

/// SplitMix64 of the run seed, trial and thread: every thread of every trial gets its own
/// well-mixed stream, and the whole run repeats from the one seed the report prints.
pub fn thread_seed(seed: u64, trial: u64, thread: usize) -> u64 {
    let mut z = seed
        ^ trial.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (thread as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{AtomicU64, Ordering};

    /// Each thread adds its index + 1 with fetch_add: the outcome is exact.
    struct SumOfIndices(usize);

    impl Workload for SumOfIndices {
        type State = AtomicU64;
        type Outcome = u64;
        fn threads(&self) -> usize {
            self.0
        }
        fn fresh(&self) -> AtomicU64 {
            AtomicU64::new(0)
        }
        fn run_thread(&self, state: &AtomicU64, ctx: ThreadCtx) {
            state.fetch_add(ctx.index as u64 + 1, Ordering::Relaxed);
        }
        fn outcome(&self, state: AtomicU64) -> u64 {
            state.into_inner()
        }
    }

    #[test]
    fn every_trial_runs_every_thread_on_fresh_state() {
        for start in [StartMode::Barrier, StartMode::Naive] {
            let plan = Plan {
                trials: 7,
                start,
                seed: 1,
                cpus: 2,
            };
            let mut outcomes = Vec::new();
            run(&SumOfIndices(5), &plan, |t| {
                assert_eq!(t.spans.len(), 5);
                assert!(t.spans.iter().all(|s| s.start_ns <= s.end_ns));
                assert_eq!(t.spans[0].start_ns, 0);
                outcomes.push(t.outcome);
            })
            .unwrap();
            assert_eq!(outcomes, vec![15; 7]);
        }
    }

    #[test]
    fn thread_seeds_differ_by_trial_and_thread_and_repeat_by_seed() {
        assert_eq!(thread_seed(7, 1, 2), thread_seed(7, 1, 2));
        assert_ne!(thread_seed(7, 1, 2), thread_seed(7, 2, 1));
        assert_ne!(thread_seed(7, 0, 0), thread_seed(8, 0, 0));
    }
}
