//! What a group's ops do to names Python cares about: the shared variables it assigns (its
//! function declares them `global`) and the registers it may read before setting (set to 0
//! first, as the scenario's start).

use super::super::parse::{self, Expr, OpSyntax};

/// The shared variables a group's statements assign, which its function declares `global`.
pub fn assigned(ops: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for text in ops {
        let var = match parse::op(text) {
            Ok(
                OpSyntax::Store { var, .. }
                | OpSyntax::FetchAdd { var, .. }
                | OpSyntax::Cas { var, .. }
                | OpSyntax::Swap { var, .. }
                | OpSyntax::CasLoop { var, .. },
            ) => var.text,
            _ => continue,
        };
        if !names.contains(&var) {
            names.push(var);
        }
    }
    names
}

/// Registers a group may read before it sets them in the same pass: Python needs them set
/// first. Registers start at 0, as the scenario's do. `shared` tells a shared variable (or
/// `threads`, `iterations`) from a register.
pub fn read_before_set(ops: &[String], shared: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut set: Vec<String> = Vec::new();
    let mut early: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for text in ops {
        let Ok(syntax) = parse::op(text) else {
            continue;
        };
        let (reads, writes) = registers_of(&syntax);
        for r in reads.into_iter().filter(|r| !shared(r)) {
            if !set.contains(&r) && !early.contains(&r) {
                early.push(r);
            }
        }
        match syntax {
            OpSyntax::If(_) | OpSyntax::While(_) => depth += 1,
            OpSyntax::End => depth = depth.saturating_sub(1),
            _ => {}
        }
        for w in writes {
            // Set inside an `if` or `while`, it may not be set at all.
            if depth == 0 && !set.contains(&w) {
                set.push(w);
            } else if depth > 0 && !set.contains(&w) && !early.contains(&w) {
                early.push(w);
            }
        }
    }
    early
}

/// The registers an op reads (in its expressions) and writes.
fn registers_of(syntax: &OpSyntax) -> (Vec<String>, Vec<String>) {
    let mut reads = Vec::new();
    let mut names = |e: &Expr| collect(e, &mut reads);
    let writes: Vec<String> = match syntax {
        OpSyntax::Load { reg, .. } => vec![reg.text.clone()],
        OpSyntax::Store { value, .. } => {
            names(value);
            vec![]
        }
        OpSyntax::FetchAdd { reg, value, .. } | OpSyntax::Swap { reg, value, .. } => {
            names(value);
            reg.iter().map(|r| r.text.clone()).collect()
        }
        OpSyntax::Cas {
            reg,
            expected,
            old,
            new,
            ..
        } => {
            names(expected);
            names(new);
            reg.iter().chain(old).map(|r| r.text.clone()).collect()
        }
        OpSyntax::CasLoop {
            reg,
            current,
            new,
            guard,
            ..
        } => {
            names(new);
            if let Some(g) = guard {
                names(g);
            }
            reg.iter()
                .chain([current])
                .map(|r| r.text.clone())
                .collect()
        }
        OpSyntax::Set { reg, value } => {
            names(value);
            vec![reg.text.clone()]
        }
        OpSyntax::If(c) | OpSyntax::While(c) => {
            names(c);
            vec![]
        }
        _ => vec![],
    };
    (reads, writes)
}

fn collect(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Name(n, _) if !n.contains('.') => out.push(n.clone()),
        Expr::Neg(inner) | Expr::Not(inner) => collect(inner, out),
        Expr::Bin(_, a, b) => {
            collect(a, out);
            collect(b, out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_read_before_they_are_set_are_found() {
        let ops = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let shared = |n: &str| ["x", "y"].contains(&n);
        assert!(read_before_set(&ops(&["r = load x", "store x = r + 1"]), &shared).is_empty());
        assert_eq!(
            read_before_set(&ops(&["while r == 0", "r = load x", "end"]), &shared),
            ["r"]
        );
        assert_eq!(
            read_before_set(&ops(&["if x", "r = load y", "end"]), &shared),
            ["r"]
        );
    }
}
