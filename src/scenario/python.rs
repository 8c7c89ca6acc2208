//! `scenario show NAME --as python`: the scenario as a runnable Python 3 `threading` program,
//! so that a reader of the article racedemo grew from can run the same race in Python. Made
//! from the ops as written (not the compiled ones), so `if` and `while` stay blocks.

use super::Scenario;
use super::parse::{self, BinOp, Expr, OpSyntax};

/// Names Python reserves, and the ones the generated program uses itself: a scenario name
/// among them gets a trailing underscore.
const RESERVED: &[&str] = &[
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "os",
    "sys",
    "time",
    "random",
    "threading",
    "print",
    "range",
    "int",
    "len",
    "main",
    "RWLock",
    "THREADS",
    "ITERATIONS",
    "WATCHDOG",
];

/// A name as a Python identifier: a group or lock may be named anything in the file, so
/// other characters become `_`; reserved names and names that could clash with the program's
/// own (`_atomic`, `_registers`) get a trailing underscore.
fn py(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, 'n');
    }
    if RESERVED.contains(&id.as_str()) || id.starts_with('_') {
        id.push('_');
    }
    id
}

/// An expression in Python: `&&` is `and`, `!` is `not`, division is integer division, and
/// `group.reg` reads what that thread left in `_registers`.
fn expr(e: &Expr) -> String {
    match e {
        Expr::Int(n) => n.to_string(),
        Expr::Name(name, _) => match (name.as_str(), name.split_once('.')) {
            ("threads", _) => "THREADS".into(),
            ("iterations", _) => "ITERATIONS".into(),
            // Single quotes: the outcome line puts this inside a double-quoted f-string.
            (_, Some((group, reg))) => format!("_registers['{}']['{}']", py(group), py(reg)),
            _ => py(name),
        },
        Expr::Neg(e) => format!("-{}", expr(e)),
        Expr::Not(e) => format!("int(not {})", expr(e)),
        Expr::Bin(op, a, b) => {
            let symbol = match op {
                BinOp::And => "and",
                BinOp::Or => "or",
                BinOp::Div => "//",
                other => other.symbol(),
            };
            format!("({} {symbol} {})", expr(a), expr(b))
        }
    }
}

/// Python has no memory orderings: a comment says what was dropped.
fn dropped_order(text: &str) -> String {
    match text.split_whitespace().find(|w| w.contains('.')) {
        Some(word) if !word.contains("..") => {
            let order = word.split('.').nth(1).unwrap_or("");
            format!("  # .{order}: no Python equivalent")
        }
        _ => String::new(),
    }
}

