//! The counter strategies: the ways for many threads to increment one shared counter.
//!
//! Each strategy is a type, and the harness is generic over it, so the increment loop is
//! monomorphised per strategy: no dynamic dispatch and no branch on the strategy per increment.

use std::hint::black_box;

use clap::ValueEnum;
use serde::Serialize;

use crate::locks::{Semaphore, SpinLock};
use crate::sync::{AtomicU64, Mutex, Ordering, PoisonError, RwLock};
use crate::window::Window;

/// A way of incrementing a shared counter.
pub trait Strategy: 'static {
    /// The shared state one trial increments, fresh (zero) for every trial.
    type Counter: Default + Send + Sync;

    /// Which strategy this is, for reports.
    const KIND: StrategyKind;

    /// Adds one to the counter, running `window` between the read and the write where the
    /// strategy has a separate read and write. Returns the value it read (and so wrote that
    /// plus one), for `--explain`; the hot loop ignores it, and so does the compiled code.
    fn increment<W: Window>(counter: &Self::Counter, window: &mut W) -> u64;

    /// The counter's value once every thread has joined.
    fn value(counter: &Self::Counter) -> u64;
}

/// The strategies by name, as the command line and the reports spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrategyKind {
    /// Unsynchronised read-modify-write: read, add one, write back (loses updates).
    Unsafe,
    /// Read and write under a lock: a Mutex, flock, BEGIN IMMEDIATE (always correct).
    #[value(alias = "locked:mutex")]
    Locked,
    /// Read and write holding a std::sync::RwLock for writing (always correct; memory only).
    #[value(name = "locked:rwlock")]
    #[serde(rename = "locked:rwlock")]
    LockedRwLock,
    /// Read and write holding a semaphore of one permit, made from a Mutex and a Condvar
    /// (always correct; memory only).
    #[value(name = "locked:semaphore")]
    #[serde(rename = "locked:semaphore")]
    LockedSemaphore,
    /// Read and write holding a spin lock made from one atomic (always correct; memory only).
    #[value(name = "locked:spin")]
    #[serde(rename = "locked:spin")]
    LockedSpin,
    /// One indivisible increment: fetch_add, UPDATE v = v + 1 (always correct).
    Atomic,
    /// Compare-and-swap, retried until it succeeds (always correct; counts retries).
    Optimistic,
    /// Read then write inside one database transaction (correct or refused, per store).
    Transaction,
}

/// What one strategy is, in one entry: every property the program asks of a strategy is read
/// from [`TABLE`], so a new strategy is one entry here plus its code on each store.
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub kind: StrategyKind,
    /// As the command line and the reports spell it.
    pub name: &'static str,
    /// Meant to lose updates (the demo), or never to (the fixes).
    pub racy: bool,
    /// What an increment does in memory, or why it has no memory form.
    pub memory: Support,
    /// Its colour in charts (red for the race, cool colours for the fixes).
    pub rgb: (u8, u8, u8),
}

