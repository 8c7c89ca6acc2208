//! The scenario language's small grammar: one op per string, and expressions.
//!
//! Every error carries the byte offset in the parsed string where it was found, so the loader
//! can report file:line:column.

pub use super::syntax::{BinOp, Expr, Name, OpSyntax, Order};

/// A parse error at a byte offset of the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl ParseError {
    fn at(offset: usize, message: impl Into<String>) -> Self {
        ParseError {
            offset,
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, ParseError>;

/// The op words, which no register or variable can be named.
pub const KEYWORDS: &[&str] = &[
    "load",
    "store",
    "fetch_add",
    "cas",
    "cas_loop",
    "swap",
    "lock",
    "unlock",
    "if",
    "while",
    "end",
    "wait",
    "notify",
    "notify_all",
    "acquire",
    "release",
    "read_lock",
    "read_unlock",
    "write_lock",
    "write_unlock",
    "spin",
    "jitter",
    "yield",
    "fence",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Word(String),
    Sym(&'static str),
}

struct Lexer {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    len: usize,
}

const SYMBOLS: &[&str] = &[
    "->", "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "<", ">", "!", "(", ")",
    "=", ":", ".", "&",
];

impl Lexer {
    fn new(text: &str) -> Result<Self> {
        let bytes = text.as_bytes();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if c.is_ascii_whitespace() {
                i += 1;
            } else if c.is_ascii_digit() {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                    i += 1;
                }
                let digits: String = text[start..i].chars().filter(|&c| c != '_').collect();
                let n = digits.parse().map_err(|_| {
                    ParseError::at(start, format!("number {} is too large", &text[start..i]))
                })?;
                toks.push((Tok::Int(n), start));
            } else if c.is_ascii_alphabetic() || c == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                toks.push((Tok::Word(text[start..i].to_string()), start));
            } else if let Some(sym) = SYMBOLS.iter().find(|s| text[i..].starts_with(**s)) {
                toks.push((Tok::Sym(sym), i));
                i += sym.len();
            } else {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ParseError::at(i, format!("unexpected character '{ch}'")));
            }
        }
        Ok(Lexer {
            toks,
            pos: 0,
            len: text.len(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.1)
    }

    fn next(&mut self) -> Option<(Tok, usize)> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, sym: &str, what: &str) -> Result<()> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(ParseError::at(
                self.offset(),
                format!("expected '{sym}' {what}"),
            ))
        }
    }

    fn word(&mut self, what: &str) -> Result<Name> {
        match self.next() {
            Some((Tok::Word(w), offset)) if !KEYWORDS.contains(&w.as_str()) => {
                Ok(Name { text: w, offset })
            }
            Some((_, offset)) => Err(ParseError::at(offset, format!("expected {what}"))),
            None => Err(ParseError::at(self.len, format!("expected {what}"))),
        }
    }

    fn count(&mut self, what: &str) -> Result<u32> {
        let offset = self.offset();
        match self.next() {
            Some((Tok::Int(n), _)) => u32::try_from(n).map_err(|_| {
                ParseError::at(offset, format!("{what} must be at most {}", u32::MAX))
            }),
            _ => Err(ParseError::at(
                offset,
                format!("expected {what}, a whole number"),
            )),
        }
    }

    fn done(&self) -> Result<()> {
        match self.toks.get(self.pos) {
            None => Ok(()),
            Some((_, offset)) => Err(ParseError::at(*offset, "unexpected text after the op")),
        }
    }
}

