//! What each memory op means, defined once: the accesses it makes, in order, with which
//! orderings, and what their results do to the thread's registers. Every reader runs ops
//! through this: the interpreter on real atomics, the interleaving search and the SC model on
//! one shared memory, the x86-TSO model through store buffers, and the RC11 model as events.
//!
//! An op is a little state machine: [`access`] says the next access, given the op's progress
//! so far (`mid`, the value a two-step op has read), and [`complete`] takes the access's
//! result and says whether the op has another access to make. A racy add is a read then a
//! write; a compare-and-swap loop is a read then a swap, repeated until the swap succeeds.

use super::program::{MAX_REGISTERS, Op};
use crate::sync::Ordering;

/// One access to a shared variable, or a fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read {
        var: u16,
        order: Ordering,
    },
    Write {
        var: u16,
        value: i64,
        order: Ordering,
    },
    /// A read-modify-write: one indivisible read and (when [`Change::apply`] says so) write.
    /// Its result is the value read.
    Update {
        var: u16,
        change: Change,
        order: Ordering,
    },
    Fence(Ordering),
}

/// What a read-modify-write writes, given the value it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add(i64),
    /// Writes `new` only when the value read is `expected`; else only reads, ordered with
    /// `failure`.
    Swap {
        expected: i64,
        new: i64,
        failure: Ordering,
    },
    /// Writes the value whatever was read (an exchange).
    Exchange(i64),
}

impl Change {
    /// The value written over `old`, or `None` when nothing is (a failed compare-and-swap,
    /// which is then only a read, with the failure ordering).
    pub fn apply(self, old: i64) -> Option<i64> {
        match self {
            Change::Add(n) => Some(old.wrapping_add(n)),
            Change::Swap { expected, new, .. } => (old == expected).then_some(new),
            Change::Exchange(new) => Some(new),
        }
    }
}

/// A failed compare-and-swap only reads, so it cannot have release semantics.
pub fn failure_order(order: Ordering) -> Ordering {
    match order {
        Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
        Ordering::AcqRel | Ordering::Acquire => Ordering::Acquire,
        _ => Ordering::SeqCst,
    }
}

/// The ordering an update's read has when its change writes nothing.
pub fn read_order(change: Change, old: i64, order: Ordering) -> Ordering {
    match change {
        Change::Swap {
            expected, failure, ..
        } if old != expected => failure,
        _ => order,
    }
}

/// Whether `op` touches shared memory (or is a fence), and so goes through [`access`].
pub fn is_memory(op: &Op) -> bool {
    matches!(
        op,
        Op::Load { .. }
            | Op::RacyAdd { .. }
            | Op::Store { .. }
            | Op::FetchAdd { .. }
            | Op::Cas { .. }
            | Op::CasLoop { .. }
            | Op::Swap { .. }
            | Op::Fence(_)
    )
}

/// The next access of a memory op. `mid` is what [`complete`] returned for the op's previous
/// access (`None` at its start).
#[inline(always)]
pub fn access(op: &Op, mid: Option<i64>, regs: &[i64; MAX_REGISTERS]) -> Access {
    match op {
        Op::Load { var, order, .. } => Access::Read {
            var: *var,
            order: *order,
        },
        Op::RacyAdd { var, add, .. } => match mid {
            None => Access::Read {
                var: *var,
                order: Ordering::Relaxed,
            },
            Some(read) => Access::Write {
                var: *var,
                value: read.wrapping_add(*add),
                order: Ordering::Relaxed,
            },
        },
        Op::Store {
            var, value, order, ..
        } => Access::Write {
            var: *var,
            value: value.value(regs),
            order: *order,
        },
        Op::FetchAdd {
            var, value, order, ..
        } => Access::Update {
            var: *var,
            change: Change::Add(value.value(regs)),
            order: *order,
        },
        Op::Cas {
            var,
            expected,
            new,
            order,
            failure,
            ..
        } => Access::Update {
            var: *var,
            change: Change::Swap {
                expected: expected.value(regs),
                new: new.value(regs),
                failure: *failure,
            },
            order: *order,
        },
        Op::Swap {
            var, value, order, ..
        } => Access::Update {
            var: *var,
            change: Change::Exchange(value.value(regs)),
            order: *order,
        },
        Op::CasLoop {
            var, new, order, ..
        } => match mid {
            None => Access::Read {
                var: *var,
                order: failure_order(*order),
            },
            Some(seen) => Access::Update {
                var: *var,
                change: Change::Swap {
                    expected: seen,
                    new: new.value(regs),
                    failure: failure_order(*order),
                },
                order: *order,
            },
        },
        Op::Fence(order) => Access::Fence(*order),
        other => unreachable!("not a memory op: {other:?}"),
    }
}

