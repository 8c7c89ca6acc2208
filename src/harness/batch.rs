//! Tiny trials in lockstep batches on long-lived threads.
//!
//! Spawning threads for a trial of one increment would cost a thousand times the trial, and
//! running many trials per thread without synchronising each one lets the threads drift apart
//! so that they never touch the same state at the same time (throughput that hides the race).
//! Here every worker walks the same batch of fresh states in order, in strides of a few dozen
//! trials, and starts a stride only once every other worker has finished the one before: one
//! cache-line handoff per stride keeps the threads on the same state at the same moment.
//!
//! With more workers than CPUs the same scheme runs, unpinned, with longer strides, and a
//! worker that waits yields its CPU at once: the worker it waits for may need that CPU. Only
//! the workers that happen to run together can race, and the report says so.

use std::io;
use std::thread;
use std::time::Instant;

use super::span::{overlap, spans_from};
use super::{Plan, ThreadCtx, Trial, Workload, should_stop, thread_seed};
use crate::sync::{
    AtomicBool, AtomicU64, AtomicUsize, CachePadded, Condvar, Mutex, Ordering, PoisonError, RwLock,
};

/// Trials per batch: long enough to pay for waking the workers, short enough to keep the
/// states (one per trial) small.
pub const BATCH: usize = 16384;

/// Trials a worker runs back to back between waits for the others (jcstress's strides). One
/// wait per trial costs a cache-line round trip per trial and starts the workers a round trip
/// apart; within a stride they walk the fresh states in step, each load a cache miss of the
/// same length, and race more often, not less: 55% of tiny trials at 32 against 17% at 1.
/// Much longer strides let them drift apart (7% at 4,096). See docs/PERFORMANCE.md.
const STRIDE: usize = 32;

/// The stride when workers outnumber the CPUs: a worker that waits for one not running gives
/// its CPU away, so each stride costs a trip through the scheduler. At 3 and 4 threads on 2
/// CPUs, 32 ran 9–11 M trials/s, 256 ran 15–17 M with more of them racing (6–10% against
/// 2–5%), and longer strides little more. See docs/PERFORMANCE.md.
const OVERSUBSCRIBED_STRIDE: usize = 256;

/// Spins with no pause hint first: a `pause` can take over a hundred cycles, and the worker
/// that happens to be in one when the other finishes would start its trial that much later.
const TIGHT_SPINS: u32 = 1 << 10;

/// Spins before a waiting worker starts yielding: the other worker may have been preempted.
const SPINS_BEFORE_YIELD: u32 = 1 << 12;

pub fn run<W: Workload>(
    workload: &W,
    plan: &Plan,
    started: Instant,
    on_trial: &mut impl FnMut(Trial<W::Outcome>),
) -> io::Result<()> {
    let threads = workload.threads();
    let oversubscribed = threads > plan.cpus;
    let shared = Shared::<W::State> {
        stride: if oversubscribed {
            OVERSUBSCRIBED_STRIDE
        } else {
            STRIDE
        },
        oversubscribed,
        states: RwLock::new(Vec::new()),
        progress: (0..threads)
            .map(|_| CachePadded::new(AtomicUsize::new(0)))
            .collect(),
        first_trial: AtomicU64::new(0),
        finished: AtomicBool::new(false),
        start: Rendezvous::new(threads + 1),
        end: Rendezvous::new(threads + 1),
        times: (0..threads).map(|_| Mutex::new(None)).collect(),
    };
    // Each worker on a CPU of its own. Left to itself, the scheduler wakes both workers on the
    // CPU that woke them and takes tens of milliseconds to move one away; until then they take
    // turns, so short runs never race and long ones race less.
    let cpus = core_affinity::get_core_ids().filter(|ids| ids.len() >= threads);
    thread::scope(|scope| {
        for index in 0..threads {
            let shared = &shared;
            let cpu = cpus.as_ref().map(|ids| ids[index]);
            let spawned = thread::Builder::new()
                .name(format!("racedemo-{index}"))
                .spawn_scoped(scope, move || {
                    if let Some(cpu) = cpu {
                        // A refusal only costs speed: the workers still run, just unpinned.
                        core_affinity::set_for_current(cpu);
                    }
                    shared.work(workload, plan, index)
                });
            if let Err(err) = spawned {
                shared.start.abort();
                shared.end.abort();
                return Err(err);
            }
        }
        let mut done = 0u64;
        while done < plan.trials && !should_stop(plan, started) {
            let n = (plan.trials - done).min(BATCH as u64) as usize;
            // Each state on lines of its own: a state sharing a line with the one before would be
            // in the cache of whichever thread wrote last, which would then win every race.
            // The vector keeps its capacity from batch to batch: a fresh 2 MB allocation would be
            // mapped anew each time and fault in page by page.
            {
                // States that can be renewed in place stay in the vector between batches (see
                // below); the rest are built here.
                let mut states = shared
                    .states
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                states.truncate(n);
                let have = states.len();
                states.extend((have..n).map(|_| CachePadded::new(workload.fresh())));
            }
            for p in &shared.progress {
                p.store(0, Ordering::Relaxed);
            }
            shared
                .first_trial
                .store(plan.first_trial + done, Ordering::Relaxed);
            // The rendezvous publishes the states and the reset progress to the workers.
            shared.start.wait();
            shared.end.wait();
            let times: Vec<(Instant, Instant)> = shared
                .times
                .iter()
                .filter_map(|t| t.lock().unwrap_or_else(PoisonError::into_inner).take())
                .collect();
            let spans = spans_from(&times);
            let elapsed = spans.iter().map(|s| s.end_ns).max().unwrap_or(0);
            let overlap = overlap(&spans);
            let mut states = shared
                .states
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let mut renewed = 0;
            for state in states.iter() {
                let Some(outcome) = workload.renew(state) else {
                    break;
                };
                renewed += 1;
                on_trial(Trial {
                    outcome,
                    elapsed_ns: elapsed / n as u64,
                    overlap,
                });
            }
            for state in states.drain(renewed..) {
                on_trial(Trial {
                    outcome: workload.outcome(state.into_inner()),
                    elapsed_ns: elapsed / n as u64,
                    overlap,
                });
            }
            done += n as u64;
        }
        shared.finished.store(true, Ordering::Release);
        shared.start.wait();
        Ok(())
    })
}

