//! One shared step of a thread in the interleaving search: what each op does to the search's
//! state, and the line that tells it.

use super::{Search, State};
use crate::scenario::program::{CExpr, Op, Outcome};
use crate::scenario::semantics::{self, Access, Change, Next};

impl Search<'_> {
    /// One shared step of thread `t`, described as people read it.
    pub(super) fn step(&self, state: &mut State, t: usize) -> String {
        let name = &self.threads[t].name;
        let group = &self.program.groups[self.threads[t].group];
        let reg = |r: u8| group.registers.get(r as usize).cloned().unwrap_or_default();
        let var = |v: u16| self.program.shared[v as usize].0.clone();
        let op = &group.ops[state.threads[t].cur.pc];
        let th = &mut state.threads[t];
        let vars = &mut state.vars;
        if semantics::is_memory(op) {
            let access = th.cur.access(&group.ops);
            let result = perform(vars, access);
            let next = th.cur.complete(&group.ops, result);
            let var = var(access_var(access));
            return match (op, access, next) {
                (Op::Load { reg: r, .. }, _, _) if reg(*r).starts_with('@') => {
                    // A test's own read of a shared variable.
                    format!("{name}: reads {var} ({result})")
                }
                (Op::Load { reg: r, .. } | Op::RacyAdd { reg: r, .. }, Access::Read { .. }, _) => {
                    format!("{name}: {} = {var} (reads {result})", reg(*r))
                }
                (Op::RacyAdd { reg: r, add, .. }, Access::Write { value, .. }, _) => {
                    format!(
                        "{name}: {var} = {} {} (writes {value})",
                        reg(*r),
                        signed(*add)
                    )
                }
                (Op::Store { value: e, .. }, Access::Write { value, .. }, _) => {
                    format!("{name}: {var} = {} (writes {value})", expr(e, &reg))
                }
                (
                    Op::FetchAdd { .. },
                    Access::Update {
                        change: Change::Add(add),
                        ..
                    },
                    _,
                ) => format!(
                    "{name}: fetch_add {var} {} ({result} -> {})",
                    signed(add),
                    result.wrapping_add(add)
                ),
                (
                    Op::Swap { .. },
                    Access::Update {
                        change: Change::Exchange(new),
                        ..
                    },
                    _,
                ) => format!("{name}: swap {var} {new} ({result} -> {new})"),
                (Op::CasLoop { current, .. }, Access::Read { .. }, Next::Done) => {
                    format!(
                        "{name}: {} = {var} (reads {result}; gives up)",
                        reg(*current)
                    )
                }
                (Op::CasLoop { current, .. }, Access::Read { .. }, _) => {
                    format!("{name}: {} = {var} (reads {result})", reg(*current))
                }
                (
                    _,
                    Access::Update {
                        change: change @ Change::Swap { expected, new, .. },
                        ..
                    },
                    next,
                ) => {
                    if change.apply(result).is_some() {
                        format!("{name}: cas {var} {expected} -> {new} (succeeds)")
                    } else if next == Next::Done {
                        format!("{name}: cas {var} {expected} -> {new} (fails: it is {result})")
                    } else {
                        format!(
                            "{name}: cas {var} {expected} -> {new} (fails: it is {result}; retries)"
                        )
                    }
                }
                _ => format!("{name}: {op:?}"),
            };
        }
        match op {
            Op::Lock(l) => {
                state.locks[*l as usize] = Some(t);
                th.cur.pc += 1;
                format!("{name}: lock {}", self.program.locks[*l as usize])
            }
            Op::Unlock(l) => {
                state.locks[*l as usize] = None;
                th.cur.pc += 1;
                format!("{name}: unlock {}", self.program.locks[*l as usize])
            }
            Op::Wait(c) => {
                let (cv, lock) = self.condvar(*c);
                let lock_index = self.program.condvars[*c as usize].lock as usize;
                if th.waiting {
                    th.waiting = false;
                    th.cur.pc += 1;
                    state.locks[lock_index] = Some(t);
                    if th.woken {
                        format!("{name}: wakes and takes {lock} again")
                    } else {
                        state.queues[*c as usize].retain(|&w| w != t);
                        format!(
                            "{name}: wakes without a notify (spuriously) and takes {lock} again"
                        )
                    }
                } else {
                    th.waiting = true;
                    th.woken = false;
                    state.queues[*c as usize].push(t);
                    state.locks[lock_index] = None;
                    format!("{name}: wait {cv} (releases {lock} and sleeps)")
                }
            }
            Op::Notify(c) | Op::NotifyAll(c) => {
                th.cur.pc += 1;
                let (cv, _) = self.condvar(*c);
                let queue = &mut state.queues[*c as usize];
                let picked: Vec<usize> = if matches!(op, Op::Notify(_)) {
                    (!queue.is_empty())
                        .then(|| queue.remove(0))
                        .into_iter()
                        .collect()
                } else {
                    std::mem::take(queue)
                };
                let verb = if matches!(op, Op::Notify(_)) {
                    "notify"
                } else {
                    "notify_all"
                };
                for &w in &picked {
                    state.threads[w].woken = true;
                }
                if picked.is_empty() {
                    format!("{name}: {verb} {cv} (nobody waits: the signal is lost)")
                } else {
                    let names: Vec<&str> = picked
                        .iter()
                        .map(|&w| self.threads[w].name.as_str())
                        .collect();
                    format!("{name}: {verb} {cv} (wakes {})", names.join(", "))
                }
            }
            Op::Acquire(s) => {
                th.cur.pc += 1;
                let permits = &mut state.permits[*s as usize];
                *permits -= 1;
                format!(
                    "{name}: acquire {} ({} -> {permits})",
                    self.semaphore(*s),
                    *permits + 1
                )
            }
            Op::Release(s) => {
                th.cur.pc += 1;
                let decl = &self.program.semaphores[*s as usize];
                let permits = &mut state.permits[*s as usize];
                if decl.bounded && *permits >= decl.initial {
                    th.cur.done = true;
                    state.halt.get_or_insert(Outcome::OverReleased(*s));
                    format!(
                        "{name}: release {} above its bound of {} (the thread stops with an error)",
                        decl.name, decl.initial
                    )
                } else {
                    *permits += 1;
                    format!(
                        "{name}: release {} ({} -> {permits})",
                        decl.name,
                        *permits - 1
                    )
                }
            }
            Op::ReadLock(r) | Op::ReadUnlock(r) | Op::WriteLock(r) | Op::WriteUnlock(r) => {
                th.cur.pc += 1;
                let lock = &mut state.rwlocks[*r as usize];
                let verb = match op {
                    Op::ReadLock(_) => {
                        *lock += 1;
                        "read_lock"
                    }
                    Op::ReadUnlock(_) => {
                        *lock -= 1;
                        "read_unlock"
                    }
                    Op::WriteLock(_) => {
                        *lock = -1;
                        "write_lock"
                    }
                    _ => {
                        *lock = 0;
                        "write_unlock"
                    }
                };
                format!("{name}: {verb} {}", self.program.rwlocks[*r as usize])
            }
            Op::Load { .. }
            | Op::RacyAdd { .. }
            | Op::Store { .. }
            | Op::FetchAdd { .. }
            | Op::Cas { .. }
            | Op::CasLoop { .. }
            | Op::Swap { .. } => unreachable!("a memory op, stepped above"),
            Op::Set { .. }
            | Op::Loop { .. }
            | Op::JumpUnless { .. }
            | Op::Spin(_)
            | Op::Jitter(_)
            | Op::Yield
            | Op::Fence(_) => unreachable!("settled before any shared step"),
        }
    }
}

