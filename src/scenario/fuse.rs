//! The compiler's last pass over a group's ops: the racy load-then-store pair made one op, so
//! that the commonest race costs the interpreter one dispatch; and orderings as std's.

use super::parse::Order;
use super::program::{CExpr, Op};
use crate::sync::Ordering;

/// Fuses each relaxed `r = load x` directly followed by a relaxed `store x = r + c` into one
/// [`Op::RacyAdd`], unless a jump lands between them; jump targets are renumbered.
pub fn fuse(ops: Vec<Op>) -> Vec<Op> {
    let targets: Vec<usize> = ops
        .iter()
        .filter_map(|op| match op {
            Op::JumpUnless { to, .. } | Op::Loop { to } => Some(*to),
            _ => None,
        })
        .collect();
    let mut fused = Vec::with_capacity(ops.len());
    let mut new_index = vec![0; ops.len() + 1];
    let mut i = 0;
    while i < ops.len() {
        new_index[i] = fused.len();
        if let (
            Op::Load {
                reg,
                var,
                order: Ordering::Relaxed,
                plain: false,
            },
            Some(Op::Store {
                var: stored,
                value: CExpr::SlotPlus(slot, add),
                order: Ordering::Relaxed,
                plain: false,
            }),
        ) = (&ops[i], ops.get(i + 1))
            && var == stored
            && *slot == u16::from(*reg)
            && !targets.contains(&(i + 1))
        {
            fused.push(Op::RacyAdd {
                reg: *reg,
                var: *var,
                add: *add,
            });
            new_index[i + 1] = fused.len() - 1;
            i += 2;
            continue;
        }
        fused.push(ops[i].clone());
        i += 1;
    }
    new_index[ops.len()] = fused.len();
    for op in &mut fused {
        if let Op::JumpUnless { to, .. } | Op::Loop { to } = op {
            *to = new_index[*to];
        }
    }
    fused
}

pub fn ordering(order: Order) -> Ordering {
    match order {
        // A plain access runs as relaxed: what a race-free program's plain accesses can see.
        Order::Relaxed | Order::Plain => Ordering::Relaxed,
        Order::Acquire => Ordering::Acquire,
        Order::Release => Ordering::Release,
        Order::AcqRel => Ordering::AcqRel,
        Order::SeqCst => Ordering::SeqCst,
    }
}
