//! The synchronisation types the strategies and the harness use, named in one place so that a
//! model checker's types (loom, shuttle) can stand in for std's without touching their code.

pub use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering, fence};
pub use std::sync::{Condvar, Mutex, PoisonError, RwLock};

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
