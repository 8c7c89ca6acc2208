//! The program's threads: each group's function (numbered copies folded into one taking its
//! index), the locks they share, and `main`, which starts them, waits (no longer than the
//! watchdog where a thread can wait for good) and prints the outcome.

use super::code::{self, Node, Uses};
use super::fold::{self, Family, Folded};
use super::names::{expr, py};
use super::registers;
use super::{broken, number};
use crate::scenario::parse::{self, Expr};
use crate::scenario::program::Program;

/// One function of the program: a group, or groups folded into one taking `i`.
pub struct Function {
    pub name: String,
    /// The ops as written (of the first member, when folded).
    pub ops: Vec<String>,
    /// The group names it runs for (several when folded).
    pub groups: Vec<String>,
    /// Threads that run it.
    pub threads: usize,
    pub iterations: u64,
    pub folded: Option<Folded>,
    pub body: Vec<Node>,
    pub uses: Uses,
}

/// Each group's function, numbered copies folded into one.
pub fn functions(
    p: &Program,
    written: &[Vec<String>],
    families: &[Family],
    folds: Vec<Folded>,
) -> Vec<Function> {
    let mut out = Vec::new();
    for (k, g) in p.groups.iter().enumerate() {
        let fold = folds.iter().find(|f| f.members.contains(&k));
        if fold.is_some_and(|f| f.members[0] != k) {
            continue;
        }
        let mut uses = Uses::default();
        let body = {
            let rename = |n: &str| -> String {
                fold.and_then(|f| f.renames.iter().find(|(t, _)| t == n))
                    .map_or_else(|| fold::plain(families, n), |(_, e)| e.clone())
            };
            code::statements(&written[k], &rename, &mut uses)
        };
        out.push(Function {
            name: py(fold.map_or(&g.name, |f| &f.base)),
            ops: written[k].clone(),
            groups: fold.map_or_else(
                || vec![g.name.clone()],
                |f| {
                    f.members
                        .iter()
                        .map(|&m| p.groups[m].name.clone())
                        .collect()
                },
            ),
            threads: fold.map_or(g.threads, |f| f.members.len()),
            iterations: g.iterations,
            folded: fold.cloned(),
            body,
            uses,
        });
    }
    out
}

pub fn declare_locks(p: &Program, families: &[Family], line: &mut dyn FnMut(&str)) {
    let in_family = |n: &str| families.iter().any(|f| f.member(n).is_some());
    for f in families {
        let first = format!("{}0", f.prefix);
        let made = if p.locks.contains(&first) {
            "threading.Lock()".to_string()
        } else {
            let s = p.semaphores.iter().find(|s| s.name == first);
            let kind = if s.is_some_and(|s| s.bounded) {
                "BoundedSemaphore"
            } else {
                "Semaphore"
            };
            format!("threading.{kind}({})", s.map_or(0, |s| s.initial))
        };
        line(&format!("{} = [{made} for _ in range({})]", f.list, f.size));
    }
    for lock in p.locks.iter().filter(|l| !in_family(l)) {
        line(&format!("{} = threading.Lock()", py(lock)));
    }
    for lock in &p.rwlocks {
        line(&format!("{} = RWLock()", py(lock)));
    }
    for c in &p.condvars {
        line(&format!(
            "{} = threading.Condition({})",
            py(&c.name),
            fold::plain(families, &p.locks[c.lock as usize])
        ));
    }
    for s in p.semaphores.iter().filter(|s| !in_family(&s.name)) {
        let kind = if s.bounded {
            "BoundedSemaphore"
        } else {
            "Semaphore"
        };
        line(&format!(
            "{} = threading.{kind}({})",
            py(&s.name),
            s.initial
        ));
    }
}