/// Parses one op, e.g. `r = load counter` or `store counter = r + 1`.
pub fn op(text: &str) -> Result<OpSyntax> {
    let mut lx = Lexer::new(text)?;
    // `NAME = ...` assigns a register: a load, an atomic's result, or an expression.
    let assigned = match (lx.toks.first(), lx.toks.get(1)) {
        (Some((Tok::Word(w), offset)), Some((Tok::Sym("="), _)))
            if !KEYWORDS.contains(&w.as_str()) =>
        {
            let name = Name {
                text: w.clone(),
                offset: *offset,
            };
            lx.pos = 2;
            Some(name)
        }
        _ => None,
    };
    let keyword_offset = lx.offset();
    let keyword = match lx.peek() {
        Some(Tok::Word(w)) if KEYWORDS.contains(&w.as_str()) => {
            let w = w.clone();
            lx.pos += 1;
            w
        }
        _ => {
            return match assigned {
                Some(reg) => {
                    let value = expr_from(&mut lx)?;
                    lx.done()?;
                    Ok(OpSyntax::Set { reg, value })
                }
                None => Err(ParseError::at(
                    keyword_offset,
                    format!("expected an op: one of {}", KEYWORDS.join(", ")),
                )),
            };
        }
    };
    let order = dotted_order(&mut lx)?;
    // A compare-and-swap may name its failure ordering second: `cas.acqrel.acquire`.
    let failure = if keyword == "cas" && order.is_some() {
        dotted_order(&mut lx)?
    } else {
        None
    };
    let takes_result = matches!(
        keyword.as_str(),
        "load" | "fetch_add" | "cas" | "cas_loop" | "swap"
    );
    if let (Some(reg), false) = (&assigned, takes_result) {
        return Err(ParseError::at(
            reg.offset,
            format!("'{keyword}' gives no value to assign"),
        ));
    }
    let ord = |allowed: &[Order], default: Order| -> Result<Order> {
        match order {
            None => Ok(default),
            Some((o, _)) if allowed.contains(&o) => Ok(o),
            Some((o, offset)) => Err(ParseError::at(
                offset,
                format!("'{keyword}' cannot be {}: use {}", o.name(), names(allowed)),
            )),
        }
    };
    use Order::*;
    let rmw = [Relaxed, Acquire, Release, AcqRel, SeqCst];
    let op = match keyword.as_str() {
        "load" => {
            let reg = assigned.ok_or_else(|| {
                ParseError::at(keyword_offset, "a load needs a register: 'r = load var'")
            })?;
            OpSyntax::Load {
                reg,
                var: lx.word("a shared variable to load")?,
                order: ord(&[Relaxed, Acquire, SeqCst, Plain], Relaxed)?,
            }
        }
        "store" => {
            let var = lx.word("a shared variable to store to")?;
            lx.expect("=", "after the variable: 'store var = expr'")?;
            OpSyntax::Store {
                var,
                value: expr_from(&mut lx)?,
                order: ord(&[Relaxed, Release, SeqCst, Plain], Relaxed)?,
            }
        }
        "fetch_add" => {
            let var = lx.word("a shared variable to add to")?;
            OpSyntax::FetchAdd {
                reg: assigned,
                var,
                value: expr_from(&mut lx)?,
                order: ord(&rmw, Relaxed)?,
            }
        }
        "cas" => {
            let var = lx.word("a shared variable to compare and swap")?;
            lx.expect(":", "after the variable: 'cas var: expected -> new'")?;
            let old = if lx.eat("&") {
                Some(lx.word("a register after '&'")?)
            } else {
                None
            };
            let expected = match &old {
                Some(r) => Expr::Name(r.text.clone(), r.offset),
                None => expr_from(&mut lx)?,
            };
            lx.expect("->", "between the expected and the new value")?;
            let failure = match failure {
                None => None,
                Some((o @ (Relaxed | Acquire | SeqCst), _)) => Some(o),
                Some((o, offset)) => {
                    return Err(ParseError::at(
                        offset,
                        format!(
                            "a failed compare-and-swap only reads: its ordering cannot be {}: \
                             use relaxed, acquire or seqcst",
                            o.name()
                        ),
                    ));
                }
            };
            OpSyntax::Cas {
                reg: assigned,
                var,
                expected,
                old,
                new: expr_from(&mut lx)?,
                order: ord(&rmw, SeqCst)?,
                failure,
            }
        }
        "swap" => {
            let var = lx.word("a shared variable to swap")?;
            OpSyntax::Swap {
                reg: assigned,
                var,
                value: expr_from(&mut lx)?,
                order: ord(&rmw, SeqCst)?,
            }
        }
        "cas_loop" => {
            let var = lx.word("a shared variable to update")?;
            lx.expect(
                ":",
                "after the variable: 'cas_loop var: r -> new [if cond]'",
            )?;
            let current = lx.word("a register for the current value")?;
            lx.expect("->", "after the register")?;
            let new = expr_from(&mut lx)?;
            let guard = if matches!(lx.peek(), Some(Tok::Word(w)) if w == "if") {
                lx.pos += 1;
                Some(expr_from(&mut lx)?)
            } else {
                None
            };
            OpSyntax::CasLoop {
                reg: assigned,
                var,
                current,
                new,
                guard,
                order: ord(&rmw, SeqCst)?,
            }
        }
        "lock" => OpSyntax::Lock(lx.word("a lock name")?),
        "unlock" => OpSyntax::Unlock(lx.word("a lock name")?),
        "if" => OpSyntax::If(expr_from(&mut lx)?),
        "while" => OpSyntax::While(expr_from(&mut lx)?),
        "end" => OpSyntax::End,
        "wait" => OpSyntax::Wait(lx.word("a condvar name")?),
        "notify" => OpSyntax::Notify(lx.word("a condvar name")?),
        "notify_all" => OpSyntax::NotifyAll(lx.word("a condvar name")?),
        "acquire" => OpSyntax::Acquire(lx.word("a semaphore name")?),
        "release" => OpSyntax::Release(lx.word("a semaphore name")?),
        "read_lock" => OpSyntax::ReadLock(lx.word("a reader-writer lock name")?),
        "read_unlock" => OpSyntax::ReadUnlock(lx.word("a reader-writer lock name")?),
        "write_lock" => OpSyntax::WriteLock(lx.word("a reader-writer lock name")?),
        "write_unlock" => OpSyntax::WriteUnlock(lx.word("a reader-writer lock name")?),
        "spin" => OpSyntax::Spin(lx.count("units of busy work")?),
        "jitter" => OpSyntax::Jitter(lx.count("the most units of busy work")?),
        "yield" => OpSyntax::Yield,
        "fence" => OpSyntax::Fence(ord(&[Acquire, Release, AcqRel, SeqCst], SeqCst)?),
        _ => unreachable!("every keyword has an arm"),
    };
    if order.is_some()
        && !matches!(
            keyword.as_str(),
            "load" | "store" | "fetch_add" | "cas" | "cas_loop" | "swap" | "fence"
        )
    {
        return Err(ParseError::at(
            keyword_offset,
            format!("'{keyword}' takes no memory ordering"),
        ));
    }
    lx.done()?;
    Ok(op)
}

