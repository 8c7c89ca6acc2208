//! One shared step of a thread in the interleaving search: what each op does to the search's
//! state, and the line that tells it.

use super::{Search, State};
use crate::scenario::program::{CExpr, MAX_REGISTERS, Op, Outcome};

impl Search<'_> {
    /// One shared step of thread `t`, described as people read it.
    pub(super) fn step(&self, state: &mut State, t: usize) -> String {
        let name = &self.threads[t].name;
        let group = &self.program.groups[self.threads[t].group];
        let reg = |r: u8| group.registers.get(r as usize).cloned().unwrap_or_default();
        let var = |v: u16| self.program.shared[v as usize].0.clone();
        let op = &group.ops[state.threads[t].pc];
        let th = &mut state.threads[t];
        let vars = &mut state.vars;
        let set = |regs: &mut [i64; MAX_REGISTERS], r: Option<u8>, v: i64| {
            if let Some(r) = r {
                regs[r as usize] = v;
            }
        };
        match op {
            Op::Load { reg: r, var: v, .. } => {
                th.regs[*r as usize] = vars[*v as usize];
                th.pc += 1;
                if reg(*r).starts_with('@') {
                    // A test's own read of a shared variable.
                    format!("{name}: reads {} ({})", var(*v), vars[*v as usize])
                } else {
                    format!(
                        "{name}: {} = {} (reads {})",
                        reg(*r),
                        var(*v),
                        vars[*v as usize]
                    )
                }
            }
            Op::RacyAdd {
                reg: r,
                var: v,
                add,
            } => match th.mid.take() {
                None => {
                    let read = vars[*v as usize];
                    th.mid = Some(read);
                    th.regs[*r as usize] = read;
                    format!("{name}: {} = {} (reads {read})", reg(*r), var(*v))
                }
                Some(read) => {
                    let new = read.wrapping_add(*add);
                    vars[*v as usize] = new;
                    th.pc += 1;
                    format!(
                        "{name}: {} = {} {} (writes {new})",
                        var(*v),
                        reg(*r),
                        signed(*add)
                    )
                }
            },
            Op::Store { var: v, value, .. } => {
                let new = value.value(&th.regs);
                vars[*v as usize] = new;
                th.pc += 1;
                format!("{name}: {} = {} (writes {new})", var(*v), expr(value, &reg))
            }
            Op::FetchAdd {
                reg: r,
                var: v,
                value,
                ..
            } => {
                let old = vars[*v as usize];
                let add = value.value(&th.regs);
                vars[*v as usize] = old.wrapping_add(add);
                set(&mut th.regs, *r, old);
                th.pc += 1;
                format!(
                    "{name}: fetch_add {} {} ({old} -> {})",
                    var(*v),
                    signed(add),
                    vars[*v as usize]
                )
            }
            Op::Cas {
                reg: r,
                var: v,
                expected,
                new,
                ..
            } => {
                let (e, n) = (expected.value(&th.regs), new.value(&th.regs));
                let seen = vars[*v as usize];
                let ok = seen == e;
                if ok {
                    vars[*v as usize] = n;
                }
                set(&mut th.regs, *r, i64::from(ok));
                th.pc += 1;
                if ok {
                    format!("{name}: cas {} {e} -> {n} (succeeds)", var(*v))
                } else {
                    format!("{name}: cas {} {e} -> {n} (fails: it is {seen})", var(*v))
                }
            }
            Op::CasLoop {
                reg: r,
                var: v,
                current,
                new,
                guard,
                ..
            } => match th.mid.take() {
                None => {
                    let seen = vars[*v as usize];
                    th.regs[*current as usize] = seen;
                    if guard.as_ref().is_some_and(|g| g.value(&th.regs) == 0) {
                        set(&mut th.regs, *r, 0);
                        th.pc += 1;
                        format!(
                            "{name}: {} = {} (reads {seen}; gives up)",
                            reg(*current),
                            var(*v)
                        )
                    } else {
                        th.mid = Some(seen);
                        format!("{name}: {} = {} (reads {seen})", reg(*current), var(*v))
                    }
                }
                Some(seen) => {
                    let n = new.value(&th.regs);
                    let now = vars[*v as usize];
                    if now == seen {
                        vars[*v as usize] = n;
                        set(&mut th.regs, *r, 1);
                        th.pc += 1;
                        format!("{name}: cas {} {seen} -> {n} (succeeds)", var(*v))
                    } else {
                        // Back to the load: the loop tries again.
                        format!(
                            "{name}: cas {} {seen} -> {n} (fails: it is {now}; retries)",
                            var(*v)
                        )
                    }
                }
            },
            Op::Lock(l) => {
                state.locks[*l as usize] = Some(t);
                th.pc += 1;
                format!("{name}: lock {}", self.program.locks[*l as usize])
            }
            Op::Unlock(l) => {
                state.locks[*l as usize] = None;
                th.pc += 1;
                format!("{name}: unlock {}", self.program.locks[*l as usize])
            }
            Op::Wait(c) => {
                let (cv, lock) = self.condvar(*c);
                let lock_index = self.program.condvars[*c as usize].lock as usize;
                if th.waiting {
                    th.waiting = false;
                    th.pc += 1;
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
                th.pc += 1;
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
                th.pc += 1;
                let permits = &mut state.permits[*s as usize];
                *permits -= 1;
                format!(
                    "{name}: acquire {} ({} -> {permits})",
                    self.semaphore(*s),
                    *permits + 1
                )
            }
            Op::Release(s) => {
                th.pc += 1;
                let decl = &self.program.semaphores[*s as usize];
                let permits = &mut state.permits[*s as usize];
                if decl.bounded && *permits >= decl.initial {
                    th.done = true;
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
                th.pc += 1;
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
