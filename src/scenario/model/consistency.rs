//! RC11's consistency axioms over one candidate execution: coherence, atomicity, SC and no
//! thin air (see [`super::rc11`]).

use super::relation::{Rel, acyclic, closure, compose, identity, union};
use crate::sync::Ordering;

/// What an event of an execution does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Read,
    Write,
    Update,
    Fence,
}

/// One access or fence of an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    pub kind: Kind,
    pub var: u16,
    pub order: Ordering,
    /// The value read (reads and updates).
    pub read: i64,
    /// The value written (writes and updates).
    pub wrote: i64,
    /// For a read or an update, the write it reads from: (0, variable) for the initial
    /// write, (thread + 1, index in that thread's events) otherwise.
    pub from: Option<(u16, u16)>,
    /// A plain (non-atomic) access, which must not race.
    pub plain: bool,
}

impl Event {
    pub fn writes(&self) -> bool {
        matches!(self.kind, Kind::Write | Kind::Update)
    }
    pub fn reads(&self) -> bool {
        matches!(self.kind, Kind::Read | Kind::Update)
    }
    pub fn release(&self) -> bool {
        matches!(
            self.order,
            Ordering::Release | Ordering::AcqRel | Ordering::SeqCst
        )
    }
    pub fn acquire(&self) -> bool {
        matches!(
            self.order,
            Ordering::Acquire | Ordering::AcqRel | Ordering::SeqCst
        )
    }
    pub fn seqcst(&self) -> bool {
        self.order == Ordering::SeqCst
    }
}

