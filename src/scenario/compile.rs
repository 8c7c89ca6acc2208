//! From a parsed scenario file to a [`Program`]: resolves every name, checks locks are taken and
//! released in pairs on every path, and reports each problem at its file:line:column.

use std::time::Duration;

use super::file::{self, File};
use super::parse::{self, BinOp, Expr, Name, OpSyntax, Order};
use super::program::{CExpr, Grade, GroupProgram, MAX_REGISTERS, Op, Program, Rule, Source};
use crate::harness::over_thread_limit;
use crate::sync::Ordering;

/// Most ops in one group: a scenario is a small program, not a workload generator.
const MAX_OPS: usize = 1000;
const MAX_SHARED: usize = 1000;
const MAX_WATCHDOG_MS: u64 = 60_000;
pub const DEFAULT_WATCHDOG_MS: u64 = 500;

/// A problem in a scenario file, at a byte offset of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub offset: usize,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Problem>;

fn problem<T>(offset: usize, message: impl Into<String>) -> Result<T> {
    Err(Problem {
        offset,
        message: message.into(),
    })
}

/// Command-line overrides of the file's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub threads: Option<u64>,
    pub iterations: Option<u64>,
}

pub fn compile(file: &File, text: &str, overrides: Overrides) -> Result<Program> {
    let threads_default = overrides
        .threads
        .or(file.threads.as_ref().map(|t| *t.get_ref()))
        .unwrap_or(1);
    let iterations = overrides
        .iterations
        .or(file.iterations.as_ref().map(|t| *t.get_ref()))
        .unwrap_or(1);
    for (field, value) in [("threads", &file.threads), ("iterations", &file.iterations)] {
        if let Some(v) = value
            && *v.get_ref() == 0
        {
            return problem(v.span().start, format!("{field} must be at least 1"));
        }
    }
    if let Some(t) = &file.trials
        && *t.get_ref() == 0
    {
        return problem(t.span().start, "trials must be at least 1");
    }
    if let Some(e) = &file.expect
        && !["correct", "race", "any"].contains(&e.get_ref().as_str())
    {
        return problem(
            e.span().start,
            format!("unknown expect '{}': use correct, race or any", e.get_ref()),
        );
    }
    if file.shared.len() > MAX_SHARED {
        return problem(0, format!("more than {MAX_SHARED} shared variables"));
    }
    let watchdog_ms = match &file.watchdog_ms {
        Some(w) if *w.get_ref() == 0 || *w.get_ref() > MAX_WATCHDOG_MS => {
            return problem(
                w.span().start,
                format!("watchdog_ms must be from 1 to {MAX_WATCHDOG_MS}"),
            );
        }
        Some(w) => *w.get_ref(),
        None => DEFAULT_WATCHDOG_MS,
    };
    let mut locks: Vec<String> = Vec::new();
    for lock in &file.locks {
        if locks.contains(lock.get_ref()) {
            return problem(
                lock.span().start,
                format!("lock '{}' is declared twice", lock.get_ref()),
            );
        }
        locks.push(lock.get_ref().clone());
    }
    if file.group.is_empty() {
        return problem(0, "a scenario needs at least one [[group]] of threads");
    }
    let shared: Vec<(String, i64)> = file
        .shared
        .iter()
        .map(|(k, v)| (k.clone(), *v.get_ref()))
        .collect();

    // Total threads first: `threads` in expressions means all of them.
    // (threads, iterations, where the thread count was written) per group.
    let mut sizes = Vec::new();
    for g in &file.group {
        let (threads, at) = match (&g.threads, &file.threads) {
            (Some(t), _) if *t.get_ref() == 0 => {
                return problem(t.span().start, "threads must be at least 1");
            }
            (Some(t), _) => (*t.get_ref(), t.span().start),
            (None, Some(t)) => (threads_default, t.span().start),
            (None, None) => (threads_default, g.name.span().start),
        };
        let iters = match &g.iterations {
            Some(i) if *i.get_ref() == 0 => {
                return problem(i.span().start, "iterations must be at least 1");
            }
            Some(i) => *i.get_ref(),
            None => iterations,
        };
        sizes.push((threads, iters, at));
    }
    let total: u64 = sizes
        .iter()
        .map(|s| s.0)
        .fold(0u64, |a, b| a.saturating_add(b));
    if let Some(message) = over_thread_limit(&format!("the groups' {total} threads in all"), total)
    {
        let largest = sizes.iter().max_by_key(|s| s.0).map_or(0, |s| s.2);
        return problem(largest, message);
    }
    let consts = Consts {
        threads: total as i64,
        iterations: iterations as i64,
    };

    let mut groups: Vec<GroupProgram> = Vec::new();
    let mut uses_jitter = false;
    for (g, &(threads, iters, _)) in file.group.iter().zip(&sizes) {
        if groups.iter().any(|other| other.name == *g.name.get_ref()) {
            return problem(
                g.name.span().start,
                format!("group '{}' is declared twice", g.name.get_ref()),
            );
        }
        let mut builder = GroupBuilder {
            text,
            shared: &shared,
            locks: &locks,
            consts,
            registers: Vec::new(),
        };
        let ops = builder.ops(g)?;
        uses_jitter |= ops.iter().any(|op| matches!(op, Op::Jitter(_)));
        groups.push(GroupProgram {
            name: g.name.get_ref().clone(),
            threads: threads as usize,
            iterations: iters,
            ops,
            registers: builder.registers,
        });
    }

    let mut checks = CheckBuilder {
        shared: &shared,
        groups: &groups,
        consts,
        slots: (0..shared.len())
            .map(|i| Source::Shared(i as u16))
            .collect(),
    };
    let check = file.check.get_ref();
    let invariant = match &check.invariant {
        Some(inv) => {
            let base = file::string_content_start(text, inv.span().start);
            let parsed =
                parse::expr(inv.get_ref()).or_else(|e| problem(base + e.offset, e.message))?;
            Some((
                inv.get_ref().trim().to_string(),
                checks.expr(&parsed, base)?,
            ))
        }
        None => None,
    };
    let outcome = match &check.outcome {
        Some(names) => {
            let mut out = Vec::new();
            for n in names {
                let base = file::string_content_start(text, n.span().start);
                let slot = checks.name(n.get_ref().trim(), base)?;
                out.push((n.get_ref().trim().to_string(), slot));
            }
            if out.is_empty() {
                return problem(check_span(file), "outcome lists no values");
            }
            out
        }
        None => shared
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i as u16))
            .collect(),
    };
    let mut rules = Vec::new();
    for rule in &check.grade {
        let base = file::string_content_start(text, rule.pattern.span().start);
        let pattern = parse::pattern(rule.pattern.get_ref())
            .or_else(|e| problem(base + e.offset, e.message))?;
        if pattern.len() != outcome.len() {
            let names: Vec<&str> = outcome.iter().map(|o| o.0.as_str()).collect();
            return problem(
                base,
                format!(
                    "this pattern has {} values but the outcome has {} ({}), so it can never match",
                    pattern.len(),
                    outcome.len(),
                    names.join(", ")
                ),
            );
        }
        rules.push(Rule {
            pattern,
            grade: grade(&rule.grade)?,
            means: rule.means.clone(),
        });
    }
    let default_grade = match &check.default {
        Some(g) => grade(g)?,
        None => Grade::Acceptable,
    };
    let check_slots = checks.slots;
    Ok(Program {
        groups,
        shared,
        locks,
        watchdog: Duration::from_millis(watchdog_ms),
        check_slots,
        outcome,
        invariant,
        rules,
        default_grade,
        threads: total as usize,
        iterations,
        uses_jitter,
    })
}

