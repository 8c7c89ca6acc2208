//! RC11 (Lahav, Vafeiadis, Kang, Hur, Dreyer: "Repairing sequential consistency in C/C++11",
//! PLDI 2017), the model of C++20's and Rust's atomics, by enumeration: every way each thread
//! can run given the values its reads might see, then every choice of which write each read
//! reads from (`rf`) and every order of each variable's writes (`mo`); an execution counts
//! when it is consistent:
//!
//! - coherence: `hb ; eco?` is irreflexive, where `hb = (po ∪ sw)+` and
//!   `eco = (rf ∪ mo ∪ rb)+`;
//! - atomicity: a read-modify-write reads from the write just before it in `mo`;
//! - SC: `psc_base ∪ psc_F` is acyclic (the seqcst accesses and fences agree on one order);
//! - no thin air: `po ∪ rf` is acyclic (a value cannot justify itself; the original C11
//!   model lacked this, and allowed load buffering's "both read 1").
//!
//! Every access of a scenario is atomic (relaxed at the weakest), so data races do not arise.

use std::collections::BTreeSet;

use super::consistency::{Event, Kind, consistent};
use super::relation::{Rel, next_permutation};
use super::{BUDGET, MAX_ACCESSES, Verdict, cursors, thread_groups};
use crate::scenario::program::{MAX_REGISTERS, Op, Outcome, Program, Source};
use crate::scenario::semantics::{Access, Cursor, read_order};
use crate::sync::Ordering;

/// Distinct values a variable may take before the enumeration gives up.
const MAX_VALUES: usize = 16;

/// Ways one thread may run (for the reads' possible values) before the enumeration gives up.
const MAX_PATHS: usize = 4_096;

/// One way a thread can run: its events in program order and its registers at the end.
#[derive(Debug, Clone)]
struct Path {
    events: Vec<Event>,
    regs: [i64; MAX_REGISTERS],
}

/// Every outcome RC11 allows for `program` (loads, stores, read-modify-writes and fences,
/// no loops).
pub fn explore(program: &Program) -> Verdict {
    let groups = thread_groups(program);
    let vars = program.shared.len();
    // The values each variable may hold: the initial ones, then whatever the threads can
    // write given those, until nothing new appears. A value in an execution comes from a
    // chain of writes, each reading the one before, so after as many rounds as there are
    // writes every value an execution can hold has appeared; later rounds only add values
    // that no execution reads (a fetch_add reading its own future), so they stop there.
    let writes = program
        .groups
        .iter()
        .map(|g| {
            g.threads as u64 * g.iterations * g.ops.iter().filter(|op| writes(op)).count() as u64
        })
        .sum::<u64>();
    let mut round = 0;
    let mut values: Vec<BTreeSet<i64>> = program
        .shared
        .iter()
        .map(|(_, v)| BTreeSet::from([*v]))
        .collect();
    let paths = loop {
        let mut paths = Vec::new();
        for (t, &g) in groups.iter().enumerate() {
            let mut found = Vec::new();
            let cursor = cursors(program, &groups).swap_remove(t);
            if !ways(program, g, cursor, Vec::new(), &values, &mut found) {
                return not_exhaustive("a thread can run in too many ways");
            }
            paths.push(found);
        }
        let mut grown = false;
        for path in paths.iter().flatten() {
            for e in path.events.iter().filter(|e| e.writes()) {
                grown |= values[e.var as usize].insert(e.wrote);
            }
        }
        if values.iter().any(|v| v.len() > MAX_VALUES) {
            return not_exhaustive("the variables take too many values");
        }
        round += 1;
        if !grown || round > writes {
            break paths;
        }
    };
    let mut outcomes = BTreeSet::new();
    let mut explored = 0u64;
    let mut choice = vec![0usize; paths.len()];
    loop {
        let chosen: Vec<&Path> = choice.iter().zip(&paths).map(|(&i, p)| &p[i]).collect();
        if !executions(program, vars, &chosen, &mut outcomes, &mut explored) {
            return Verdict::Computed {
                outcomes,
                exhaustive: false,
                explored,
            };
        }
        // The next combination of one path per thread.
        let mut t = 0;
        loop {
            if t == choice.len() {
                return Verdict::Computed {
                    outcomes,
                    exhaustive: true,
                    explored,
                };
            }
            choice[t] += 1;
            if choice[t] < paths[t].len() {
                break;
            }
            choice[t] = 0;
            t += 1;
        }
    }
}

/// Whether an op can write a shared variable.
fn writes(op: &Op) -> bool {
    matches!(
        op,
        Op::Store { .. } | Op::RacyAdd { .. } | Op::FetchAdd { .. } | Op::Cas { .. }
    )
}

fn not_exhaustive(why: &str) -> Verdict {
    Verdict::NotComputed(format!("not computed: {why}"))
}

