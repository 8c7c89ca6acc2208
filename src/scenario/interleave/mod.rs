//! `scenario run --explain`: one interleaving of the threads' steps that produces an outcome,
//! found by searching every interleaving under sequential consistency (each step sees every
//! earlier step), or the news that none does.
//!
//! An interleaving found here is possible on any hardware, since every memory model allows
//! the sequentially consistent executions. An outcome no interleaving produces, such as both
//! threads of store buffering reading 0, needs the hardware to reorder memory operations: the
//! search says so rather than inventing a story. The ops are the compiled ones, so the steps
//! are exactly what the interpreter runs: a racy add is its load and its store, two steps; a
//! compare-and-swap loop is a load then a swap, repeated until the swap succeeds.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

mod step;

use super::program::{Op, Outcome, Program, Source};
use super::semantics::{Cursor, Settled};

/// States visited before the search gives up: enough for a few threads of a few ops each.
pub const MAX_STATES: usize = 200_000;

/// Steps in one interleaving before the search gives up on it: a story longer than this helps
/// nobody, and the search recurses once per step.
pub const MAX_STEPS: usize = 1_000;

/// Steps a thread may take without touching anything shared before its loop counts as one
/// that never ends.
const MAX_LOCAL_STEPS: usize = 100_000;

/// What the search concluded about one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "found", rename_all = "snake_case")]
pub enum Derivation {
    /// These steps, in this order, produce the outcome.
    Interleaving { steps: Vec<String> },
    /// Every interleaving was tried and none produces it.
    Impossible { states: usize },
    /// The search stopped at [`MAX_STATES`] (or an interleaving of [`MAX_STEPS`]) without an
    /// answer.
    GaveUp { states: usize },
}

/// Searches for an interleaving of `program`'s threads that ends in `target`.
pub fn derive(program: &Program, target: &Outcome) -> Derivation {
    let threads = thread_specs(program);
    let mut search = Search {
        program,
        threads: &threads,
        target,
        seen: HashSet::new(),
        path: Vec::new(),
        last: Vec::new(),
    };
    let start = search.start();
    if target.halted() {
        return search.shortest(start);
    }
    match search.visit(start) {
        Some(true) => Derivation::Interleaving { steps: search.path },
        Some(false) => Derivation::Impossible {
            states: search.seen.len(),
        },
        None => Derivation::GaveUp {
            states: search.seen.len(),
        },
    }
}

/// Every outcome some interleaving produces: the outcomes sequential consistency allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub outcomes: BTreeSet<Outcome>,
    /// False when the search stopped at `max_states` first: outcomes it did not reach may
    /// still be possible.
    pub exhaustive: bool,
    pub states: usize,
}

/// Visits every state reachable by interleaving `program`'s threads (up to `max_states`), and
/// collects how each final one ended.
pub fn reachable(program: &Program, max_states: usize) -> Reach {
    let threads = thread_specs(program);
    let target = Outcome::Stuck;
    let mut search = Search {
        program,
        threads: &threads,
        target: &target,
        seen: HashSet::new(),
        path: Vec::new(),
        last: Vec::new(),
    };
    let start = search.start();
    let mut outcomes = BTreeSet::new();
    let mut stack = vec![start.clone()];
    search.seen.insert(start);
    while let Some(state) = stack.pop() {
        let movable: Vec<usize> = (0..threads.len())
            .filter(|&t| search.can_move(&state, t))
            .collect();
        if movable.is_empty() {
            outcomes.insert(search.ended(&state));
            continue;
        }
        for t in movable {
            let mut next = state.clone();
            search.step(&mut next, t);
            search.settle(&mut next, t);
            if search.seen.len() >= max_states {
                return Reach {
                    outcomes,
                    exhaustive: false,
                    states: search.seen.len(),
                };
            }
            if search.seen.insert(next.clone()) {
                stack.push(next);
            }
        }
    }
    Reach {
        outcomes,
        exhaustive: true,
        states: search.seen.len(),
    }
}

fn thread_specs(program: &Program) -> Vec<ThreadSpec> {
    program
        .groups
        .iter()
        .enumerate()
        .flat_map(|(g, group)| {
            (0..group.threads).map(move |i| ThreadSpec {
                group: g,
                name: if group.threads > 1 {
                    format!("{}#{}", group.name, i + 1)
                } else {
                    group.name.clone()
                },
            })
        })
        .collect()
}

struct ThreadSpec {
    group: usize,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    vars: Vec<i64>,
    /// Which thread holds each lock.
    locks: Vec<Option<usize>>,
    /// Each condvar's waiting threads, oldest first.
    queues: Vec<Vec<usize>>,
    permits: Vec<i64>,
    /// Readers, or -1 for a writer.
    rwlocks: Vec<i64>,
    /// Set when a step ended the trial (a bounded semaphore over-released, a loop that
    /// never ends).
    halt: Option<Outcome>,
    threads: Vec<ThreadState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ThreadState {
    cur: Cursor,
    /// In a `wait`, its lock released; `woken` once a notify picked it.
    waiting: bool,
    woken: bool,
}

struct Search<'a> {
    program: &'a Program,
    threads: &'a [ThreadSpec],
    target: &'a Outcome,
    seen: HashSet<State>,
    /// The steps taken to the current state, and which thread took each.
    path: Vec<String>,
    last: Vec<usize>,
}

