//! Model checking with loom: every interleaving of a few threads, not a sample of them.
//! Built and run by `.ci/run` as
//! `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom`.
#![cfg(loom)]

use std::sync::atomic::{AtomicU64 as StdAtomicU64, Ordering as StdOrdering};

use loom::sync::Arc;
use loom::thread;
use racedemo::gate::{StartGate, StartMode};
use racedemo::strategy::{
    Atomic, Locked, LockedRwLock, LockedSemaphore, LockedSpin, Optimistic, Racy, Strategy,
};
use racedemo::window::Closed;

/// Runs `threads` threads of `increments` increments with strategy `S` under loom and returns
/// the smallest and largest final values over every execution explored.
fn explore<S: Strategy>(
    threads: usize,
    increments: u64,
    preemption_bound: Option<usize>,
) -> (u64, u64)
where
    S::Counter: Send + Sync + 'static,
{
    // Outside the model: loom runs the closure once per execution.
    let min = std::sync::Arc::new(StdAtomicU64::new(u64::MAX));
    let max = std::sync::Arc::new(StdAtomicU64::new(0));
    let (min_in, max_in) = (min.clone(), max.clone());
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemption_bound;
    builder.check(move || {
        let counter = Arc::new(S::Counter::default());
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let counter = counter.clone();
                thread::spawn(move || {
                    for _ in 0..increments {
                        S::increment(&*counter, &mut Closed);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let value = S::value(&counter);
        min_in.fetch_min(value, StdOrdering::Relaxed);
        max_in.fetch_max(value, StdOrdering::Relaxed);
    });
    (
        min.load(StdOrdering::Relaxed),
        max.load(StdOrdering::Relaxed),
    )
}

#[test]
fn locked_counter_is_correct_under_every_interleaving() {
    assert_eq!(explore::<Locked>(2, 2, None), (4, 4));
    assert_eq!(explore::<Locked>(3, 2, None), (6, 6));
}

#[test]
fn every_other_lock_of_locked_is_correct_under_every_interleaving() {
    assert_eq!(explore::<LockedRwLock>(2, 2, None), (4, 4));
    // The semaphore's Condvar wait and the spin lock's retries multiply the interleavings:
    // a preemption bound keeps the search to seconds (loom's own advice for spin loops).
    assert_eq!(explore::<LockedSemaphore>(2, 2, Some(3)), (4, 4));
    assert_eq!(explore::<LockedSpin>(2, 2, Some(3)), (4, 4));
}

#[test]
fn atomic_counter_is_correct_under_every_interleaving() {
    assert_eq!(explore::<Atomic>(2, 2, None), (4, 4));
    assert_eq!(explore::<Atomic>(3, 2, None), (6, 6));
}

#[test]
fn optimistic_counter_is_correct_under_every_interleaving() {
    // A failed compare_exchange reloads and retries: no interleaving loses an increment.
    assert_eq!(explore::<Optimistic>(2, 2, None), (4, 4));
    assert_eq!(explore::<Optimistic>(3, 1, None), (3, 3));
}

#[test]
fn loom_finds_the_lost_updates_of_the_racy_counter() {
    // Two threads of two increments can end as low as 2, and every value up to 4.
    assert_eq!(explore::<Racy>(2, 2, None), (2, 4));
    // Three threads: unbounded exploration does not finish; two preemptions already lose
    // updates.
    let (min, max) = explore::<Racy>(3, 2, Some(2));
    assert!(min < 6, "{min}");
    assert_eq!(max, 6);
}

#[test]
fn start_gate_releases_no_thread_before_every_thread_arrived() {
    use loom::sync::atomic::{AtomicUsize, Ordering};
    loom::model(|| {
        // One CPU: the gate yields instead of spinning, which loom needs to make progress.
        let gate = Arc::new(StartGate::new(StartMode::Barrier, 2, 1));
        let arrived = Arc::new(AtomicUsize::new(0));
        let party = |gate: Arc<StartGate>, arrived: Arc<AtomicUsize>| {
            move || {
                arrived.fetch_add(1, Ordering::SeqCst);
                assert!(gate.wait());
                assert_eq!(
                    arrived.load(Ordering::SeqCst),
                    2,
                    "released before all arrived"
                );
            }
        };
        let other = thread::spawn(party(gate.clone(), arrived.clone()));
        party(gate, arrived)();
        other.join().unwrap();
    });
}
