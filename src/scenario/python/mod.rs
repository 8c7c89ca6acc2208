//! `scenario show NAME --as python`: the scenario as the Python 3 `threading` program a
//! teacher would show, which shows the same race when run. Made from the ops as written (not
//! the compiled ones), so `if` and `while` stay blocks.
//!
//! Two things would hide the race in CPython, and the program undoes both: threads started
//! one by one (a `Barrier` releases them together, as racedemo's trials start), and a
//! read-modify-write with no call inside it, where CPython never switches threads (a call sits
//! between each separate read and write, and the switch interval is made small). It prints
//! its outcome as racedemo names it, as its last line, so `racedemo exec` reads it as is.

mod code;
mod fold;
mod names;
mod registers;
mod threads;

use code::Uses;
use names::{expr, py};

use super::Scenario;
use super::parse::{self, BinOp, Expr};
use super::program::Program;

/// `100000` as `100_000`, as Python lets a reader write it.
fn number(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 4 {
        return digits;
    }
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

const READ_WRITE_LOCK: &str = r#"

class RWLock:
    """Many readers or one writer. Python's threading has none; this one is made from a
    Condition, as such locks usually are."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    def acquire_read(self):
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1

    def release_read(self):
        with self._cond:
            self._readers -= 1
            self._cond.notify_all()

    def acquire_write(self):
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True

    def release_write(self):
        with self._cond:
            self._writer = False
            self._cond.notify_all()"#;

/// The invariant negated, as an `if` reads it: `counter != THREADS * ITERATIONS`.
fn broken(e: &Expr) -> String {
    let flipped = match e {
        Expr::Bin(op, a, b) => match op {
            BinOp::Eq => Some(BinOp::Ne),
            BinOp::Ne => Some(BinOp::Eq),
            BinOp::Lt => Some(BinOp::Ge),
            BinOp::Le => Some(BinOp::Gt),
            BinOp::Gt => Some(BinOp::Le),
            BinOp::Ge => Some(BinOp::Lt),
            _ => None,
        }
        .map(|op| Expr::Bin(op, a.clone(), b.clone())),
        _ => None,
    };
    match flipped {
        Some(f) => expr(&f),
        None => format!("not ({})", expr(e)),
    }
}

/// Seconds after which a thread still running is taken to wait for good: generous beside
/// what the work takes in CPython (about 2 µs an op with a switch at every call).
fn watchdog(p: &Program) -> f64 {
    let ops: u64 = p
        .groups
        .iter()
        .map(|g| g.threads as u64 * g.iterations * g.ops.len() as u64)
        .sum();
    (ops as f64 * 20e-6).clamp(1.0, 60.0).ceil()
}

impl Scenario {
    /// The scenario as a Python 3 program: shared variables as globals, each group a
    /// function (numbered copies folded into one taking its index), locks as `with` blocks,
    /// threads released together by a barrier, the outcome printed last as racedemo names
    /// it. A program that can wait for good ends after a watchdog, printing `deadlock` or
    /// `stuck`.
    pub fn python(&self) -> String {
        self.python_for(&self.program)
    }

    /// [`Scenario::python`] for the program compiled with `--threads` / `--iterations`.
    pub fn python_for(&self, p: &Program) -> String {
        let written: Vec<Vec<String>> = p
            .groups
            .iter()
            .map(|g| {
                self.file
                    .group
                    .iter()
                    .find(|fg| *fg.name.get_ref() == g.name)
                    .map(|fg| {
                        fg.ops
                            .get_ref()
                            .iter()
                            .map(|o| o.get_ref().clone())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let read_by_checks: Vec<String> = p
            .outcome
            .iter()
            .map(|(n, _)| n.clone())
            .chain(
                p.invariant
                    .iter()
                    .flat_map(|(text, _)| names_in(text))
                    .collect::<Vec<_>>(),
            )
            .filter(|n| n.contains('.'))
            .collect();
        let mut taken: Vec<String> = p.shared.iter().map(|(n, _)| n.clone()).collect();
        taken.extend(p.locks.iter().cloned());
        taken.extend(p.groups.iter().map(|g| g.name.clone()));
        taken.extend(p.condvars.iter().map(|c| c.name.clone()));
        taken.extend(p.semaphores.iter().map(|s| s.name.clone()));
        let families = fold::families(p, &taken);
        let folds = fold::folds(p, &written, &families, &read_by_checks);
        let functions = threads::functions(p, &written, &families, folds);
        let blocking = !p.locks.is_empty()
            || !p.condvars.is_empty()
            || !p.semaphores.is_empty()
            || !p.rwlocks.is_empty()
            || written
                .iter()
                .flatten()
                .any(|o| o.trim_start().starts_with("while"));

        let mut out: Vec<String> = Vec::new();
        let mut line = |s: &str| out.push(s.to_string());
        line("#!/usr/bin/env python3");
        line(&format!(
            "\"\"\"{}: {}.",
            self.name,
            self.title().trim_end_matches('.')
        ));
        line("");
        let mut summary = self.summary().trim().to_string();
        if !summary.ends_with('.') {
            summary.push('.');
        }
        for l in wrap(&summary, 92) {
            line(&l);
        }
        line("");
        let about = format!(
            "Written by `racedemo scenario show {0} --as python`. It prints its outcome as its \
             last line, so `racedemo exec --runs 20 -- python3 THIS_FILE` counts how often each \
             comes; `racedemo scenario run {0} --python` does that beside racedemo's own run.",
            self.name
        );
        for l in wrap(&about, 92) {
            line(&l);
        }
        line("\"\"\"");
        let uses_any = |f: fn(&Uses) -> bool| functions.iter().any(|fun| f(&fun.uses));
        if uses_any(|u| u.random) {
            line("import random");
        }
        line("import sys");
        line("import threading");
        if uses_any(|u| u.time) || blocking {
            line("import time");
        }
        line("");
        let all_text: String = written
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
            + p.invariant.as_ref().map_or("", |(t, _)| t.as_str());
        let total: usize = p.groups.iter().map(|g| g.threads).sum();
        let threads_named = total > 1 || all_text.contains("threads");
        if threads_named {
            line(&format!("THREADS = {total}"));
        }
        let iterations_named = functions
            .iter()
            .any(|f| f.iterations == p.iterations && p.iterations > 1)
            || all_text.contains("iterations");
        if iterations_named {
            line(&format!("ITERATIONS = {}", number(p.iterations)));
        }
        if blocking {
            line(&format!(
                "WATCHDOG = {}  # seconds: a thread still waiting then waits for good",
                watchdog(p)
            ));
        }
        line("");
        line("# CPython runs one thread at a time and switches only at a call or a loop's back");
        line(
            "# edge, by default at most every 5 ms. Switching as often as it can lets the threads",
        );
        line("# interleave closely, as threads on two CPUs running at once do.");
        line("sys.setswitchinterval(1e-6)");
        if !p.rwlocks.is_empty() {
            for l in READ_WRITE_LOCK.lines() {
                line(l);
            }
            line("");
        }
        line("");
        for (name, value) in &p.shared {
            line(&format!("{} = {value}", py(name)));
        }
        threads::declare_locks(p, &families, &mut line);
        if uses_any(|u| u.atomic) {
            line(
                "atomic = threading.Lock()  # Python has no atomic read-modify-write: a lock makes one",
            );
        }
        if !read_by_checks.is_empty() {
            line("results = {}  # registers the checks read, as each thread left them");
        }
        if total > 1 {
            let count = if threads_named {
                "THREADS".to_string()
            } else {
                total.to_string()
            };
            line(&format!(
                "start = threading.Barrier({count})  # releases the threads together, as racedemo's trials do"
            ));
        }
        if uses_any(|u| u.pause) {
            line("");
            line("");
            line("def pause():");
            line(
                "    \"\"\"Does nothing; but CPython can switch threads at a call. Made between reading a",
            );
            line(
                "    shared value and writing it back, it leaves the window a CPU leaves between a",
            );
            line("    separate load and store.\"\"\"");
        }
        for f in &functions {
            line("");
            line("");
            threads::function(p, f, total > 1, &read_by_checks, &mut line);
        }
        line("");
        line("");
        threads::main(p, &functions, &families, blocking, &mut line);
        line("");
        line("");
        line("if __name__ == \"__main__\":");
        line("    main()");
        let mut text = out.join("\n");
        text.push('\n');
        text
    }
}

/// The names an expression's text reads.
fn names_in(text: &str) -> Vec<String> {
    fn walk(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Name(n, _) => out.push(n.clone()),
            Expr::Neg(i) | Expr::Not(i) => walk(i, out),
            Expr::Bin(_, a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Expr::Int(_) => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(e) = parse::expr(text) {
        walk(&e, &mut out);
    }
    out
}

/// Text cut into lines of at most `width`, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    textwrap::wrap(text, width)
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands_past_four_digits() {
        assert_eq!(number(100_000), "100_000");
        assert_eq!(number(1000), "1000");
        assert_eq!(number(1_234_567), "1_234_567");
    }

    #[test]
    fn an_invariant_is_negated_as_a_reader_would() {
        let e = parse::expr("counter == threads * iterations").unwrap();
        assert_eq!(broken(&e), "counter != THREADS * ITERATIONS");
        let e = parse::expr("a == 1 && b == 1").unwrap();
        assert_eq!(broken(&e), "not (a == 1 and b == 1)");
    }
}
