//! How an interpreted thread waits: for a lock, a condvar, a semaphore or a reader-writer lock,
//! or round a `while` loop, spinning then yielding, with the watchdog that turns a wait nobody
//! will end into the outcome `deadlock` or `stuck`.

use std::collections::VecDeque;
use std::time::Instant;

use rand::RngExt;

use super::{Halt, Thread};
use crate::sync::{AtomicU64, Ordering, PoisonError, spin_loop, yield_now};

impl Thread<'_> {
    /// Takes a lock, spinning then yielding; gives up, calling the trial a deadlock, when the
    /// wait outlives the watchdog or another thread already gave up.
    pub(super) fn lock(&self, l: usize) -> bool {
        let lock = &self.state.locks[l];
        let take = || {
            let turn = lock.load(Ordering::Relaxed);
            turn.is_multiple_of(2)
                && lock
                    .compare_exchange_weak(turn, turn + 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
        };
        self.block(take, Halt::DEADLOCK)
    }

    pub(super) fn unlock(&self, l: usize) {
        // Only the holder writes a held lock, so a load and a store do what a fetch_add would,
        // without a locked instruction on every unlock.
        let lock = &self.state.locks[l];
        lock.store(lock.load(Ordering::Relaxed) + 1, Ordering::Release);
    }

    /// Waits until `take` succeeds, spinning then yielding; false, with the trial given up as
    /// `why`, when the wait outlives the watchdog, or when another thread gave up first. The
    /// watchdog restarts whenever a lock, semaphore or reader-writer lock anywhere in the
    /// trial changes hands ([`Thread::progress`]): a thread kept waiting while the others go
    /// on (by a busy machine, or an unfair lock) is slow, not stuck; in a deadlock nothing
    /// changes hands.
    pub(super) fn block(&self, mut take: impl FnMut() -> bool, why: usize) -> bool {
        if take() {
            return true;
        }
        let mut started = Instant::now();
        let mut last = self.progress();
        let mut spins = 0u32;
        loop {
            if take() {
                return true;
            }
            spins = spins.wrapping_add(1);
            if spins < 64 {
                spin_loop();
                continue;
            }
            yield_now();
            if self.state.halt.load(Ordering::Relaxed) != Halt::NONE {
                return false;
            }
            if spins.is_multiple_of(64) {
                let now = self.progress();
                if now != last {
                    (last, started) = (now, Instant::now());
                } else if started.elapsed() > self.program.watchdog {
                    self.give_up(why);
                    return false;
                }
            }
        }
    }

    /// Every hand-over so far of every lock, semaphore and reader-writer lock: read only by
    /// waiting threads, now and then, so the running ones pay nothing for it.
    pub(super) fn progress(&self) -> u64 {
        let sum = |counters: &[AtomicU64]| {
            counters
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .fold(0u64, u64::wrapping_add)
        };
        sum(&self.state.locks)
            .wrapping_add(sum(&self.state.acquired))
            .wrapping_add(sum(&self.state.rwlock_turns))
    }

    /// Marks the trial given up, unless another thread already did (its reason stands).
    pub(super) fn give_up(&self, why: usize) {
        let _ =
            self.state
                .halt
                .compare_exchange(Halt::NONE, why, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// One more pass of a `while` loop: past 64 passes it yields now and then (the loop may be
    /// waiting for a thread that needs this CPU), and a loop that outlives the watchdog, or
    /// spins on after another thread gave up, ends the trial.
    pub(super) fn loop_pass(&self, passes: &mut u32, started: &mut Option<Instant>) -> bool {
        *passes = passes.wrapping_add(1);
        if *passes < 64 {
            return true;
        }
        if self.state.halt.load(Ordering::Relaxed) != Halt::NONE {
            return false;
        }
        spin_loop();
        if passes.is_multiple_of(64) {
            yield_now();
            let since = *started.get_or_insert_with(Instant::now);
            if since.elapsed() > self.program.watchdog {
                self.give_up(Halt::STUCK);
                return false;
            }
        }
        true
    }

    /// Runs `f` on condvar `c`'s queue of waiting threads.
    pub(super) fn queue<R>(&self, c: usize, f: impl FnOnce(&mut VecDeque<usize>) -> R) -> R {
        f(&mut self.state.condvars[c]
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }

    /// `wait`: joins the condvar's queue and releases its lock (one step, as the lock is
    /// held), sleeps until a notify picks this thread (or, with spurious wake-ups on, now
    /// and then without one), then takes the lock again. A wait nobody ends within the
    /// watchdog is the outcome `stuck`.
    pub(super) fn wait(&mut self, c: usize) -> bool {
        let lock = self.program.condvars[c].lock as usize;
        let woken = &self.state.woken[self.index];
        woken.store(false, Ordering::Relaxed);
        self.queue(c, |q| q.push_back(self.index));
        self.unlock(lock);
        // One wait in four returns without a notify when spurious wake-ups are on: after a
        // yield, so that other threads get to run in between.
        let spurious = self.program.spurious_wakeups
            && self.rng.as_mut().is_some_and(|r| r.random_range(0..4) == 0);
        if spurious {
            yield_now();
        } else if !self.block(|| woken.load(Ordering::Acquire), Halt::STUCK) {
            return false;
        }
        if !self.lock(lock) {
            return false;
        }
        // Woken spuriously, and no notify picked this thread meanwhile: it leaves the queue
        // itself (under the lock, so no notify can pick it as it goes).
        if !woken.load(Ordering::Acquire) {
            let me = self.index;
            self.queue(c, |q| q.retain(|&t| t != me));
        }
        true
    }
}
