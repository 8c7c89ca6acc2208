//! What compiling a scenario's checks and its groups both need: the problem type, the
//! constants `threads` and `iterations`, and lowering an expression once its names resolve.

use super::parse::{BinOp, Expr, Name};
use super::program::{CExpr, CondvarDecl, SemaphoreDecl};

/// A problem in a scenario file, at a byte offset of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub offset: usize,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Problem>;

pub fn problem<T>(offset: usize, message: impl Into<String>) -> Result<T> {
    Err(Problem {
        offset,
        message: message.into(),
    })
}

/// The values `threads` and `iterations` stand for.
#[derive(Clone, Copy)]
pub struct Consts {
    pub threads: i64,
    pub iterations: i64,
}

impl Consts {
    pub fn get(self, name: &str) -> Option<i64> {
        match name {
            "threads" => Some(self.threads),
            "iterations" => Some(self.iterations),
            _ => None,
        }
    }
}

/// Everything a group's ops can name, declared once for the whole scenario.
pub struct Decls<'a> {
    pub shared: &'a [(String, i64)],
    pub locks: &'a [String],
    pub condvars: &'a [CondvarDecl],
    pub semaphores: &'a [SemaphoreDecl],
    pub rwlocks: &'a [String],
    pub consts: Consts,
}

impl Decls<'_> {
    pub fn var(&self, name: &Name, base: usize) -> Result<u16> {
        let shared = self.shared;
        match shared.iter().position(|(n, _)| *n == name.text) {
            Some(i) => Ok(i as u16),
            None => problem(
                base + name.offset,
                format!(
                    "unknown shared variable '{}'{}",
                    name.text,
                    known(shared.iter().map(|s| s.0.as_str()))
                ),
            ),
        }
    }

    pub fn lock(&self, name: &Name, base: usize) -> Result<usize> {
        find(name, base, "lock", self.locks.iter().map(String::as_str))
    }

    pub fn condvar(&self, name: &Name, base: usize) -> Result<usize> {
        let names = self.condvars.iter().map(|c| c.name.as_str());
        find(name, base, "condvar", names)
    }

    pub fn semaphore(&self, name: &Name, base: usize) -> Result<usize> {
        let names = self.semaphores.iter().map(|s| s.name.as_str());
        find(name, base, "semaphore", names)
    }

    pub fn rwlock(&self, name: &Name, base: usize) -> Result<usize> {
        let names = self.rwlocks.iter().map(String::as_str);
        find(name, base, "reader-writer lock", names)
    }
}

fn find<'a>(
    name: &Name,
    base: usize,
    kind: &str,
    names: impl Iterator<Item = &'a str> + Clone,
) -> Result<usize> {
    names.clone().position(|n| n == name.text).map_or_else(
        || {
            problem(
                base + name.offset,
                format!("unknown {kind} '{}'{}", name.text, known(names)),
            )
        },
        Ok,
    )
}

/// Lowers a parsed expression, resolving names with `resolve` and folding constants.
pub fn lower(e: &Expr, resolve: &mut dyn FnMut(&str, usize) -> Result<CExpr>) -> Result<CExpr> {
    Ok(match e {
        Expr::Int(n) => CExpr::Const(*n),
        Expr::Name(name, offset) => resolve(name, *offset)?,
        Expr::Neg(inner) => match lower(inner, resolve)? {
            CExpr::Const(n) => CExpr::Const(n.wrapping_neg()),
            other => CExpr::Neg(Box::new(other)),
        },
        Expr::Not(inner) => CExpr::Not(Box::new(lower(inner, resolve)?)),
        Expr::Bin(op, a, b) => {
            let (a, b) = (lower(a, resolve)?, lower(b, resolve)?);
            match (op, a, b) {
                (_, CExpr::Const(x), CExpr::Const(y)) => CExpr::Const(
                    CExpr::Bin(*op, Box::new(CExpr::Const(x)), Box::new(CExpr::Const(y))).eval(&[]),
                ),
                (BinOp::Add, CExpr::Slot(s), CExpr::Const(n))
                | (BinOp::Add, CExpr::Const(n), CExpr::Slot(s)) => CExpr::SlotPlus(s, n),
                (BinOp::Sub, CExpr::Slot(s), CExpr::Const(n)) => {
                    CExpr::SlotPlus(s, n.wrapping_neg())
                }
                (op, a, b) => CExpr::Bin(*op, Box::new(a), Box::new(b)),
            }
        }
    })
}

/// The slots (registers) an expression reads.
pub fn slots_read(e: &CExpr, out: &mut Vec<u16>) {
    match e {
        CExpr::Const(_) => {}
        CExpr::Slot(s) | CExpr::SlotPlus(s, _) => out.push(*s),
        CExpr::Neg(e) | CExpr::Not(e) => slots_read(e, out),
        CExpr::Bin(_, a, b) => {
            slots_read(a, out);
            slots_read(b, out);
        }
    }
}

/// " (known: a, b)" or " (none are declared)", after an unknown name.
pub fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        " (none are declared)".to_string()
    } else {
        format!(" (known: {})", names.join(", "))
    }
}
