//! herdtools7's C dialect: `P0(atomic_int* x, int* y) { ... }` threads of C11 atomics, plain
//! accesses, locals and `if`, each statement turned into scenario ops.

use super::Thread;
use super::lex::{Comments, Tok, Tokens, tokens};
use crate::scenario::parse::KEYWORDS;
use crate::scenario::resolve::{Result, problem};

/// A thread's parameter: a shared variable, atomic or plain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub atomic: bool,
    pub offset: usize,
}

/// Reads the threads in `text[start..end]`.
pub fn read(text: &str, start: usize, end: usize) -> Result<(Vec<Thread>, Vec<Param>)> {
    let mut t = Tokens::new(tokens(text, start, end, Comments::C)?, end);
    let mut threads = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    while !t.at_end() {
        let (name, at) = t.ident("a thread: 'P0(atomic_int* x) { ... }'")?;
        if name != format!("P{}", threads.len()) {
            return problem(
                at,
                format!("expected thread P{}, found '{name}'", threads.len()),
            );
        }
        t.expect("(", "after the thread's name")?;
        let mine = parameters(&mut t)?;
        for p in &mine {
            match params.iter().find(|q| q.name == p.name) {
                Some(q) if q.atomic != p.atomic => {
                    return problem(
                        p.offset,
                        format!(
                            "'{}' is atomic in one thread and plain in another: declare it one way",
                            p.name
                        ),
                    );
                }
                Some(_) => {}
                None => params.push(p.clone()),
            }
        }
        t.expect("{", "to open the thread's body")?;
        let mut body = Body {
            thread: Thread {
                name,
                ops: Vec::new(),
                registers: Vec::new(),
            },
            params: mine,
            temps: 0,
        };
        body.block(&mut t)?;
        threads.push(body.thread);
    }
    if threads.is_empty() {
        return problem(
            start,
            "expected at least one thread: 'P0(atomic_int* x) { ... }'",
        );
    }
    Ok((threads, params))
}

fn parameters(t: &mut Tokens) -> Result<Vec<Param>> {
    let mut out = Vec::new();
    if t.eat(")") {
        return Ok(out);
    }
    loop {
        let at = t.offset();
        let mut words = Vec::new();
        while let Some(Tok::Ident(w)) = t.peek() {
            words.push(w.clone());
            t.next();
        }
        t.expect("*", "in a parameter: each is a pointer, 'atomic_int* x'")?;
        let (name, name_at) = t.ident("the parameter's name")?;
        let atomic = match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["atomic_int"] | ["atomic_long"] | ["_Atomic", "int"] | ["volatile", "atomic_int"] => {
                true
            }
            ["int"] | ["long"] | ["volatile", "int"] => false,
            _ => {
                return problem(
                    at,
                    format!(
                        "unsupported parameter type '{}': use atomic_int* or int*",
                        words.join(" ")
                    ),
                );
            }
        };
        out.push(Param {
            name,
            atomic,
            offset: name_at,
        });
        if t.eat(")") {
            return Ok(out);
        }
        t.expect(",", "between parameters")?;
    }
}

/// One thread's body being read.
pub(super) struct Body {
    thread: Thread,
    params: Vec<Param>,
    /// Hidden registers made so far (an `if` with an `else` keeps its condition in one).
    temps: usize,
}

/// C's types for locals.
const LOCAL_TYPES: &[&str] = &["int", "long", "intptr_t"];

/// Names the scenario language gives a meaning of its own, besides its op words.
const CONSTANTS: &[&str] = &["threads", "iterations"];

impl Body {
    pub(super) fn push(&mut self, op: String, at: usize) {
        self.thread.ops.push((op, at));
    }

    pub(super) fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub(super) fn local(&self, name: &str, at: usize) -> Result<()> {
        if self.thread.registers.iter().any(|r| r == name) {
            return Ok(());
        }
        if self.param(name).is_some() {
            return problem(
                at,
                format!(
                    "'{name}' is shared: read it into a local first (atomic_load_explicit, or *{name})"
                ),
            );
        }
        problem(
            at,
            format!("unknown local '{name}': declare it ('int {name} = 0;')"),
        )
    }

    /// Statements up to the `}` that closes the block.
    fn block(&mut self, t: &mut Tokens) -> Result<()> {
        loop {
            if t.eat("}") {
                return Ok(());
            }
            if t.at_end() {
                return problem(t.end, "a '{' is never closed with '}'");
            }
            self.statement(t)?;
        }
    }