/// Every way thread group `g`'s thread can run from `cursor`, each read seeing any value in
/// `values`; false when there are more than [`MAX_PATHS`].
fn ways(
    program: &Program,
    g: usize,
    mut cursor: Cursor,
    mut events: Vec<Event>,
    values: &[BTreeSet<i64>],
    found: &mut Vec<Path>,
) -> bool {
    let group = &program.groups[g];
    cursor.settle(&group.ops, group.iterations, false, usize::MAX);
    if cursor.done {
        found.push(Path {
            events,
            regs: cursor.regs,
        });
        return found.len() <= MAX_PATHS;
    }
    let access = cursor.access(&group.ops);
    let (var, order) = match access {
        Access::Read { var, order } | Access::Update { var, order, .. } => (var, order),
        Access::Write { var, value, order } => {
            events.push(Event {
                kind: Kind::Write,
                var,
                order,
                read: 0,
                wrote: value,
            });
            cursor.complete(&group.ops, 0);
            return ways(program, g, cursor, events, values, found);
        }
        Access::Fence(order) => {
            events.push(Event {
                kind: Kind::Fence,
                var: u16::MAX,
                order,
                read: 0,
                wrote: 0,
            });
            cursor.complete(&group.ops, 0);
            return ways(program, g, cursor, events, values, found);
        }
    };
    for &seen in &values[var as usize] {
        let event = match access {
            Access::Update { change, .. } => match change.apply(seen) {
                Some(new) => Event {
                    kind: Kind::Update,
                    var,
                    order,
                    read: seen,
                    wrote: new,
                },
                // A failed compare-and-swap only reads, with its failure ordering.
                None => Event {
                    kind: Kind::Read,
                    var,
                    order: read_order(change, seen, order),
                    read: seen,
                    wrote: 0,
                },
            },
            _ => Event {
                kind: Kind::Read,
                var,
                order,
                read: seen,
                wrote: 0,
            },
        };
        let mut next = cursor.clone();
        next.complete(&group.ops, seen);
        let mut more = events.clone();
        more.push(event);
        if !ways(program, g, next, more, values, found) {
            return false;
        }
    }
    true
}

/// Every consistent execution of one combination of paths, its outcome added to
/// `outcomes`; false when the budget ran out.
fn executions(
    program: &Program,
    vars: usize,
    paths: &[&Path],
    outcomes: &mut BTreeSet<Outcome>,
    explored: &mut u64,
) -> bool {
    // Events: one initial write per variable, then each thread's in program order.
    let mut events: Vec<Event> = program
        .shared
        .iter()
        .enumerate()
        .map(|(v, (_, value))| Event {
            kind: Kind::Write,
            var: v as u16,
            order: Ordering::Relaxed,
            read: 0,
            wrote: *value,
        })
        .collect();
    let mut thread_of = vec![usize::MAX; vars];
    for (t, path) in paths.iter().enumerate() {
        events.extend(&path.events);
        thread_of.extend(std::iter::repeat_n(t, path.events.len()));
    }
    let n = events.len();
    debug_assert!(n <= 64 && n <= vars + MAX_ACCESSES * 2);
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
    // Each read's possible sources: writes to its variable of the value it read.
    let reads: Vec<usize> = (0..n).filter(|&i| events[i].reads()).collect();
    let sources: Vec<Vec<usize>> = reads
        .iter()
        .map(|&r| {
            (0..n)
                .filter(|&w| {
                    w != r
                        && events[w].writes()
                        && events[w].var == events[r].var
                        && events[w].wrote == events[r].read
                })
                .collect()
        })
        .collect();
    if sources.iter().any(Vec::is_empty) {
        return true;
    }
    // Each variable's writes after its initial one, to be ordered every way.
    let writes: Vec<Vec<usize>> = (0..vars)
        .map(|v| {
            (vars..n)
                .filter(|&w| events[w].writes() && events[w].var as usize == v)
                .collect()
        })
        .collect();
    let mut rf_choice = vec![0usize; reads.len()];
    loop {
        let rf_of: Vec<(usize, usize)> = reads
            .iter()
            .zip(&rf_choice)
            .zip(&sources)
            .map(|((&r, &c), s)| (s[c], r))
            .collect();
        let mut orders: Vec<Vec<usize>> = writes.clone();
        for order in &mut orders {
            order.sort_unstable();
        }
        loop {
            *explored += 1;
            if *explored > BUDGET as u64 * 10 {
                return false;
            }
            let outcome = program.outcome_from(|source| match source {
                Source::Shared(v) => orders[v as usize]
                    .last()
                    .map_or(events[v as usize].wrote, |&w| events[w].wrote),
                Source::Register { thread, reg } => paths[thread].regs[reg as usize],
            });
            if !outcomes.contains(&outcome) && consistent(&events, &po, &rf_of, &orders, vars) {
                outcomes.insert(outcome);
            }
            // The next order of one variable's writes, the others back to their first.
            let mut v = 0;
            loop {
                if v == orders.len() {
                    break;
                }
                if next_permutation(&mut orders[v]) {
                    break;
                }
                v += 1;
            }
            if v == orders.len() {
                break;
            }
        }
        let mut i = 0;
        loop {
            if i == rf_choice.len() {
                return true;
            }
            rf_choice[i] += 1;
            if rf_choice[i] < sources[i].len() {
                break;
            }
            rf_choice[i] = 0;
            i += 1;
        }
    }
}