struct Shared<S> {
    stride: usize,
    /// More workers than CPUs: a wait yields at once, since the worker waited for may need
    /// this very CPU.
    oversubscribed: bool,
    states: RwLock<Vec<CachePadded<S>>>,
    /// How many trials of the batch each worker has finished.
    progress: Vec<CachePadded<AtomicUsize>>,
    first_trial: AtomicU64,
    finished: AtomicBool,
    start: Rendezvous,
    end: Rendezvous,
    times: Vec<Mutex<Option<(Instant, Instant)>>>,
}

impl<S: Send + Sync> Shared<S> {
    fn work<W: Workload<State = S>>(&self, workload: &W, plan: &Plan, index: usize) {
        loop {
            if !self.start.wait() || self.finished.load(Ordering::Acquire) {
                return;
            }
            {
                let states = self.states.read().unwrap_or_else(PoisonError::into_inner);
                let base = self.first_trial.load(Ordering::Relaxed);
                let began = Instant::now();
                for (stride, group) in states.chunks(self.stride).enumerate() {
                    let first = stride * self.stride;
                    self.wait_for_others(index, first);
                    for (k, state) in group.iter().enumerate() {
                        let ctx = ThreadCtx {
                            index,
                            seed: thread_seed(plan.seed, base + (first + k) as u64, index),
                        };
                        workload.run_thread(state, ctx);
                        // Only the stride's last store is waited for, but storing after every
                        // trial keeps the workers level: published once per stride, they ran
                        // 14 M trials/s and raced in 10% of them; per trial, 9 M and 55%.
                        self.progress[index].store(first + k + 1, Ordering::Release);
                    }
                }
                *self.times[index]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some((began, Instant::now()));
            }
            if !self.end.wait() {
                return;
            }
        }
    }

    /// Waits until every other worker has finished the trials before `j`.
    fn wait_for_others(&self, me: usize, j: usize) {
        for (other, progress) in self.progress.iter().enumerate() {
            if other == me {
                continue;
            }
            let mut spins = 0u32;
            while progress.load(Ordering::Acquire) < j {
                if self.oversubscribed {
                    thread::yield_now();
                } else if spins < TIGHT_SPINS {
                    spins += 1;
                } else if spins < SPINS_BEFORE_YIELD {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    thread::yield_now();
                }
            }
        }
    }
}

/// A reusable barrier that can be abandoned (std's cannot): once aborted, every wait returns
/// false at once, so a failed thread spawn never leaves the others waiting forever.
struct Rendezvous {
    parties: usize,
    state: Mutex<(usize, u64, bool)>,
    changed: Condvar,
}

impl Rendezvous {
    fn new(parties: usize) -> Self {
        Rendezvous {
            parties,
            state: Mutex::new((0, 0, false)),
            changed: Condvar::new(),
        }
    }

    fn wait(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.2 {
            return false;
        }
        let generation = s.1;
        s.0 += 1;
        if s.0 == self.parties {
            *s = (0, generation + 1, false);
            self.changed.notify_all();
            return true;
        }
        while s.1 == generation && !s.2 {
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        !s.2
    }

    fn abort(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).2 = true;
        self.changed.notify_all();
    }
}