    fn statement(&mut self, t: &mut Tokens) -> Result<()> {
        let at = t.offset();
        if t.eat(";") {
            return Ok(());
        }
        if t.eat("{") {
            return self.block(t);
        }
        if t.eat("*") {
            let (var, var_at) = t.ident("a shared variable after '*'")?;
            let Some(p) = self.param(&var).cloned() else {
                return problem(
                    var_at,
                    format!("'{var}' is not one of the thread's parameters"),
                );
            };
            t.expect("=", "in a store through a pointer: '*x = 1;'")?;
            let value = self.expr_until(t, &[";"])?;
            t.expect(";", "after the statement")?;
            let order = if p.atomic { "seqcst" } else { "plain" };
            self.push(format!("store.{order} {var} = {value}"), at);
            return Ok(());
        }
        let (word, _) = match t.peek() {
            Some(Tok::Ident(w)) => (w.clone(), at),
            Some(tok) => {
                return problem(
                    at,
                    format!("unsupported statement starting with {}", tok.shown()),
                );
            }
            None => return problem(at, "expected a statement"),
        };
        match word.as_str() {
            "if" => return self.if_statement(t),
            "while" | "for" | "do" | "goto" | "return" | "switch" | "break" | "continue" => {
                return problem(at, format!("unsupported: '{word}' (no loops or jumps)"));
            }
            _ => {}
        }
        t.next();
        if LOCAL_TYPES.contains(&word.as_str()) {
            loop {
                let (name, name_at) = t.ident("a local's name")?;
                let reserved = KEYWORDS.iter().chain(CONSTANTS).any(|k| *k == name);
                if reserved || name.starts_with('_') {
                    return problem(name_at, format!("a local cannot be named '{name}' here"));
                }
                if self.param(&name).is_some() {
                    return problem(name_at, format!("'{name}' is already a parameter"));
                }
                if !self.thread.registers.contains(&name) {
                    self.thread.registers.push(name.clone());
                }
                if t.eat("=") {
                    self.assignment(t, &name, name_at)?;
                }
                if !t.eat(",") {
                    break;
                }
            }
            t.expect(";", "after the declaration")?;
            return Ok(());
        }
        if t.is("(") {
            self.call(t, None, &word, at)?;
            t.expect(";", "after the call")?;
            return Ok(());
        }
        if t.eat("=") {
            self.local(&word, at)?;
            self.assignment(t, &word, at)?;
            t.expect(";", "after the assignment")?;
            return Ok(());
        }
        problem(
            t.offset(),
            format!("unsupported statement: '{word}' followed by {}", t.found()),
        )
    }

    /// What follows `r =`: an atomic call, a plain load `*x`, or an expression over locals.
    fn assignment(&mut self, t: &mut Tokens, reg: &str, at: usize) -> Result<()> {
        let rhs = t.offset();
        if let (Some(Tok::Ident(name)), Some(Tok::Sym("("))) = (t.peek(), t.peek_at(1)) {
            let name = name.clone();
            t.next();
            return self.call(t, Some(reg), &name, rhs);
        }
        if t.is("*")
            && matches!(t.peek_at(1), Some(Tok::Ident(v)) if self.param(v).is_some())
            && matches!(t.peek_at(2), Some(Tok::Sym(";" | ",")))
        {
            t.next();
            let (var, _) = t.ident("a shared variable")?;
            let atomic = self.param(&var).is_some_and(|p| p.atomic);
            let order = if atomic { "seqcst" } else { "plain" };
            self.push(format!("{reg} = load.{order} {var}"), rhs);
            return Ok(());
        }
        let value = self.expr_until(t, &[";", ","])?;
        self.push(format!("{reg} = {value}"), at);
        Ok(())
    }

    fn if_statement(&mut self, t: &mut Tokens) -> Result<()> {
        let at = t.offset();
        t.next();
        t.expect("(", "after 'if'")?;
        let cond = self.expr_until(t, &[")"])?;
        t.expect(")", "to close the condition")?;
        // Look past the `then` part first: with an `else`, the condition is kept in a hidden
        // register, since the `then` part may change the locals it reads.
        let then_start = self.thread.ops.len();
        self.push(format!("if {cond}"), at);
        self.statement(t)?;
        if !t.is_word("else") {
            self.push("end".into(), at);
            return Ok(());
        }
        let else_at = t.offset();
        t.next();
        self.temps += 1;
        let temp = format!("_if{}", self.temps);
        self.thread.registers.push(temp.clone());
        self.thread.ops[then_start] = (format!("if {temp}"), at);
        self.thread
            .ops
            .insert(then_start, (format!("{temp} = ({cond}) != 0"), at));
        self.push("end".into(), else_at);
        self.push(format!("if !{temp}"), else_at);
        self.statement(t)?;
        self.push("end".into(), else_at);
        Ok(())
    }

    /// An expression over locals and numbers, up to (not past) one of `stops` at depth 0.
    fn expr_until(&self, t: &mut Tokens, stops: &[&str]) -> Result<String> {
        let at = t.offset();
        let mut toks = Vec::new();
        let mut depth = 0usize;
        loop {
            match t.peek() {
                None => break,
                Some(Tok::Sym(s)) if depth == 0 && stops.contains(s) => break,
                Some(Tok::Sym("(")) => depth += 1,
                Some(Tok::Sym(")")) => depth = depth.saturating_sub(1),
                _ => {}
            }
            toks.extend(t.next());
        }
        self.expr(&(toks, at))
    }

    /// The scenario language's text for a C expression over locals.
    pub(super) fn expr(&self, (toks, at): &(Vec<(Tok, usize)>, usize)) -> Result<String> {
        if toks.is_empty() {
            return problem(*at, "expected an expression");
        }
        let mut out = Vec::new();
        for (tok, tok_at) in toks {
            out.push(match tok {
                Tok::Int(n) => n.to_string(),
                Tok::Ident(name) => {
                    self.local(name, *tok_at)?;
                    name.clone()
                }
                Tok::Sym(
                    s @ ("(" | ")" | "+" | "-" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">"
                    | ">=" | "&&" | "||" | "!"),
                ) => s.to_string(),
                other => {
                    return problem(
                        *tok_at,
                        format!("unsupported in an expression: {}", other.shown()),
                    );
                }
            });
        }
        Ok(out.join(" "))
    }
}
