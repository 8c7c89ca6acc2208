//! What many runs of one command came to, kept as counts (outcomes, exit statuses), a fixed
//! sample of run times and the first few runs that differed or failed: memory does not grow
//! with the number of runs.

use indexmap::IndexMap;

use super::outcome::{self, Ended, OutcomeSpec};
use super::{Captured, Ran};

/// Run times kept for the median; beyond that, each run replaces a kept one at random
/// (reservoir sampling), so the median stays an unbiased estimate.
const TIMES: usize = 4_096;
/// Runs that differed or failed whose output the report shows.
const EXAMPLES: usize = 3;
/// Lines of each stream shown per example.
const TAIL_LINES: usize = 10;

/// A run that differed or failed, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Example {
    pub run: u64,
    pub outcome: String,
    pub status: String,
    pub stdout_tail: String,
    pub stderr_tail: String,
}

/// One command's runs so far.
#[derive(Debug, Clone)]
pub struct Tally {
    spec: OutcomeSpec,
    correct: Vec<String>,
    pub runs: u64,
    /// Outcome -> runs, in the order first seen.
    pub outcomes: IndexMap<String, u64>,
    /// Exit status ("exit 0", "killed by SIGSEGV", "timeout") -> runs.
    pub statuses: IndexMap<String, u64>,
    /// Runs that differed from the correct outcomes (with `--correct`), or failed.
    pub differed: u64,
    /// Runs whose output was longer than racedemo keeps.
    pub truncated: u64,
    times_ns: Vec<u64>,
    pub min_ns: u64,
    pub max_ns: u64,
    pub examples: Vec<Example>,
    rng: u64,
}

impl Tally {
    pub fn new(spec: OutcomeSpec, correct: Vec<String>, seed: u64) -> Self {
        Tally {
            spec,
            correct,
            runs: 0,
            outcomes: IndexMap::new(),
            statuses: IndexMap::new(),
            differed: 0,
            truncated: 0,
            times_ns: Vec::new(),
            min_ns: u64::MAX,
            max_ns: 0,
            examples: Vec::new(),
            rng: seed | 1,
        }
    }

    /// Whether `outcome` is a correct one: with `--correct`, one of them; without, no run
    /// is called wrong unless it failed.
    pub fn is_correct(&self, outcome: &str, ended: Ended) -> bool {
        if self.correct.is_empty() {
            return ended.succeeded() || matches!(self.spec, OutcomeSpec::Exit);
        }
        self.correct.iter().any(|c| c == outcome)
    }

    /// Counts `ran`; whether it differed (or failed).
    pub fn add(&mut self, ran: &Ran) -> bool {
        let outcome = self.spec.of(&ran.stdout.bytes, ran.ended);
        let correct = self.is_correct(&outcome, ran.ended);
        self.runs += 1;
        *self.outcomes.entry(outcome.clone()).or_default() += 1;
        *self.statuses.entry(ran.ended.describe()).or_default() += 1;
        self.truncated += u64::from(ran.stdout.truncated || ran.stderr.truncated);
        let ns = ran.elapsed.as_nanos() as u64;
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
        if self.times_ns.len() < TIMES {
            self.times_ns.push(ns);
        } else {
            // xorshift: a fixed stream, so a seeded run keeps the same sample.
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let slot = self.rng % self.runs;
            if (slot as usize) < TIMES {
                self.times_ns[slot as usize] = ns;
            }
        }
        if !correct {
            self.differed += 1;
            if self.examples.len() < EXAMPLES {
                self.examples.push(Example {
                    run: ran.index,
                    outcome,
                    status: ran.ended.describe(),
                    stdout_tail: tail(&ran.stdout),
                    stderr_tail: tail(&ran.stderr),
                });
            }
        }
        !correct
    }

    /// The median run time, from the kept sample.
    pub fn median_ns(&self) -> u64 {
        let mut t = self.times_ns.clone();
        t.sort_unstable();
        t.get(t.len() / 2).copied().unwrap_or(0)
    }

    /// The outcomes, most common first (ties in order of their value, numbers as numbers, so
    /// that a report does not depend on which run finished first).
    pub fn by_count(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> =
            self.outcomes.iter().map(|(k, &n)| (k.clone(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| by_value(&a.0, &b.0)));
        v
    }
}

/// Numbers in numeric order, before any other text in text order.
fn by_value(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// The last lines of a stream, escaped, each cut at 200 characters.
fn tail(captured: &Captured) -> String {
    let text = outcome::escaped(&captured.bytes);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(TAIL_LINES);
    lines[from..]
        .iter()
        .map(|l| l.chars().take(200).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ran(index: u64, out: &str, ended: Ended) -> Ran {
        Ran {
            index,
            ended,
            stdout: Captured {
                bytes: out.as_bytes().to_vec(),
                truncated: false,
            },
            stderr: Captured::default(),
            elapsed: Duration::from_millis(index + 1),
        }
    }

    #[test]
    fn runs_are_counted_by_outcome_and_the_wrong_ones_kept_as_examples() {
        let mut t = Tally::new(OutcomeSpec::LastLine, vec!["0".into()], 7);
        for (i, out) in ["0\n", "-3\n", "0\n", "2\n", "0\n", "5\n"]
            .iter()
            .enumerate()
        {
            t.add(&ran(i as u64, out, Ended::Exited(0)));
        }
        t.add(&ran(6, "0\n", Ended::Exited(1)));
        assert_eq!(t.runs, 7);
        assert_eq!(t.differed, 4, "-3, 2, 5 and the failed run");
        assert_eq!(t.by_count()[0], ("0".to_string(), 3));
        assert_eq!(t.statuses["exit 1"], 1);
        assert_eq!(t.examples.len(), 3);
        assert_eq!(t.examples[0].outcome, "-3");
        assert_eq!((t.min_ns, t.max_ns), (1_000_000, 7_000_000));
        assert_eq!(t.median_ns(), 4_000_000);
    }

    #[test]
    fn without_correct_values_only_failed_runs_differ() {
        let mut t = Tally::new(OutcomeSpec::LastLine, Vec::new(), 7);
        t.add(&ran(0, "a\n", Ended::Exited(0)));
        t.add(&ran(1, "b\n", Ended::Exited(0)));
        t.add(&ran(2, "", Ended::TimedOut));
        assert_eq!(t.differed, 1);
        assert_eq!(t.examples[0].outcome, "timeout");
    }
}
