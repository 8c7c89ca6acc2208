//! Histograms of final values: a few readable bins however many distinct values there are.

use std::collections::BTreeMap;

use serde::Serialize;

/// Most bars a histogram has: enough to show the shape, few enough to read at a glance.
pub const MAX_BINS: usize = 12;

/// The trials whose final value was in `low..=high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bin {
    pub low: u64,
    pub high: u64,
    pub count: u64,
}

/// Bins the counts of final values (`value -> trials`) into at most [`MAX_BINS`] bars.
///
/// Up to that many distinct values each get a bar of their own. Beyond it, `expected` (the
/// correct value) keeps a bar of its own, so "right" is never lumped in with "nearly right",
/// and the other values share bins of equal, round width (1, 2 or 5 times a power of ten),
/// empty bins included, so the gaps show.
pub fn bins(finals: &BTreeMap<u64, u64>, expected: u64) -> Vec<Bin> {
    if finals.len() <= MAX_BINS {
        return finals
            .iter()
            .map(|(&v, &count)| Bin {
                low: v,
                high: v,
                count,
            })
            .collect();
    }
    let exact = finals.get(&expected).copied();
    let others = || finals.iter().filter(|&(&v, _)| v != expected);
    let (Some((&min, _)), Some((&max, _))) = (others().next(), others().next_back()) else {
        return Vec::new();
    };
    // The expected value's own bar can split a bin of others in three (below, it, above):
    // keep two bars for that, so the promise of MAX_BINS holds.
    let slots = (MAX_BINS - if exact.is_some() { 2 } else { 0 }) as u64;
    // The narrowest round width whose bins, aligned to it so that labels read 1,000–1,099
    // rather than 1,013–1,112, fit in the slots.
    let mut width = 1;
    while (max - min / width * width) / width >= slots {
        width = round_width(width + 1);
    }
    let first = min / width * width;
    let n = (max - first) / width + 1;
    let mut out: Vec<Bin> = Vec::new();
    for i in 0..n {
        let (low, high) = (first + i * width, first + (i + 1) * width - 1);
        if exact.is_some() && (low..=high).contains(&expected) {
            // The expected value falls inside a bin of others: split that bin around it.
            let below = (low < expected).then(|| (low, expected - 1));
            let above = (expected < high).then(|| (expected + 1, high));
            let parts = [below, Some((expected, expected)), above];
            out.extend(parts.into_iter().flatten().map(|(low, high)| Bin {
                low,
                high,
                count: 0,
            }));
        } else {
            out.push(Bin {
                low,
                high,
                count: 0,
            });
        }
    }
    // Outside the bins of others, the expected value's bar goes before or after them.
    let last = first + n * width - 1;
    if exact.is_some() && !(first..=last).contains(&expected) {
        let alone = Bin {
            low: expected,
            high: expected,
            count: 0,
        };
        if expected < first {
            out.insert(0, alone);
        } else {
            out.push(alone);
        }
    }
    for (&v, &count) in finals {
        let at = out.partition_point(|b| b.high < v);
        out[at].count += count;
    }
    out
}

