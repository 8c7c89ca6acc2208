//! One group's ops as Python statements: names as identifiers, expressions with Python's
//! precedence, a lock taken and released in one block as a `with` block, a separate load and
//! store with a call between them.

use super::super::parse::{self, OpSyntax};
use super::names::{expr, operand, py, value};

/// A statement of the program, before indentation.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Line(String),
    /// A header ending in `:`, and the statements it holds.
    Block(String, Vec<Node>),
    /// A lock, semaphore or read-write lock taken (true) or given back (false), made a `with`
    /// block where the same block gives back what it took.
    Hold(Held, bool),
}

/// Something a thread holds while it runs a few statements.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// The Python expression naming it: `m`, `forks[i]`.
    pub name: String,
    /// A read-write lock's side (`read`, `write`), which has no `with` form here.
    pub side: Option<&'static str>,
}

impl Held {
    fn call(&self, take: bool) -> String {
        match (self.side, take) {
            (None, true) => format!("{}.acquire()", self.name),
            (None, false) => format!("{}.release()", self.name),
            (Some(side), true) => format!("{}.acquire_{side}()", self.name),
            (Some(side), false) => format!("{}.release_{side}()", self.name),
        }
    }
}

/// What one group's ops need from the program around them.
#[derive(Debug, Default)]
pub struct Uses {
    pub atomic: bool,
    pub pause: bool,
    pub time: bool,
    pub random: bool,
}

/// Python has no memory orderings: a comment says what was dropped.
fn dropped_order(text: &str) -> String {
    match text.split_whitespace().find(|w| w.contains('.')) {
        Some(word) if !word.contains("..") => {
            let order = word.split('.').nth(1).unwrap_or("");
            format!("  # .{order}: no Python equivalent")
        }
        _ => String::new(),
    }
}

/// The group's ops (as written) as statements. `name` turns a lock's or variable's name into
/// its Python expression (a folded group's `fork1` is `forks[(i + 1) % 5]`).
pub fn statements(ops: &[String], name: &dyn Fn(&str) -> String, uses: &mut Uses) -> Vec<Node> {
    let parsed: Vec<(OpSyntax, &str)> = ops
        .iter()
        .filter_map(|t| parse::op(t).ok().map(|s| (s, t.as_str())))
        .collect();
    // Blocks being filled, innermost last; each with its header.
    let mut stack: Vec<(String, Vec<Node>)> = vec![(String::new(), Vec::new())];
    for (at, (syntax, text)) in parsed.iter().enumerate() {
        let nodes = op(syntax, text, name, uses);
        if read_then_written(&parsed, at) {
            uses.pause = true;
            let top = &mut stack.last_mut().expect("the group's own block").1;
            top.extend(nodes);
            top.push(Node::Line(
                "pause()  # a thread switch can come here, between the read and the write".into(),
            ));
            continue;
        }
        match syntax {
            OpSyntax::If(_) | OpSyntax::While(_) => {
                if let Some(Node::Block(header, _)) = nodes.into_iter().next() {
                    stack.push((header, Vec::new()));
                }
            }
            OpSyntax::End if stack.len() > 1 => {
                let (header, body) = stack.pop().expect("more than one");
                let top = &mut stack.last_mut().expect("the group's own block").1;
                top.push(Node::Block(header, body));
            }
            _ => stack
                .last_mut()
                .expect("the group's own block")
                .1
                .extend(nodes),
        }
    }
    while stack.len() > 1 {
        let (header, body) = stack.pop().expect("more than one");
        stack[0].1.push(Node::Block(header, body));
    }
    with_blocks(stack.pop().map(|(_, b)| b).unwrap_or_default())
}

/// Whether the op at `at` loads a variable that the group stores later in the same pass,
/// with no yield between: where CPython, which switches threads only at calls and back
/// edges, needs a call to let another thread in, as a second CPU would.
fn read_then_written(ops: &[(OpSyntax, &str)], at: usize) -> bool {
    let OpSyntax::Load { var, .. } = &ops[at].0 else {
        return false;
    };
    for (later, _) in &ops[at + 1..] {
        match later {
            OpSyntax::Yield | OpSyntax::Spin(_) | OpSyntax::Jitter(_) => return false,
            OpSyntax::Store { var: stored, .. } if stored.text == var.text => return true,
            _ => {}
        }
    }
    false
}

