//! The race window: what a thread does between reading the counter and writing it back.
//!
//! A wider window makes a lost update more likely, and a yield makes one possible even when the
//! threads share a single CPU. The window is a type parameter of the increment loop so that the
//! default, closed window costs nothing: no branch, no random draw per increment.

use rand::rngs::SmallRng;

use crate::sync::{spin_loop, yield_now};
use rand::{RngExt, SeedableRng};

/// Work done between the read and the write of one increment.
pub trait Window {
    /// Runs once per increment, after the read and before the write.
    fn between(&mut self);
}

/// No extra work: the read and the write follow each other directly.
pub struct Closed;

impl Window for Closed {
    #[inline(always)]
    fn between(&mut self) {}
}

/// How the window is widened, as the user asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct WindowSpec {
    /// Units of busy work between read and write (the upper bound when `jitter` is set).
    pub spin: u32,
    /// Draw the amount of busy work uniformly from `0..=spin` for every increment.
    pub jitter: bool,
    /// Give up the CPU between read and write.
    pub yield_now: bool,
}

impl WindowSpec {
    /// Whether this spec does anything at all (if not, the loop uses [`Closed`]).
    pub fn is_closed(&self) -> bool {
        self.spin == 0 && !self.yield_now
    }

    /// The window one thread uses, with its own random stream for jitter.
    pub fn open(&self, seed: u64) -> Widened {
        Widened {
            spin: self.spin,
            jitter: self.jitter.then(|| SmallRng::seed_from_u64(seed)),
            yield_now: self.yield_now,
        }
    }
}

/// A window widened by busy work, random busy work and/or a yield.
pub struct Widened {
    spin: u32,
    jitter: Option<SmallRng>,
    yield_now: bool,
}

impl Widened {
    /// The units of busy work for the next increment: the spec's, or a draw from this
    /// thread's stream with `jitter`. The draws are what the run's seed decides.
    #[inline]
    pub fn next_units(&mut self) -> u32 {
        match &mut self.jitter {
            Some(rng) => rng.random_range(0..=self.spin),
            None => self.spin,
        }
    }
}

impl Window for Widened {
    #[inline]
    fn between(&mut self) {
        let units = self.next_units();
        busy_work(units);
        if self.yield_now {
            yield_now();
        }
    }
}

/// One unit is one spin-loop hint (`pause` on x86): it keeps the core busy for a few dozen
/// cycles without touching memory, so it widens the window without adding contention.
#[inline]
pub fn busy_work(units: u32) {
    for _ in 0..units {
        spin_loop();
    }
}
