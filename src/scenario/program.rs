//! A compiled scenario: ops with resolved slots, ready for the interpreter. Nothing here
//! parses or allocates while a trial runs.

use std::time::Duration;

use serde::Serialize;
use smallvec::SmallVec;

use super::condition::Condition;
use super::parse::BinOp;
use crate::sync::Ordering;

/// Registers per thread; a fixed array keeps them off the heap.
pub const MAX_REGISTERS: usize = 16;

/// An expression over slots: registers while a thread runs, final values in checks.
#[derive(Debug, Clone, PartialEq)]
pub enum CExpr {
    Const(i64),
    Slot(u16),
    /// `r + 1`, the most common shape, without the recursion.
    SlotPlus(u16, i64),
    Neg(Box<CExpr>),
    Not(Box<CExpr>),
    Bin(BinOp, Box<CExpr>, Box<CExpr>),
}

impl CExpr {
    /// [`CExpr::eval`] with the leaf shapes inlined: most op expressions are `r + 1` or a
    /// constant, and a call per op would cost more than the op.
    #[inline(always)]
    pub fn value(&self, slots: &[i64]) -> i64 {
        match self {
            CExpr::Const(n) => *n,
            CExpr::Slot(s) => slots[*s as usize],
            CExpr::SlotPlus(s, n) => slots[*s as usize].wrapping_add(*n),
            _ => self.eval(slots),
        }
    }

    /// Wrapping arithmetic, and 0 for a division by zero, so that no input can panic.
    pub fn eval(&self, slots: &[i64]) -> i64 {
        match self {
            CExpr::Const(n) => *n,
            CExpr::Slot(s) => slots[*s as usize],
            CExpr::SlotPlus(s, n) => slots[*s as usize].wrapping_add(*n),
            CExpr::Neg(e) => e.eval(slots).wrapping_neg(),
            CExpr::Not(e) => i64::from(e.eval(slots) == 0),
            CExpr::Bin(op, a, b) => {
                let a = a.eval(slots);
                // && and || do not evaluate their right side when the left decides.
                match op {
                    BinOp::And => return i64::from(a != 0 && b.eval(slots) != 0),
                    BinOp::Or => return i64::from(a != 0 || b.eval(slots) != 0),
                    _ => {}
                }
                let b = b.eval(slots);
                match op {
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Mul => a.wrapping_mul(b),
                    BinOp::Div => a.checked_div(b).unwrap_or(0),
                    BinOp::Rem => a.checked_rem(b).unwrap_or(0),
                    BinOp::Eq => i64::from(a == b),
                    BinOp::Ne => i64::from(a != b),
                    BinOp::Lt => i64::from(a < b),
                    BinOp::Le => i64::from(a <= b),
                    BinOp::Gt => i64::from(a > b),
                    BinOp::Ge => i64::from(a >= b),
                    BinOp::And | BinOp::Or => unreachable!("handled above"),
                }
            }
        }
    }
}

/// One instruction of a thread's program.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Load {
        reg: u8,
        var: u16,
        order: Ordering,
        /// Not atomic (`load.plain`): runs as relaxed; the RC11 model looks for races on it.
        plain: bool,
    },
    /// `reg = load var` then `store var = reg + add`, both relaxed: fused by the compiler so the
    /// commonest racy pair costs one dispatch. Still a separate load and store.
    RacyAdd {
        reg: u8,
        var: u16,
        add: i64,
    },
    Store {
        var: u16,
        value: CExpr,
        order: Ordering,
        plain: bool,
    },
    FetchAdd {
        reg: Option<u8>,
        var: u16,
        value: CExpr,
        order: Ordering,
    },
    Cas {
        /// Gets 1 when it swapped, 0 when not.
        reg: Option<u8>,
        /// Gets the value found (C's `&expected`).
        old: Option<u8>,
        var: u16,
        expected: CExpr,
        new: CExpr,
        order: Ordering,
        /// The ordering of a failed compare, which only reads.
        failure: Ordering,
    },
    /// An atomic exchange: writes `value`, and `reg` gets the value replaced.
    Swap {
        reg: Option<u8>,
        var: u16,
        value: CExpr,
        order: Ordering,
    },
    CasLoop {
        reg: Option<u8>,
        var: u16,
        current: u8,
        new: CExpr,
        guard: Option<CExpr>,
        order: Ordering,
    },
    Set {
        reg: u8,
        value: CExpr,
    },
    Lock(u16),
    Unlock(u16),
    /// Skip to `to` when `cond` is 0 (an `if` block, or a `while` loop's test).
    JumpUnless {
        cond: CExpr,
        to: usize,
    },
    /// A `while` loop's way back to its test. The interpreter counts the passes, so that a
    /// loop that never ends is found by the watchdog (`stuck`), not left spinning.
    Loop {
        to: usize,
    },
    /// Releases the condvar's lock, sleeps until notified (or woken spuriously), and takes
    /// the lock again.
    Wait(u16),
    Notify(u16),
    NotifyAll(u16),
    Acquire(u16),
    Release(u16),
    ReadLock(u16),
    ReadUnlock(u16),
    WriteLock(u16),
    WriteUnlock(u16),
    Spin(u32),
    Jitter(u32),
    Yield,
    Fence(Ordering),
}