/// Whether a strategy runs on a store: what an increment does there, or why it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// One line saying what one increment does.
    Does(&'static str),
    /// Why not, and what to use instead.
    Refused(&'static str),
}

/// Every strategy, in the order `compare` shows them.
pub const TABLE: [About; 8] = [
    About {
        kind: StrategyKind::Unsafe,
        name: "unsafe",
        racy: true,
        memory: Support::Does(
            "load the counter (Relaxed), add 1, store it back (Relaxed): two separate \
             instructions, like `x += 1`, so an update made between them is overwritten",
        ),
        rgb: (214, 39, 40),
    },
    About {
        kind: StrategyKind::Locked,
        name: "locked",
        racy: false,
        memory: Support::Does(
            "lock a std::sync::Mutex, read the counter, add 1, write it back, unlock: \
             no other thread can slip in between",
        ),
        rgb: (31, 119, 180),
    },
    About {
        kind: StrategyKind::LockedRwLock,
        name: "locked:rwlock",
        racy: false,
        memory: Support::Does(
            "take a std::sync::RwLock for writing, read the counter, add 1, write it back, \
             unlock: a writer holds it alone",
        ),
        rgb: (23, 190, 207),
    },
    About {
        kind: StrategyKind::LockedSemaphore,
        name: "locked:semaphore",
        racy: false,
        memory: Support::Does(
            "acquire a semaphore of one permit (a Mutex and a Condvar), read the counter, add \
             1, write it back, release: one thread at a time holds the permit",
        ),
        rgb: (140, 86, 75),
    },
    About {
        kind: StrategyKind::LockedSpin,
        name: "locked:spin",
        racy: false,
        memory: Support::Does(
            "spin on one atomic flag until a compare-exchange takes it (yielding after 64 \
             tries), read the counter, add 1, write it back, clear the flag",
        ),
        rgb: (188, 189, 34),
    },
    About {
        kind: StrategyKind::Atomic,
        name: "atomic",
        racy: false,
        memory: Support::Does(
            "one atomic fetch_add(1) (a `lock`-prefixed add on x86): the read and the write \
             are a single indivisible instruction",
        ),
        rgb: (44, 160, 44),
    },
    About {
        kind: StrategyKind::Optimistic,
        name: "optimistic",
        racy: false,
        memory: Support::Does(
            "load the counter, then compare_exchange(read, read + 1): the write happens only \
             if nobody wrote in between, else load again and retry",
        ),
        rgb: (148, 103, 189),
    },
    About {
        kind: StrategyKind::Transaction,
        name: "transaction",
        racy: false,
        memory: Support::Refused(
            "memory has no transactions; give a store: --store sqlite (or --processes N, \
             which picks SQLite)",
        ),
        rgb: (255, 127, 14),
    },
];

impl StrategyKind {
    /// The strategies `compare` runs in memory by default.
    pub const ALL: [StrategyKind; 4] = [Self::Unsafe, Self::Locked, Self::Atomic, Self::Optimistic];

    /// This strategy's entry in [`TABLE`].
    pub fn about(self) -> &'static About {
        TABLE
            .iter()
            .find(|a| a.kind == self)
            .expect("every strategy has an entry in TABLE")
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        self.about().name
    }

    /// One line saying what an increment does in memory, for the report.
    pub fn operation(self) -> &'static str {
        match self.about().memory {
            Support::Does(line) | Support::Refused(line) => line,
        }
    }

    /// Whether the strategy is meant to lose updates (the demo) or never to (the fixes).
    pub fn is_racy(self) -> bool {
        self.about().racy
    }

    /// The in-memory locks other than the Mutex: a store takes its own lock for `locked`, and
    /// has none of these.
    pub fn memory_only(self) -> bool {
        matches!(
            self,
            Self::LockedRwLock | Self::LockedSemaphore | Self::LockedSpin
        )
    }

    /// Whether it takes a lock, so that a thread may wait for another.
    pub fn locks(self) -> bool {
        LockKind::ALL.iter().any(|l| l.strategy() == self)
    }
}

/// The lock `racedemo locked --lock` takes around each read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LockKind {
    /// std::sync::Mutex
    Mutex,
    /// std::sync::RwLock, taken for writing
    Rwlock,
    /// A semaphore of one permit, from a Mutex and a Condvar
    Semaphore,
    /// A spin lock: one atomic flag, taken by compare-exchange
    Spin,
}

impl LockKind {
    pub const ALL: [LockKind; 4] = [Self::Mutex, Self::Rwlock, Self::Semaphore, Self::Spin];

    /// The strategy that increments under this lock.
    pub fn strategy(self) -> StrategyKind {
        match self {
            LockKind::Mutex => StrategyKind::Locked,
            LockKind::Rwlock => StrategyKind::LockedRwLock,
            LockKind::Semaphore => StrategyKind::LockedSemaphore,
            LockKind::Spin => StrategyKind::LockedSpin,
        }
    }
}

