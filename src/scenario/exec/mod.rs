//! The interpreter: runs a [`Program`] as a harness [`Workload`]. Each thread walks its group's
//! op list with a fixed register array; nothing is parsed or allocated per op.

use std::collections::VecDeque;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use smallvec::SmallVec;

mod wait;

use super::program::{MAX_REGISTERS, Op, Outcome, Program, Source};
use super::semantics::{self, Access, Change, Next};
use crate::harness::{ThreadCtx, Workload};
use crate::sync::{
    AtomicBool, AtomicI64, AtomicU64, AtomicUsize, CachePadded, Mutex, Ordering, PoisonError,
    fence, yield_now,
};
use crate::window::busy_work;

/// Up to this many ops per thread, without locks or yields, a trial is tiny: it runs in
/// lockstep batches.
const TINY_OPS: u64 = 64;

/// What one trial's threads share.
pub struct State {
    /// Each on a cache line of its own, as the built-in counter effectively is: variables that
    /// shared a line would also contend on it, which no source program asked for.
    /// Inline for up to two (the litmus tests' size): a trial then allocates nothing for them,
    /// and an aligned allocation per trial was the largest single cost of tiny trials.
    vars: SmallVec<[CachePadded<AtomicI64>; 2]>,
    /// Each lock's hand-overs: odd while held. Counting them, rather than a held flag, lets a
    /// waiter see that the lock changes hands (other threads progress) and tell a slow turn
    /// from a deadlock.
    locks: Vec<AtomicU64>,
    /// Each condvar's waiting threads, oldest first. Only changed with the condvar's lock
    /// held, so this mutex is never contended; it is there for the borrow checker.
    condvars: Vec<Mutex<VecDeque<usize>>>,
    /// Per thread: a notify picked it out of a condvar's queue.
    woken: Vec<AtomicBool>,
    /// Each semaphore's permits.
    semaphores: Vec<AtomicI64>,
    /// Each semaphore's acquisitions so far, for waiters' watchdogs ([`Thread::progress`]):
    /// the permits alone may read 0 at every look while they change hands.
    acquired: Vec<AtomicU64>,
    /// Each reader-writer lock: the number of readers, or -1 for a writer.
    rwlocks: Vec<AtomicI64>,
    /// Each reader-writer lock's takings so far, read or write, for waiters' watchdogs.
    rwlock_turns: Vec<AtomicU64>,
    /// Why the trial was given up ([`Halt`]), set once by the first thread that gives up; the
    /// others then give up too.
    halt: AtomicUsize,
    /// The registers checks read (`group.reg`), by check slot (other slots unused), written by
    /// their thread when it finishes; inline for small checks, so a trial allocates nothing.
    registers: SmallVec<[AtomicI64; 4]>,
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
            locks: self.locks.iter().map(|_| AtomicU64::new(0)).collect(),
            condvars: self
                .condvars
                .iter()
                .map(|_| Mutex::new(VecDeque::new()))
                .collect(),
            woken: if self.uses_condvars() {
                (0..self.threads).map(|_| AtomicBool::new(false)).collect()
            } else {
                Vec::new()
            },
            semaphores: self
                .semaphores
                .iter()
                .map(|s| AtomicI64::new(s.initial))
                .collect(),
            acquired: self.semaphores.iter().map(|_| AtomicU64::new(0)).collect(),
            rwlocks: self.rwlocks.iter().map(|_| AtomicI64::new(0)).collect(),
            rwlock_turns: self.rwlocks.iter().map(|_| AtomicU64::new(0)).collect(),
            halt: AtomicUsize::new(Halt::NONE),
            // Kept only when a check reads a register.
            registers: if self.reads_registers() {
                self.check_slots.iter().map(|_| AtomicI64::new(0)).collect()
            } else {
                SmallVec::new()
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
            index: ctx.index,
            regs: [0; MAX_REGISTERS],
            rng: (self.uses_jitter || self.spurious_wakeups)
                .then(|| SmallRng::seed_from_u64(ctx.seed)),
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
        if !state.registers.is_empty() {
            // Seqcst: a full barrier at the trial's end, as the mutex these registers used to
            // sit behind was. Relaxed, a worker's stores piled up across trials and store
            // buffering's weak outcome fell from 3.5% of trials to about 1%.
            for (slot, source) in self.check_slots.iter().enumerate() {
                if let Source::Register { thread: t, reg } = *source
                    && t == ctx.index
                {
                    state.registers[slot].store(thread.regs[reg as usize], Ordering::SeqCst);
                }
            }
        }
    }