impl Op {
    /// Whether the op can wait for another thread: a thread running it may block, and a
    /// trial holding it cannot be run in lockstep batches.
    pub fn blocks(&self) -> bool {
        matches!(
            self,
            Op::Lock(_)
                | Op::Wait(_)
                | Op::Acquire(_)
                | Op::ReadLock(_)
                | Op::WriteLock(_)
                | Op::Loop { .. }
        )
    }
}

/// A declared condition variable and the lock it is tied to.
#[derive(Debug, Clone, PartialEq)]
pub struct CondvarDecl {
    pub name: String,
    pub lock: u16,
}

/// A declared counting semaphore.
#[derive(Debug, Clone, PartialEq)]
pub struct SemaphoreDecl {
    pub name: String,
    /// Permits at the start of a trial.
    pub initial: i64,
    /// Bounded (Python's `BoundedSemaphore`): a release above the initial count is an error.
    pub bounded: bool,
}

/// A thread group after overrides: how many threads run which ops how often.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupProgram {
    pub name: String,
    pub threads: usize,
    pub iterations: u64,
    pub ops: Vec<Op>,
    pub registers: Vec<String>,
}

/// How a trial is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Acceptable,
    Interesting,
    Forbidden,
}

impl Grade {
    pub fn name(self) -> &'static str {
        match self {
            Grade::Acceptable => "acceptable",
            Grade::Interesting => "interesting",
            Grade::Forbidden => "forbidden",
        }
    }
}

/// One of the memory models racedemo computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    Sc,
    Tso,
    Rc11,
}

impl Model {
    pub const ALL: [Model; 3] = [Model::Sc, Model::Tso, Model::Rc11];

    /// As people write it: SC, x86-TSO, RC11.
    pub fn name(self) -> &'static str {
        match self {
            Model::Sc => "SC",
            Model::Tso => "x86-TSO",
            Model::Rc11 => "RC11",
        }
    }

    /// As files and JSON write it: sc, tso, rc11.
    pub fn key(self) -> &'static str {
        match self {
            Model::Sc => "sc",
            Model::Tso => "tso",
            Model::Rc11 => "rc11",
        }
    }

    pub fn from_key(key: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.key() == key)
    }

    /// The model of this machine's architecture, if racedemo computes it.
    pub fn of_this_machine() -> Option<Model> {
        (std::env::consts::ARCH == "x86_64").then_some(Model::Tso)
    }
}

/// A graded outcome pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// One entry per outcome value; `None` matches anything.
    pub pattern: Vec<Option<i64>>,
    pub grade: Grade,
    pub means: Option<String>,
    /// The memory model the file says forbids the outcome (with a forbidden grade).
    pub model: Option<Model>,
}

/// Where a value that checks read comes from after a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Shared(u16),
    /// A register of the first (only) thread of a group.
    Register {
        thread: usize,
        reg: u8,
    },
}

/// An outcome's values: inline up to four (every litmus test's size), since each trial makes
/// one and most are dropped at once as repeats.
pub type Values = SmallVec<[i64; 4]>;