/// One op as statements; `if` and `while` as an empty block to be filled.
fn op(syntax: &OpSyntax, text: &str, name: &dyn Fn(&str) -> String, uses: &mut Uses) -> Vec<Node> {
    use Node::{Block, Line};
    let note = dropped_order(text);
    let held = |n: &parse::Name, side| Held {
        name: name(&n.text),
        side,
    };
    match syntax {
        OpSyntax::Load { reg, var, .. } => {
            vec![Line(format!(
                "{} = {}{note}",
                py(&reg.text),
                name(&var.text)
            ))]
        }
        OpSyntax::Store { var, value: v, .. } => {
            vec![Line(format!("{} = {}{note}", name(&var.text), value(v)))]
        }
        OpSyntax::FetchAdd {
            reg, var, value: v, ..
        } => {
            uses.atomic = true;
            let x = name(&var.text);
            let body = match reg {
                None => vec![Line(format!("{x} += {}", expr(v)))],
                Some(r) => vec![
                    Line(format!("{} = {x}", py(&r.text))),
                    Line(format!("{x} += {}", expr(v))),
                ],
            };
            vec![Block(format!("with atomic:  # fetch_add{note}"), body)]
        }
        OpSyntax::Cas {
            reg,
            var,
            expected,
            old,
            new,
            ..
        } => {
            uses.atomic = true;
            let x = name(&var.text);
            let ok = reg.as_ref().map_or("ok".to_string(), |r| py(&r.text));
            let mut body = Vec::new();
            if let Some(o) = old {
                body.push(Line(format!("{} = {x}", py(&o.text))));
            }
            body.push(Line(format!(
                "{ok} = int({x} == {})",
                operand(expected, 5, true)
            )));
            body.push(Block(
                format!("if {ok}:"),
                vec![Line(format!("{x} = {}", value(new)))],
            ));
            vec![Block(
                format!("with atomic:  # compare-and-swap{note}"),
                body,
            )]
        }
        OpSyntax::Swap {
            reg, var, value: v, ..
        } => {
            uses.atomic = true;
            let x = name(&var.text);
            let mut body = Vec::new();
            if let Some(r) = reg {
                body.push(Line(format!("{} = {x}", py(&r.text))));
            }
            body.push(Line(format!("{x} = {}", value(v))));
            vec![Block(format!("with atomic:  # swap{note}"), body)]
        }
        OpSyntax::CasLoop {
            reg,
            var,
            current,
            new,
            guard,
            ..
        } => {
            uses.atomic = true;
            let (x, c) = (name(&var.text), py(&current.text));
            let ok = reg.as_ref().map_or("ok".to_string(), |r| py(&r.text));
            let mut body = vec![Line(format!("{c} = {x}"))];
            if let Some(g) = guard {
                body.push(Block(
                    format!("if not {}:", operand(g, 4, false)),
                    vec![Line(format!("{ok} = 0")), Line("break".into())],
                ));
            }
            body.push(Block(
                "with atomic:".into(),
                vec![Block(
                    format!("if {x} == {c}:"),
                    vec![
                        Line(format!("{x} = {}", value(new))),
                        Line(format!("{ok} = 1")),
                        Line("break".into()),
                    ],
                )],
            ));
            vec![Block(
                format!("while True:  # compare-and-swap loop{note}"),
                body,
            )]
        }
        OpSyntax::Set { reg, value: v } => vec![Line(format!("{} = {}", py(&reg.text), value(v)))],
        OpSyntax::Lock(n) | OpSyntax::Acquire(n) => vec![Node::Hold(held(n, None), true)],
        OpSyntax::Unlock(n) | OpSyntax::Release(n) => vec![Node::Hold(held(n, None), false)],
        OpSyntax::ReadLock(n) => vec![Node::Hold(held(n, Some("read")), true)],
        OpSyntax::ReadUnlock(n) => vec![Node::Hold(held(n, Some("read")), false)],
        OpSyntax::WriteLock(n) => vec![Node::Hold(held(n, Some("write")), true)],
        OpSyntax::WriteUnlock(n) => vec![Node::Hold(held(n, Some("write")), false)],
        OpSyntax::If(cond) => vec![Block(format!("if {}:", expr(cond)), Vec::new())],
        OpSyntax::While(cond) => vec![Block(format!("while {}:", expr(cond)), Vec::new())],
        OpSyntax::End => Vec::new(),
        OpSyntax::Wait(n) => vec![Line(format!("{}.wait()", name(&n.text)))],
        OpSyntax::Notify(n) => vec![Line(format!("{}.notify()", name(&n.text)))],
        OpSyntax::NotifyAll(n) => vec![Line(format!("{}.notify_all()", name(&n.text)))],
        OpSyntax::Spin(n) => vec![Block(
            format!("for _ in range({n}):  # spin: busy work"),
            vec![Line("pass".into())],
        )],
        OpSyntax::Jitter(n) => {
            uses.random = true;
            vec![Block(
                format!("for _ in range(random.randint(0, {n})):  # jitter: a random delay"),
                vec![Line("pass".into())],
            )]
        }
        OpSyntax::Yield => {
            uses.time = true;
            vec![Line(
                "time.sleep(0)  # yield: lets another thread run".into(),
            )]
        }
        OpSyntax::Fence(_) => vec![Line(format!(
            "# {}: no Python equivalent (Python's threads see one order of all accesses)",
            text.trim()
        ))],
    }
}