    fn waits(&self) -> bool {
        self.groups.iter().any(|g| g.ops.iter().any(Op::blocks))
    }

    fn is_tiny(&self) -> bool {
        self.groups.iter().all(|g| {
            g.iterations.saturating_mul(g.ops.len() as u64) <= TINY_OPS
                && !g
                    .ops
                    .iter()
                    .any(|op| op.blocks() || matches!(op, Op::Yield))
        })
    }

    fn renew(&self, state: &State) -> Option<Outcome> {
        let outcome = self.read_outcome(state);
        for (var, (_, initial)) in state.vars.iter().zip(&self.shared) {
            var.store(*initial, Ordering::Relaxed);
        }
        for lock in &state.locks {
            lock.store(0, Ordering::Relaxed);
        }
        for queue in &state.condvars {
            queue.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
        for woken in &state.woken {
            woken.store(false, Ordering::Relaxed);
        }
        for (permits, decl) in state.semaphores.iter().zip(&self.semaphores) {
            permits.store(decl.initial, Ordering::Relaxed);
        }
        for counter in state.acquired.iter().chain(&state.rwlock_turns) {
            counter.store(0, Ordering::Relaxed);
        }
        for rwlock in &state.rwlocks {
            rwlock.store(0, Ordering::Relaxed);
        }
        for register in &state.registers {
            register.store(0, Ordering::Relaxed);
        }
        state.halt.store(Halt::NONE, Ordering::Relaxed);
        Some(outcome)
    }

    fn outcome(&self, state: State) -> Outcome {
        self.read_outcome(&state)
    }
}

impl Program {
    /// What a finished trial's state holds.
    fn read_outcome(&self, state: &State) -> Outcome {
        match state.halt.load(Ordering::SeqCst) {
            Halt::NONE => {}
            Halt::DEADLOCK => return Outcome::Deadlock,
            Halt::STUCK => return Outcome::Stuck,
            s => return Outcome::OverReleased((s - Halt::OVER_RELEASED) as u16),
        }
        self.outcome_from(|source| match source {
            Source::Shared(v) => state.vars[v as usize].load(Ordering::SeqCst),
            register @ Source::Register { .. } => self
                .check_slots
                .iter()
                .position(|&s| s == register)
                .map_or(0, |slot| state.registers[slot].load(Ordering::SeqCst)),
        })
    }
}

/// Why a trial was given up, as [`State::halt`] holds it.
struct Halt;

impl Halt {
    const NONE: usize = 0;
    const DEADLOCK: usize = 1;
    const STUCK: usize = 2;
    /// Plus the semaphore's index.
    const OVER_RELEASED: usize = 3;
}

struct Thread<'a> {
    index: usize,
    regs: [i64; MAX_REGISTERS],
    rng: Option<SmallRng>,
    state: &'a State,
    program: &'a Program,
}

