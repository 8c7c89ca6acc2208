//! The synchronisation types the strategies and the harness use, named in one place so that a
//! model checker's types (loom, shuttle) can stand in for std's without touching their code.

//! Built with `--cfg loom` (see `.ci/run`), they are loom's, and only the modules that use
//! nothing else (the strategies, the race window, the start gate) are compiled; with
//! `--cfg shuttle`, shuttle's, for the scenario engine.

#[cfg(not(any(loom, shuttle)))]
pub use std::hint::spin_loop;
#[cfg(not(any(loom, shuttle)))]
pub use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering, fence};
#[cfg(not(any(loom, shuttle)))]
pub use std::sync::{Condvar, Mutex, RwLock};
#[cfg(not(any(loom, shuttle)))]
pub use std::thread::yield_now;

#[cfg(shuttle)]
pub use shuttle::hint::spin_loop;
#[cfg(shuttle)]
pub use shuttle::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering, fence};
#[cfg(shuttle)]
pub use shuttle::sync::{Condvar, Mutex, RwLock};
#[cfg(shuttle)]
pub use shuttle::thread::yield_now;

#[cfg(loom)]
pub use loom::hint::spin_loop;
#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering, fence};
#[cfg(loom)]
pub use loom::sync::{Condvar, Mutex, RwLock};
#[cfg(loom)]
pub use loom::thread::yield_now;

pub use std::sync::PoisonError;

/// A value alone on its cache line (two, against the adjacent-line prefetcher), so that
/// threads writing neighbouring values do not contend for one line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct CachePadded<T>(T);

impl<T> CachePadded<T> {
    pub fn new(value: T) -> Self {
        CachePadded(value)
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