/// Whether one candidate execution is consistent under RC11: its happens-before when it is.
pub fn consistent(
    events: &[Event],
    po: &Rel,
    rf_of: &[(usize, usize)],
    orders: &[Vec<usize>],
    vars: usize,
) -> Option<Rel> {
    let n = events.len();
    let bit = |j: usize| 1u64 << j;
    let mut rf: Rel = vec![0; n];
    let mut source = vec![usize::MAX; n];
    for &(w, r) in rf_of {
        rf[w] |= bit(r);
        source[r] = w;
    }
    // mo: per variable, the initial write, then the chosen order.
    let mut mo: Rel = vec![0; n];
    for (v, order) in orders.iter().enumerate().take(vars) {
        let chain: Vec<usize> = std::iter::once(v).chain(order.iter().copied()).collect();
        for (k, &a) in chain.iter().enumerate() {
            for &b in &chain[k + 1..] {
                mo[a] |= bit(b);
            }
        }
    }
    // Atomicity: an update reads from the write immediately before it in mo.
    for u in (0..n).filter(|&u| events[u].kind == Kind::Update) {
        let w = source[u];
        if mo[w] & bit(u) == 0 || (0..n).any(|x| mo[w] & bit(x) != 0 && mo[x] & bit(u) != 0) {
            return None;
        }
    }
    // rb (from-read): a read before every write mo-after the one it read from.
    let mut rb: Rel = vec![0; n];
    for r in (0..n).filter(|&r| events[r].reads()) {
        rb[r] = mo[source[r]] & !bit(r);
    }
    // No thin air.
    if !acyclic(&union(po, &rf)) {
        return None;
    }
    // Release sequences: a write, then the same thread's later writes to the variable, then
    // updates reading from them, and so on.
    let same_var = |a: usize, b: usize| {
        events[a].kind != Kind::Fence
            && events[b].kind != Kind::Fence
            && events[a].var == events[b].var
    };
    let mut rf_rmw: Rel = vec![0; n];
    for u in (0..n).filter(|&u| events[u].kind == Kind::Update) {
        rf_rmw[source[u]] |= bit(u);
    }
    let mut rs: Rel = vec![0; n];
    for w in (0..n).filter(|&w| events[w].writes()) {
        rs[w] |= bit(w);
        for w2 in (0..n).filter(|&w2| events[w2].writes() && same_var(w, w2)) {
            if po[w] & bit(w2) != 0 {
                rs[w] |= bit(w2);
            }
        }
    }
    let rs = compose(&rs, &union(&identity(n), &closure(&rf_rmw)));
    // sw = [E⊒rel]; ([F]; po)?; rs; rf; [R⊒rlx]; (po; [F])?; [E⊒acq]
    let mut release_to_write: Rel = vec![0; n];
    for a in (0..n).filter(|&a| events[a].release()) {
        if events[a].writes() {
            release_to_write[a] |= bit(a);
        }
        if events[a].kind == Kind::Fence {
            for w in (0..n).filter(|&w| events[w].writes()) {
                if po[a] & bit(w) != 0 {
                    release_to_write[a] |= bit(w);
                }
            }
        }
    }
    let mut read_to_acquire: Rel = vec![0; n];
    for r in (0..n).filter(|&r| events[r].reads()) {
        if events[r].acquire() {
            read_to_acquire[r] |= bit(r);
        }
        for f in (0..n).filter(|&f| events[f].kind == Kind::Fence && events[f].acquire()) {
            if po[r] & bit(f) != 0 {
                read_to_acquire[r] |= bit(f);
            }
        }
    }
    let sw = compose(
        &compose(&compose(&release_to_write, &rs), &rf),
        &read_to_acquire,
    );
    let hb = closure(&union(po, &sw));
    let eco = closure(&union(&union(&rf, &mo), &rb));
    // Coherence: hb ; eco? irreflexive.
    let hb_eco = compose(&hb, &eco);
    if (0..n).any(|i| (hb[i] | hb_eco[i]) & bit(i) != 0) {
        return None;
    }
    // SC: psc = psc_base ∪ psc_F acyclic.
    let sc_access = |i: usize| events[i].kind != Kind::Fence && events[i].seqcst();
    let sc_fence = |i: usize| events[i].kind == Kind::Fence && events[i].seqcst();
    if !(0..n).any(|i| sc_access(i) || sc_fence(i)) {
        return Some(hb);
    }
    let mut po_other: Rel = vec![0; n];
    let mut hb_loc: Rel = vec![0; n];
    for i in 0..n {
        for j in 0..n {
            if po[i] & bit(j) != 0 && !same_var(i, j) {
                po_other[i] |= bit(j);
            }
            if hb[i] & bit(j) != 0 && same_var(i, j) {
                hb_loc[i] |= bit(j);
            }
        }
    }
    let scb = union(
        &union(
            &union(po, &compose(&compose(&po_other, &hb), &po_other)),
            &hb_loc,
        ),
        &union(&mo, &rb),
    );
    // ([Esc] ∪ [Fsc]; hb?) on the left, ([Esc] ∪ hb?; [Fsc]) on the right.
    let mut left: Rel = vec![0; n];
    let mut right: Rel = vec![0; n];
    for i in 0..n {
        if sc_access(i) {
            left[i] |= bit(i);
            right[i] |= bit(i);
        }
        if sc_fence(i) {
            left[i] |= bit(i) | hb[i];
        }
        for f in (0..n).filter(|&f| sc_fence(f)) {
            if i == f || hb[i] & bit(f) != 0 {
                right[i] |= bit(f);
            }
        }
    }
    let psc_base = compose(&compose(&left, &scb), &right);
    let mut psc_f: Rel = vec![0; n];
    let hb_eco_hb = compose(&compose(&hb, &eco), &hb);
    for f in (0..n).filter(|&f| sc_fence(f)) {
        for g in (0..n).filter(|&g| sc_fence(g)) {
            if (hb[f] | hb_eco_hb[f]) & bit(g) != 0 {
                psc_f[f] |= bit(g);
            }
        }
    }
    acyclic(&union(&psc_base, &psc_f)).then_some(hb)
}

/// Two accesses of one consistent execution that race: the same variable, from different
/// threads, at least one a write and one plain, and neither happening before the other.
/// `thread_of` gives each event's thread (`usize::MAX` for the initial writes).
pub fn race(events: &[Event], hb: &Rel, thread_of: &[usize]) -> Option<(usize, usize)> {
    let n = events.len();
    let access = |i: usize| events[i].kind != Kind::Fence && thread_of[i] != usize::MAX;
    (0..n).filter(|&i| access(i)).find_map(|i| {
        (i + 1..n)
            .filter(|&j| access(j))
            .find(|&j| {
                let (a, b) = (&events[i], &events[j]);
                thread_of[i] != thread_of[j]
                    && a.var == b.var
                    && (a.writes() || b.writes())
                    && (a.plain || b.plain)
                    && hb[i] & (1 << j) == 0
                    && hb[j] & (1 << i) == 0
            })
            .map(|j| (i, j))
    })
}
