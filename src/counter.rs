//! The shared-counter workload: N threads each increment one counter M times with a strategy.

use std::marker::PhantomData;

use crate::harness::{ThreadCtx, Workload};
use crate::strategy::Strategy;
use crate::window::{Closed, Window, WindowSpec};

/// Up to this many increments per thread a trial is tiny: it runs in lockstep batches.
pub const TINY_ITERATIONS: u64 = 64;

/// The counter workload's shape, whatever the strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterSpec {
    pub threads: usize,
    pub iterations: u64,
    pub window: WindowSpec,
}

impl CounterSpec {
    /// The final value when no update is lost. Options validation guarantees it fits.
    pub fn expected(&self) -> u64 {
        self.threads as u64 * self.iterations
    }

    /// The lowest and highest final values the strategy can produce at all, whatever the
    /// scheduling: `[expected, expected]` for the correct strategies.
    ///
    /// For the racy one the lowest is 2 whenever there are two threads with two increments
    /// each, however many more: A reads 0 and stalls; B makes all but its last increment and
    /// every other thread all of theirs; A writes 1, undoing them; B reads 1 and stalls; A makes
    /// its remaining increments; B writes 2, undoing those. With one increment per thread,
    /// every thread can read 0 and write 1.
    pub fn possible_finals(&self, racy: bool) -> [u64; 2] {
        let expected = self.expected();
        let min = match (racy, self.threads, self.iterations) {
            (false, _, _) | (true, 1, _) => expected,
            (true, _, 1) => 1,
            (true, _, _) => 2,
        };
        [min, expected]
    }
}

/// [`CounterSpec`] run with strategy `S`.
pub struct CounterWorkload<S> {
    spec: CounterSpec,
    // fn() -> S: the workload holds no S, so it is Sync whatever S is.
    strategy: PhantomData<fn() -> S>,
}

impl<S: Strategy> CounterWorkload<S> {
    pub fn new(spec: CounterSpec) -> Self {
        CounterWorkload {
            spec,
            strategy: PhantomData,
        }
    }
}

impl<S: Strategy> Workload for CounterWorkload<S> {
    type State = S::Counter;
    type Outcome = u64;

    fn threads(&self) -> usize {
        self.spec.threads
    }

    fn fresh(&self) -> S::Counter {
        S::Counter::default()
    }

    fn run_thread(&self, counter: &S::Counter, ctx: ThreadCtx) {
        // Choose the window once per thread, not per increment.
        if self.spec.window.is_closed() {
            increment_loop::<S, _>(counter, self.spec.iterations, &mut Closed);
        } else {
            let mut window = self.spec.window.open(ctx.seed);
            increment_loop::<S, _>(counter, self.spec.iterations, &mut window);
        }
    }

    fn outcome(&self, counter: S::Counter) -> u64 {
        S::value(&counter)
    }

    fn is_tiny(&self) -> bool {
        self.spec.iterations <= TINY_ITERATIONS && !self.spec.window.yield_now
    }

    fn waits(&self) -> bool {
        S::KIND.locks()
    }
}

/// The hot loop: `iterations` increments, nothing else.
#[inline(never)]
pub fn increment_loop<S: Strategy, W: Window>(
    counter: &S::Counter,
    iterations: u64,
    window: &mut W,
) {
    for _ in 0..iterations {
        S::increment(counter, window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(threads: usize, iterations: u64) -> CounterSpec {
        CounterSpec {
            threads,
            iterations,
            window: WindowSpec::default(),
        }
    }

    #[test]
    fn a_racy_counter_can_end_as_low_as_two() {
        assert_eq!(spec(8, 1_000_000).possible_finals(true), [2, 8_000_000]);
        assert_eq!(spec(2, 2).possible_finals(true), [2, 4]);
        assert_eq!(spec(4, 1).possible_finals(true), [1, 4]);
        assert_eq!(spec(1, 50).possible_finals(true), [50, 50]);
        assert_eq!(spec(8, 1_000).possible_finals(false), [8_000, 8_000]);
    }
}
