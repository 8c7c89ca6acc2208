//! The interpreter: runs a [`Program`] as a harness [`Workload`]. Each thread walks its group's
//! op list with a fixed register array; nothing is parsed or allocated per op.

use std::time::Instant;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::program::{MAX_REGISTERS, Op, Outcome, Program, Source};
use crate::harness::{ThreadCtx, Workload};
use crate::sync::{
    AtomicBool, AtomicI64, CachePadded, Mutex, Ordering, PoisonError, fence, spin_loop, yield_now,
};
use crate::window::busy_work;

/// Up to this many ops per thread, without locks or yields, a trial is tiny: it runs in
/// lockstep batches.
const TINY_OPS: u64 = 64;

/// What one trial's threads share.
pub struct State {
    /// Each on a cache line of its own, as the built-in counter effectively is: variables that
    /// shared a line would also contend on it, which no source program asked for.
    vars: Vec<CachePadded<AtomicI64>>,
    locks: Vec<AtomicBool>,
    /// Set by the first thread whose lock wait outlived the watchdog; the others then give up.
    stuck: AtomicBool,
    /// Each thread's registers once it has finished, for checks on `group.reg`.
    registers: Vec<Mutex<[i64; MAX_REGISTERS]>>,
}

impl Workload for Program {
    type State = State;
    type Outcome = Outcome;

    fn threads(&self) -> usize {
        self.threads
    }

    fn fresh(&self) -> State {
        State {
            vars: self
                .shared
                .iter()
                .map(|(_, v)| CachePadded::new(AtomicI64::new(*v)))
                .collect(),
            locks: self.locks.iter().map(|_| AtomicBool::new(false)).collect(),
            stuck: AtomicBool::new(false),
            // Kept only when a check reads a register: tiny trials allocate nothing else.
            registers: if self.reads_registers() {
                (0..self.threads)
                    .map(|_| Mutex::new([0; MAX_REGISTERS]))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    fn run_thread(&self, state: &State, ctx: ThreadCtx) {
        let mut first = 0;
        let group = self
            .groups
            .iter()
            .find(|g| {
                first += g.threads;
                ctx.index < first
            })
            .expect("the harness runs exactly `threads` threads");
        let mut thread = Thread {
            regs: [0; MAX_REGISTERS],
            rng: self.uses_jitter.then(|| SmallRng::seed_from_u64(ctx.seed)),
            state,
            program: self,
        };
        match group.ops.as_slice() {
            // The racy counter, in a loop of its own: what `racedemo unsafe` runs, at its speed.
            &[Op::RacyAdd { reg, var, add }] => {
                thread.regs[reg as usize] =
                    racy_add_loop(&state.vars[var as usize], add, group.iterations);
            }
            ops => {
                for _ in 0..group.iterations {
                    if !thread.run(ops) {
                        break;
                    }
                }
            }
        }
        if let Some(slot) = state.registers.get(ctx.index) {
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = thread.regs;
        }
    }

    fn waits(&self) -> bool {
        self.groups
            .iter()
            .any(|g| g.ops.iter().any(|op| matches!(op, Op::Lock(_))))
    }

    fn is_tiny(&self) -> bool {
        self.groups.iter().all(|g| {
            g.iterations.saturating_mul(g.ops.len() as u64) <= TINY_OPS
                && !g.ops.iter().any(|op| matches!(op, Op::Lock(_) | Op::Yield))
        })
    }

    fn outcome(&self, state: State) -> Outcome {
        if state.stuck.load(Ordering::SeqCst) {
            return Outcome::Deadlock;
        }
        self.outcome_from(|source| match source {
            Source::Shared(v) => state.vars[v as usize].load(Ordering::SeqCst),
            Source::Register { thread, reg } => state.registers[thread]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)[reg as usize],
        })
    }
}

struct Thread<'a> {
    regs: [i64; MAX_REGISTERS],
    rng: Option<SmallRng>,
    state: &'a State,
    program: &'a Program,
}

impl Thread<'_> {
    /// One pass over the ops; false when the trial was given up (a deadlock).
    #[inline]
    fn run(&mut self, ops: &[Op]) -> bool {
        let vars = &self.state.vars;
        let mut pc = 0;
        while let Some(op) = ops.get(pc) {
            pc += 1;
            match op {
                Op::Load { reg, var, order } => {
                    self.regs[*reg as usize] = vars[*var as usize].load(*order);
                }
                Op::RacyAdd { reg, var, add } => {
                    self.regs[*reg as usize] = racy_add(&vars[*var as usize], *add);
                }
                Op::Store { var, value, order } => {
                    vars[*var as usize].store(value.value(&self.regs), *order);
                }
                Op::FetchAdd {
                    reg,
                    var,
                    value,
                    order,
                } => {
                    let old = vars[*var as usize].fetch_add(value.value(&self.regs), *order);
                    self.set(*reg, old);
                }
                Op::Cas {
                    reg,
                    var,
                    expected,
                    new,
                    order,
                } => {
                    let (e, n) = (expected.value(&self.regs), new.value(&self.regs));
                    let ok = vars[*var as usize]
                        .compare_exchange(e, n, *order, failure_order(*order))
                        .is_ok();
                    self.set(*reg, i64::from(ok));
                }
                Op::CasLoop {
                    reg,
                    var,
                    current,
                    new,
                    guard,
                    order,
                } => {
                    let cell = &vars[*var as usize];
                    let ok = loop {
                        self.regs[*current as usize] = cell.load(failure_order(*order));
                        if guard.as_ref().is_some_and(|g| g.value(&self.regs) == 0) {
                            break false;
                        }
                        let (seen, next) = (self.regs[*current as usize], new.value(&self.regs));
                        if cell
                            .compare_exchange(seen, next, *order, failure_order(*order))
                            .is_ok()
                        {
                            break true;
                        }
                    };
                    self.set(*reg, i64::from(ok));
                }
                Op::Set { reg, value } => self.regs[*reg as usize] = value.value(&self.regs),
                Op::Lock(l) => {
                    if !self.lock(*l as usize) {
                        return false;
                    }
                }
                Op::Unlock(l) => self.state.locks[*l as usize].store(false, Ordering::Release),
                Op::JumpUnless { cond, to } => {
                    if cond.value(&self.regs) == 0 {
                        pc = *to;
                    }
                }
                Op::Spin(n) => busy_work(*n),
                Op::Jitter(n) => {
                    let units = self.rng.as_mut().map_or(0, |r| r.random_range(0..=*n));
                    busy_work(units);
                }
                Op::Yield => yield_now(),
                Op::Fence(order) => fence(*order),
            }
        }
        true
    }

