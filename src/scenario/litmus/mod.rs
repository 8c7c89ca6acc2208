//! herdtools7's litmus format (https://github.com/herd/herdtools7), read into a scenario: the
//! C dialect ([`c`]) and the X86 dialect ([`x86`]), with the init block and the final
//! condition ([`cond`]) they share.
//!
//! A litmus file becomes the text of a scenario file (each thread a group of one thread, its
//! statements the scenario language's ops), which the ordinary compiler then reads; every op
//! remembers where in the litmus file it came from, so that an error the compiler finds is
//! still reported at the litmus file's line and column.

mod atomics;
mod c;
mod cond;
mod lex;
mod x86;

use cond::{Loc, PropSyntax};
use lex::{Comments, Tok, Tokens, tokens};

use super::condition::{Condition, Prop};
use super::resolve::{Problem, Result, problem};

/// Which of herdtools7's languages a test is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    C,
    X86,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::C => "C",
            Dialect::X86 => "X86",
        }
    }
}

/// One thread as read: its name (`P0`), its ops in the scenario language with the offset of
/// the statement each came from, and its registers (locals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub name: String,
    pub ops: Vec<(String, usize)>,
    pub registers: Vec<String>,
}

/// Shared variables, each with where it was first written.
pub type Vars = Vec<(String, usize)>;

/// A litmus test, as a scenario file's text and the condition over its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Litmus {
    pub dialect: Dialect,
    /// The test's name, from its first line.
    pub name: String,
    /// The scenario file the test reads as (TOML).
    pub toml: String,
    /// Byte ranges of `toml` and the offsets in the litmus text they came from.
    spans: Vec<(usize, usize, usize)>,
    pub condition: Condition,
}

impl Litmus {
    /// Where in the litmus text an offset of [`Litmus::toml`] came from.
    pub fn origin_of(&self, offset: usize) -> usize {
        self.spans
            .iter()
            .find(|(a, b, _)| (*a..=*b).contains(&offset))
            .map_or(0, |s| s.2)
    }
}

/// Whether a file is a litmus test: by its name, or by its first line (`C name`, `X86 name`).
pub fn is_litmus(name: &str, text: &str) -> bool {
    name.ends_with(".litmus")
        || matches!(
            text.lines()
                .find(|l| !l.trim().is_empty())
                .and_then(|l| l.split_whitespace().next()),
            Some("C" | "X86")
        )
}

