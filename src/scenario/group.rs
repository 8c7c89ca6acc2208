//! One thread group's ops compiled: every name resolved, locks taken and released in pairs on
//! every path, waits made under their condvar's lock, loops that can end, and each problem
//! reported at its file:line:column.

use super::file::{self, Group};
use super::fuse::ordering;
use super::parse::{self, Expr, Name, OpSyntax, Order};
use super::program::{CExpr, MAX_REGISTERS, Op};
use super::resolve::{Decls, Result, lower, problem, slots_read};
use super::semantics::failure_order;
use crate::sync::Ordering;

/// Most ops in one group: a scenario is a small program, not a workload generator.
const MAX_OPS: usize = 1000;

/// How the scenario's groups use its semaphores, gathered across groups: a bounded
/// semaphore released somewhere but acquired nowhere can only ever be over-released.
#[derive(Default)]
pub struct SemaphoreUse {
    pub acquired: Vec<bool>,
    pub first_release: Vec<Option<usize>>,
}

const WAIT_NEEDS_LOCK: &str = "a wait must hold it, so that no notify can come between the check of the condition and the sleep";
const NOTIFY_NEEDS_LOCK: &str = "Python's Condition raises RuntimeError on a notify without it";

/// A reader-writer lock as a thread holds it at one point of its ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RwHeld {
    Free,
    Read,
    Write,
}

/// What a thread holds at one point of its ops; it must be the same at a block's `end` as at
/// its start, so that every path through the block takes and releases alike.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    locks: Vec<bool>,
    rw: Vec<RwHeld>,
}

/// An `if` or `while` whose `end` has not come yet.
struct Open {
    /// The index of the block's `JumpUnless`.
    jump: usize,
    /// Where a `while` jumps back to (its test, and the loads the test needs); `None` for an
    /// `if`.
    test: Option<usize>,
    /// Where it was written, and whether its test reads a shared variable (which another
    /// thread can change) and which registers it reads (which only the body can change).
    at: usize,
    reads_shared: bool,
    cond_registers: Vec<u16>,
    held: Held,
}

/// Compiles one group's op strings into ops.
pub struct GroupBuilder<'a> {
    pub text: &'a str,
    pub decls: &'a Decls<'a>,
    /// Register names; a hidden register that holds a shared variable read by a test is
    /// named `@var`, which no op can spell.
    pub registers: Vec<String>,
    /// Whether an `if` or `while` test is being lowered: only there does a shared variable's
    /// name stand for its hidden register.
    pub testing: bool,
}