impl Search<'_> {
    /// The state before any thread moves, each thread settled at its first shared op.
    fn start(&self) -> State {
        let program = self.program;
        let mut start = State {
            vars: program.shared.iter().map(|(_, v)| *v).collect(),
            locks: vec![None; program.locks.len()],
            queues: vec![Vec::new(); program.condvars.len()],
            permits: program.semaphores.iter().map(|s| s.initial).collect(),
            rwlocks: vec![0; program.rwlocks.len()],
            halt: None,
            threads: self
                .threads
                .iter()
                .map(|t| ThreadState {
                    cur: Cursor::start(program.groups[t.group].iterations),
                    waiting: false,
                    woken: false,
                })
                .collect(),
        };
        for t in 0..self.threads.len() {
            self.settle(&mut start, t);
        }
        start
    }

    /// Some(true): `state` leads to the target (and `path` says how); Some(false): it cannot;
    /// None: the budget ran out.
    fn visit(&mut self, state: State) -> Option<bool> {
        if self.seen.len() >= MAX_STATES || self.path.len() >= MAX_STEPS {
            return None;
        }
        if !self.seen.insert(state.clone()) {
            return Some(false);
        }
        // The thread that moved last tries first: the first interleaving found then switches
        // threads only where the outcome needs it, which makes the shortest story to read.
        let last = self.last.last().copied().unwrap_or(0);
        let n = self.threads.len();
        let movable: Vec<usize> = (0..n)
            .map(|k| (last + k) % n)
            .filter(|&t| self.can_move(&state, t))
            .collect();
        if movable.is_empty() {
            return Some(self.ended(&state) == *self.target);
        }
        let mut exhausted = true;
        for t in movable {
            let mut next = state.clone();
            let said = self.step(&mut next, t);
            self.settle(&mut next, t);
            self.path.push(said);
            self.last.push(t);
            match self.visit(next) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => exhausted = false,
            }
            self.path.pop();
            self.last.pop();
        }
        exhausted.then_some(false)
    }

    /// Breadth first: the fewest steps to the target. A deadlock can come early in a run, and
    /// the depth-first story would run whole iterations before it.
    fn shortest(&mut self, start: State) -> Derivation {
        // Every state reached, with the index of the one before it and the step between.
        let mut reached: Vec<(State, usize, String)> = vec![(start.clone(), 0, String::new())];
        self.seen.insert(start);
        let mut next = 0;
        while next < reached.len() {
            if reached.len() >= MAX_STATES {
                return Derivation::GaveUp {
                    states: reached.len(),
                };
            }
            let state = reached[next].0.clone();
            let movable: Vec<usize> = (0..self.threads.len())
                .filter(|&t| self.can_move(&state, t))
                .collect();
            if movable.is_empty() && self.ended(&state) == *self.target {
                let mut steps = Vec::new();
                let mut at = next;
                while at != 0 {
                    steps.push(reached[at].2.clone());
                    at = reached[at].1;
                }
                steps.reverse();
                return Derivation::Interleaving { steps };
            }
            for t in movable {
                let mut after = state.clone();
                let said = self.step(&mut after, t);
                self.settle(&mut after, t);
                if self.seen.insert(after.clone()) {
                    reached.push((after, next, said));
                }
            }
            next += 1;
        }
        Derivation::Impossible {
            states: reached.len(),
        }
    }

    fn ops(&self, t: usize) -> &[Op] {
        &self.program.groups[self.threads[t].group].ops
    }

    fn can_move(&self, state: &State, t: usize) -> bool {
        let th = &state.threads[t];
        if th.cur.done {
            return false;
        }
        match self.ops(t).get(th.cur.pc) {
            Some(Op::Lock(l)) => state.locks[*l as usize].is_none(),
            Some(Op::Wait(c)) if th.waiting => {
                let lock = self.program.condvars[*c as usize].lock as usize;
                (th.woken || self.program.spurious_wakeups) && state.locks[lock].is_none()
            }
            Some(Op::Acquire(s)) => state.permits[*s as usize] > 0,
            Some(Op::ReadLock(r)) => state.rwlocks[*r as usize] >= 0,
            Some(Op::WriteLock(r)) => state.rwlocks[*r as usize] == 0,
            _ => true,
        }
    }

    /// Whether thread `t`, unable to move, waits on a lock (a deadlock) rather than on a
    /// condvar or a semaphore (stuck).
    fn waits_on_lock(&self, state: &State, t: usize) -> bool {
        matches!(
            self.ops(t).get(state.threads[t].cur.pc),
            Some(Op::Lock(_) | Op::ReadLock(_) | Op::WriteLock(_))
        )
    }

    /// Runs thread `t`'s ops that touch nothing shared (and so commute with every other
    /// thread's steps) until its next shared step or its end.
    fn settle(&self, state: &mut State, t: usize) {
        let iterations = self.program.groups[self.threads[t].group].iterations;
        let settled = state.threads[t]
            .cur
            .settle(self.ops(t), iterations, true, MAX_LOCAL_STEPS);
        if settled == Settled::Spinning {
            // A loop over registers alone that does not end: the watchdog's `stuck`.
            state.halt.get_or_insert(Outcome::Stuck);
        }
    }

    /// How a state where no thread can move ended: every thread done, or stuck on a lock.
    fn ended(&self, state: &State) -> Outcome {
        if let Some(halt) = &state.halt {
            return halt.clone();
        }
        let blocked: Vec<usize> = (0..self.threads.len())
            .filter(|&t| !state.threads[t].cur.done)
            .collect();
        if !blocked.is_empty() {
            return if blocked.iter().all(|&t| self.waits_on_lock(state, t)) {
                Outcome::Deadlock
            } else {
                Outcome::Stuck
            };
        }
        self.program.outcome_from(|source| match source {
            Source::Shared(v) => state.vars[v as usize],
            Source::Register { thread, reg } => state.threads[thread].cur.regs[reg as usize],
        })
    }
}

#[cfg(test)]
mod tests;
