//! When each thread of a trial ran, and how much of the trial they ran together: what every
//! way of running trials measures, in one place.

use std::time::{Duration, Instant};

/// When one thread was inside its part, in nanoseconds from the trial's first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start_ns: u64,
    pub end_ns: u64,
}

/// The share of a trial's time, from the first thread's start to the last thread's end, during
/// which at least two threads were inside their loops. Threads race only in that time.
pub fn overlap(spans: &[Span]) -> f64 {
    let (Some(first), Some(last)) = (
        spans.iter().map(|s| s.start_ns).min(),
        spans.iter().map(|s| s.end_ns).max(),
    ) else {
        return 0.0;
    };
    if last <= first {
        return 0.0;
    }
    // Sweep the starts (+1) and ends (-1) in time order; an end sorts before a start at the
    // same instant, so loops that merely touch do not count as overlapping.
    let mut events: Vec<(u64, i32)> = spans
        .iter()
        .flat_map(|s| [(s.start_ns, 1), (s.end_ns, -1)])
        .collect();
    events.sort_unstable();
    let (mut inside, mut since, mut together) = (0i32, first, 0u64);
    for (at, step) in events {
        if inside >= 2 {
            together += at - since;
        }
        inside += step;
        since = at;
    }
    together as f64 / (last - first) as f64
}

/// Each thread's (start, end) as spans from the earliest start.
pub fn spans_from(times: &[(Instant, Instant)]) -> Vec<Span> {
    let Some(origin) = times.iter().map(|t| t.0).min() else {
        return Vec::new();
    };
    times
        .iter()
        .map(|&(s, e)| Span {
            start_ns: nanos(s.duration_since(origin)),
            end_ns: nanos(e.duration_since(origin)),
        })
        .collect()
}

pub fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start_ns: u64, end_ns: u64) -> Span {
        Span { start_ns, end_ns }
    }

    #[test]
    fn overlap_counts_time_with_two_or_more_threads_inside() {
        assert_eq!(overlap(&[span(0, 100), span(0, 100)]), 1.0);
        assert_eq!(overlap(&[span(0, 50), span(50, 100)]), 0.0);
        assert_eq!(overlap(&[span(0, 100), span(25, 75)]), 0.5);
        // Three threads: two together from 10 to 30 and from 60 to 70, of 0..100.
        assert_eq!(overlap(&[span(0, 30), span(10, 70), span(60, 100)]), 0.3);
        assert_eq!(overlap(&[span(0, 100)]), 0.0);
        assert_eq!(overlap(&[]), 0.0);
    }
}
