//! The harness: runs any [`Workload`] for a number of trials (or for a time), each on fresh
//! shared state, with its threads released together, and times every thread's part.
//!
//! It knows nothing about counters, strategies or reports: a workload says what one thread
//! does and what outcome a trial had; the caller decides what to keep of each trial.
//!
//! Two ways to run trials, chosen per run:
//! - one by one (`single`): spawn the threads, hold them at the start gate, join them. Each
//!   trial is timed exactly; the right way for trials of many increments.
//! - in lockstep batches (`batch`): for tiny trials on no more threads than CPUs, where spawning
//!   threads would cost a thousand times the trial. Long-lived workers run a batch of trials
//!   over separate states in strides of 32, each thread starting a stride only once every
//!   other thread has finished the one before, so they hit each state at the same moment.

#[cfg(not(shuttle))]
mod batch;
#[cfg_attr(shuttle, allow(dead_code))]
mod gate;
#[cfg(not(shuttle))]
mod runner;
#[cfg(shuttle)]
mod shuttle;
#[cfg_attr(shuttle, allow(dead_code))]
mod span;
mod trials;

use std::time::Duration;

pub use gate::StartMode;
#[cfg(not(shuttle))]
pub use runner::run;
#[cfg(shuttle)]
pub use shuttle::ShuttleThreads;
pub use span::{Span, overlap, spans_from};
pub use trials::{Stop, Trials, run_trials};

/// One OS thread per counted thread: beyond this a run measures the scheduler, not the race.
pub const MAX_THREADS: u64 = 1024;

/// Why `threads` are too many, naming them as `subject` ("--threads 2000"), or `None` within
/// [`MAX_THREADS`]: the one message for every place that counts threads.
pub fn over_thread_limit(subject: &str, threads: u64) -> Option<String> {
    (threads > MAX_THREADS).then(|| {
        format!(
            "{subject} is above the limit of {MAX_THREADS} threads: racedemo starts one OS \
             thread for each, and beyond that a run measures the scheduler, not the race"
        )
    })
}

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
    type State: Send + Sync;
    /// What a finished trial is judged on.
    type Outcome;

    /// How many threads one trial runs.
    fn threads(&self) -> usize;
    /// Fresh shared state for a new trial.
    fn fresh(&self) -> Self::State;
    /// One thread's part of a trial; the harness times exactly this call.
    fn run_thread(&self, state: &Self::State, ctx: ThreadCtx);
    /// The outcome of a trial, once every thread has finished its part.
    fn outcome(&self, state: Self::State) -> Self::Outcome;
    /// Makes a used state fresh again in place, and gives the outcome it held, if the workload
    /// can: lockstep batches then reuse their states instead of building each one and moving
    /// it in and out of the batch (most of a tiny trial's cost on the reading thread).
    fn renew(&self, _state: &Self::State) -> Option<Self::Outcome> {
        None
    }
    /// Whether a trial is so short (a few operations, no yield, no lock) that running trials
    /// in lockstep batches on long-lived threads shows it better and faster.
    fn is_tiny(&self) -> bool {
        false
    }
    /// Whether a thread may wait for another (a lock): then it must stay free to move between
    /// CPUs. Pinned next to a busy neighbour, a lock holder waits for that CPU while the
    /// waiters spin: on a loaded 2-core machine, waits past a 500 ms watchdog.
    fn waits(&self) -> bool {
        false
    }
}

/// How trials are run, whatever the workload.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Trials to run; with `duration`, the most to run.
    pub trials: u64,
    /// Run trials until this much time has passed (`--duration`).
    pub duration: Option<Duration>,
    pub start: StartMode,
    pub seed: u64,
    /// The index of the plan's first trial, so that trials run in several calls (a run that
    /// goes on until a race shows) each get seeds of their own.
    pub first_trial: u64,
    /// Logical CPUs of the machine; more threads than this makes the start gate yield.
    pub cpus: usize,
}

/// One finished trial.
#[derive(Debug)]
pub struct Trial<O> {
    pub outcome: O,
    /// From the first thread's start to the last thread's end. In a batch: the batch's span
    /// over its trials.
    pub elapsed_ns: u64,
    /// The share of that time during which at least two threads ran (the batch's, in a batch).
    pub overlap: f64,
}