/// After an access: the op is finished, or makes another access, asked for with this `mid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Done,
    Again(Option<i64>),
}

/// Takes the result of the access [`access`] gave (the value read; 0 for a write or a fence)
/// into the registers, and says whether the op has another access to make.
#[inline(always)]
pub fn complete(op: &Op, mid: Option<i64>, regs: &mut [i64; MAX_REGISTERS], result: i64) -> Next {
    let set = |regs: &mut [i64; MAX_REGISTERS], reg: Option<u8>, v: i64| {
        if let Some(r) = reg {
            regs[r as usize] = v;
        }
    };
    match op {
        Op::Load { reg, .. } => {
            regs[*reg as usize] = result;
            Next::Done
        }
        Op::RacyAdd { reg, .. } => match mid {
            None => {
                regs[*reg as usize] = result;
                Next::Again(Some(result))
            }
            Some(_) => Next::Done,
        },
        Op::FetchAdd { reg, .. } | Op::Swap { reg, .. } => {
            set(regs, *reg, result);
            Next::Done
        }
        Op::Cas {
            reg, old, expected, ..
        } => {
            // Before either register changes: `&r` is read as the expected value too.
            let swapped = result == expected.value(regs);
            set(regs, *old, result);
            set(regs, *reg, i64::from(swapped));
            Next::Done
        }
        Op::CasLoop {
            reg,
            current,
            guard,
            ..
        } => match mid {
            None => {
                regs[*current as usize] = result;
                if guard.as_ref().is_some_and(|g| g.value(regs) == 0) {
                    // The guard says give up: the loop ends without a swap.
                    set(regs, *reg, 0);
                    Next::Done
                } else {
                    Next::Again(Some(result))
                }
            }
            Some(seen) if result == seen => {
                set(regs, *reg, 1);
                Next::Done
            }
            // The swap failed: back to the read, and the loop tries again.
            Some(_) => Next::Again(None),
        },
        _ => Next::Done,
    }
}

/// Where one thread is in its ops; every reader keeps one per thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub pc: usize,
    /// Passes over the ops finished so far.
    pub iteration: u64,
    /// Halfway through a multi-access op: see [`access`].
    pub mid: Option<i64>,
    pub regs: [i64; MAX_REGISTERS],
    pub done: bool,
}

/// Where [`Cursor::settle`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// At an op that touches something shared: `ops[pc]`.
    Shared,
    Done,
    /// Ran `max_steps` local steps without reaching one: a loop over registers alone that
    /// never ends.
    Spinning,
}

impl Cursor {
    pub fn start(iterations: u64) -> Cursor {
        Cursor {
            pc: 0,
            iteration: 0,
            mid: None,
            regs: [0; MAX_REGISTERS],
            done: iterations == 0,
        }
    }

    /// Runs the ops that touch nothing shared (register arithmetic, branches, a loop's way
    /// back, pauses; and fences, when `skip_fences`, as under sequential consistency where a
    /// fence changes nothing) until the next shared op, the end, or `max_steps`.
    pub fn settle(
        &mut self,
        ops: &[Op],
        iterations: u64,
        skip_fences: bool,
        max_steps: usize,
    ) -> Settled {
        let mut steps = 0usize;
        while !self.done {
            steps += 1;
            if steps > max_steps {
                self.done = true;
                return Settled::Spinning;
            }
            match ops.get(self.pc) {
                Some(Op::Loop { to }) => self.pc = *to,
                None => {
                    self.iteration += 1;
                    self.pc = 0;
                    self.done = self.iteration >= iterations || ops.is_empty();
                }
                Some(Op::Set { reg, value }) => {
                    self.regs[*reg as usize] = value.value(&self.regs);
                    self.pc += 1;
                }
                Some(Op::JumpUnless { cond, to }) => {
                    self.pc = if cond.value(&self.regs) == 0 {
                        *to
                    } else {
                        self.pc + 1
                    };
                }
                Some(Op::Spin(_) | Op::Jitter(_) | Op::Yield) => self.pc += 1,
                Some(Op::Fence(_)) if skip_fences => self.pc += 1,
                Some(_) => return Settled::Shared,
            }
        }
        Settled::Done
    }

    /// The next access of the memory op at `pc`.
    pub fn access(&self, ops: &[Op]) -> Access {
        access(&ops[self.pc], self.mid, &self.regs)
    }

    /// Takes the result of [`Cursor::access`]'s access; moves past the op once it is finished.
    pub fn complete(&mut self, ops: &[Op], result: i64) -> Next {
        let next = complete(&ops[self.pc], self.mid, &mut self.regs, result);
        match next {
            Next::Done => {
                self.mid = None;
                self.pc += 1;
            }
            Next::Again(mid) => self.mid = mid,
        }
        next
    }
}
