//! The end of a litmus file, shared by both dialects: an optional `locations [...]` clause
//! and the final condition, `exists`, `~exists` or `forall` over `/\`, `\/`, `~`, `n:r=v`
//! and `x=v`.

use super::lex::{Comments, Tok, Tokens, tokens};
use crate::scenario::condition::Quantifier;
use crate::scenario::resolve::{Result, problem};

/// A location a condition reads: a thread's register (`0:r0`) or a shared variable (`x`,
/// `[x]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub thread: Option<usize>,
    pub name: String,
    pub offset: usize,
}

impl Loc {
    /// The same location, wherever it was written.
    pub fn same(&self, other: &Loc) -> bool {
        self.thread == other.thread && self.name == other.name
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropSyntax {
    True,
    False,
    Is(Loc, i64),
    Not(Box<PropSyntax>),
    And(Box<PropSyntax>, Box<PropSyntax>),
    Or(Box<PropSyntax>, Box<PropSyntax>),
}

impl PropSyntax {
    /// Every location the proposition reads, in the order written, each once.
    pub fn locations(&self, out: &mut Vec<Loc>) {
        match self {
            PropSyntax::True | PropSyntax::False => {}
            PropSyntax::Is(loc, _) => {
                if !out.iter().any(|l| l.same(loc)) {
                    out.push(loc.clone());
                }
            }
            PropSyntax::Not(p) => p.locations(out),
            PropSyntax::And(a, b) | PropSyntax::Or(a, b) => {
                a.locations(out);
                b.locations(out);
            }
        }
    }
}

/// The `locations` clause and the final condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Final {
    pub locations: Vec<Loc>,
    pub quantifier: Quantifier,
    pub prop: PropSyntax,
    /// The condition as written, its spaces collapsed.
    pub text: String,
}

/// Reads `text[start..]`, which must hold nothing but the clause and the condition.
pub fn read(text: &str, start: usize) -> Result<Final> {
    let mut t = Tokens::new(
        tokens(text, start, text.len(), Comments::Litmus)?,
        text.len(),
    );
    let mut locations = Vec::new();
    if t.is_word("locations") {
        t.next();
        t.expect("[", "after 'locations'")?;
        while !t.eat("]") {
            if t.at_end() {
                return problem(t.end, "the 'locations' list is never closed with ']'");
            }
            let loc = location(&mut t)?;
            if !locations.iter().any(|l: &Loc| l.same(&loc)) {
                locations.push(loc);
            }
            t.eat(";");
        }
    }
    let at = t.offset();
    let quantifier = match t.next() {
        Some((Tok::Ident(w), _)) if w == "exists" => Quantifier::Exists,
        Some((Tok::Ident(w), _)) if w == "forall" => Quantifier::Forall,
        Some((Tok::Sym("~"), _)) if t.is_word("exists") => {
            t.next();
            Quantifier::NotExists
        }
        Some((Tok::Ident(w), at)) if w == "filter" => {
            return problem(at, "unsupported: 'filter' clauses");
        }
        Some((tok, at)) => {
            return problem(
                at,
                format!(
                    "expected the final condition ('exists', '~exists' or 'forall'), found {}",
                    tok.shown()
                ),
            );
        }
        None => {
            return problem(
                at,
                "expected the final condition: 'exists', '~exists' or 'forall'",
            );
        }
    };
    let prop = or(&mut t)?;
    if let Some((tok, at)) = t.next() {
        return problem(
            at,
            format!("unexpected {} after the final condition", tok.shown()),
        );
    }
    let written = text[at..].trim();
    let written = written
        .find("(*")
        .map_or(written, |k| written[..k].trim_end());
    Ok(Final {
        locations,
        quantifier,
        prop,
        text: written.split_whitespace().collect::<Vec<_>>().join(" "),
    })
}

fn or(t: &mut Tokens) -> Result<PropSyntax> {
    let mut left = and(t)?;
    while t.eat("\\/") {
        left = PropSyntax::Or(Box::new(left), Box::new(and(t)?));
    }
    Ok(left)
}

fn and(t: &mut Tokens) -> Result<PropSyntax> {
    let mut left = unary(t)?;
    while t.eat("/\\") {
        left = PropSyntax::And(Box::new(left), Box::new(unary(t)?));
    }
    Ok(left)
}

fn unary(t: &mut Tokens) -> Result<PropSyntax> {
    if t.eat("~") {
        return Ok(PropSyntax::Not(Box::new(unary(t)?)));
    }
    if t.eat("(") {
        let inner = or(t)?;
        t.expect(")", "to close the '('")?;
        return Ok(inner);
    }
    if t.is_word("true") || t.is_word("false") {
        let (w, _) = t.ident("true or false")?;
        return Ok(if w == "true" {
            PropSyntax::True
        } else {
            PropSyntax::False
        });
    }
    let loc = location(t)?;
    if t.eat("!=") {
        let (v, _) = t.int("a value after '!='")?;
        return Ok(PropSyntax::Not(Box::new(PropSyntax::Is(loc, v))));
    }
    t.expect("=", "after a location in the condition")?;
    let (v, _) = t.int("a value")?;
    Ok(PropSyntax::Is(loc, v))
}

/// `n:reg`, `x` or `[x]`.
fn location(t: &mut Tokens) -> Result<Loc> {
    let at = t.offset();
    if t.eat("[") {
        let (name, _) = t.ident("a shared variable")?;
        t.expect("]", "after the variable")?;
        return Ok(Loc {
            thread: None,
            name,
            offset: at,
        });
    }
    match t.next() {
        Some((Tok::Int(n), _)) => {
            t.expect(":", "between a thread's number and its register ('0:r0')")?;
            let (name, _) = t.ident("a register")?;
            Ok(Loc {
                thread: Some(n as usize),
                name,
                offset: at,
            })
        }
        Some((Tok::Ident(name), _)) => Ok(Loc {
            thread: None,
            name,
            offset: at,
        }),
        Some((tok, at)) => problem(
            at,
            format!("expected a location ('0:r0' or 'x'), found {}", tok.shown()),
        ),
        None => problem(at, "expected a location ('0:r0' or 'x'), found the end"),
    }
}