/// How a run went, besides its trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunInfo {
    /// Wall-clock time of the whole run, thread start-up and bookkeeping included.
    pub wall_ns: u64,
    /// Whether trials ran in lockstep batches on long-lived threads.
    pub batched: bool,
    /// Whether the run was interrupted before its trials were done.
    pub interrupted: bool,
}

/// Set when the user asks the run to stop (a signal): no new trial starts, and the run returns
/// what completed.
// A process-wide flag, never modelled: std's atomic whatever the sync shim says.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks every run in this process to stop after the trials in flight.
pub fn interrupt() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Whether [`interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// No new trial starts once the time is spent or the user interrupted.
fn should_stop(plan: &Plan, started: std::time::Instant) -> bool {
    interrupted() || plan.duration.is_some_and(|d| started.elapsed() >= d)
}

/// SplitMix64 of the run seed, trial and thread: every thread of every trial gets its own
/// well-mixed stream. What the seed decides repeats from the one seed the report prints: the
/// random busy work of `--jitter` and `jitter` ops, draw for draw. The scheduling does not, so
/// neither do the outcomes: the same seed gives the same race windows, not the same race.
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
    struct SumOfIndices {
        threads: usize,
        tiny: bool,
    }

    impl Workload for SumOfIndices {
        type State = AtomicU64;
        type Outcome = u64;
        fn threads(&self) -> usize {
            self.threads
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
        fn is_tiny(&self) -> bool {
            self.tiny
        }
    }

    fn plan(trials: u64, start: StartMode, cpus: usize) -> Plan {
        Plan {
            trials,
            duration: None,
            start,
            seed: 1,
            first_trial: 0,
            cpus,
        }
    }

    #[test]
    fn every_trial_runs_every_thread_on_fresh_state() {
        for start in [StartMode::Barrier, StartMode::Naive] {
            let mut outcomes = Vec::new();
            let info = run(
                &SumOfIndices {
                    threads: 5,
                    tiny: false,
                },
                &plan(7, start, 2),
                |t| {
                    assert!((0.0..=1.0).contains(&t.overlap));
                    outcomes.push(t.outcome);
                },
            )
            .unwrap();
            assert_eq!(outcomes, vec![15; 7]);
            assert!(!info.batched);
        }
    }

    #[test]
    fn tiny_trials_run_in_batches_and_every_one_is_counted() {
        // More trials than one batch holds, and not a multiple of it.
        let trials = batch::BATCH as u64 * 2 + 17;
        let mut outcomes = Vec::new();
        let info = run(
            &SumOfIndices {
                threads: 2,
                tiny: true,
            },
            &plan(trials, StartMode::Barrier, 4),
            |t| outcomes.push(t.outcome),
        )
        .unwrap();
        assert!(info.batched);
        assert_eq!(outcomes.len() as u64, trials);
        assert!(outcomes.iter().all(|&o| o == 3));
    }

    #[test]
    fn tiny_trials_with_more_threads_than_cpus_still_run_in_batches_every_one_counted() {
        let trials = batch::BATCH as u64 + 300;
        let mut outcomes = Vec::new();
        let info = run(
            &SumOfIndices {
                threads: 3,
                tiny: true,
            },
            &plan(trials, StartMode::Barrier, 2),
            |t| outcomes.push(t.outcome),
        )
        .unwrap();
        assert!(info.batched);
        assert_eq!(outcomes.len() as u64, trials);
        // 1 + 2 + 3: every thread ran on every trial's state.
        assert!(outcomes.iter().all(|&o| o == 6), "{:?}", &outcomes[..5]);
    }

    #[test]
    fn a_duration_ends_the_run_early() {
        let mut p = plan(u64::MAX, StartMode::Barrier, 4);
        p.duration = Some(Duration::from_millis(50));
        for tiny in [false, true] {
            let mut n = 0u64;
            let info = run(&SumOfIndices { threads: 2, tiny }, &p, |_| n += 1).unwrap();
            assert!(n > 0);
            assert!(info.wall_ns >= 50_000_000, "{info:?}");
            assert!(info.wall_ns < 5_000_000_000, "{info:?}");
        }
    }

    #[test]
    fn thread_seeds_differ_by_trial_and_thread_and_repeat_by_seed() {
        assert_eq!(thread_seed(7, 1, 2), thread_seed(7, 1, 2));
        assert_ne!(thread_seed(7, 1, 2), thread_seed(7, 2, 1));
        assert_ne!(thread_seed(7, 0, 0), thread_seed(8, 0, 0));
    }
}
