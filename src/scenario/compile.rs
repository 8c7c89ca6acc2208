//! From a parsed scenario file to a [`Program`]: resolves every name, checks locks are taken and
//! released in pairs on every path, and reports each problem at its file:line:column.

use std::time::Duration;

use super::file::{self, File};
use super::group::{GroupBuilder, SemaphoreUse};
use super::parse::{self, Expr};
use super::program::{
    CExpr, CondvarDecl, Grade, GroupProgram, Model, Op, Program, Rule, SemaphoreDecl, Source,
};
use super::resolve::{Consts, Decls, Result, known, lower, problem};
use crate::harness::over_thread_limit;
const MAX_SHARED: usize = 1000;
const MAX_WATCHDOG_MS: u64 = 60_000;
pub const DEFAULT_WATCHDOG_MS: u64 = 500;

/// Command-line overrides of the file's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub threads: Option<u64>,
    pub iterations: Option<u64>,
    /// `--spurious-wakeups`: waits may return without a notify, whatever the file says.
    pub spurious_wakeups: bool,
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
    let sync = declarations(file)?;
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
    let mut semaphore_use = SemaphoreUse {
        acquired: vec![false; sync.semaphores.len()],
        first_release: vec![None; sync.semaphores.len()],
    };
    for (g, &(threads, iters, _)) in file.group.iter().zip(&sizes) {
        if groups.iter().any(|other| other.name == *g.name.get_ref()) {
            return problem(
                g.name.span().start,
                format!("group '{}' is declared twice", g.name.get_ref()),
            );
        }
        let decls = Decls {
            shared: &shared,
            locks: &sync.locks,
            condvars: &sync.condvars,
            semaphores: &sync.semaphores,
            rwlocks: &sync.rwlocks,
            consts,
        };
        let mut builder = GroupBuilder {
            text,
            decls: &decls,
            registers: Vec::new(),
            testing: false,
        };
        let ops = builder.ops(g, &mut semaphore_use)?;
        uses_jitter |= ops.iter().any(|op| matches!(op, Op::Jitter(_)));
        groups.push(GroupProgram {
            name: g.name.get_ref().clone(),
            threads: threads as usize,
            iterations: iters,
            ops,
            registers: builder.registers,
        });
    }

    for (s, decl) in sync.semaphores.iter().enumerate() {
        if let (true, false, Some(at)) = (
            decl.bounded,
            semaphore_use.acquired[s],
            semaphore_use.first_release[s],
        ) {
            return problem(
                at,
                format!(
                    "bounded semaphore '{}' is released but never acquired: every release would go above its bound of {} (Python's BoundedSemaphore raises ValueError)",
                    decl.name, decl.initial
                ),
            );
        }
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
        let grade = grade(&rule.grade)?;
        let model = match &rule.model {
            None => None,
            Some(m) => {
                let at = file::string_content_start(text, m.span().start);
                let Some(model) = Model::from_key(m.get_ref()) else {
                    return problem(
                        at,
                        format!(
                            "unknown memory model '{}' (known: sc, tso, rc11)",
                            m.get_ref()
                        ),
                    );
                };
                if grade != Grade::Forbidden {
                    return problem(
                        at,
                        "a model names what forbids the outcome, so it goes with grade = \"forbidden\"",
                    );
                }
                Some(model)
            }
        };
        rules.push(Rule {
            pattern,
            grade,
            means: rule.means.clone(),
            model,
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
        locks: sync.locks,
        condvars: sync.condvars,
        semaphores: sync.semaphores,
        rwlocks: sync.rwlocks,
        spurious_wakeups: overrides.spurious_wakeups || file.spurious_wakeups.unwrap_or(false),
        watchdog: Duration::from_millis(watchdog_ms),
        check_slots,
        outcome,
        invariant,
        rules,
        condition: None,
        default_grade,
        threads: total as usize,
        iterations,
        uses_jitter,
    })
}

/// The scenario's locks, condvars, semaphores and reader-writer locks, each name declared
/// once across all of them.
struct Sync {
    locks: Vec<String>,
    condvars: Vec<CondvarDecl>,
    semaphores: Vec<SemaphoreDecl>,
    rwlocks: Vec<String>,
}

fn declarations(file: &File) -> Result<Sync> {
    let mut names: Vec<String> = file.shared.keys().cloned().collect();
    let mut declare = |name: &str, at: usize| {
        if names.iter().any(|n| n == name) {
            return problem(
                at,
                format!(
                    "'{name}' is declared twice (shared variables, locks, condvars, semaphores and reader-writer locks share one set of names)"
                ),
            );
        }
        names.push(name.to_string());
        Ok(())
    };
    let mut locks = Vec::new();
    for lock in &file.locks {
        declare(lock.get_ref(), lock.span().start)?;
        locks.push(lock.get_ref().clone());
    }
    let mut rwlocks = Vec::new();
    for lock in &file.rwlocks {
        declare(lock.get_ref(), lock.span().start)?;
        rwlocks.push(lock.get_ref().clone());
    }
    let mut condvars = Vec::new();
    for (name, lock) in &file.condvars {
        declare(name, lock.span().start)?;
        let Some(l) = locks.iter().position(|n| n == lock.get_ref()) else {
            return problem(
                lock.span().start,
                format!(
                    "condvar '{name}' is tied to '{}', which is not a declared lock{}",
                    lock.get_ref(),
                    known(locks.iter().map(String::as_str))
                ),
            );
        };
        condvars.push(CondvarDecl {
            name: name.clone(),
            lock: l as u16,
        });
    }
    let mut semaphores = Vec::new();
    for (table, bounded) in [(&file.semaphores, false), (&file.bounded_semaphores, true)] {
        for (name, count) in table {
            declare(name, count.span().start)?;
            if !(0..=1_000_000).contains(count.get_ref()) {
                return problem(
                    count.span().start,
                    format!("semaphore '{name}' must start with 0 to 1,000,000 permits"),
                );
            }
            semaphores.push(SemaphoreDecl {
                name: name.clone(),
                initial: *count.get_ref(),
                bounded,
            });
        }
    }
    Ok(Sync {
        locks,
        condvars,
        semaphores,
        rwlocks,
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