/// The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `w`.
fn round_width(w: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(x) = step.checked_mul(m).filter(|&x| x >= w) {
                return x;
            }
        }
        match step.checked_mul(10) {
            Some(next) => step = next,
            None => return u64::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finals(pairs: &[(u64, u64)]) -> BTreeMap<u64, u64> {
        pairs.iter().copied().collect()
    }

    fn bin(low: u64, high: u64, count: u64) -> Bin {
        Bin { low, high, count }
    }

    #[test]
    fn few_distinct_values_get_a_bar_each() {
        assert_eq!(
            bins(&finals(&[(1, 5), (2, 3), (4, 10)]), 4),
            vec![bin(1, 1, 5), bin(2, 2, 3), bin(4, 4, 10)]
        );
    }

    #[test]
    fn many_values_share_round_bins_and_the_expected_value_keeps_its_own() {
        // 3,013 .. 3,987 spread over 40 values, plus 4,000 (expected) twice.
        let mut f: BTreeMap<u64, u64> = (0..40).map(|i| (3_013 + 25 * i, 1)).collect();
        f.insert(4_000, 2);
        let b = bins(&f, 4_000);
        assert_eq!(b.len(), 11, "{b:?}");
        assert_eq!(b[0], bin(3_000, 3_099, 4));
        assert_eq!(b[9], bin(3_900, 3_999, 4));
        assert_eq!(b[10], bin(4_000, 4_000, 2));
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 42);
    }

    #[test]
    fn alignment_that_would_need_a_thirteenth_bin_widens_the_bins() {
        // 5..=124: bins of 10 aligned to 0 would need 13 (0..=9 to 120..=129); of 20, 7.
        let f: BTreeMap<u64, u64> = (5..=124).step_by(7).chain([124]).map(|v| (v, 1)).collect();
        let b = bins(&f, 1_000);
        assert_eq!(b.len(), 7, "{b:?}");
        assert_eq!((b[0].low, b[0].high), (0, 19));
        assert_eq!((b[6].low, b[6].high), (120, 139));
    }

    #[test]
    fn an_expected_value_inside_a_bin_splits_it_in_three() {
        // Others 0..=99 in bins of 10; the expected 55 splits 50..=59.
        let mut f: BTreeMap<u64, u64> = (0..100).filter(|&v| v != 55).map(|v| (v, 1)).collect();
        f.insert(55, 7);
        let b = bins(&f, 55);
        assert_eq!(b.len(), MAX_BINS, "{b:?}");
        assert_eq!(&b[5..8], [bin(50, 54, 5), bin(55, 55, 7), bin(56, 59, 4)]);
    }

    #[test]
    fn an_expected_value_on_a_bin_edge_leaves_one_part_of_it() {
        // Others 0..=99 in bins of 10: the expected 50 starts 50..=59, 59 ends it.
        for (expected, parts) in [
            (50, [bin(50, 50, 3), bin(51, 59, 9)]),
            (59, [bin(50, 58, 9), bin(59, 59, 3)]),
        ] {
            let mut f: BTreeMap<u64, u64> = (0..100).map(|v| (v, 1)).collect();
            f.insert(expected, 3);
            let b = bins(&f, expected);
            assert_eq!(b.len(), 11, "{b:?}");
            assert_eq!(&b[5..7], parts, "{b:?}");
        }
    }

    #[test]
    fn an_expected_value_no_trial_reached_gets_no_bar() {
        let f: BTreeMap<u64, u64> = (0..100).map(|v| (v * 3, 1)).collect();
        for expected in [1, 151, 1_000] {
            let b = bins(&f, expected);
            assert!(b.iter().all(|x| x.low != x.high), "{expected}: {b:?}");
            assert!(b.windows(2).all(|w| w[0].high + 1 == w[1].low), "{b:?}");
        }
    }

    /// Whether `w` is 1, 2 or 5 times a power of ten.
    fn is_round(w: u64) -> bool {
        let mut w = w;
        while w >= 10 && w.is_multiple_of(10) {
            w /= 10;
        }
        matches!(w, 1 | 2 | 5)
    }

    /// The widths a bin of others can have, the expected value's split parts aside.
    fn full_width(b: &[Bin], expected: Option<u64>) -> Option<u64> {
        let near = |x: &Bin| expected.is_some_and(|e| x.low == e + 1 || x.high + 1 == e);
        b.iter()
            .filter(|x| Some(x.low) != expected && !near(x))
            .map(|x| x.high - x.low + 1)
            .max()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        #[test]
        fn bins_hold_every_final_once_in_order_and_never_more_than_promised(
            raw in proptest::collection::btree_map(0u64..5_000, 1u64..5, 1..120),
            scale in 1u64..40,
            offset in 0u64..1_000_000,
            pick in 0usize..200,
            outside in 0u64..6_000,
        ) {
            // Spreads from a few dozen to a few hundred thousand, anywhere on the line.
            let values: BTreeMap<u64, u64> =
                raw.iter().map(|(&v, &c)| (offset + v * scale, c)).collect();
            // The expected value: one of the finals (a correct trial), or any value.
            let expected = values.keys().nth(pick).copied().unwrap_or(offset + outside * scale);
            let b = bins(&values, expected);
            proptest::prop_assert!(b.len() <= MAX_BINS, "{} bins", b.len());
            // Ordered and non-overlapping; every final in exactly one bin, counted there.
            proptest::prop_assert!(b.iter().all(|x| x.low <= x.high));
            proptest::prop_assert!(b.windows(2).all(|w| w[0].high < w[1].low));
            for x in &b {
                let inside: u64 = values.range(x.low..=x.high).map(|(_, c)| c).sum();
                proptest::prop_assert_eq!(x.count, inside, "{:?}", x);
            }
            for v in values.keys() {
                let holding = b.iter().filter(|x| (x.low..=x.high).contains(v)).count();
                proptest::prop_assert_eq!(holding, 1, "{} in {:?}", v, b);
            }
            let exact = values.contains_key(&expected);
            if values.len() <= MAX_BINS {
                // A bar per value.
                let each: Vec<(u64, u64, u64)> = values.iter().map(|(&v, &c)| (v, v, c)).collect();
                let shown: Vec<(u64, u64, u64)> = b.iter().map(|x| (x.low, x.high, x.count)).collect();
                proptest::prop_assert_eq!(shown, each);
                proptest::prop_assert_eq!(b.len(), values.len());
                return Ok(());
            }
            // Contiguous from the first bin to the last.
            proptest::prop_assert!(b.windows(2).all(|w| w[0].high + 1 == w[1].low
                || (exact && (w[1].low == expected || w[0].high == expected))));
            // The expected value alone in its bar, when a trial ended there.
            proptest::prop_assert_eq!(
                b.iter().any(|x| x.low == expected && x.high == expected),
                exact
            );
            // Bins of others share one round width, aligned to it, and no narrower round
            // width would fit them in the bars left.
            let e = exact.then_some(expected);
            let w = full_width(&b, e).unwrap();
            proptest::prop_assert!(is_round(w), "width {}", w);
            let first = b.iter().find(|x| Some(x.low) != e).unwrap();
            proptest::prop_assert_eq!(first.low % w, 0, "{:?} width {}", first, w);
            let others: Vec<u64> = values.keys().copied().filter(|&v| Some(v) != e).collect();
            let (min, max) = (others[0], *others.last().unwrap());
            let slots = (MAX_BINS - if exact { 2 } else { 0 }) as u64;
            proptest::prop_assert!((max - first.low) / w < slots);
            let narrower = (1..w).rev().find(|&x| is_round(x));
            if let Some(n) = narrower {
                proptest::prop_assert!((max - min / n * n) / n >= slots, "{} would fit", n);
            }
        }
    }

    #[test]
    fn widths_are_round() {
        assert_eq!(round_width(1), 1);
        assert_eq!(round_width(3), 5);
        assert_eq!(round_width(88), 100);
        assert_eq!(round_width(101), 200);
        assert_eq!(round_width(u64::MAX), u64::MAX);
    }
}