impl Search<'_> {
    /// A condvar's name and its lock's.
    fn condvar(&self, c: u16) -> (&str, &str) {
        let decl = &self.program.condvars[c as usize];
        (&decl.name, &self.program.locks[decl.lock as usize])
    }

    fn semaphore(&self, s: u16) -> &str {
        &self.program.semaphores[s as usize].name
    }
}

/// "+ 1", "- 2".
fn signed(n: i64) -> String {
    if n < 0 {
        format!("- {}", n.unsigned_abs())
    } else {
        format!("+ {n}")
    }
}

/// A stored expression, shortly: a constant, a register, or a register plus a constant.
fn expr(e: &CExpr, reg: &impl Fn(u8) -> String) -> String {
    match e {
        CExpr::Const(n) => n.to_string(),
        CExpr::Slot(s) => reg(*s as u8),
        CExpr::SlotPlus(s, n) => format!("{} {}", reg(*s as u8), signed(*n)),
        _ => "...".to_string(),
    }
}

/// An access on sequentially consistent memory: every step sees every earlier one. Returns
/// the value read (0 for a write or a fence).
pub(crate) fn perform(vars: &mut [i64], access: Access) -> i64 {
    match access {
        Access::Read { var, .. } => vars[var as usize],
        Access::Write { var, value, .. } => {
            vars[var as usize] = value;
            0
        }
        Access::Update { var, change, .. } => {
            let old = vars[var as usize];
            if let Some(new) = change.apply(old) {
                vars[var as usize] = new;
            }
            old
        }
        Access::Fence(_) => 0,
    }
}

/// The variable an access touches (0 for a fence, which the search settles before it steps).
fn access_var(access: Access) -> u16 {
    match access {
        Access::Read { var, .. } | Access::Write { var, .. } | Access::Update { var, .. } => var,
        Access::Fence(_) => 0,
    }
}
