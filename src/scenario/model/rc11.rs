//! RC11 (Lahav, Vafeiadis, Kang, Hur, Dreyer: "Repairing sequential consistency in C/C++11",
//! PLDI 2017), the model of C++20's and Rust's atomics, by enumeration: every execution graph
//! (each thread's events, and which write each read reads from, `rf`), then every order of
//! each variable's writes (`mo`); an execution counts when it is consistent:
//!
//! - coherence: `hb ; eco?` is irreflexive, where `hb = (po ∪ sw)+` and
//!   `eco = (rf ∪ mo ∪ rb)+`;
//! - atomicity: a read-modify-write reads from the write just before it in `mo`;
//! - SC: `psc_base ∪ psc_F` is acyclic (the seqcst accesses and fences agree on one order);
//! - no thin air: `po ∪ rf` is acyclic (a value cannot justify itself; the original C11
//!   model lacked this, and allowed load buffering's "both read 1").
//!
//! Since `po ∪ rf` must be acyclic, every consistent execution can be built event by event, a
//! read always reading from a write already built: that is how the graphs are enumerated, so
//! every value read is one some write really wrote. Plain (non-atomic) accesses are relaxed
//! ones here, and [`explore_races`] looks in each consistent execution for two conflicting
//! accesses, one of them plain, that happens-before does not order: a data race, which makes
//! the whole program undefined.

use std::collections::{BTreeSet, HashSet};

use super::consistency::{self, Event, Kind, consistent};
use super::relation::Rel;
use super::{BUDGET, Verdict, cursors, thread_groups};
use crate::scenario::program::{Op, Outcome, Program, Source};
use crate::scenario::semantics::{Access, Cursor, read_order};

/// A graph being built: where each thread is, and its events so far.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Partial {
    cursors: Vec<Cursor>,
    events: Vec<Vec<Event>>,
}

/// Two accesses to one variable that race in some consistent execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRace {
    pub var: u16,
    /// Each access's thread (in the interpreter's numbering), whether it writes, and whether
    /// it is plain.
    pub accesses: [(usize, bool, bool); 2],
}

/// Every outcome RC11 allows for `program` (loads, stores, read-modify-writes and fences,
/// no loops).
pub fn explore(program: &Program) -> Verdict {
    search(program, false).0
}

/// [`explore`], also looking in every consistent execution for a data race on a plain access;
/// it stops at the first.
pub fn explore_races(program: &Program) -> (Verdict, Option<FoundRace>) {
    search(program, true)
}

