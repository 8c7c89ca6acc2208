//! The scenario language as written, before names are resolved: ops, expressions, memory
//! orderings. `parse` builds it from text; the compiler and the Python rendering read it.

use std::fmt;

/// A memory ordering, as written after a dot: `load.acquire`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Relaxed,
    Acquire,
    Release,
    AcqRel,
    SeqCst,
    /// Not atomic at all (C's plain `int`): for loads and stores. It runs as relaxed, and a
    /// program where two such accesses race is refused (undefined behaviour in C and Rust).
    Plain,
}

impl Order {
    pub fn name(self) -> &'static str {
        match self {
            Order::Relaxed => "relaxed",
            Order::Acquire => "acquire",
            Order::Release => "release",
            Order::AcqRel => "acqrel",
            Order::SeqCst => "seqcst",
            Order::Plain => "plain",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }

    /// How tightly it binds: 1 (`||`) to 5 (`*`, `/`, `%`).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 5,
        }
    }
}

/// An expression as written: names are resolved later, by the compiler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Int(i64),
    /// A name, with the offset where it was written (`r`, `counter`, `reader.r`).
    Name(String, usize),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Int(n) => write!(f, "{n}"),
            Expr::Name(name, _) => f.write_str(name),
            Expr::Neg(e) => write!(f, "-{e}"),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::Bin(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
        }
    }
}

/// One op as written, before names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpSyntax {
    /// `r = load[.ord] var`
    Load {
        reg: Name,
        var: Name,
        order: Order,
    },
    /// `store[.ord] var = expr`
    Store {
        var: Name,
        value: Expr,
        order: Order,
    },
    /// `[r =] fetch_add[.ord] var expr`
    FetchAdd {
        reg: Option<Name>,
        var: Name,
        value: Expr,
        order: Order,
    },
    /// `[ok =] cas[.ord[.failure]] var: expected -> new`; written `&r` (C's
    /// `compare_exchange(x, &r, new)`), the expected value is register r, which gets the
    /// value found.
    Cas {
        reg: Option<Name>,
        var: Name,
        expected: Expr,
        /// The register `&r` names.
        old: Option<Name>,
        new: Expr,
        order: Order,
        /// What a failed compare (only a read) is ordered with; by default the strongest
        /// a read can have within `order`.
        failure: Option<Order>,
    },
    /// `[r =] swap[.ord] var expr`: writes the value and gives the one it replaced.
    Swap {
        reg: Option<Name>,
        var: Name,
        value: Expr,
        order: Order,
    },
    /// `[ok =] cas_loop[.ord] var: r -> new [if cond]`
    CasLoop {
        reg: Option<Name>,
        var: Name,
        current: Name,
        new: Expr,
        guard: Option<Expr>,
        order: Order,
    },
    /// `r = expr`
    Set {
        reg: Name,
        value: Expr,
    },
    Lock(Name),
    Unlock(Name),
    /// `if cond`: the ops up to the matching `end` run only when it holds.
    If(Expr),
    /// `while cond`: the ops up to the matching `end` run again as long as it holds.
    While(Expr),
    End,
    /// `wait cv`: releases the condvar's lock, sleeps until notified, takes the lock again.
    Wait(Name),
    /// `notify cv`: wakes one waiting thread, if any; with none waiting it is lost.
    Notify(Name),
    /// `notify_all cv`: wakes every waiting thread.
    NotifyAll(Name),
    /// `acquire sem`: waits until the count is above 0, then takes one.
    Acquire(Name),
    /// `release sem`: gives one back.
    Release(Name),
    ReadLock(Name),
    ReadUnlock(Name),
    WriteLock(Name),
    WriteUnlock(Name),
    Spin(u32),
    Jitter(u32),
    Yield,
    Fence(Order),
}

/// A name and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub offset: usize,
}
