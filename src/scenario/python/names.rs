//! Names and expressions in Python: identifiers a scenario's names can be, and expressions
//! with Python's precedence and only the brackets it needs.

use super::super::parse::{BinOp, Expr};

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
    "sys",
    "time",
    "random",
    "threading",
    "print",
    "range",
    "int",
    "any",
    "max",
    "main",
    "pause",
    "start",
    "atomic",
    "results",
    "outcome",
    "threads",
    "deadline",
    "i",
    "t",
    "RWLock",
    "THREADS",
    "ITERATIONS",
    "WATCHDOG",
];

/// A name as a Python identifier: a group or lock may be named anything in the file, so
/// other characters become `_`; reserved names and names that could clash with the program's
/// own get a trailing underscore.
pub fn py(name: &str) -> String {
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

/// How tightly a Python expression binds, loosest first: `or`, `and`, `not`, comparisons,
/// `+ -`, `* // %`, unary minus, atoms.
fn binds(e: &Expr) -> u8 {
    match e {
        Expr::Bin(op, ..) => match op.precedence() {
            1 => 1,
            2 => 2,
            p => p + 1,
        },
        Expr::Not(_) => 3,
        Expr::Neg(_) => 7,
        Expr::Int(n) if *n < 0 => 7,
        _ => 8,
    }
}

/// An expression in Python: `&&` is `and`, `!` is `not`, division is integer division,
/// `threads`/`iterations` are the program's constants, and `group.reg` is what that thread
/// left in `results`. Parentheses only where Python's precedence needs them.
pub fn expr(e: &Expr) -> String {
    match e {
        Expr::Int(n) => n.to_string(),
        Expr::Name(name, _) => match (name.as_str(), name.split_once('.')) {
            ("threads", _) => "THREADS".into(),
            ("iterations", _) => "ITERATIONS".into(),
            // Single quotes: the outcome line puts this inside a double-quoted f-string.
            (_, Some(_)) => format!("results['{name}']"),
            _ => py(name),
        },
        Expr::Neg(inner) => format!("-{}", operand(inner, 7, false)),
        Expr::Not(inner) => format!("not {}", operand(inner, 3, false)),
        Expr::Bin(op, a, b) => {
            let symbol = match op {
                BinOp::And => "and",
                BinOp::Or => "or",
                BinOp::Div => "//",
                other => other.symbol(),
            };
            let own = binds(e);
            // Comparisons chain in Python (`a < b == c`), so one inside another is bracketed.
            let comparison = own == 4;
            format!(
                "{} {symbol} {}",
                operand(a, own, comparison),
                operand(b, own + 1, comparison)
            )
        }
    }
}

pub fn operand(e: &Expr, at_least: u8, in_comparison: bool) -> String {
    let text = expr(e);
    if binds(e) < at_least || (in_comparison && binds(e) == 4) {
        format!("({text})")
    } else {
        text
    }
}

/// An expression whose value is stored: Python's `and`, `or`, `not` and comparisons give
/// booleans or operands, where the scenario's give 0 or 1.
pub fn value(e: &Expr) -> String {
    match e {
        Expr::Not(_) => format!("int({})", expr(e)),
        Expr::Bin(op, ..) if op.precedence() <= 3 => format!("int({})", expr(e)),
        _ => expr(e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::parse;
    use super::*;

    #[test]
    fn expressions_read_as_python_with_only_the_brackets_it_needs() {
        let e = parse::expr("!(a && b) || c / 2 == reader.r").unwrap();
        assert_eq!(expr(&e), "not (a and b) or c // 2 == results['reader.r']");
        let e = parse::expr("(a + b) * c - (d - e)").unwrap();
        assert_eq!(expr(&e), "(a + b) * c - (d - e)");
        let e = parse::expr("(a == b) == c").unwrap();
        assert_eq!(expr(&e), "(a == b) == c");
        let e = parse::expr("counter == threads * iterations").unwrap();
        assert_eq!(expr(&e), "counter == THREADS * ITERATIONS");
        assert_eq!(py("from"), "from_");
        assert_eq!(py("count"), "count");
        assert_eq!(py("also-ab"), "also_ab");
        assert_eq!(py("2nd"), "n2nd");
        assert_eq!(py("start"), "start_");
    }
}