    fn set(&mut self, reg: Option<u8>, value: i64) {
        if let Some(r) = reg {
            self.regs[r as usize] = value;
        }
    }

    /// Takes a lock, spinning then yielding; gives up, marking the trial stuck, when the wait
    /// outlives the watchdog or another thread already gave up.
    fn lock(&self, l: usize) -> bool {
        let lock = &self.state.locks[l];
        let take = || {
            lock.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        };
        if take() {
            return true;
        }
        let started = Instant::now();
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
            if self.state.stuck.load(Ordering::Relaxed) {
                return false;
            }
            if spins.is_multiple_of(64) && started.elapsed() > self.program.watchdog {
                self.state.stuck.store(true, Ordering::SeqCst);
                return false;
            }
        }
    }
}

/// A relaxed load, then a relaxed store of the value plus `add`: two instructions, kept apart
/// as in the built-in racy strategy. Returns the value read.
#[inline(always)]
fn racy_add(cell: &AtomicI64, add: i64) -> i64 {
    let read = cell.load(Ordering::Relaxed);
    cell.store(
        std::hint::black_box(read).wrapping_add(add),
        Ordering::Relaxed,
    );
    read
}

/// `iterations` racy adds with nothing else in the loop; returns the last value read.
#[inline(never)]
fn racy_add_loop(cell: &AtomicI64, add: i64, iterations: u64) -> i64 {
    let mut read = 0;
    for _ in 0..iterations {
        read = racy_add(cell, add);
    }
    read
}

/// A failed compare-and-swap only reads, so it cannot have release semantics.
fn failure_order(order: Ordering) -> Ordering {
    match order {
        Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
        Ordering::AcqRel | Ordering::Acquire => Ordering::Acquire,
        _ => Ordering::SeqCst,
    }
}
