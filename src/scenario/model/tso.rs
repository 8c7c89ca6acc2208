//! x86-TSO (Sewell et al., "x86-TSO: a rigorous and usable programmer's model for x86
//! multiprocessors", CACM 2010) as an exploration: each thread's stores go into its own FIFO
//! store buffer and reach memory later, one at a time, in order; its loads read its own
//! latest buffered store to the variable, else memory. A locked instruction (every
//! read-modify-write), a seqcst store (an `xchg`) and a seqcst fence (`mfence`) wait for the
//! buffer to drain. Other fences compile to nothing on x86, and other orderings to plain
//! `mov`s: the straightforward mapping of Rust's atomics to x86.

use std::collections::{HashSet, VecDeque};

use super::{BUDGET, Verdict, cursors, thread_groups};
use crate::scenario::program::{Program, Source};
use crate::scenario::semantics::{Access, Cursor, Settled};
use crate::sync::Ordering;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    memory: Vec<i64>,
    buffers: Vec<VecDeque<(u16, i64)>>,
    threads: Vec<Cursor>,
}

/// Every outcome x86-TSO allows for `program` (loads, stores, read-modify-writes and fences).
pub fn explore(program: &Program) -> Verdict {
    let groups = thread_groups(program);
    let ops = |t: usize| program.groups[groups[t]].ops.as_slice();
    let iterations = |t: usize| program.groups[groups[t]].iterations;
    let settle = |state: &mut State, t: usize| {
        let settled = state.threads[t].settle(ops(t), iterations(t), false, usize::MAX);
        debug_assert_ne!(settled, Settled::Spinning);
    };
    let mut start = State {
        memory: program.shared.iter().map(|(_, v)| *v).collect(),
        buffers: vec![VecDeque::new(); groups.len()],
        threads: cursors(program, &groups),
    };
    for t in 0..groups.len() {
        settle(&mut start, t);
    }
    let mut seen = HashSet::new();
    let mut outcomes = std::collections::BTreeSet::new();
    seen.insert(start.clone());
    let mut stack = vec![start];
    while let Some(state) = stack.pop() {
        let mut successors = Vec::new();
        for t in 0..groups.len() {
            // The oldest buffered store of thread t reaches memory.
            if let Some(&(var, value)) = state.buffers[t].front() {
                let mut next = state.clone();
                next.buffers[t].pop_front();
                next.memory[var as usize] = value;
                successors.push(next);
            }
            if state.threads[t].done {
                continue;
            }
            let access = state.threads[t].access(ops(t));
            let drained = state.buffers[t].is_empty();
            let mut next = state.clone();
            let result = match access {
                Access::Read { var, .. } => next.buffers[t]
                    .iter()
                    .rev()
                    .find(|(v, _)| *v == var)
                    .map_or(next.memory[var as usize], |&(_, value)| value),
                Access::Write {
                    var,
                    value,
                    order: Ordering::SeqCst,
                } => {
                    if !drained {
                        continue;
                    }
                    next.memory[var as usize] = value;
                    0
                }
                Access::Write { var, value, .. } => {
                    next.buffers[t].push_back((var, value));
                    0
                }
                Access::Update { var, change, .. } => {
                    if !drained {
                        continue;
                    }
                    let old = next.memory[var as usize];
                    if let Some(new) = change.apply(old) {
                        next.memory[var as usize] = new;
                    }
                    old
                }
                Access::Fence(Ordering::SeqCst) => {
                    if !drained {
                        continue;
                    }
                    0
                }
                Access::Fence(_) => 0,
            };
            next.threads[t].complete(ops(t), result);
            settle(&mut next, t);
            successors.push(next);
        }
        if successors.is_empty() {
            // Every thread finished and every buffer drained.
            outcomes.insert(program.outcome_from(|source| match source {
                Source::Shared(v) => state.memory[v as usize],
                Source::Register { thread, reg } => state.threads[thread].regs[reg as usize],
            }));
            continue;
        }
        for next in successors {
            if seen.len() >= BUDGET {
                return Verdict::Computed {
                    outcomes,
                    exhaustive: false,
                    explored: seen.len() as u64,
                };
            }
            if seen.insert(next.clone()) {
                stack.push(next);
            }
        }
    }
    Verdict::Computed {
        outcomes,
        exhaustive: true,
        explored: seen.len() as u64,
    }
}