/// One op as Python lines (without indentation); `Err` for `end`.
fn op(text: &str) -> Option<Vec<String>> {
    let syntax = parse::op(text).ok()?;
    let note = dropped_order(text);
    Some(match syntax {
        OpSyntax::Load { reg, var, .. } => {
            vec![format!("{} = {}{note}", py(&reg.text), py(&var.text))]
        }
        OpSyntax::Store { var, value, .. } => {
            vec![format!("{} = {}{note}", py(&var.text), expr(&value))]
        }
        OpSyntax::FetchAdd {
            reg, var, value, ..
        } => {
            let v = py(&var.text);
            let head =
                format!("with _atomic:  # fetch_add: one indivisible step, as an atomic is{note}");
            match reg {
                None => vec![head, format!("    {v} += {}", expr(&value))],
                // Through _old: the added value may read the register being assigned.
                Some(r) => vec![
                    head,
                    format!("    _old = {v}"),
                    format!("    {v} = _old + {}", expr(&value)),
                    format!("{} = _old", py(&r.text)),
                ],
            }
        }
        OpSyntax::Cas {
            reg,
            var,
            expected,
            old,
            new,
            ..
        } => {
            let v = py(&var.text);
            let mut lines = vec![
                format!("with _atomic:  # compare-and-swap{note}"),
                format!("    _ok = int({v} == {})", expr(&expected)),
                "    if _ok:".into(),
                format!("        {v} = {}", expr(&new)),
            ];
            if let Some(o) = old {
                lines.insert(1, format!("    _old = {v}"));
                lines.push(format!("{} = _old", py(&o.text)));
            }
            lines.extend(reg.map(|r| format!("{} = _ok", py(&r.text))));
            lines
        }
        OpSyntax::Swap {
            reg, var, value, ..
        } => {
            let v = py(&var.text);
            let mut lines = vec![
                format!("with _atomic:  # swap: one indivisible step{note}"),
                format!("    _old = {v}"),
                format!("    {v} = {}", expr(&value)),
            ];
            lines.extend(reg.map(|r| format!("{} = _old", py(&r.text))));
            lines
        }
        OpSyntax::CasLoop {
            reg,
            var,
            current,
            new,
            guard,
            ..
        } => {
            let (v, c) = (py(&var.text), py(&current.text));
            let mut lines = vec![
                format!("while True:  # compare-and-swap loop{note}"),
                format!("    {c} = {v}"),
            ];
            if let Some(g) = guard {
                lines.push(format!("    if not {}:", expr(&g)));
                lines.push("        _ok = 0".into());
                lines.push("        break".into());
            }
            lines.extend([
                "    with _atomic:".into(),
                format!("        if {v} == {c}:"),
                format!("            {v} = {}", expr(&new)),
                "            _ok = 1".into(),
                "            break".into(),
            ]);
            lines.extend(reg.map(|r| format!("{} = _ok", py(&r.text))));
            lines
        }
        OpSyntax::Set { reg, value } => vec![format!("{} = {}", py(&reg.text), expr(&value))],
        OpSyntax::Lock(n) => vec![format!("{}.acquire()", py(&n.text))],
        OpSyntax::Unlock(n) => vec![format!("{}.release()", py(&n.text))],
        OpSyntax::If(cond) => vec![format!("if {}:", expr(&cond))],
        OpSyntax::While(cond) => vec![format!("while {}:", expr(&cond))],
        OpSyntax::End => return None,
        OpSyntax::Wait(n) => vec![format!("{}.wait()", py(&n.text))],
        OpSyntax::Notify(n) => vec![format!("{}.notify()", py(&n.text))],
        OpSyntax::NotifyAll(n) => vec![format!("{}.notify_all()", py(&n.text))],
        OpSyntax::Acquire(n) => vec![format!("{}.acquire()", py(&n.text))],
        OpSyntax::Release(n) => vec![format!("{}.release()", py(&n.text))],
        OpSyntax::ReadLock(n) => vec![format!("{}.acquire_read()", py(&n.text))],
        OpSyntax::ReadUnlock(n) => vec![format!("{}.release_read()", py(&n.text))],
        OpSyntax::WriteLock(n) => vec![format!("{}.acquire_write()", py(&n.text))],
        OpSyntax::WriteUnlock(n) => vec![format!("{}.release_write()", py(&n.text))],
        OpSyntax::Spin(n) => vec![format!("_spin({n})")],
        OpSyntax::Jitter(n) => vec![format!("_spin(random.randint(0, {n}))")],
        OpSyntax::Yield => vec!["time.sleep(0)  # yield: lets another thread run".into()],
        OpSyntax::Fence(_) => {
            vec![format!("pass  # {}: no Python equivalent", text.trim())]
        }
    })
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
            self._cond.notify_all()
"#;

impl Scenario {
    /// The scenario as a Python 3 program: shared variables as globals, each group a function
    /// run by its threads, locks, condvars and semaphores as threading's, the outcome printed
    /// and the invariant checked at the end. A thread still running after `WATCHDOG` seconds
    /// is reported as stuck (a deadlock, or a wait nobody ends), and the program exits.
    pub fn python(&self) -> String {
        let p = &self.program;
        let mut out = String::new();
        let mut line = |s: &str| {
            out.push_str(s);
            out.push('\n');
        };
        line("#!/usr/bin/env python3");
        line(&format!("# {}: {}", self.name, self.title()));
        line(&format!("# {}", self.summary()));
        line("#");
        line(&format!(
            "# Made by `racedemo scenario show {} --as python`: the same program as the scenario,",
            self.name
        ));
        line("# in Python's threading. What CPython does to it: under the GIL one thread runs");
        line(
            "# bytecode at a time and switches only now and then (sys.getswitchinterval(), 5 ms),",
        );
        line(
            "# so an unlocked read-modify-write races far less often than natively; since 3.10 an",
        );
        line("# unlocked `x += 1` almost never loses an update. A `time.sleep(0)` (the scenario's");
        line("# yield) between the read and the write makes a switch there likely. Locks,");
        line("# Conditions and Semaphores behave as racedemo's do, and the waits that never end");
        line("# (a lost wakeup, a deadlock) happen the same way. What has no Python equivalent:");
        line("# memory orderings and fences (Python's threads see one order of all accesses), and");
        line("# atomic read-modify-writes, done here under a lock of their own (_atomic).");
        line("import os");
        line("import random");
        line("import sys");
        line("import threading");
        line("import time");
        line("");
        line(&format!("THREADS = {}", p.threads));
        line(&format!("ITERATIONS = {}", p.iterations));
        line("# Seconds before a thread still running is taken to be stuck for good.");
        line(&format!(
            "WATCHDOG = {}",
            (p.watchdog.as_secs_f64() * 10.0).max(5.0)
        ));
        if !p.rwlocks.is_empty() {
            for l in READ_WRITE_LOCK.lines() {
                line(l);
            }
        }
        line("");
        for (name, value) in &p.shared {
            line(&format!("{} = {value}", py(name)));
        }
        for lock in &p.locks {
            line(&format!("{} = threading.Lock()", py(lock)));
        }
        for lock in &p.rwlocks {
            line(&format!("{} = RWLock()", py(lock)));
        }
        for c in &p.condvars {
            line(&format!(
                "{} = threading.Condition({})",
                py(&c.name),
                py(&p.locks[c.lock as usize])
            ));
        }
        for s in &p.semaphores {
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
        line("_atomic = threading.Lock()");
        line("_registers = {}");
        line("");
        line("");
        line("def _spin(units):");
        line("    for _ in range(units):");
        line("        pass");
        let globals: Vec<String> = p.shared.iter().map(|(n, _)| py(n)).collect();
        for g in &p.groups {
            let written = self
                .file
                .group
                .iter()
                .find(|fg| *fg.name.get_ref() == g.name)
                .map(|fg| fg.ops.get_ref().as_slice())
                .unwrap_or_default();
            line("");
            line("");
            line(&format!("def {}():", py(&g.name)));
            if !globals.is_empty() {
                line(&format!("    global {}", globals.join(", ")));
            }
            let registers: Vec<&String> =
                g.registers.iter().filter(|r| !r.starts_with('@')).collect();
            for r in &registers {
                line(&format!("    {} = 0", py(r)));
            }
            line(&format!("    for _ in range({}):", g.iterations));
            // Indentation depth, and whether the block opened last has a line yet.
            let mut depth = 2;
            let mut empty_block = false;
            for item in written {
                match op(item.get_ref()) {
                    None => {
                        if empty_block {
                            line(&format!("{}pass", "    ".repeat(depth)));
                        }
                        depth = (depth - 1).max(2);
                        empty_block = false;
                    }
                    Some(lines) => {
                        for l in &lines {
                            line(&format!("{}{l}", "    ".repeat(depth)));
                        }
                        empty_block = lines.last().is_some_and(|l| l.ends_with(':'));
                        if empty_block {
                            depth += 1;
                        }
                    }
                }
            }
            if empty_block {
                line(&format!("{}pass", "    ".repeat(depth)));
            }
            let saved: Vec<String> = registers
                .iter()
                .map(|r| format!("'{}': {}", py(r), py(r)))
                .collect();
            line(&format!(
                "    _registers['{}'] = {{{}}}",
                py(&g.name),
                saved.join(", ")
            ));
        }
        line("");
        line("");
        line("def main():");
        line("    threads = []");
        for g in &p.groups {
            line(&format!("    for _ in range({}):", g.threads));
            line(&format!(
                "        threads.append(threading.Thread(target={}, daemon=True))",
                py(&g.name)
            ));
        }
        line("    for t in threads:");
        line("        t.start()");
        line("    deadline = time.monotonic() + WATCHDOG");
        line("    for t in threads:");
        line("        t.join(timeout=max(0.0, deadline - time.monotonic()))");
        line("    if any(t.is_alive() for t in threads):");
        line(
            "        print(\"stuck: a thread still waits after WATCHDOG seconds (a deadlock, or a wait nobody ends)\")",
        );
        line("        sys.stdout.flush()");
        line("        os._exit(1)");
        let outcome: Vec<String> = p
            .outcome
            .iter()
            .map(|(name, _)| {
                let value = expr(&Expr::Name(name.clone(), 0));
                format!("{name}={{{value}}}")
            })
            .collect();
        line(&format!("    print(f\"{}\")", outcome.join(", ")));
        if let Some((text, _)) = &p.invariant
            && let Ok(parsed) = parse::expr(text)
        {
            line(&format!("    if not {}:", expr(&parsed)));
            line(&format!(
                "        print({:?})",
                format!("invariant broken: {text}")
            ));
            line("        sys.exit(1)");
        }
        line("");
        line("");
        line("if __name__ == \"__main__\":");
        line("    main()");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_read_as_python() {
        let e = parse::expr("!(a && b) || c / 2 == reader.r").unwrap();
        assert_eq!(
            expr(&e),
            "(int(not (a and b)) or ((c // 2) == _registers['reader']['r']))"
        );
        assert_eq!(py("from"), "from_");
        assert_eq!(py("count"), "count");
        assert_eq!(py("also-ab"), "also_ab");
        assert_eq!(py("2nd"), "n2nd");
    }

    #[test]
    fn ops_read_as_python_with_orderings_noted() {
        assert_eq!(
            op("r = load.acquire flag").unwrap(),
            ["r = flag  # .acquire: no Python equivalent"]
        );
        assert_eq!(op("wait ready").unwrap(), ["ready.wait()"]);
        assert_eq!(op("while r == 0").unwrap(), ["while (r == 0):"]);
        assert!(op("end").is_none());
    }
}