/// Read, then write, as two operations: the lost-update race, in well-defined safe Rust.
pub struct Racy;

impl Strategy for Racy {
    type Counter = AtomicU64;
    const KIND: StrategyKind = StrategyKind::Unsafe;

    #[inline(always)]
    fn increment<W: Window>(counter: &AtomicU64, window: &mut W) -> u64 {
        let read = counter.load(Ordering::Relaxed);
        window.between();
        // Without the black_box LLVM fuses this load/add/store into one `add [mem], 1`, which
        // still races but in a window a few cycles wide; passing the value through an opaque
        // register keeps the read and the write two instructions, as `x += 1` is in Python.
        counter.store(black_box(read) + 1, Ordering::Relaxed);
        read
    }

    fn value(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Read and write under a mutex.
pub struct Locked;

impl Strategy for Locked {
    type Counter = Mutex<u64>;
    const KIND: StrategyKind = StrategyKind::Locked;

    #[inline(always)]
    fn increment<W: Window>(counter: &Mutex<u64>, window: &mut W) -> u64 {
        // A poisoned lock only means another worker panicked; the value is still a count.
        let mut guard = counter.lock().unwrap_or_else(PoisonError::into_inner);
        let read = *guard;
        window.between();
        *guard = read + 1;
        read
    }

    fn value(counter: &Mutex<u64>) -> u64 {
        *counter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Read and write holding a reader-writer lock for writing.
pub struct LockedRwLock;

impl Strategy for LockedRwLock {
    type Counter = RwLock<u64>;
    const KIND: StrategyKind = StrategyKind::LockedRwLock;

    #[inline(always)]
    fn increment<W: Window>(counter: &RwLock<u64>, window: &mut W) -> u64 {
        let mut guard = counter.write().unwrap_or_else(PoisonError::into_inner);
        let read = *guard;
        window.between();
        *guard = read + 1;
        read
    }

    fn value(counter: &RwLock<u64>) -> u64 {
        *counter.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A counter beside the lock that guards it: the value is an atomic only so that safe Rust
/// can share it; under the lock, its Relaxed load and store never overlap another thread's.
#[derive(Default)]
pub struct Guarded<L> {
    lock: L,
    value: AtomicU64,
}

impl<L> Guarded<L> {
    /// The read, the window, the write: the same steps as the racy increment, under a lock.
    #[inline(always)]
    fn read_write<W: Window>(&self, window: &mut W) -> u64 {
        let read = self.value.load(Ordering::Relaxed);
        window.between();
        self.value.store(read + 1, Ordering::Relaxed);
        read
    }
}

/// Read and write holding a semaphore of one permit.
pub struct LockedSemaphore;

impl Strategy for LockedSemaphore {
    type Counter = Guarded<Semaphore>;
    const KIND: StrategyKind = StrategyKind::LockedSemaphore;

    #[inline(always)]
    fn increment<W: Window>(counter: &Guarded<Semaphore>, window: &mut W) -> u64 {
        counter.lock.acquire();
        let read = counter.read_write(window);
        counter.lock.release();
        read
    }

    fn value(counter: &Guarded<Semaphore>) -> u64 {
        counter.value.load(Ordering::Relaxed)
    }
}

/// Read and write holding a spin lock.
pub struct LockedSpin;

impl Strategy for LockedSpin {
    type Counter = Guarded<SpinLock>;
    const KIND: StrategyKind = StrategyKind::LockedSpin;

    #[inline(always)]
    fn increment<W: Window>(counter: &Guarded<SpinLock>, window: &mut W) -> u64 {
        counter.lock.lock();
        let read = counter.read_write(window);
        counter.lock.unlock();
        read
    }

    fn value(counter: &Guarded<SpinLock>) -> u64 {
        counter.value.load(Ordering::Relaxed)
    }
}

/// Compare-and-swap retried: a read, then a write that happens only if the counter still holds
/// what was read. It never loses an update; under contention it spins.
pub struct Optimistic;

impl Strategy for Optimistic {
    type Counter = AtomicU64;
    const KIND: StrategyKind = StrategyKind::Optimistic;

    #[inline(always)]
    fn increment<W: Window>(counter: &AtomicU64, window: &mut W) -> u64 {
        let mut read = counter.load(Ordering::Relaxed);
        loop {
            window.between();
            match counter.compare_exchange_weak(
                read,
                read + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return read,
                Err(now) => read = now,
            }
        }
    }

    fn value(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// One indivisible read-modify-write instruction.
pub struct Atomic;

impl Strategy for Atomic {
    type Counter = AtomicU64;
    const KIND: StrategyKind = StrategyKind::Atomic;

    #[inline(always)]
    fn increment<W: Window>(counter: &AtomicU64, window: &mut W) -> u64 {
        // fetch_add has no gap to widen; the window's work still runs once per increment so
        // that `compare` charges every strategy the same extra work.
        window.between();
        counter.fetch_add(1, Ordering::Relaxed)
    }

    fn value(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Closed;

    fn count<S: Strategy>(n: u64) -> u64 {
        let counter = S::Counter::default();
        for _ in 0..n {
            S::increment(&counter, &mut Closed);
        }
        S::value(&counter)
    }

    #[test]
    fn every_strategy_counts_exactly_on_one_thread() {
        assert_eq!(count::<Racy>(1000), 1000);
        assert_eq!(count::<Locked>(1000), 1000);
        assert_eq!(count::<Atomic>(1000), 1000);
        assert_eq!(count::<Optimistic>(1000), 1000);
        assert_eq!(count::<LockedRwLock>(1000), 1000);
        assert_eq!(count::<LockedSemaphore>(1000), 1000);
        assert_eq!(count::<LockedSpin>(1000), 1000);
    }

    /// Real threads, a yield between each read and write: under Miri, whose scheduler switches
    /// threads at the yield, the racy counter loses updates and the others do not, and Miri
    /// checks that none of it is undefined behaviour. Natively two threads may never overlap
    /// in so short a run, so it runs only under Miri (`.ci/run`).
    #[test]
    #[cfg_attr(not(miri), ignore = "runs under Miri")]
    fn under_miri_only_the_racy_strategy_loses_updates() {
        fn run<S: Strategy>() -> u64 {
            let counter = S::Counter::default();
            let spec = crate::window::WindowSpec {
                spin: 0,
                jitter: false,
                yield_now: true,
            };
            std::thread::scope(|s| {
                for seed in 0..2 {
                    let counter = &counter;
                    s.spawn(move || {
                        let mut window = spec.open(seed);
                        for _ in 0..10 {
                            S::increment(counter, &mut window);
                        }
                    });
                }
            });
            S::value(&counter)
        }
        assert!(run::<Racy>() < 20);
        assert_eq!(run::<Locked>(), 20);
        assert_eq!(run::<Atomic>(), 20);
        assert_eq!(run::<Optimistic>(), 20);
        assert_eq!(run::<LockedRwLock>(), 20);
        assert_eq!(run::<LockedSemaphore>(), 20);
        assert_eq!(run::<LockedSpin>(), 20);
    }

    #[test]
    fn kinds_match_their_strategies() {
        assert_eq!(Racy::KIND, StrategyKind::Unsafe);
        assert_eq!(Locked::KIND, StrategyKind::Locked);
        assert_eq!(Atomic::KIND, StrategyKind::Atomic);
        assert_eq!(Optimistic::KIND, StrategyKind::Optimistic);
        assert_eq!(
            StrategyKind::ALL.map(StrategyKind::name),
            ["unsafe", "locked", "atomic", "optimistic"]
        );
        // The table's names are clap's names.
        for about in TABLE {
            assert_eq!(
                about
                    .kind
                    .to_possible_value()
                    .map(|v| v.get_name().to_string()),
                Some(about.name.to_string())
            );
        }
    }
}