/// Each lock taken and given back in the same block, with nothing between taking or giving
/// it back again, becomes a `with` block; any other take or give stays a call.
fn with_blocks(nodes: Vec<Node>) -> Vec<Node> {
    let mut out = Vec::new();
    let pending = nodes;
    let mut i = 0;
    while i < pending.len() {
        match &pending[i] {
            Node::Hold(held, true) if held.side.is_none() => {
                let end = (i + 1..pending.len())
                    .find(|&j| matches!(&pending[j], Node::Hold(h, false) if h == held));
                let clean =
                    end.is_some_and(|j| !pending[i + 1..j].iter().any(|n| mentions(n, held)));
                if let (Some(j), true) = (end, clean) {
                    let body = with_blocks(pending[i + 1..j].to_vec());
                    out.push(Node::Block(format!("with {}:", held.name), body));
                    i = j + 1;
                    continue;
                }
                out.push(Node::Line(held.call(true)));
            }
            Node::Hold(held, take) => out.push(Node::Line(held.call(*take))),
            Node::Block(header, body) => {
                out.push(Node::Block(header.clone(), with_blocks(body.clone())))
            }
            Node::Line(l) => out.push(Node::Line(l.clone())),
        }
        i += 1;
    }
    out
}

/// Whether a statement, or one inside it, takes or gives back `held`.
fn mentions(node: &Node, held: &Held) -> bool {
    match node {
        Node::Hold(h, _) => h == held,
        Node::Block(_, body) => body.iter().any(|n| mentions(n, held)),
        Node::Line(_) => false,
    }
}

/// Statements as indented lines; a block holding only comments gets a `pass`.
pub fn render(nodes: &[Node], depth: usize, out: &mut Vec<String>) {
    let pad = "    ".repeat(depth);
    for node in nodes {
        match node {
            Node::Line(l) => out.push(format!("{pad}{l}")),
            Node::Block(header, body) => {
                out.push(format!("{pad}{header}"));
                render(body, depth + 1, out);
                if body
                    .iter()
                    .all(|n| matches!(n, Node::Line(l) if l.starts_with('#')))
                {
                    out.push(format!("{pad}    pass"));
                }
            }
            Node::Hold(held, take) => out.push(format!("{pad}{}", held.call(*take))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(ops: &[&str]) -> Vec<String> {
        let ops: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        render(
            &statements(&ops, &|n: &str| py(n), &mut Uses::default()),
            0,
            &mut out,
        );
        out
    }

    #[test]
    fn a_load_and_a_store_of_one_variable_get_a_call_between() {
        assert_eq!(
            lines(&["r = load counter", "store counter = r + 1"]),
            [
                "r = counter",
                "pause()  # a thread switch can come here, between the read and the write",
                "counter = r + 1"
            ]
        );
        // A yield already lets another thread in; a load of something not written needs none.
        assert_eq!(
            lines(&["r = load x", "yield", "store x = r + 1", "s = load y"]),
            [
                "r = x",
                "time.sleep(0)  # yield: lets another thread run",
                "x = r + 1",
                "s = y"
            ]
        );
    }

    #[test]
    fn a_lock_taken_and_released_in_one_block_is_a_with_block() {
        assert_eq!(
            lines(&[
                "lock m",
                "r = load.acquire flag",
                "if r == 0",
                "wait c",
                "end",
                "unlock m"
            ]),
            [
                "with m:",
                "    r = flag  # .acquire: no Python equivalent",
                "    if r == 0:",
                "        c.wait()",
            ]
        );
        // Hand over hand: `a`'s block ends where `a` is released, `b` stays calls.
        assert_eq!(
            lines(&["lock a", "lock b", "unlock a", "unlock b"]),
            ["with a:", "    b.acquire()", "b.release()"]
        );
        // Released in another block: the calls stay.
        assert_eq!(
            lines(&["lock a", "if x", "unlock a", "end", "unlock a"]),
            ["a.acquire()", "if x:", "    a.release()", "a.release()"]
        );
        assert_eq!(
            lines(&["lock a", "if x", "unlock a", "end", "lock b", "unlock b"]),
            [
                "a.acquire()",
                "if x:",
                "    a.release()",
                "with b:",
                "    pass"
            ]
        );
    }
}