/// What a trial ended with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Values {
        values: Values,
        invariant_held: bool,
    },
    /// A thread waited for a lock longer than the watchdog allows.
    Deadlock,
    /// A thread waited on a condvar or a semaphore, or looped, longer than the watchdog
    /// allows: nobody was going to wake it.
    Stuck,
    /// A bounded semaphore was released above its initial count (Python's
    /// `BoundedSemaphore` raises `ValueError` there); the releasing thread stopped.
    OverReleased(u16),
}

impl Outcome {
    /// Whether the trial ended with a thread given up rather than with values.
    pub fn halted(&self) -> bool {
        !matches!(self, Outcome::Values { .. })
    }
}

/// A whole compiled scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub groups: Vec<GroupProgram>,
    pub shared: Vec<(String, i64)>,
    pub locks: Vec<String>,
    pub condvars: Vec<CondvarDecl>,
    pub semaphores: Vec<SemaphoreDecl>,
    pub rwlocks: Vec<String>,
    /// Whether a `wait` may return without a notify, as real condition variables may.
    pub spurious_wakeups: bool,
    pub watchdog: Duration,
    /// Values the checks read, in slot order: every shared variable, then registers.
    pub check_slots: Vec<Source>,
    pub outcome: Vec<(String, u16)>,
    pub invariant: Option<(String, CExpr)>,
    pub rules: Vec<Rule>,
    /// A litmus test's final condition over the outcome: outcomes that satisfy it, and no
    /// rule, are interesting.
    pub condition: Option<Condition>,
    pub default_grade: Grade,
    /// Sum of the groups' threads, and the scenario-level iterations: `threads`, `iterations`.
    pub threads: usize,
    pub iterations: u64,
    pub uses_jitter: bool,
}

impl Program {
    /// The grade of an outcome: a thread given up (deadlock, stuck, over-released) or a
    /// broken invariant is forbidden; otherwise the first matching rule's grade, or the
    /// default.
    pub fn grade(&self, outcome: &Outcome) -> Grade {
        match outcome {
            Outcome::Deadlock | Outcome::Stuck | Outcome::OverReleased(_) => Grade::Forbidden,
            Outcome::Values {
                invariant_held: false,
                ..
            } => Grade::Forbidden,
            Outcome::Values { values, .. } => self
                .rules
                .iter()
                .find(|r| matches(&r.pattern, values))
                .map(|r| r.grade)
                .or_else(|| self.satisfies(outcome).then_some(Grade::Interesting))
                .unwrap_or(self.default_grade),
        }
    }

    /// Whether an outcome satisfies the litmus condition's proposition (none without one; a
    /// trial that halted never does).
    pub fn satisfies(&self, outcome: &Outcome) -> bool {
        match (&self.condition, outcome) {
            (Some(c), Outcome::Values { values, .. }) => c.prop.holds(values),
            _ => false,
        }
    }

