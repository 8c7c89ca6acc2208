//! What the memory models allow: for a small scenario, every outcome that sequential
//! consistency (SC), x86-TSO and RC11 (the C++20 / Rust atomics model) allow, computed by
//! exploring the program rather than read from the file's grades.
//!
//! SC is the interleaving search of [`super::interleave`], run to the end; x86-TSO explores
//! interleavings with a FIFO store buffer per thread ([`tso`]); RC11 enumerates executions
//! (which write each read reads from, the order of each variable's writes) and keeps the
//! consistent ones ([`rc11`]). All three step the ops through [`super::semantics`].

use std::collections::BTreeSet;

mod consistency;
mod rc11;
mod relation;
mod tso;

#[cfg(test)]
mod tests;

use super::interleave;
pub use super::program::Model;
use super::program::{Op, Outcome, Program};
use super::semantics::{self, Cursor};
use crate::format::thousands;

/// What one model said about a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Computed {
        /// Every outcome the model allows (found so far, when not `exhaustive`).
        outcomes: BTreeSet<Outcome>,
        /// False when the exploration stopped at its budget: an outcome not found may still
        /// be allowed.
        exhaustive: bool,
        /// States (SC, x86-TSO) or candidate executions (RC11) looked at.
        explored: u64,
    },
    /// Why the model was not computed for this program.
    NotComputed(String),
}

/// Each model's verdict on one program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdicts {
    pub models: Vec<(Model, Verdict)>,
}

/// States or executions each model may look at before it stops.
const BUDGET: usize = 200_000;

/// States SC's search may visit. Less than [`BUDGET`]: SC is also tried on programs with locks,
/// loops and many iterations, whose states are larger and rarely all fit, and a run should not
/// wait a second for a bounded answer.
const SC_BUDGET: usize = 50_000;

/// Memory accesses per trial (over all threads) up to which x86-TSO and RC11 are computed.
pub const MAX_ACCESSES: usize = 24;

/// Ops per trial (over all threads) up to which SC is computed.
const MAX_SC_OPS: u64 = 256;

impl Verdicts {
    /// Each model's allowed outcomes for `program`, where it is small enough.
    pub fn compute(program: &Program) -> Verdicts {
        let ops: u64 = program
            .groups
            .iter()
            .map(|g| g.threads as u64 * g.iterations * g.ops.len() as u64)
            .sum();
        let sc = if ops > MAX_SC_OPS {
            Verdict::NotComputed(format!(
                "not computed: {} ops a trial, more than {MAX_SC_OPS} (try fewer --threads \
                 or --iterations)",
                thousands(ops)
            ))
        } else {
            let reach = interleave::reachable(program, SC_BUDGET);
            Verdict::Computed {
                outcomes: reach.outcomes,
                exhaustive: reach.exhaustive,
                explored: reach.states as u64,
            }
        };
        let weak = |explore: fn(&Program) -> Verdict| match weak_models_apply(program) {
            Ok(()) => explore(program),
            Err(why) => Verdict::NotComputed(why),
        };
        Verdicts {
            models: vec![
                (Model::Sc, sc),
                (Model::Tso, weak(tso::explore)),
                (Model::Rc11, weak(rc11::explore)),
            ],
        }
    }

    pub fn verdict(&self, model: Model) -> Option<&Verdict> {
        self.models
            .iter()
            .find(|(m, _)| *m == model)
            .map(|(_, v)| v)
    }

    /// Whether `model` allows `outcome`: `None` when it was not computed, or when its
    /// exploration stopped before finding it.
    pub fn allows(&self, model: Model, outcome: &Outcome) -> Option<bool> {
        match self.verdict(model)? {
            Verdict::Computed {
                outcomes,
                exhaustive,
                ..
            } => {
                if outcomes.contains(outcome) {
                    Some(true)
                } else {
                    exhaustive.then_some(false)
                }
            }
            Verdict::NotComputed(_) => None,
        }
    }

    /// Every outcome some computed model allows.
    pub fn allowed_outcomes(&self) -> BTreeSet<Outcome> {
        self.models
            .iter()
            .filter_map(|(_, v)| match v {
                Verdict::Computed { outcomes, .. } => Some(outcomes.iter().cloned()),
                Verdict::NotComputed(_) => None,
            })
            .flatten()
            .collect()
    }

    pub fn any_computed(&self) -> bool {
        self.models
            .iter()
            .any(|(_, v)| matches!(v, Verdict::Computed { .. }))
    }
}

/// Whether the program has plain (non-atomic) accesses.
pub fn has_plain(program: &Program) -> bool {
    program.groups.iter().flat_map(|g| &g.ops).any(|op| {
        matches!(
            op,
            Op::Load { plain: true, .. } | Op::Store { plain: true, .. }
        )
    })
}