/// A function: `global` for the shared variables it assigns, registers read before they are
/// set, the barrier, the loop (none for one pass), and the registers the checks read.
pub fn function(
    p: &Program,
    f: &Function,
    barrier: bool,
    read_by_checks: &[String],
    line: &mut dyn FnMut(&str),
) {
    let index = if f.folded.is_some() { "i" } else { "" };
    line(&format!("def {}({index}):", f.name));
    let globals: Vec<String> = registers::assigned(&f.ops)
        .iter()
        .filter(|n| p.shared.iter().any(|(s, _)| s == *n))
        .map(|n| py(n))
        .collect();
    if !globals.is_empty() {
        line(&format!("    global {}", globals.join(", ")));
    }
    let exported: Vec<&String> = read_by_checks
        .iter()
        .filter(|r| f.groups.iter().any(|g| r.starts_with(&format!("{g}."))))
        .collect();
    let shared =
        |n: &str| n == "threads" || n == "iterations" || p.shared.iter().any(|(s, _)| s == n);
    let mut early = registers::read_before_set(&f.ops, &shared);
    for r in &exported {
        let reg = r.split_once('.').map_or("", |(_, reg)| reg).to_string();
        if !early.contains(&reg) {
            early.push(reg);
        }
    }
    for r in &early {
        line(&format!("    {} = 0", py(r)));
    }
    if barrier {
        line("    start.wait()");
    }
    let mut lines = Vec::new();
    let depth = match f.iterations {
        1 => 1,
        n => {
            let count = if n == p.iterations {
                "ITERATIONS".to_string()
            } else {
                number(n)
            };
            lines.push(format!("    for _ in range({count}):"));
            2
        }
    };
    code::render(&f.body, depth, &mut lines);
    if f.body.is_empty() {
        lines.push(format!("{}pass", "    ".repeat(depth)));
    }
    for l in lines {
        line(&l);
    }
    for r in exported {
        let reg = r.split_once('.').map_or("", |(_, reg)| reg);
        line(&format!("    results['{r}'] = {}", py(reg)));
    }
}

/// `main`: start every thread, wait for them (no longer than the watchdog, when a thread can
/// wait for good), and print the outcome as racedemo names it.
pub fn main(
    p: &Program,
    functions: &[Function],
    families: &[Family],
    blocking: bool,
    line: &mut dyn FnMut(&str),
) {
    let daemon = if blocking { ", daemon=True" } else { "" };
    let total: usize = functions.iter().map(|f| f.threads).sum();
    line("def main():");
    let starts: Vec<String> = functions
        .iter()
        .map(|f| {
            let count = if f.threads == total && total > 1 {
                "THREADS".to_string()
            } else {
                f.threads.to_string()
            };
            match (f.folded.is_some(), f.threads) {
                (true, _) => format!(
                    "[threading.Thread(target={}, args=(i,){daemon}) for i in range({count})]",
                    f.name
                ),
                (false, 1) => format!("[threading.Thread(target={}{daemon})]", f.name),
                (false, _) => format!(
                    "[threading.Thread(target={}{daemon}) for _ in range({count})]",
                    f.name
                ),
            }
        })
        .collect();
    line(&format!("    threads = {}", starts.join(" + ")));
    line("    for t in threads:");
    line("        t.start()");
    if blocking {
        line("    deadline = time.monotonic() + WATCHDOG");
        line("    for t in threads:");
        line("        t.join(max(0.0, deadline - time.monotonic()))");
        line("    if any(t.is_alive() for t in threads):");
        line(
            "        # A thread still waits: for a lock another waiting thread holds (a deadlock), or",
        );
        line(
            "        # for a notify or a permit that will never come. Daemon threads let the program end.",
        );
        let only_locks = p.condvars.is_empty()
            && p.semaphores.is_empty()
            && p.rwlocks.is_empty()
            && !p.locks.is_empty();
        if only_locks {
            line("        print(\"deadlock\")");
        } else if p.locks.is_empty() {
            line("        print(\"stuck\")");
        } else {
            let locks: Vec<String> = p.locks.iter().map(|l| fold::plain(families, l)).collect();
            line(&format!(
                "        print(\"deadlock\" if any(lock.locked() for lock in [{}]) else \"stuck\")",
                locks.join(", ")
            ));
        }
        line("        return");
    } else {
        line("    for t in threads:");
        line("        t.join()");
    }
    let values: Vec<String> = p
        .outcome
        .iter()
        .map(|(name, _)| format!("{name}={{{}}}", expr(&Expr::Name(name.clone(), 0))))
        .collect();
    let outcome = format!("f\"{}\"", values.join(", "));
    match p.invariant.as_ref().and_then(|(t, _)| parse::expr(t).ok()) {
        Some(invariant) => {
            line(&format!("    outcome = {outcome}"));
            line(&format!("    if {}:", broken(&invariant)));
            line("        outcome += \" (invariant broken)\"");
            line("    print(outcome)");
        }
        None => line(&format!("    print({outcome})")),
    }
}
