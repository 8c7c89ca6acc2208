//! The locks `racedemo locked --lock` can use that std does not have: a spin lock made from
//! one atomic, and a semaphore of one permit made from a Mutex and a Condvar, both in safe
//! Rust. std's Mutex and RwLock are used as they are.

use crate::sync::{AtomicBool, Condvar, Mutex, Ordering, PoisonError, spin_loop, yield_now};

/// A test-and-test-and-set spin lock: one compare-exchange to take it, plain loads while it
/// is taken (they stay in this core's cache instead of bouncing the line), a Release store
/// to let it go.
#[derive(Debug, Default)]
pub struct SpinLock {
    taken: AtomicBool,
}

/// Failed looks at a taken spin lock before the thread yields its CPU: a holder that was
/// descheduled cannot let go until it runs again, and spinning on would only burn the time
/// slice it needs (with more threads than CPUs, a pure spin lock slows to the scheduler's
/// pace).
const SPINS_BEFORE_YIELD: u32 = 64;

impl SpinLock {
    pub fn lock(&self) {
        let mut spins = 0u32;
        while self
            .taken
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.taken.load(Ordering::Relaxed) {
                spins += 1;
                if spins.is_multiple_of(SPINS_BEFORE_YIELD) {
                    yield_now();
                } else {
                    spin_loop();
                }
            }
        }
    }

    pub fn unlock(&self) {
        self.taken.store(false, Ordering::Release);
    }
}

/// A counting semaphore from a Mutex and a Condvar: `acquire` waits while no permit is left,
/// `release` gives one back and wakes one waiter. With one permit, it is a lock.
#[derive(Debug)]
pub struct Semaphore {
    permits: Mutex<u32>,
    freed: Condvar,
}

impl Semaphore {
    pub fn new(permits: u32) -> Self {
        Semaphore {
            permits: Mutex::new(permits),
            freed: Condvar::new(),
        }
    }

    pub fn acquire(&self) {
        let mut permits = self.permits.lock().unwrap_or_else(PoisonError::into_inner);
        // A while, not an if: a wake-up may be spurious, or another thread may have taken the
        // permit first (the bug of scenario if-not-while-racy).
        while *permits == 0 {
            permits = self
                .freed
                .wait(permits)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *permits -= 1;
    }

    pub fn release(&self) {
        *self.permits.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.freed.notify_one();
    }
}

impl Default for Semaphore {
    /// One permit: a lock.
    fn default() -> Self {
        Semaphore::new(1)
    }
}