impl Thread<'_> {
    /// One pass over the ops; false when the trial was given up (a deadlock).
    #[inline]
    fn run(&mut self, ops: &[Op]) -> bool {
        // A plain slice, taken once: indexing the small vector itself costs a branch per access,
        // and in a debug build a call, long enough to hide store buffering.
        let vars: &[CachePadded<AtomicI64>] = self.state.vars.as_slice();
        let mut pc = 0;
        // A `while` loop's passes, and when its first pass began, for the watchdog.
        let (mut passes, mut started) = (0u32, None);
        while let Some(op) = ops.get(pc) {
            pc += 1;
            match op {
                Op::RacyAdd { reg, var, add } => {
                    self.regs[*reg as usize] = racy_add(&vars[*var as usize], *add);
                }
                Op::Load { .. }
                | Op::Store { .. }
                | Op::FetchAdd { .. }
                | Op::Cas { .. }
                | Op::CasLoop { .. }
                | Op::Swap { .. }
                | Op::Fence(_) => self.memory(vars, op),
                Op::Set { reg, value } => self.regs[*reg as usize] = value.value(&self.regs),
                Op::Lock(l) => {
                    if !self.lock(*l as usize) {
                        return false;
                    }
                }
                Op::Unlock(l) => self.unlock(*l as usize),
                Op::JumpUnless { cond, to } => {
                    if cond.value(&self.regs) == 0 {
                        pc = *to;
                        // Out of a loop (or past an if): the next loop's passes count anew.
                        (passes, started) = (0, None);
                    }
                }
                Op::Loop { to } => {
                    pc = *to;
                    if !self.loop_pass(&mut passes, &mut started) {
                        return false;
                    }
                }
                Op::Wait(c) => {
                    if !self.wait(*c as usize) {
                        return false;
                    }
                }
                Op::Notify(c) => {
                    let woken = self.queue(*c as usize, VecDeque::pop_front);
                    if let Some(t) = woken {
                        self.state.woken[t].store(true, Ordering::Release);
                    }
                }
                Op::NotifyAll(c) => {
                    let woken: Vec<usize> = self.queue(*c as usize, |q| q.drain(..).collect());
                    for t in woken {
                        self.state.woken[t].store(true, Ordering::Release);
                    }
                }
                Op::Acquire(s) => {
                    let permits = &self.state.semaphores[*s as usize];
                    let take = || {
                        let n = permits.load(Ordering::Relaxed);
                        n > 0
                            && permits
                                .compare_exchange_weak(
                                    n,
                                    n - 1,
                                    Ordering::Acquire,
                                    Ordering::Relaxed,
                                )
                                .is_ok()
                    };
                    let acquired = &self.state.acquired[*s as usize];
                    if !self.block(take, Halt::STUCK) {
                        return false;
                    }
                    acquired.fetch_add(1, Ordering::Relaxed);
                }
                Op::Release(s) => {
                    let s = *s as usize;
                    let permits = &self.state.semaphores[s];
                    let decl = &self.program.semaphores[s];
                    let bound = if decl.bounded { decl.initial } else { i64::MAX };
                    let released =
                        permits.fetch_update(Ordering::Release, Ordering::Relaxed, |n| {
                            (n < bound).then_some(n + 1)
                        });
                    if released.is_err() {
                        self.give_up(Halt::OVER_RELEASED + s);
                        return false;
                    }
                }
                Op::ReadLock(r) => {
                    let lock = &self.state.rwlocks[*r as usize];
                    let take = || {
                        let n = lock.load(Ordering::Relaxed);
                        n >= 0
                            && lock
                                .compare_exchange_weak(
                                    n,
                                    n + 1,
                                    Ordering::Acquire,
                                    Ordering::Relaxed,
                                )
                                .is_ok()
                    };
                    let turns = &self.state.rwlock_turns[*r as usize];
                    if !self.block(take, Halt::DEADLOCK) {
                        return false;
                    }
                    turns.fetch_add(1, Ordering::Relaxed);
                }
                Op::ReadUnlock(r) => {
                    self.state.rwlocks[*r as usize].fetch_sub(1, Ordering::Release);
                }
                Op::WriteLock(r) => {
                    let lock = &self.state.rwlocks[*r as usize];
                    let take = || {
                        lock.compare_exchange_weak(0, -1, Ordering::Acquire, Ordering::Relaxed)
                            .is_ok()
                    };
                    let turns = &self.state.rwlock_turns[*r as usize];
                    if !self.block(take, Halt::DEADLOCK) {
                        return false;
                    }
                    turns.fetch_add(1, Ordering::Relaxed);
                }
                Op::WriteUnlock(r) => self.state.rwlocks[*r as usize].store(0, Ordering::Release),
                Op::Spin(n) => busy_work(*n),
                Op::Jitter(n) => {
                    let units = self.rng.as_mut().map_or(0, |r| r.random_range(0..=*n));
                    busy_work(units);
                }
                Op::Yield => yield_now(),
            }
        }
        true
    }

    /// A memory op, its accesses as [`semantics`] defines them, each on the real atomics.
    #[inline(always)]
    fn memory(&mut self, vars: &[CachePadded<AtomicI64>], op: &Op) {
        let mut mid = None;
        loop {
            let result = match semantics::access(op, mid, &self.regs) {
                Access::Read { var, order } => vars[var as usize].load(order),
                Access::Write { var, value, order } => {
                    vars[var as usize].store(value, order);
                    0
                }
                Access::Update { var, change, order } => {
                    let cell = &vars[var as usize];
                    match change {
                        Change::Add(n) => cell.fetch_add(n, order),
                        Change::Swap {
                            expected,
                            new,
                            failure,
                        } => cell
                            .compare_exchange(expected, new, order, failure)
                            .unwrap_or_else(|seen| seen),
                        Change::Exchange(new) => cell.swap(new, order),
                    }
                }
                Access::Fence(order) => {
                    fence(order);
                    0
                }
            };
            match semantics::complete(op, mid, &mut self.regs, result) {
                Next::Done => return,
                Next::Again(next) => mid = next,
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