/// Reads a litmus test.
pub fn read(text: &str) -> Result<Litmus> {
    let first = text.len() - text.trim_start().len();
    let line_end = text[first..].find('\n').map_or(text.len(), |k| first + k);
    let mut head = text[first..line_end].split_whitespace();
    let arch = head.next().unwrap_or("");
    let dialect = match arch {
        "C" => Dialect::C,
        "X86" => Dialect::X86,
        "" => return problem(first, "an empty litmus file"),
        other => {
            return problem(
                first,
                format!(
                    "unsupported architecture '{other}': racedemo reads C and X86 litmus tests"
                ),
            );
        }
    };
    let name = head.collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return problem(first, "the first line names the test: 'C SB'");
    }
    // Between the first line and the init block: a quoted description, comments, and
    // `key=value` lines herd's tools add; only the description is kept.
    let mut doc = None;
    let mut at = line_end;
    let open = loop {
        let rest = &text[at..];
        let skip = rest.len() - rest.trim_start().len();
        at += skip;
        let line_end = text[at..].find('\n').map_or(text.len(), |k| at + k);
        let line = &text[at..line_end];
        if at >= text.len() {
            return problem(text.len(), "expected the init block: '{ x = 0; }'");
        } else if line.starts_with('{') {
            break at;
        } else if line.starts_with("(*") {
            at = match text[at..].find("*)") {
                Some(k) => at + k + 2,
                None => return problem(at, "a '(*' comment is never closed"),
            };
        } else if let Some(quoted) = line.strip_prefix('"') {
            doc = quoted.find('"').map(|k| quoted[..k].to_string());
            at = line_end;
        } else if line.contains('=') {
            at = line_end;
        } else {
            return problem(at, "expected the init block: '{ x = 0; }'");
        }
    };
    let close = match text[open..].find('}') {
        Some(k) => open + k,
        None => return problem(open, "the init block is never closed with '}'"),
    };
    let init = init_block(text, open + 1, close)?;
    let tail = final_start(text, close + 1)?;
    let (mut threads, mut vars) = match dialect {
        Dialect::C => {
            let (threads, params) = c::read(text, close + 1, tail)?;
            let vars = params.into_iter().map(|p| (p.name, p.offset)).collect();
            (threads, vars)
        }
        Dialect::X86 => x86::read(text, close + 1, tail)?,
    };
    let end = cond::read(text, tail)?;
    // Shared variables: the init block's first, in its order, then the others as they appear.
    let mut shared: Vec<(String, i64)> = Vec::new();
    for item in &init {
        if let InitItem::Var(name, value, at) = item {
            if dialect == Dialect::C && !vars.iter().any(|(v, _)| v == name) {
                return problem(*at, format!("'{name}' is no thread's parameter"));
            }
            shared.push((name.clone(), *value));
        }
    }
    vars.retain(|(v, _)| !shared.iter().any(|(s, _)| s == v));
    shared.extend(vars.into_iter().map(|(v, _)| (v, 0)));
    for item in &init {
        if let InitItem::Register(n, reg, value, at) = item {
            let Some(thread) = threads.get_mut(*n) else {
                return problem(*at, format!("there is no thread {n}"));
            };
            let reg = register_name(dialect, reg);
            if !thread.registers.contains(&reg) {
                thread.registers.push(reg.clone());
            }
            thread.ops.insert(0, (format!("{reg} = {value}"), *at));
        }
    }
    let mut outcome: Vec<Loc> = Vec::new();
    end.prop.locations(&mut outcome);
    for loc in &end.locations {
        if !outcome.iter().any(|l| l.same(loc)) {
            outcome.push(loc.clone());
        }
    }
    if outcome.is_empty() {
        return problem(
            tail,
            "the condition reads no value: name a register or a variable in it, or list one \
             in 'locations [...]'",
        );
    }
    for loc in &mut outcome {
        check_location(dialect, loc, &threads, &shared)?;
    }
    let prop = lower(dialect, &end.prop, &outcome);
    let (toml, spans) = emit(
        &name,
        doc.as_deref(),
        dialect,
        &shared,
        &threads,
        &outcome,
        &end.text,
    );
    Ok(Litmus {
        dialect,
        name,
        toml,
        spans,
        condition: Condition {
            text: end.text,
            quantifier: end.quantifier,
            prop,
        },
    })
}

#[derive(Debug)]
enum InitItem {
    Var(String, i64, usize),
    Register(usize, String, i64, usize),
}

/// `x = 0; [y] = 1; atomic_int z = 2; 0:EAX = 1;`
fn init_block(text: &str, start: usize, end: usize) -> Result<Vec<InitItem>> {
    let mut t = Tokens::new(tokens(text, start, end, Comments::Litmus)?, end);
    let mut items = Vec::new();
    while !t.at_end() {
        if t.eat(";") {
            continue;
        }
        let at = t.offset();
        let item = match (t.peek(), t.peek_at(1)) {
            (Some(Tok::Int(n)), Some(Tok::Sym(":"))) => {
                let n = *n as usize;
                t.next();
                t.next();
                let (reg, _) = t.ident("a register")?;
                t.expect("=", "after the register")?;
                InitItem::Register(n, reg, t.int("a number")?.0, at)
            }
            (Some(Tok::Sym("[")), _) => {
                t.next();
                let (name, _) = t.ident("a shared variable")?;
                t.expect("]", "after the variable")?;
                t.expect("=", "after the variable")?;
                InitItem::Var(name, t.int("a number")?.0, at)
            }
            (Some(Tok::Ident(_)), _) => {
                let (mut name, mut name_at) = t.ident("a shared variable")?;
                // A type before the name: `atomic_int x = 0`, `int x`.
                while let Some(Tok::Ident(_)) = t.peek() {
                    (name, name_at) = t.ident("a shared variable")?;
                }
                let value = if t.eat("=") {
                    t.int("a number (racedemo's variables hold integers)")?.0
                } else {
                    0
                };
                InitItem::Var(name, value, name_at)
            }
            _ => return problem(at, format!("unsupported in the init block: {}", t.found())),
        };
        items.push(item);
        if !t.at_end() {
            t.expect(";", "between the init block's items")?;
        }
    }
    Ok(items)
}

/// Where the `locations` clause or the final condition starts: the first line after the
/// threads that begins with one of their words.
fn final_start(text: &str, from: usize) -> Result<usize> {
    let mut at = from;
    for line in text[from..].split_inclusive('\n') {
        let word = line.trim_start();
        let starts = [
            "exists",
            "~exists",
            "~ exists",
            "forall",
            "locations",
            "filter",
        ]
        .iter()
        .any(|w| word.starts_with(w));
        if starts {
            return Ok(at + (line.len() - word.len()));
        }
        at += line.len();
    }
    problem(
        text.len(),
        "expected the final condition: 'exists', '~exists' or 'forall'",
    )
}