/// Refuses a program whose plain (non-atomic) accesses race: in C, C++ and Rust such a
/// program is undefined, and no outcome of it means anything. RC11 decides; where it cannot
/// be computed, a race cannot be ruled out, and the program is refused too.
pub fn data_race(program: &Program) -> Result<(), String> {
    if !has_plain(program) {
        return Ok(());
    }
    if let Err(why) = weak_models_apply(program) {
        let why = why.trim_start_matches("not computed: ");
        return Err(format!(
            "plain (non-atomic) accesses, and RC11, which would rule out a data race, \
             cannot be computed: {why}"
        ));
    }
    let (verdict, race) = rc11::explore_races(program);
    let groups = thread_groups(program);
    let thread = |t: usize| {
        let g = &program.groups[groups[t]];
        if g.threads == 1 {
            g.name.clone()
        } else {
            let first = groups.iter().position(|&x| x == groups[t]).unwrap_or(t);
            format!("{}#{}", g.name, t - first)
        }
    };
    match (race, verdict) {
        (Some(race), _) => {
            let var = &program.shared[race.var as usize].0;
            let what = |(t, writes, plain): (usize, bool, bool)| {
                format!(
                    "{}'s {}{}",
                    thread(t),
                    if plain { "plain " } else { "atomic " },
                    if writes { "write" } else { "read" }
                )
            };
            Err(format!(
                "data race on {var}: undefined behaviour ({} and {} are not ordered by \
                 happens-before in some execution)",
                what(race.accesses[0]),
                what(race.accesses[1])
            ))
        }
        (
            None,
            Verdict::Computed {
                exhaustive: false, ..
            },
        ) => Err(
            "plain (non-atomic) accesses, and RC11, which would rule out a data race, \
             stopped at its budget"
                .into(),
        ),
        (None, _) => Ok(()),
    }
}

/// Whether x86-TSO and RC11 can be computed: loads, stores, read-modify-writes and fences
/// only, no loops, and few enough accesses.
fn weak_models_apply(program: &Program) -> Result<(), String> {
    let ops = || program.groups.iter().flat_map(|g| g.ops.iter());
    if ops().any(|op| matches!(op, Op::Loop { .. } | Op::CasLoop { .. })) {
        return Err("not computed: the program loops".into());
    }
    // Anything but memory ops and a thread's own steps is a primitive built on top of them.
    let primitive = |op: &&Op| {
        !semantics::is_memory(op)
            && !matches!(
                op,
                Op::Set { .. } | Op::JumpUnless { .. } | Op::Spin(_) | Op::Jitter(_) | Op::Yield
            )
    };
    if let Some(op) = ops().find(primitive) {
        let what = match op {
            Op::Lock(_) | Op::Unlock(_) => "locks",
            Op::Wait(_) | Op::Notify(_) | Op::NotifyAll(_) => "condition variables",
            Op::Acquire(_) | Op::Release(_) => "semaphores",
            _ => "reader-writer locks",
        };
        return Err(format!(
            "not computed: the program uses {what} (only loads, stores, read-modify-writes \
             and fences)"
        ));
    }
    let accesses: u64 = program
        .groups
        .iter()
        .map(|g| {
            let each = g.ops.iter().filter(|op| semantics::is_memory(op)).count() as u64;
            let racy = g
                .ops
                .iter()
                .filter(|op| matches!(op, Op::RacyAdd { .. }))
                .count() as u64;
            g.threads as u64 * g.iterations * (each + racy)
        })
        .sum();
    if program.shared.len() > 64 - MAX_ACCESSES {
        return Err(format!(
            "not computed: more than {} shared variables",
            64 - MAX_ACCESSES
        ));
    }
    if accesses > MAX_ACCESSES as u64 {
        return Err(format!(
            "not computed: {} memory accesses a trial, more than {MAX_ACCESSES} (try \
             fewer --threads or --iterations)",
            thousands(accesses)
        ));
    }
    Ok(())
}

/// Every thread of a program, as the group whose ops it runs; in the interpreter's order.
fn thread_groups(program: &Program) -> Vec<usize> {
    program
        .groups
        .iter()
        .enumerate()
        .flat_map(|(g, group)| std::iter::repeat_n(g, group.threads))
        .collect()
}

/// A fresh cursor per thread.
fn cursors(program: &Program, groups: &[usize]) -> Vec<Cursor> {
    groups
        .iter()
        .map(|&g| Cursor::start(program.groups[g].iterations))
        .collect()
}