fn search(program: &Program, races: bool) -> (Verdict, Option<FoundRace>) {
    let groups = thread_groups(program);
    let ops = |t: usize| program.groups[groups[t]].ops.as_slice();
    let settle = |p: &mut Partial, t: usize| {
        let g = &program.groups[groups[t]];
        p.cursors[t].settle(&g.ops, g.iterations, false, usize::MAX);
    };
    let mut start = Partial {
        cursors: cursors(program, &groups),
        events: vec![Vec::new(); groups.len()],
    };
    for t in 0..groups.len() {
        settle(&mut start, t);
    }
    let mut seen = HashSet::new();
    seen.insert(start.clone());
    let mut stack = vec![start];
    let mut outcomes = BTreeSet::new();
    let mut explored = 0u64;
    let mut exhaustive = true;
    while let Some(partial) = stack.pop() {
        let mut finished = true;
        for t in 0..groups.len() {
            if partial.cursors[t].done {
                continue;
            }
            finished = false;
            let access = partial.cursors[t].access(ops(t));
            let plain = matches!(
                ops(t)[partial.cursors[t].pc],
                Op::Load { plain: true, .. } | Op::Store { plain: true, .. }
            );
            // Each event thread t can add next, with the value it reads.
            let mut next: Vec<(Event, i64)> = Vec::new();
            let blank = |kind, var, order| Event {
                kind,
                var,
                order,
                read: 0,
                wrote: 0,
                from: None,
                plain,
            };
            match access {
                Access::Write { var, value, order } => next.push((
                    Event {
                        wrote: value,
                        ..blank(Kind::Write, var, order)
                    },
                    0,
                )),
                Access::Fence(order) => next.push((blank(Kind::Fence, u16::MAX, order), 0)),
                Access::Read { var, order } => {
                    for (from, value) in writes_to(program, &partial, var) {
                        next.push((
                            Event {
                                read: value,
                                from: Some(from),
                                ..blank(Kind::Read, var, order)
                            },
                            value,
                        ));
                    }
                }
                Access::Update { var, change, order } => {
                    for (from, old) in writes_to(program, &partial, var) {
                        let event = match change.apply(old) {
                            Some(new) => Event {
                                read: old,
                                wrote: new,
                                from: Some(from),
                                ..blank(Kind::Update, var, order)
                            },
                            // A failed compare-and-swap only reads, with its failure ordering.
                            None => Event {
                                read: old,
                                from: Some(from),
                                ..blank(Kind::Read, var, read_order(change, old, order))
                            },
                        };
                        next.push((event, old));
                    }
                }
            }
            for (event, result) in next {
                let mut p = partial.clone();
                p.events[t].push(event);
                p.cursors[t].complete(ops(t), result);
                settle(&mut p, t);
                if seen.len() >= BUDGET {
                    exhaustive = false;
                    break;
                }
                if seen.insert(p.clone()) {
                    stack.push(p);
                }
            }
        }
        let mut found = races.then_some(None);
        if finished && !orders(program, &partial, &mut outcomes, &mut explored, &mut found) {
            exhaustive = false;
            break;
        }
        if let Some(Some(race)) = found {
            let verdict = Verdict::Computed {
                outcomes,
                exhaustive: false,
                explored,
            };
            return (verdict, Some(race));
        }
    }
    let verdict = Verdict::Computed {
        outcomes,
        exhaustive,
        explored,
    };
    (verdict, None)
}

/// Every write to `var` built so far (the initial one included), as the `from` a read of it
/// names, with the value it wrote.
fn writes_to(program: &Program, p: &Partial, var: u16) -> Vec<((u16, u16), i64)> {
    let init = ((0, var), program.shared[var as usize].1);
    std::iter::once(init)
        .chain(p.events.iter().enumerate().flat_map(|(t, events)| {
            events
                .iter()
                .enumerate()
                .filter(move |(_, e)| e.writes() && e.var == var)
                .map(move |(i, e)| ((t as u16 + 1, i as u16), e.wrote))
        }))
        .collect()
}

/// Candidate executions (a graph and an order of each variable's writes) looked at before the
/// enumeration stops: many writes to one variable have many orders.
const MAX_CANDIDATES: u64 = 2_000_000;

