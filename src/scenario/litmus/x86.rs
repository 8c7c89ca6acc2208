//! herdtools7's X86 dialect: a table of instructions, a column per thread (`P0 | P1 ;`), each
//! turned into scenario ops. A `MOV` to memory is a release store and one from memory an
//! acquire load (the same `mov` on x86, and what x86-TSO gives a plain `mov`); `XCHG` and
//! `LOCK`-prefixed instructions are seqcst read-modify-writes; `MFENCE` a seqcst fence.

use super::lex::{Comments, Tokens, tokens};
use super::{Thread, Vars};
use crate::scenario::resolve::{Result, problem};

const REGISTERS: &[&str] = &["EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP"];

/// An instruction's operand.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    Memory(String),
    Register(String),
    Immediate(i64),
}

/// Reads the table in `text[start..end]`: the threads, and every shared variable the
/// instructions name, with where it was first written.
pub fn read(text: &str, start: usize, end: usize) -> Result<(Vec<Thread>, Vars)> {
    // Rows end with ';', cells are split by '|'; an instruction never holds either.
    let mut rows: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut row = Vec::new();
    let mut cell = start;
    let bytes = text.as_bytes();
    let mut i = start;
    while i < end {
        match bytes[i] {
            b'(' if text[i..end].starts_with("(*") => {
                i = match text[i + 2..end].find("*)") {
                    Some(k) => i + 2 + k + 2,
                    None => return problem(i, "a '(*' comment is never closed"),
                };
                continue;
            }
            b'|' => {
                row.push((cell, i));
                cell = i + 1;
            }
            b';' => {
                row.push((cell, i));
                rows.push(std::mem::take(&mut row));
                cell = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if !text[cell..end].trim().is_empty() {
        return problem(
            cell + (text[cell..end].len() - text[cell..end].trim_start().len()),
            "a row of the table must end with ';'",
        );
    }
    let Some((head, body)) = rows.split_first() else {
        return problem(start, "expected the threads' table: 'P0 | P1 ;'");
    };
    let mut threads = Vec::new();
    for (n, &(a, b)) in head.iter().enumerate() {
        let name = text[a..b].trim();
        let at = a + (text[a..b].len() - text[a..b].trim_start().len());
        if name != format!("P{n}") {
            return problem(
                at,
                format!("expected thread P{n} in the table's head, found '{name}'"),
            );
        }
        threads.push(Thread {
            name: name.to_string(),
            ops: Vec::new(),
            registers: Vec::new(),
        });
    }
    let mut vars: Vec<(String, usize)> = Vec::new();
    for row in body {
        if row.len() > threads.len() {
            let (a, _) = row[threads.len()];
            return problem(a, format!("more cells than the {} threads", threads.len()));
        }
        for (n, &(a, b)) in row.iter().enumerate() {
            let mut t = Tokens::new(tokens(text, a, b, Comments::Litmus)?, b);
            if t.at_end() {
                continue;
            }
            instruction(&mut t, &mut threads[n], &mut vars)?;
        }
    }
    Ok((threads, vars))
}

/// One instruction: its ops appended to the thread.
fn instruction(t: &mut Tokens, thread: &mut Thread, vars: &mut Vars) -> Result<()> {
    let at = t.offset();
    let (word, _) = t.ident("an instruction")?;
    let mut mnemonic = word.to_ascii_uppercase();
    let locked = mnemonic == "LOCK";
    if locked {
        mnemonic = t.ident("an instruction after LOCK")?.0.to_ascii_uppercase();
    }
    let mut operands = Vec::new();
    if !t.at_end() {
        loop {
            operands.push(operand(t, vars)?);
            if !t.eat(",") {
                break;
            }
        }
    }
    if let Some((tok, tok_at)) = t.next() {
        return problem(
            tok_at,
            format!("unexpected {} in the instruction", tok.shown()),
        );
    }
    let mut reg = |r: &str| {
        if !thread.registers.iter().any(|x| x == r) {
            thread.registers.push(r.to_string());
        }
        r.to_string()
    };
    use Operand::*;
    let value = |o: &Operand| match o {
        Immediate(n) => n.to_string(),
        Register(r) => r.clone(),
        Memory(_) => unreachable!("checked by the caller"),
    };
    let ops: Vec<String> = match (mnemonic.as_str(), &operands[..], locked) {
        ("MFENCE", [], false) => vec!["fence.seqcst".into()],
        ("MOV", [Memory(x), v @ (Immediate(_) | Register(_))], false) => {
            if let Register(r) = v {
                reg(r);
            }
            vec![format!("store.release {x} = {}", value(v))]
        }
        ("MOV", [Register(r), Memory(x)], false) => vec![format!("{} = load.acquire {x}", reg(r))],
        ("MOV", [Register(r), v @ (Immediate(_) | Register(_))], false) => {
            if let Register(s) = v {
                reg(s);
            }
            vec![format!("{} = {}", reg(r), value(v))]
        }
        ("XCHG", [Memory(x), Register(r)] | [Register(r), Memory(x)], _) => {
            let r = reg(r);
            vec![format!("{r} = swap.seqcst {x} {r}")]
        }
        ("XADD", [Memory(x), Register(r)], true) => {
            let r = reg(r);
            vec![format!("{r} = fetch_add.seqcst {x} {r}")]
        }
        ("ADD" | "SUB" | "INC" | "DEC", [Memory(x), rest @ ..], _) => {
            let Some(amount) = amount(&mnemonic, rest) else {
                return problem(at, format!("unsupported operands for {mnemonic}"));
            };
            if let [Register(r)] = rest {
                reg(r);
            }
            if locked {
                vec![format!("fetch_add.seqcst {x} {amount}")]
            } else {
                // Without LOCK, a read then a write: another core's write can fall between.
                let temp = reg(&format!("_{x}"));
                vec![
                    format!("{temp} = load.acquire {x}"),
                    format!("store.release {x} = {temp} + ({amount})"),
                ]
            }
        }
        ("ADD" | "SUB" | "INC" | "DEC", [Register(r), rest @ ..], false) => {
            let Some(amount) = amount(&mnemonic, rest) else {
                return problem(at, format!("unsupported operands for {mnemonic}"));
            };
            if let [Register(s)] = rest {
                reg(s);
            }
            let r = reg(r);
            vec![format!("{r} = {r} + ({amount})")]
        }
        (_, _, true) => {
            return problem(
                at,
                format!("unsupported: LOCK {mnemonic} with these operands"),
            );
        }
        ("MOV" | "XCHG" | "XADD" | "MFENCE", _, _) => {
            return problem(at, format!("unsupported operands for {mnemonic}"));
        }
        _ => return problem(at, format!("unsupported instruction '{word}'")),
    };
    thread.ops.extend(ops.into_iter().map(|op| (op, at)));
    Ok(())
}

/// What ADD, SUB, INC or DEC adds, given the operands after the destination.
fn amount(mnemonic: &str, rest: &[Operand]) -> Option<String> {
    let value = |o: &Operand| match o {
        Operand::Immediate(n) => Some(n.to_string()),
        Operand::Register(r) => Some(r.clone()),
        Operand::Memory(_) => None,
    };
    match (mnemonic, rest) {
        ("INC", []) => Some("1".into()),
        ("DEC", []) => Some("-1".into()),
        ("ADD", [v]) => value(v),
        ("SUB", [v]) => value(v).map(|v| format!("-{v}")),
        _ => None,
    }
}

fn operand(t: &mut Tokens, vars: &mut Vars) -> Result<Operand> {
    let at = t.offset();
    if t.eat("[") {
        let (x, x_at) = t.ident("a shared variable in '[...]'")?;
        t.expect("]", "after the variable")?;
        if !vars.iter().any(|(v, _)| *v == x) {
            vars.push((x.clone(), x_at));
        }
        return Ok(Operand::Memory(x));
    }
    if t.eat("$") {
        return Ok(Operand::Immediate(t.int("a number after '$'")?.0));
    }
    let (name, _) = t.ident("an operand: [x], $1 or a register")?;
    let upper = name.to_ascii_uppercase();
    if REGISTERS.contains(&upper.as_str()) {
        return Ok(Operand::Register(upper));
    }
    problem(
        at,
        format!("unsupported operand '{name}': use [x], $n or EAX, EBX, ECX, EDX, ESI, EDI, EBP"),
    )
}
