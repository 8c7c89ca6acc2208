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