/// X86 registers are upper case wherever they are written.
fn register_name(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::X86 => name.to_ascii_uppercase(),
        Dialect::C => name.to_string(),
    }
}

/// Checks a location names a thread's register or a shared variable.
fn check_location(
    dialect: Dialect,
    loc: &mut Loc,
    threads: &[Thread],
    shared: &[(String, i64)],
) -> Result<()> {
    match loc.thread {
        Some(n) => {
            let Some(thread) = threads.get(n) else {
                return problem(loc.offset, format!("there is no thread {n}"));
            };
            loc.name = register_name(dialect, &loc.name);
            if !thread.registers.contains(&loc.name) {
                return problem(
                    loc.offset,
                    format!("thread {n} has no register '{}'", loc.name),
                );
            }
        }
        None => {
            if !shared.iter().any(|(v, _)| *v == loc.name) {
                return problem(loc.offset, format!("no shared variable '{}'", loc.name));
            }
        }
    }
    Ok(())
}

fn lower(dialect: Dialect, p: &PropSyntax, outcome: &[Loc]) -> Prop {
    let boxed = |p: &PropSyntax| Box::new(lower(dialect, p, outcome));
    match p {
        PropSyntax::True => Prop::True,
        PropSyntax::False => Prop::False,
        PropSyntax::Is(loc, v) => {
            let mut loc = loc.clone();
            if loc.thread.is_some() {
                loc.name = register_name(dialect, &loc.name);
            }
            let index = outcome.iter().position(|l| l.same(&loc)).unwrap_or(0);
            Prop::Is(index, *v)
        }
        PropSyntax::Not(a) => Prop::Not(boxed(a)),
        PropSyntax::And(a, b) => Prop::And(boxed(a), boxed(b)),
        PropSyntax::Or(a, b) => Prop::Or(boxed(a), boxed(b)),
    }
}

/// The scenario file's text, and where each op and outcome entry came from.
fn emit(
    name: &str,
    doc: Option<&str>,
    dialect: Dialect,
    shared: &[(String, i64)],
    threads: &[Thread],
    outcome: &[Loc],
    condition: &str,
) -> (String, Vec<(usize, usize, usize)>) {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let summary = doc.map_or_else(
        || format!("{} litmus test {name}", dialect.name()),
        str::to_string,
    );
    let explanation = format!(
        "A {} litmus test in herdtools7's format. Its final condition, {condition}, is checked \
         against every outcome: each memory model says whether it holds always, sometimes or \
         never, beside the trials in which it held here.",
        dialect.name()
    );
    let mut out = format!(
        "name = {}\nsummary = {}\nexplanation = {}\ntrials = 100_000\nexpect = \"any\"\n\n[shared]\n",
        quote(name),
        quote(&summary),
        quote(&explanation)
    );
    for (var, value) in shared {
        out.push_str(&format!("{var} = {value}\n"));
    }
    let mut spans = Vec::new();
    for thread in threads {
        out.push_str(&format!(
            "\n[[group]]\nname = \"{}\"\nthreads = 1\niterations = 1\nops = [\n",
            thread.name
        ));
        // A thread with nothing to do still runs: a group needs an op, and this one touches
        // nothing shared.
        let idle = [("_idle = 0".to_string(), 0)];
        let ops = if thread.ops.is_empty() {
            &idle[..]
        } else {
            &thread.ops
        };
        for (op, at) in ops {
            out.push_str("  ");
            let start = out.len();
            out.push_str(&quote(op));
            spans.push((start, out.len(), *at));
            out.push_str(",\n");
        }
        out.push_str("]\n");
    }
    out.push_str("\n[check]\noutcome = [");
    for (i, loc) in outcome.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let text = match loc.thread {
            Some(n) => format!("{}.{}", threads[n].name, loc.name),
            None => loc.name.clone(),
        };
        let start = out.len();
        out.push_str(&quote(&text));
        spans.push((start, out.len(), loc.offset));
    }
    out.push_str("]\n");
    (out, spans)
}

/// A problem in the generated scenario, placed back in the litmus text.
pub fn placed(litmus: &Litmus, p: Problem) -> Problem {
    Problem {
        offset: litmus.origin_of(p.offset),
        message: p.message,
    }
}