fn check_span(file: &File) -> usize {
    file.check.span().start
}

fn grade(word: &toml::Spanned<String>) -> Result<Grade> {
    match word.get_ref().as_str() {
        "acceptable" => Ok(Grade::Acceptable),
        "interesting" => Ok(Grade::Interesting),
        "forbidden" => Ok(Grade::Forbidden),
        other => problem(
            word.span().start,
            format!("unknown grade '{other}': use acceptable, interesting or forbidden"),
        ),
    }
}

/// The values `threads` and `iterations` stand for.
#[derive(Clone, Copy)]
struct Consts {
    threads: i64,
    iterations: i64,
}

impl Consts {
    fn get(self, name: &str) -> Option<i64> {
        match name {
            "threads" => Some(self.threads),
            "iterations" => Some(self.iterations),
            _ => None,
        }
    }
}

struct GroupBuilder<'a> {
    text: &'a str,
    shared: &'a [(String, i64)],
    locks: &'a [String],
    consts: Consts,
    registers: Vec<String>,
}

impl GroupBuilder<'_> {
    fn ops(&mut self, group: &file::Group) -> Result<Vec<Op>> {
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
        let mut ops = Vec::new();
        let mut held = vec![false; self.locks.len()];
        // Open `if`s: the op index to patch, where it was written, and the locks held there.
        let mut open: Vec<(usize, usize, Vec<bool>)> = Vec::new();
        let mut taken_at = vec![0usize; self.locks.len()];
        for item in list {
            let base = file::string_content_start(self.text, item.span().start);
            let syntax =
                parse::op(item.get_ref()).or_else(|e| problem(base + e.offset, e.message))?;
            let op = match syntax {
                OpSyntax::Load { reg, var, order } => {
                    let var = self.var(&var, base)?;
                    Op::Load {
                        reg: self.assign(&reg, base)?,
                        var,
                        order: ordering(order),
                    }
                }
                OpSyntax::Store { var, value, order } => Op::Store {
                    var: self.var(&var, base)?,
                    value: self.expr(&value, base)?,
                    order: ordering(order),
                },
                OpSyntax::FetchAdd {
                    reg,
                    var,
                    value,
                    order,
                } => Op::FetchAdd {
                    var: self.var(&var, base)?,
                    value: self.expr(&value, base)?,
                    reg: reg.map(|r| self.assign(&r, base)).transpose()?,
                    order: ordering(order),
                },
                OpSyntax::Cas {
                    reg,
                    var,
                    expected,
                    new,
                    order,
                } => Op::Cas {
                    var: self.var(&var, base)?,
                    expected: self.expr(&expected, base)?,
                    new: self.expr(&new, base)?,
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
                    let var = self.var(&var, base)?;
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
                    let l = self.lock(&name, base)?;
                    if held[l] {
                        return problem(
                            base + name.offset,
                            format!(
                                "lock '{}' is already held here: taking it again would deadlock the thread with itself",
                                name.text
                            ),
                        );
                    }
                    held[l] = true;
                    taken_at[l] = base + name.offset;
                    Op::Lock(l as u16)
                }
                OpSyntax::Unlock(name) => {
                    let l = self.lock(&name, base)?;
                    if !held[l] {
                        return problem(
                            base + name.offset,
                            format!(
                                "unlock of '{}', which this thread does not hold here",
                                name.text
                            ),
                        );
                    }
                    held[l] = false;
                    Op::Unlock(l as u16)
                }
                OpSyntax::If(cond) => {
                    open.push((ops.len(), base, held.clone()));
                    Op::JumpUnless {
                        cond: self.expr(&cond, base)?,
                        to: usize::MAX,
                    }
                }
                OpSyntax::End => {
                    let Some((at, _, before)) = open.pop() else {
                        return problem(base, "'end' without an 'if'");
                    };
                    if before != held {
                        return problem(
                            base,
                            "the locks held at this 'end' differ from those held at its 'if': take and release locks on both paths alike",
                        );
                    }
                    let to = ops.len();
                    if let Op::JumpUnless { to: target, .. } = &mut ops[at] {
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
        if let Some((_, at, _)) = open.pop() {
            return problem(at, "this 'if' has no 'end'");
        }
        if let Some(l) = held.iter().position(|&h| h) {
            return problem(
                taken_at[l],
                format!(
                    "lock '{}' is still held after the last op: unlock it",
                    self.locks[l]
                ),
            );
        }
        Ok(fuse(ops))
    }

    fn var(&self, name: &Name, base: usize) -> Result<u16> {
        match self.shared.iter().position(|(n, _)| *n == name.text) {
            Some(i) => Ok(i as u16),
            None => problem(
                base + name.offset,
                format!(
                    "unknown shared variable '{}'{}",
                    name.text,
                    known(self.shared.iter().map(|s| s.0.as_str()))
                ),
            ),
        }
    }

    fn lock(&self, name: &Name, base: usize) -> Result<usize> {
        self.locks.iter().position(|n| *n == name.text).map_or_else(
            || {
                problem(
                    base + name.offset,
                    format!(
                        "unknown lock '{}'{}",
                        name.text,
                        known(self.locks.iter().map(String::as_str))
                    ),
                )
            },
            Ok,
        )
    }

    /// The register a value is assigned to, created on first assignment.
    fn assign(&mut self, name: &Name, base: usize) -> Result<u8> {
        if self.shared.iter().any(|s| s.0 == name.text) {
            return problem(
                base + name.offset,
                format!(
                    "'{}' is a shared variable: write it with 'store {} = ...'",
                    name.text, name.text
                ),
            );
        }
        if self.consts.get(&name.text).is_some() || self.locks.contains(&name.text) {
            return problem(
                base + name.offset,
                format!("'{}' is taken: pick another register name", name.text),
            );
        }
        if let Some(i) = self.registers.iter().position(|r| *r == name.text) {
            return Ok(i as u8);
        }
        if self.registers.len() == MAX_REGISTERS {
            return problem(
                base + name.offset,
                format!("more than {MAX_REGISTERS} registers in one group"),
            );
        }
        self.registers.push(name.text.clone());
        Ok((self.registers.len() - 1) as u8)
    }

    fn expr(&self, e: &Expr, base: usize) -> Result<CExpr> {
        lower(e, &mut |name, offset| {
            if let Some(i) = self.registers.iter().position(|r| r == name) {
                return Ok(CExpr::Slot(i as u16));
            }
            if let Some(v) = self.consts.get(name) {
                return Ok(CExpr::Const(v));
            }
            if self.shared.iter().any(|s| s.0 == name) {
                return problem(
                    base + offset,
                    format!(
                        "'{name}' is a shared variable: read it into a register first ('r = load {name}')"
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

struct CheckBuilder<'a> {
    shared: &'a [(String, i64)],
    groups: &'a [GroupProgram],
    consts: Consts,
    slots: Vec<Source>,
}

impl CheckBuilder<'_> {
    fn expr(&mut self, e: &Expr, base: usize) -> Result<CExpr> {
        lower(e, &mut |name, offset| {
            if let Some(v) = self.consts.get(name) {
                return Ok(CExpr::Const(v));
            }
            self.name(name, base + offset).map(CExpr::Slot)
        })
    }

    /// The slot of a shared variable or a `group.register`.
    fn name(&mut self, name: &str, at: usize) -> Result<u16> {
        if let Some(i) = self.shared.iter().position(|s| s.0 == name) {
            return Ok(i as u16);
        }
        let Some((group, reg)) = name.split_once('.') else {
            return problem(
                at,
                format!(
                    "unknown shared variable '{name}'{}",
                    known(self.shared.iter().map(|s| s.0.as_str()))
                ),
            );
        };
        let Some(g) = self.groups.iter().position(|g| g.name == group) else {
            return problem(
                at,
                format!(
                    "unknown group '{group}'{}",
                    known(self.groups.iter().map(|g| g.name.as_str()))
                ),
            );
        };
        let program = &self.groups[g];
        if program.threads != 1 {
            return problem(
                at,
                format!(
                    "'{name}' names a register of group '{group}', which runs {} threads: only a one-thread group's registers can be checked",
                    program.threads
                ),
            );
        }
        let Some(r) = program.registers.iter().position(|r| r == reg) else {
            return problem(
                at,
                format!(
                    "group '{group}' has no register '{reg}'{}",
                    known(program.registers.iter().map(String::as_str))
                ),
            );
        };
        let thread = self.groups[..g].iter().map(|g| g.threads).sum();
        let source = Source::Register {
            thread,
            reg: r as u8,
        };
        let slot = self
            .slots
            .iter()
            .position(|s| *s == source)
            .unwrap_or_else(|| {
                self.slots.push(source);
                self.slots.len() - 1
            });
        Ok(slot as u16)
    }
}

/// Lowers a parsed expression, resolving names with `resolve` and folding constants.
fn lower(e: &Expr, resolve: &mut dyn FnMut(&str, usize) -> Result<CExpr>) -> Result<CExpr> {
    Ok(match e {
        Expr::Int(n) => CExpr::Const(*n),
        Expr::Name(name, offset) => resolve(name, *offset)?,
        Expr::Neg(inner) => match lower(inner, resolve)? {
            CExpr::Const(n) => CExpr::Const(n.wrapping_neg()),
            other => CExpr::Neg(Box::new(other)),
        },
        Expr::Not(inner) => CExpr::Not(Box::new(lower(inner, resolve)?)),
        Expr::Bin(op, a, b) => {
            let (a, b) = (lower(a, resolve)?, lower(b, resolve)?);
            match (op, a, b) {
                (_, CExpr::Const(x), CExpr::Const(y)) => CExpr::Const(
                    CExpr::Bin(*op, Box::new(CExpr::Const(x)), Box::new(CExpr::Const(y))).eval(&[]),
                ),
                (BinOp::Add, CExpr::Slot(s), CExpr::Const(n))
                | (BinOp::Add, CExpr::Const(n), CExpr::Slot(s)) => CExpr::SlotPlus(s, n),
                (BinOp::Sub, CExpr::Slot(s), CExpr::Const(n)) => {
                    CExpr::SlotPlus(s, n.wrapping_neg())
                }
                (op, a, b) => CExpr::Bin(*op, Box::new(a), Box::new(b)),
            }
        }
    })
}

/// Fuses each relaxed `r = load x` directly followed by a relaxed `store x = r + c` into one
/// [`Op::RacyAdd`], unless a jump lands between them; jump targets are renumbered.
fn fuse(ops: Vec<Op>) -> Vec<Op> {
    let targets: Vec<usize> = ops
        .iter()
        .filter_map(|op| match op {
            Op::JumpUnless { to, .. } => Some(*to),
            _ => None,
        })
        .collect();
    let mut fused = Vec::with_capacity(ops.len());
    let mut new_index = vec![0; ops.len() + 1];
    let mut i = 0;
    while i < ops.len() {
        new_index[i] = fused.len();
        if let (
            Op::Load {
                reg,
                var,
                order: Ordering::Relaxed,
            },
            Some(Op::Store {
                var: stored,
                value: CExpr::SlotPlus(slot, add),
                order: Ordering::Relaxed,
            }),
        ) = (&ops[i], ops.get(i + 1))
            && var == stored
            && *slot == u16::from(*reg)
            && !targets.contains(&(i + 1))
        {
            fused.push(Op::RacyAdd {
                reg: *reg,
                var: *var,
                add: *add,
            });
            new_index[i + 1] = fused.len() - 1;
            i += 2;
            continue;
        }
        fused.push(ops[i].clone());
        i += 1;
    }
    new_index[ops.len()] = fused.len();
    for op in &mut fused {
        if let Op::JumpUnless { to, .. } = op {
            *to = new_index[*to];
        }
    }
    fused
}

fn ordering(order: Order) -> Ordering {
    match order {
        Order::Relaxed => Ordering::Relaxed,
        Order::Acquire => Ordering::Acquire,
        Order::Release => Ordering::Release,
        Order::AcqRel => Ordering::AcqRel,
        Order::SeqCst => Ordering::SeqCst,
    }
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        " (none are declared)".to_string()
    } else {
        format!(" (known: {})", names.join(", "))
    }
}
