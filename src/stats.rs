//! Statistics over trials: pure functions and a bounded tally, no I/O.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::histogram;

/// The normal quantile for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval for `hits` successes in `n` trials.
///
/// Unlike the textbook p ± 1.96·sqrt(p(1-p)/n), it stays inside [0, 1] and does not collapse to
/// a zero-width interval when nothing (or everything) happened.
pub fn wilson95(hits: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (k, n) = (hits as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    let lo = if hits == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if hits as f64 == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    [lo, hi]
}

/// The one-sided 95% upper bound on a rate of which no event was seen in `n` trials: the exact
/// (Clopper–Pearson) bound `1 - 0.05^(1/n)`, e.g. below 14% after 0 of 20.
pub fn upper95_when_none(n: u64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    1.0 - 0.05f64.powf(1.0 / n as f64)
}

/// Lost updates over the trials of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lost {
    pub min: u64,
    /// The lower median: the middle trial's value, or the smaller of the two middle ones.
    pub median: u64,
    pub max: u64,
    /// Mean lost updates as a share of the expected final value.
    pub mean_fraction: f64,
}

/// How much the threads' loops overlapped, over the trials of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    pub min: f64,
    pub mean: f64,
    /// The mean over the trials that lost nothing: low when those threads ran one at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_when_correct: Option<f64>,
}

/// How many trials differed (showed the race), with the uncertainty of that rate. Every summary
/// has one, flattened into it in the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    pub differed: u64,
    pub differed_rate: f64,
    pub differed_ci95: [f64; 2],
    /// With no differing trial, the rate is below this at 95% confidence (one-sided).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differed_upper95: Option<f64>,
}

impl Rate {
    /// How sure the rate is, as every format prints it: the 95% Wilson interval ("22%–61%")
    /// when some trial differed; when none did, the exact one-sided 95% bound ("< 45%
    /// (one-sided)"), which answers the question then asked: how common could it be?
    pub fn uncertainty(&self) -> String {
        match self.differed_upper95 {
            Some(bound) => format!("< {} (one-sided)", crate::format::percent(bound)),
            None => {
                let [lo, hi] = self.differed_ci95;
                format!(
                    "{}–{}",
                    crate::format::percent(lo),
                    crate::format::percent(hi)
                )
            }
        }
    }

    /// "2 of 3 (67%)": the trials that differed, out of all, as the tables show it.
    pub fn of(&self, trials: u64) -> String {
        format!(
            "{} of {} ({})",
            crate::format::thousands(self.differed),
            crate::format::thousands(trials),
            crate::format::percent(self.differed_rate)
        )
    }

    pub fn new(differed: u64, trials: u64) -> Self {
        Rate {
            differed,
            differed_rate: ratio(differed as f64, trials as f64),
            differed_ci95: wilson95(differed, trials),
            differed_upper95: (differed == 0).then(|| upper95_when_none(trials)),
        }
    }
}

/// How fast a run went and how much its threads overlapped. Every summary has one, flattened
/// into it in the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pace {
    /// Wall-clock nanoseconds per operation: the trials' elapsed time over all operations.
    pub ns_per_op: f64,
    pub overlap: Overlap,
    /// Total elapsed time of the trials' loops.
    pub elapsed_ns: u64,
    /// Trials, and trials that differed, per second of the whole run (thread start-up and
    /// bookkeeping included): how fast this run samples the race.
    pub trials_per_second: f64,
    pub differed_per_second: f64,
}

/// The summary of one strategy's trials; its field names are part of the JSON schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub trials: u64,
    #[serde(flatten)]
    pub rate: Rate,
    pub lost: Lost,
    pub distinct_finals: u64,
    #[serde(flatten)]
    pub pace: Pace,
    /// On a store: retries, errors and the pace of acknowledged increments, over all trials.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ops: Option<StoreOps>,
}

/// One trial as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialRow {
    /// 1-based.
    pub trial: u64,
    #[serde(rename = "final")]
    pub final_value: u64,
    /// Increments acknowledged: the final value when none is lost (`final + lost = expected`).
    pub expected: u64,
    pub lost: u64,
    pub elapsed_ns: u64,
    pub overlap: f64,
    /// On a store: its retries, errors and pace.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ops: Option<StoreOps>,
}

/// What increments on a store cost, over one trial or a whole run: retries, failures by kind,
/// and the pace of acknowledged increments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreOps {
    pub acknowledged: u64,
    pub retries: u64,
    /// Increments abandoned after a failure with no retry left: never acknowledged.
    pub given_up: u64,
    /// Failed attempts by kind (busy, locked, torn-read, ...), retried or not.
    pub errors: BTreeMap<String, u64>,
    pub acknowledged_per_second: f64,
    pub us_per_increment: f64,
}