    /// The outcome as people read it: `x=1, y=0`, with a broken invariant marked.
    pub fn describe(&self, outcome: &Outcome) -> String {
        match outcome {
            Outcome::Deadlock => "deadlock".to_string(),
            Outcome::Stuck => "stuck".to_string(),
            Outcome::OverReleased(s) => format!(
                "over-released {}",
                self.semaphores
                    .get(*s as usize)
                    .map_or("?", |s| s.name.as_str())
            ),
            Outcome::Values {
                values,
                invariant_held,
            } => {
                let mut text = self
                    .outcome
                    .iter()
                    .zip(values)
                    .map(|((name, _), v)| format!("{name}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if !invariant_held {
                    text.push_str(" (invariant broken)");
                }
                text
            }
        }
    }

    /// The outcome of a finished trial, given where each value checks read comes from.
    pub fn outcome_from(&self, value: impl Fn(Source) -> i64) -> Outcome {
        // On the stack for small checks: this runs once per trial.
        let slots: SmallVec<[i64; 8]> = self.check_slots.iter().map(|&s| value(s)).collect();
        Outcome::Values {
            values: self
                .outcome
                .iter()
                .map(|&(_, slot)| slots[slot as usize])
                .collect(),
            invariant_held: self
                .invariant
                .as_ref()
                .is_none_or(|(_, e)| e.eval(&slots) != 0),
        }
    }

    /// The halted outcome [`Program::describe`] names `text`, if one does.
    pub fn halted_named(&self, text: &str) -> Option<Outcome> {
        [Outcome::Deadlock, Outcome::Stuck]
            .into_iter()
            .chain((0..self.semaphores.len()).map(|s| Outcome::OverReleased(s as u16)))
            .find(|o| self.describe(o) == text)
    }

    /// The outcome [`Program::describe`] writes as `text`, if one is: read back from a
    /// program that printed it (`scenario run --python`).
    pub fn outcome_named(&self, text: &str) -> Option<Outcome> {
        if let Some(halted) = self.halted_named(text) {
            return Some(halted);
        }
        let (pairs, invariant_held) = match text.strip_suffix(" (invariant broken)") {
            Some(rest) => (rest, false),
            None => (text, true),
        };
        let values: Values = pairs
            .split(", ")
            .zip(&self.outcome)
            .map(|(pair, (name, _))| {
                let (written, value) = pair.split_once('=')?;
                (written == name).then(|| value.parse::<i64>().ok())?
            })
            .collect::<Option<_>>()?;
        (values.len() == self.outcome.len() && pairs.split(", ").count() == values.len()).then_some(
            Outcome::Values {
                values,
                invariant_held,
            },
        )
    }

    /// Whether any thread waits on a condvar.
    pub fn uses_condvars(&self) -> bool {
        !self.condvars.is_empty()
    }

    /// Whether any check reads a thread's registers (`group.reg`).
    pub fn reads_registers(&self) -> bool {
        self.check_slots
            .iter()
            .any(|s| matches!(s, Source::Register { .. }))
    }

    /// Total ops one trial executes at the least (ops x iterations x threads), for ns/op.
    pub fn iterations_per_trial(&self) -> u64 {
        self.groups
            .iter()
            .map(|g| g.threads as u64 * g.iterations)
            .sum()
    }
}

pub fn matches(pattern: &[Option<i64>], values: &[i64]) -> bool {
    pattern.len() == values.len()
        && pattern
            .iter()
            .zip(values)
            .all(|(p, v)| p.is_none_or(|p| p == *v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_never_panic_on_odd_arithmetic() {
        let div = CExpr::Bin(
            BinOp::Div,
            Box::new(CExpr::Slot(0)),
            Box::new(CExpr::Slot(1)),
        );
        assert_eq!(div.eval(&[7, 0]), 0);
        assert_eq!(div.eval(&[i64::MIN, -1]), 0);
        assert_eq!(div.eval(&[7, 2]), 3);
        assert_eq!(CExpr::SlotPlus(0, 1).eval(&[i64::MAX]), i64::MIN);
        let and = CExpr::Bin(BinOp::And, Box::new(CExpr::Const(0)), Box::new(div));
        assert_eq!(and.eval(&[1, 0]), 0);
    }

    #[test]
    fn an_outcome_reads_back_from_its_description() {
        let program = crate::scenario::Scenario::load(
            crate::scenario::library::find("lazy-init-racy").unwrap(),
        )
        .unwrap()
        .program;
        let broken = Outcome::Values {
            values: [1, 3].into_iter().collect(),
            invariant_held: false,
        };
        let text = program.describe(&broken);
        assert_eq!(text, "initialised=1, init_runs=3 (invariant broken)");
        assert_eq!(program.outcome_named(&text), Some(broken));
        assert_eq!(program.outcome_named("stuck"), Some(Outcome::Stuck));
        for wrong in [
            "initialised=1",
            "init_runs=3, initialised=1",
            "x=1, y=2",
            "",
            "a=b, c=d",
        ] {
            assert_eq!(program.outcome_named(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn patterns_match_by_position_with_wildcards() {
        assert!(matches(&[Some(0), None], &[0, 5]));
        assert!(!matches(&[Some(0), None], &[1, 5]));
        assert!(!matches(&[Some(0)], &[0, 5]));
    }
}