impl GroupBuilder<'_> {
    pub fn ops(&mut self, group: &Group, semaphores: &mut SemaphoreUse) -> Result<Vec<Op>> {
        let list = group.ops.get_ref();
        if list.is_empty() {
            return problem(
                group.ops.span().start,
                format!("group '{}' has no ops", group.name.get_ref()),
            );
        }
        if list.len() > MAX_OPS {
            return problem(
                group.ops.span().start,
                format!("more than {MAX_OPS} ops in one group"),
            );
        }
        let d = self.decls;
        let mut ops = Vec::new();
        let mut held = Held {
            locks: vec![false; d.locks.len()],
            rw: vec![RwHeld::Free; d.rwlocks.len()],
        };
        let mut open: Vec<Open> = Vec::new();
        let mut taken_at = vec![0usize; d.locks.len()];
        let mut rw_taken_at = vec![0usize; d.rwlocks.len()];
        for item in list {
            let base = file::string_content_start(self.text, item.span().start);
            let syntax =
                parse::op(item.get_ref()).or_else(|e| problem(base + e.offset, e.message))?;
            let is_while = matches!(syntax, OpSyntax::While(_));
            let reads = matches!(syntax, OpSyntax::ReadLock(_) | OpSyntax::ReadUnlock(_));
            let op = match syntax {
                OpSyntax::Load { reg, var, order } => {
                    let var = d.var(&var, base)?;
                    Op::Load {
                        reg: self.assign(&reg, base)?,
                        var,
                        order: ordering(order),
                        plain: order == Order::Plain,
                    }
                }
                OpSyntax::Store { var, value, order } => Op::Store {
                    var: d.var(&var, base)?,
                    value: self.expr(&value, base)?,
                    order: ordering(order),
                    plain: order == Order::Plain,
                },
                OpSyntax::FetchAdd {
                    reg,
                    var,
                    value,
                    order,
                } => Op::FetchAdd {
                    var: d.var(&var, base)?,
                    value: self.expr(&value, base)?,
                    reg: reg.map(|r| self.assign(&r, base)).transpose()?,
                    order: ordering(order),
                },
                OpSyntax::Cas {
                    reg,
                    var,
                    expected,
                    old,
                    new,
                    order,
                    failure,
                } => Op::Cas {
                    var: d.var(&var, base)?,
                    expected: self.expr(&expected, base)?,
                    new: self.expr(&new, base)?,
                    old: old.map(|r| self.assign(&r, base)).transpose()?,
                    reg: reg.map(|r| self.assign(&r, base)).transpose()?,
                    order: ordering(order),
                    failure: failure.map_or(failure_order(ordering(order)), ordering),
                },
                OpSyntax::Swap {
                    reg,
                    var,
                    value,
                    order,
                } => Op::Swap {
                    var: d.var(&var, base)?,
                    value: self.expr(&value, base)?,
                    reg: reg.map(|r| self.assign(&r, base)).transpose()?,
                    order: ordering(order),
                },
                OpSyntax::CasLoop {
                    reg,
                    var,
                    current,
                    new,
                    guard,
                    order,
                } => {
                    let var = d.var(&var, base)?;
                    // The current value is assigned before the new value and guard read it.
                    let current = self.assign(&current, base)?;
                    Op::CasLoop {
                        var,
                        current,
                        new: self.expr(&new, base)?,
                        guard: guard.map(|g| self.expr(&g, base)).transpose()?,
                        reg: reg.map(|r| self.assign(&r, base)).transpose()?,
                        order: ordering(order),
                    }
                }
                OpSyntax::Set { reg, value } => {
                    let value = self.expr(&value, base)?;
                    Op::Set {
                        reg: self.assign(&reg, base)?,
                        value,
                    }
                }
                OpSyntax::Lock(name) => {
                    let l = d.lock(&name, base)?;
                    if held.locks[l] {
                        return problem(
                            base + name.offset,
                            format!(
                                "lock '{}' is already held here: taking it again would deadlock the thread with itself",
                                name.text
                            ),
                        );
                    }
                    held.locks[l] = true;
                    taken_at[l] = base + name.offset;
                    Op::Lock(l as u16)
                }
                OpSyntax::Unlock(name) => {
                    let l = d.lock(&name, base)?;
                    if !held.locks[l] {
                        return problem(
                            base + name.offset,
                            format!(
                                "unlock of '{}', which this thread does not hold here",
                                name.text
                            ),
                        );
                    }
                    held.locks[l] = false;
                    Op::Unlock(l as u16)
                }
                OpSyntax::Wait(name) => Op::Wait(self.tied(&name, base, &held, WAIT_NEEDS_LOCK)?),
                OpSyntax::Notify(name) => {
                    Op::Notify(self.tied(&name, base, &held, NOTIFY_NEEDS_LOCK)?)
                }
                OpSyntax::NotifyAll(name) => {
                    Op::NotifyAll(self.tied(&name, base, &held, NOTIFY_NEEDS_LOCK)?)
                }
                OpSyntax::Acquire(name) => {
                    let s = d.semaphore(&name, base)?;
                    semaphores.acquired[s] = true;
                    Op::Acquire(s as u16)
                }
                OpSyntax::Release(name) => {
                    let s = d.semaphore(&name, base)?;
                    semaphores.first_release[s].get_or_insert(base + name.offset);
                    Op::Release(s as u16)
                }
                OpSyntax::ReadLock(name) | OpSyntax::WriteLock(name) => {
                    let r = d.rwlock(&name, base)?;
                    if held.rw[r] != RwHeld::Free {
                        return problem(
                            base + name.offset,
                            format!(
                                "reader-writer lock '{}' is already held here: taking it again could wait for this very thread",
                                name.text
                            ),
                        );
                    }
                    rw_taken_at[r] = base + name.offset;
                    if reads {
                        held.rw[r] = RwHeld::Read;
                        Op::ReadLock(r as u16)
                    } else {
                        held.rw[r] = RwHeld::Write;
                        Op::WriteLock(r as u16)
                    }
                }
                OpSyntax::ReadUnlock(name) | OpSyntax::WriteUnlock(name) => {
                    let r = d.rwlock(&name, base)?;
                    let wanted = if reads { RwHeld::Read } else { RwHeld::Write };
                    if held.rw[r] != wanted {
                        return problem(
                            base + name.offset,
                            format!(
                                "{} of '{}', which this thread does not hold {} here",
                                if reads { "read_unlock" } else { "write_unlock" },
                                name.text,
                                if reads { "for reading" } else { "for writing" },
                            ),
                        );
                    }
                    held.rw[r] = RwHeld::Free;
                    if reads {
                        Op::ReadUnlock(r as u16)
                    } else {
                        Op::WriteUnlock(r as u16)
                    }
                }
                OpSyntax::If(cond) | OpSyntax::While(cond) => {
                    let test = ops.len();
                    let (cond, reads_shared) = self.test(&cond, base, &mut ops)?;
                    let mut cond_registers = Vec::new();
                    slots_read(&cond, &mut cond_registers);
                    if is_while
                        && let CExpr::Const(c) = cond
                        && c != 0
                    {
                        return problem(
                            base,
                            "this loop's test is always true, so it never ends: test something the loop or another thread changes",
                        );
                    }
                    open.push(Open {
                        jump: ops.len(),
                        test: is_while.then_some(test),
                        at: base,
                        reads_shared,
                        cond_registers,
                        held: held.clone(),
                    });
                    Op::JumpUnless {
                        cond,
                        to: usize::MAX,
                    }
                }
                OpSyntax::End => {
                    let Some(block) = open.pop() else {
                        return problem(base, "'end' without an 'if' or a 'while'");
                    };
                    if block.held != held {
                        return problem(
                            base,
                            "the locks held at this 'end' differ from those held where its block began: take and release locks on every path alike",
                        );
                    }
                    if let Some(test) = block.test {
                        self.check_loop_ends(&block, &ops[block.jump + 1..])?;
                        ops.push(Op::Loop { to: test });
                    }
                    let to = ops.len();
                    if let Op::JumpUnless { to: target, .. } = &mut ops[block.jump] {
                        *target = to;
                    }
                    continue;
                }
                OpSyntax::Spin(n) => Op::Spin(n),
                OpSyntax::Jitter(n) => Op::Jitter(n),
                OpSyntax::Yield => Op::Yield,
                OpSyntax::Fence(order) => Op::Fence(ordering(order)),
            };
            ops.push(op);
        }
        if let Some(block) = open.pop() {
            let what = if block.test.is_some() { "while" } else { "if" };
            return problem(block.at, format!("this '{what}' has no 'end'"));
        }
        if let Some(l) = held.locks.iter().position(|&h| h) {
            return problem(
                taken_at[l],
                format!(
                    "lock '{}' is still held after the last op: unlock it",
                    d.locks[l]
                ),
            );
        }
        if let Some(r) = held.rw.iter().position(|&h| h != RwHeld::Free) {
            return problem(
                rw_taken_at[r],
                format!(
                    "reader-writer lock '{}' is still held after the last op: unlock it",
                    d.rwlocks[r]
                ),
            );
        }
        Ok(super::fuse::fuse(ops))
    }

    /// The condvar `name` names, checked to have its lock held here (`why` says why it must).
    fn tied(&self, name: &Name, base: usize, held: &Held, why: &str) -> Result<u16> {
        let d = self.decls;
        let c = d.condvar(name, base)?;
        let lock = d.condvars[c].lock as usize;
        if !held.locks[lock] {
            return problem(
                base + name.offset,
                format!(
                    "condvar '{}' is tied to lock '{}', which this thread does not hold here: {why}",
                    name.text, d.locks[lock]
                ),
            );
        }
        Ok(c as u16)
    }

    /// A loop ends only if its test can change: it reads a shared variable (another thread
    /// may write it; the watchdog bounds the wait), or a register the body assigns.
    fn check_loop_ends(&self, block: &Open, body: &[Op]) -> Result<()> {
        if block.reads_shared {
            return Ok(());
        }
        let assigned: Vec<u16> = body.iter().filter_map(assigned_register).collect();
        if block
            .cond_registers
            .iter()
            .any(|r| assigned.contains(r) || self.registers[*r as usize].starts_with('@'))
        {
            return Ok(());
        }
        problem(
            block.at,
            "this loop's test reads nothing the loop changes, so once true it stays true and the thread spins forever: load a shared variable in the test or in the body",
        )
    }

    /// A test's expression. A shared variable named in it is loaded (acquire) into a hidden
    /// register each time the test runs, as Python reads a global in `while not ready:`.
    fn test(&mut self, cond: &Expr, base: usize, ops: &mut Vec<Op>) -> Result<(CExpr, bool)> {
        let mut loads = Vec::new();
        let lowered = {
            let shared = self.decls.shared;
            let hidden = |name: &str| -> Option<u16> {
                let var = shared.iter().position(|(n, _)| n == name)?;
                Some(var as u16)
            };
            let mut names = Vec::new();
            collect_names(cond, &mut names);
            for (name, offset) in names {
                if let Some(var) = hidden(&name)
                    && !loads.iter().any(|(v, _)| *v == var)
                {
                    let reg = self.hidden_register(&name, base + offset)?;
                    loads.push((var, reg));
                }
            }
            self.testing = true;
            let lowered = self.expr(cond, base);
            self.testing = false;
            lowered?
        };
        let reads_shared = !loads.is_empty();
        for (var, reg) in loads {
            ops.push(Op::Load {
                reg,
                var,
                order: Ordering::Acquire,
                plain: false,
            });
        }
        Ok((lowered, reads_shared))
    }

    fn hidden_register(&mut self, var: &str, at: usize) -> Result<u8> {
        let name = format!("@{var}");
        if let Some(i) = self.registers.iter().position(|r| *r == name) {
            return Ok(i as u8);
        }
        self.new_register(name, at)
    }

    fn new_register(&mut self, name: String, at: usize) -> Result<u8> {
        if self.registers.len() == MAX_REGISTERS {
            return problem(
                at,
                format!("more than {MAX_REGISTERS} registers in one group"),
            );
        }
        self.registers.push(name);
        Ok((self.registers.len() - 1) as u8)
    }

    /// The register a value is assigned to, created on first assignment.
    fn assign(&mut self, name: &Name, base: usize) -> Result<u8> {
        let d = self.decls;
        if d.shared.iter().any(|s| s.0 == name.text) {
            return problem(
                base + name.offset,
                format!(
                    "'{}' is a shared variable: write it with 'store {} = ...'",
                    name.text, name.text
                ),
            );
        }
        let taken = d.consts.get(&name.text).is_some()
            || d.locks.contains(&name.text)
            || d.rwlocks.contains(&name.text)
            || d.condvars.iter().any(|c| c.name == name.text)
            || d.semaphores.iter().any(|s| s.name == name.text);
        if taken {
            return problem(
                base + name.offset,
                format!("'{}' is taken: pick another register name", name.text),
            );
        }
        if let Some(i) = self.registers.iter().position(|r| *r == name.text) {
            return Ok(i as u8);
        }
        self.new_register(name.text.clone(), base + name.offset)
    }

    fn expr(&self, e: &Expr, base: usize) -> Result<CExpr> {
        lower(e, &mut |name, offset| {
            if let Some(i) = self.registers.iter().position(|r| r == name) {
                return Ok(CExpr::Slot(i as u16));
            }
            if let Some(v) = self.decls.consts.get(name) {
                return Ok(CExpr::Const(v));
            }
            // Read by the test: its hidden register.
            if let Some(i) = self
                .registers
                .iter()
                .position(|r| self.testing && r.strip_prefix('@') == Some(name))
            {
                return Ok(CExpr::Slot(i as u16));
            }
            if self.decls.shared.iter().any(|s| s.0 == name) {
                return problem(
                    base + offset,
                    format!(
                        "'{name}' is a shared variable: read it into a register first ('r = load {name}'), or test it in an 'if' or 'while'"
                    ),
                );
            }
            problem(
                base + offset,
                format!(
                    "unknown register '{name}': assign it first ('{name} = load var' or '{name} = ...')"
                ),
            )
        })
    }
}

/// Every name an expression reads, with its offset.
fn collect_names(e: &Expr, out: &mut Vec<(String, usize)>) {
    match e {
        Expr::Int(_) => {}
        Expr::Name(n, at) => out.push((n.clone(), *at)),
        Expr::Neg(e) | Expr::Not(e) => collect_names(e, out),
        Expr::Bin(_, a, b) => {
            collect_names(a, out);
            collect_names(b, out);
        }
    }
}

/// The register an op writes, if any.
fn assigned_register(op: &Op) -> Option<u16> {
    match op {
        Op::Load { reg, .. } | Op::RacyAdd { reg, .. } | Op::Set { reg, .. } => {
            Some(u16::from(*reg))
        }
        Op::FetchAdd { reg, .. } | Op::Swap { reg, .. } => reg.map(u16::from),
        // Its flag when it has one, else the register `&r` names.
        Op::Cas { reg, old, .. } => reg.or(*old).map(u16::from),
        Op::CasLoop { current, .. } => Some(u16::from(*current)),
        _ => None,
    }
}