impl StoreOps {
    /// From counts over `elapsed_ns` of the workers' loops.
    pub fn new(
        acknowledged: u64,
        retries: u64,
        given_up: u64,
        errors: BTreeMap<String, u64>,
        elapsed_ns: u64,
    ) -> Self {
        StoreOps {
            acknowledged,
            retries,
            given_up,
            errors,
            acknowledged_per_second: ratio(acknowledged as f64 * 1e9, elapsed_ns as f64),
            us_per_increment: ratio(elapsed_ns as f64 / 1e3, acknowledged as f64),
        }
    }

    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Time and overlap over the trials of one run, whatever their outcomes.
#[derive(Debug, Clone)]
pub struct Timing {
    trials: u64,
    elapsed_ns: u64,
    overlap_sum: f64,
    overlap_min: f64,
    correct_trials: u64,
    overlap_sum_correct: f64,
    wall_ns: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            trials: 0,
            elapsed_ns: 0,
            overlap_sum: 0.0,
            overlap_min: 1.0,
            correct_trials: 0,
            overlap_sum_correct: 0.0,
            wall_ns: 0,
        }
    }
}

impl Timing {
    /// Adds one trial; `correct` says whether it showed nothing (no race).
    pub fn add(&mut self, elapsed_ns: u64, overlap: f64, correct: bool) {
        self.trials += 1;
        self.elapsed_ns = self.elapsed_ns.saturating_add(elapsed_ns);
        self.overlap_sum += overlap;
        self.overlap_min = self.overlap_min.min(overlap);
        if correct {
            self.correct_trials += 1;
            self.overlap_sum_correct += overlap;
        }
    }

    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// The wall-clock time of the whole run, overheads included, for the rates per second.
    pub fn set_wall_ns(&mut self, wall_ns: u64) {
        self.wall_ns = wall_ns;
    }

    /// `count` events per second of the run's wall-clock time.
    pub fn per_second(&self, count: u64) -> f64 {
        ratio(count as f64 * 1e9, self.wall_ns as f64)
    }

    /// Nanoseconds per operation, given how many operations each trial performs.
    fn ns_per_op(&self, ops_per_trial: u64) -> f64 {
        ratio(
            self.elapsed_ns as f64,
            ops_per_trial as f64 * self.trials as f64,
        )
    }

    /// Speed and overlap, given each trial's operations and how many trials differed.
    pub fn pace(&self, ops_per_trial: u64, differed: u64) -> Pace {
        Pace {
            ns_per_op: self.ns_per_op(ops_per_trial),
            overlap: self.overlap(),
            elapsed_ns: self.elapsed_ns,
            trials_per_second: self.per_second(self.trials),
            differed_per_second: self.per_second(differed),
        }
    }

    fn overlap(&self) -> Overlap {
        Overlap {
            min: if self.trials == 0 {
                0.0
            } else {
                self.overlap_min
            },
            mean: ratio(self.overlap_sum, self.trials as f64),
            mean_when_correct: (self.correct_trials > 0)
                .then(|| self.overlap_sum_correct / self.correct_trials as f64),
        }
    }
}

/// Accumulates the trials of one counter run in memory bounded by the number of distinct final
/// values plus `detail_limit` listed trials, however many trials there are.
#[derive(Debug, Clone)]
pub struct Tally {
    expected: u64,
    detail_limit: usize,
    finals: BTreeMap<u64, u64>,
    rows: Vec<TrialRow>,
    timing: Timing,
}

impl Tally {
    pub fn new(expected: u64, detail_limit: usize) -> Self {
        Tally {
            expected,
            detail_limit,
            finals: BTreeMap::new(),
            rows: Vec::new(),
            timing: Timing::default(),
        }
    }

    pub fn add(&mut self, final_value: u64, elapsed_ns: u64, overlap: f64) {
        self.add_counted(final_value, self.expected, elapsed_ns, overlap);
    }

    /// A trial whose own expected value is `expected`: on a store, the increments the store
    /// acknowledged, fewer than planned when attempts failed. The finals are kept as the
    /// planned value less what was lost, so that every trial's loss counts on one scale.
    pub fn add_counted(&mut self, final_value: u64, expected: u64, elapsed_ns: u64, overlap: f64) {
        let lost = expected.saturating_sub(final_value);
        let on_scale = self.expected.saturating_sub(lost);
        self.timing.add(elapsed_ns, overlap, lost == 0);
        *self.finals.entry(on_scale).or_insert(0) += 1;
        if self.rows.len() < self.detail_limit {
            self.rows.push(TrialRow {
                trial: self.timing.trials(),
                final_value,
                expected,
                lost,
                elapsed_ns,
                overlap,
                ops: None,
            });
        }
    }

    /// Attaches a store trial's retries and errors to its row, when the row is kept.
    pub fn set_ops(&mut self, trial: u64, ops: StoreOps) {
        if let Some(row) = self.rows.iter_mut().find(|r| r.trial == trial) {
            row.ops = Some(ops);
        }
    }

    pub fn set_wall_ns(&mut self, wall_ns: u64) {
        self.timing.set_wall_ns(wall_ns);
    }