/// A `.ordering` suffix, if one follows, with where it was written.
fn dotted_order(lx: &mut Lexer) -> Result<Option<(Order, usize)>> {
    if !lx.eat(".") {
        return Ok(None);
    }
    let offset = lx.offset();
    match lx.next() {
        Some((Tok::Word(w), _)) => Ok(Some((order_named(&w, offset)?, offset))),
        _ => Err(ParseError::at(
            offset,
            "expected a memory ordering after '.'",
        )),
    }
}

fn names(orders: &[Order]) -> String {
    orders
        .iter()
        .map(|o| o.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn order_named(word: &str, offset: usize) -> Result<Order> {
    Ok(match word {
        "relaxed" => Order::Relaxed,
        "acquire" => Order::Acquire,
        "release" => Order::Release,
        "acqrel" => Order::AcqRel,
        "seqcst" => Order::SeqCst,
        "plain" => Order::Plain,
        _ => {
            return Err(ParseError::at(
                offset,
                format!(
                    "unknown memory ordering '{word}': use relaxed, acquire, release, acqrel, seqcst or plain"
                ),
            ));
        }
    })
}

/// Parses a whole string as one expression.
pub fn expr(text: &str) -> Result<Expr> {
    let mut lx = Lexer::new(text)?;
    let e = expr_from(&mut lx)?;
    lx.done()?;
    Ok(e)
}

/// Parses an outcome pattern: comma-separated whole numbers or `*`, e.g. `1, *`.
pub fn pattern(text: &str) -> Result<Vec<Option<i64>>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for part in text.split(',') {
        let trimmed = part.trim();
        let at = offset + (part.len() - part.trim_start().len());
        out.push(match trimmed {
            "*" => None,
            _ => Some(trimmed.parse().map_err(|_| {
                ParseError::at(at, format!("'{trimmed}' is not a whole number or '*'"))
            })?),
        });
        offset += part.len() + 1;
    }
    Ok(out)
}

fn expr_from(lx: &mut Lexer) -> Result<Expr> {
    binary(lx, 1)
}

fn binop(tok: Option<&Tok>) -> Option<BinOp> {
    let Some(Tok::Sym(s)) = tok else { return None };
    Some(match *s {
        "||" => BinOp::Or,
        "&&" => BinOp::And,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Rem,
        _ => return None,
    })
}

/// Precedence climbing: operators binding at least as tightly as `min`.
fn binary(lx: &mut Lexer, min: u8) -> Result<Expr> {
    let mut lhs = unary(lx)?;
    while let Some(op) = binop(lx.peek()).filter(|op| op.precedence() >= min) {
        lx.pos += 1;
        let rhs = binary(lx, op.precedence() + 1)?;
        lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
    }
    Ok(lhs)
}

fn unary(lx: &mut Lexer) -> Result<Expr> {
    let offset = lx.offset();
    match lx.next() {
        Some((Tok::Int(n), _)) => Ok(Expr::Int(n)),
        Some((Tok::Sym("-"), _)) => Ok(Expr::Neg(Box::new(unary(lx)?))),
        Some((Tok::Sym("!"), _)) => Ok(Expr::Not(Box::new(unary(lx)?))),
        Some((Tok::Sym("("), _)) => {
            let e = binary(lx, 1)?;
            lx.expect(")", "to close '('")?;
            Ok(e)
        }
        Some((Tok::Word(w), _)) if !KEYWORDS.contains(&w.as_str()) => {
            // `group.register` names a register of a group, in checks.
            if lx.eat(".") {
                let field = lx.word("a register name after '.'")?;
                Ok(Expr::Name(format!("{w}.{}", field.text), offset))
            } else {
                Ok(Expr::Name(w, offset))
            }
        }
        Some((Tok::Word(w), _)) => Err(ParseError::at(
            offset,
            format!("expected a value, found the keyword '{w}'"),
        )),
        Some(_) => Err(ParseError::at(
            offset,
            "expected a value: a number, a name or '('",
        )),
        None => Err(ParseError::at(offset, "expected a value, found the end")),
    }
}

#[cfg(test)]
mod tests;