/// Every order of each variable's writes in one finished graph; each consistent one's
/// outcome is added to `outcomes`. False when [`MAX_CANDIDATES`] ran out. With `race`
/// `Some`, every consistent execution is also searched for a data race, and the first found
/// ends the search.
fn orders(
    program: &Program,
    graph: &Partial,
    outcomes: &mut BTreeSet<Outcome>,
    explored: &mut u64,
    race: &mut Option<Option<FoundRace>>,
) -> bool {
    let vars = program.shared.len();
    // Events: one initial write per variable, then each thread's in program order.
    let mut events: Vec<Event> = program
        .shared
        .iter()
        .enumerate()
        .map(|(v, (_, value))| Event {
            kind: Kind::Write,
            var: v as u16,
            order: crate::sync::Ordering::Relaxed,
            read: 0,
            wrote: *value,
            from: None,
            plain: false,
        })
        .collect();
    let mut thread_of = vec![usize::MAX; vars];
    let mut first = Vec::new();
    for (t, list) in graph.events.iter().enumerate() {
        first.push(events.len());
        events.extend(list);
        thread_of.extend(std::iter::repeat_n(t, list.len()));
    }
    let n = events.len();
    if n > 64 {
        return false;
    }
    let index = |(t, i): (u16, u16)| {
        if t == 0 {
            i as usize
        } else {
            first[t as usize - 1] + i as usize
        }
    };
    let rf_of: Vec<(usize, usize)> = (0..n)
        .filter_map(|r| events[r].from.map(|f| (index(f), r)))
        .collect();
    // po: program order, with the initial writes before everything.
    let mut po: Rel = vec![0; n];
    for i in 0..n {
        for j in 0..n {
            let init = thread_of[i] == usize::MAX && thread_of[j] != usize::MAX;
            if init || (thread_of[i] == thread_of[j] && thread_of[i] != usize::MAX && i < j) {
                po[i] |= 1 << j;
            }
        }
    }
    // Each variable's possible orders: coherence keeps a thread's own writes to a variable in
    // program order, so only the merges of the threads' sequences can be consistent.
    let mut choices: Vec<Vec<Vec<usize>>> = Vec::with_capacity(vars);
    for v in 0..vars {
        let sequences: Vec<Vec<usize>> = (0..graph.events.len())
            .map(|t| {
                (vars..n)
                    .filter(|&w| {
                        thread_of[w] == t && events[w].writes() && events[w].var as usize == v
                    })
                    .collect()
            })
            .filter(|s: &Vec<usize>| !s.is_empty())
            .collect();
        let mut merged = Vec::new();
        if !merges(&sequences, &mut Vec::new(), &mut merged) {
            return false;
        }
        choices.push(merged);
    }
    let mut pick = vec![0usize; vars];
    loop {
        *explored += 1;
        if *explored > MAX_CANDIDATES {
            return false;
        }
        let orders: Vec<Vec<usize>> = pick
            .iter()
            .zip(&choices)
            .map(|(&i, c)| c[i].clone())
            .collect();
        let outcome = program.outcome_from(|source| match source {
            Source::Shared(v) => orders[v as usize]
                .last()
                .map_or(events[v as usize].wrote, |&w| events[w].wrote),
            Source::Register { thread, reg } => graph.cursors[thread].regs[reg as usize],
        });
        match race {
            // Every consistent execution matters: one may race whose outcome another gave.
            Some(found) => {
                if let Some(hb) = consistent(&events, &po, &rf_of, &orders, vars) {
                    outcomes.insert(outcome);
                    if let Some((a, b)) = consistency::race(&events, &hb, &thread_of) {
                        let access = |e: usize| (thread_of[e], events[e].writes(), events[e].plain);
                        *found = Some(FoundRace {
                            var: events[a].var,
                            accesses: [access(a), access(b)],
                        });
                        return true;
                    }
                }
            }
            None => {
                if !outcomes.contains(&outcome)
                    && consistent(&events, &po, &rf_of, &orders, vars).is_some()
                {
                    outcomes.insert(outcome);
                }
            }
        }
        // The next choice of orders, like an odometer.
        let mut v = 0;
        while v < vars {
            pick[v] += 1;
            if pick[v] < choices[v].len() {
                break;
            }
            pick[v] = 0;
            v += 1;
        }
        if v == vars {
            return true;
        }
    }
}

/// Every merge of `sequences` that keeps each one's order, appended to `out` after `prefix`;
/// false past [`MAX_CANDIDATES`] merges.
fn merges(sequences: &[Vec<usize>], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) -> bool {
    if sequences.iter().all(Vec::is_empty) {
        out.push(prefix.clone());
        return out.len() as u64 <= MAX_CANDIDATES;
    }
    for (i, s) in sequences.iter().enumerate() {
        if let Some((&head, rest)) = s.split_first() {
            let mut next = sequences.to_vec();
            next[i] = rest.to_vec();
            prefix.push(head);
            let within = merges(&next, prefix, out);
            prefix.pop();
            if !within {
                return false;
            }
        }
    }
    true
}