    /// Trials added so far.
    pub fn trials(&self) -> u64 {
        self.timing.trials()
    }

    /// Trials whose final value differed from the expected one.
    pub fn differed(&self) -> u64 {
        self.trials() - self.finals.get(&self.expected).copied().unwrap_or(0)
    }

    /// The final values in at most [`histogram::MAX_BINS`] bars.
    pub fn histogram(&self) -> Vec<histogram::Bin> {
        histogram::bins(&self.finals, self.expected)
    }

    /// The first `detail_limit` trials, in order.
    pub fn rows(&self) -> &[TrialRow] {
        &self.rows
    }

    // A final value above the expected one cannot come from increments alone; count it as
    // nothing lost rather than wrapping around.
    fn lost(&self, final_value: u64) -> u64 {
        self.expected.saturating_sub(final_value)
    }

    pub fn summary(&self) -> Summary {
        let (n, differed) = (self.trials(), self.differed());
        let lost_total: u128 = self
            .finals
            .iter()
            .map(|(&f, &c)| self.lost(f) as u128 * c as u128)
            .sum();
        Summary {
            trials: n,
            rate: Rate::new(differed, n),
            lost: Lost {
                // Largest final value = fewest lost.
                min: self.finals.keys().next_back().map_or(0, |&f| self.lost(f)),
                median: self.lost_median(),
                max: self.finals.keys().next().map_or(0, |&f| self.lost(f)),
                mean_fraction: ratio(lost_total as f64, self.expected as f64 * n as f64),
            },
            distinct_finals: self.finals.len() as u64,
            // Every trial performs `expected` increments.
            pace: self.timing.pace(self.expected, differed),
            ops: None,
        }
    }

    fn lost_median(&self) -> u64 {
        let trials = self.timing.trials();
        if trials == 0 {
            return 0;
        }
        // Lost updates ascend as final values descend: walk the finals from the top.
        let rank = (trials - 1) / 2;
        let mut seen = 0;
        for (&f, &c) in self.finals.iter().rev() {
            seen += c;
            if seen > rank {
                return self.lost(f);
            }
        }
        unreachable!("the counts add up to the number of trials")
    }
}

pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    #[test]
    fn wilson_interval_matches_published_values() {
        // 19 of 20: 0.7639..0.9911 (Wilson 1927 formula, as in Newcombe 1998).
        let [lo, hi] = wilson95(19, 20);
        assert!(close(lo, 0.7639) && close(hi, 0.9911), "{lo} {hi}");
        // 0 of 20: the interval starts at exactly 0 and reaches 16.1%.
        let [lo, hi] = wilson95(0, 20);
        assert_eq!(lo, 0.0);
        assert!(close(hi, 0.1611), "{hi}");
        assert_eq!(wilson95(20, 20)[1], 1.0);
        assert_eq!(wilson95(0, 0), [0.0, 1.0]);
    }

    #[test]
    fn no_event_bound_is_below_14_percent_after_20_trials() {
        let b = upper95_when_none(20);
        assert!(close(b, 0.1391), "{b}");
        assert!(close(upper95_when_none(1), 0.95));
    }

    #[test]
    fn tally_summarises_lost_updates_exactly() {
        let mut t = Tally::new(100, 2);
        for f in [100, 90, 60, 90, 100] {
            t.add(f, 1_000, 0.5);
        }
        let s = t.summary();
        assert_eq!((s.trials, s.rate.differed, s.distinct_finals), (5, 3, 3));
        assert_eq!(
            s.lost,
            Lost {
                min: 0,
                median: 10,
                max: 40,
                mean_fraction: 0.12
            }
        );
        assert_eq!(s.rate.differed_upper95, None);
        assert_eq!(s.pace.ns_per_op, 10.0);
        assert_eq!(s.pace.elapsed_ns, 5_000);
        assert_eq!(s.pace.overlap.mean_when_correct, Some(0.5));
        assert_eq!(t.rows().len(), 2, "only the first two trials are listed");
        assert_eq!((t.rows()[1].trial, t.rows()[1].lost), (2, 10));
    }

    #[test]
    fn tally_with_even_trials_takes_the_lower_median() {
        let mut t = Tally::new(10, 0);
        for f in [10, 9, 8, 7] {
            t.add(f, 1, 1.0);
        }
        assert_eq!(t.summary().lost.median, 1);
    }

    #[test]
    fn tally_of_correct_trials_gives_the_no_event_bound() {
        let mut t = Tally::new(8, 0);
        for _ in 0..20 {
            t.add(8, 1, 1.0);
        }
        let s = t.summary();
        assert_eq!((s.rate.differed, s.rate.differed_rate), (0, 0.0));
        assert!(close(s.rate.differed_upper95.unwrap(), 0.1391));
        assert_eq!(
            s.lost,
            Lost {
                min: 0,
                median: 0,
                max: 0,
                mean_fraction: 0.0
            }
        );
    }
}
