//! Relations over the events of one small execution (at most 64), as one bit row per event:
//! what RC11's axioms are written in.

/// A relation over at most 64 events: row `i` has bit `j` set for each pair `(i, j)`.
pub type Rel = Vec<u64>;

pub fn compose(a: &Rel, b: &Rel) -> Rel {
    a.iter()
        .map(|&row| {
            let mut out = 0;
            let mut bits = row;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                out |= b[j];
                bits &= bits - 1;
            }
            out
        })
        .collect()
}

pub fn union(a: &Rel, b: &Rel) -> Rel {
    a.iter().zip(b).map(|(x, y)| x | y).collect()
}

pub fn closure(r: &Rel) -> Rel {
    let mut c = r.clone();
    for k in 0..c.len() {
        for i in 0..c.len() {
            if c[i] >> k & 1 == 1 {
                c[i] |= c[k];
            }
        }
    }
    c
}

pub fn acyclic(r: &Rel) -> bool {
    closure(r)
        .iter()
        .enumerate()
        .all(|(i, row)| row >> i & 1 == 0)
}

/// The identity relation.
pub fn identity(n: usize) -> Rel {
    (0..n).map(|i| 1u64 << i).collect()
}
