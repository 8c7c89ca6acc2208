//! The report model of `exec`: for each command, its outcomes and how often each came, the
//! exit statuses, how often a run differed from the correct outcomes, run times, and the
//! first runs that differed or failed.

use serde::Serialize;

use super::Envelope;
use crate::command::tally::Example;
use crate::expect::Expect;
use crate::options::Perturbations;
use crate::stats::Rate;

/// `exec`: how the runs were made, and one result per command.
#[derive(Debug, Clone, Serialize)]
pub struct ExecBody {
    /// Runs asked of each command.
    pub runs: u64,
    pub parallel: usize,
    pub timeout_s: f64,
    /// Where a run's outcome was read from, in words.
    pub outcome_from: String,
    pub seed: u64,
    /// What was done to make a hidden race show.
    pub perturbations: Perturbations,
    /// With --vary, what was varied (`switch-interval`); each command then has a result per
    /// setting, in `commands`, named by its `setting`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub varied: Option<&'static str>,
    pub commands: Vec<CommandResult>,
    /// What the settings of --vary changed, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

pub type ExecReport = Envelope<ExecBody>;

/// One command's runs.
#[derive(Debug, Clone, Serialize)]
pub struct CommandResult {
    /// As given (`-c`'s string, or the program and its arguments).
    pub command: String,
    /// With --vary, the setting these runs had (`cpus=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// Runs made (fewer than asked when interrupted).
    pub runs: u64,
    /// The correct outcomes (`--correct`), if any.
    pub correct: Vec<String>,
    /// Each outcome and its runs, most common first.
    pub outcomes: Vec<OutcomeCount>,
    /// Each way a run ended ("exit 0", "killed by SIGSEGV", "timeout") and its runs.
    pub statuses: Vec<StatusCount>,
    /// Where every outcome is a whole number and there are many: the runs in at most 12
    /// round bins, the correct value (one --correct) on a bar of its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<OutcomeBin>,
    /// Runs that differed from the correct outcomes, or failed, with the same statistic the
    /// counter uses (95% Wilson interval; the one-sided bound when none did).
    pub differed: Rate,
    pub time: RunTimes,
    /// The first runs that differed or failed, with the tail of their output.
    pub examples: Vec<Example>,
    /// Runs whose output was longer than racedemo keeps (1 MiB a stream).
    pub truncated: u64,
    pub expect: Expect,
    pub expect_met: bool,
    pub notes: Vec<String>,
}

/// An outcome and how many runs came to it.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeCount {
    pub value: String,
    pub runs: u64,
    pub share: f64,
    /// Whether it is one of the correct outcomes (absent without --correct).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct: Option<bool>,
}

/// The runs whose outcome was a number in `low..=high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutcomeBin {
    pub low: i64,
    pub high: i64,
    pub runs: u64,
}

/// A way a run ended and how many runs ended so.
#[derive(Debug, Clone, Serialize)]
pub struct StatusCount {
    pub status: String,
    pub runs: u64,
}

/// Run times, in seconds (the median from a sample of at most 4,096 runs).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RunTimes {
    pub min_s: f64,
    pub median_s: f64,
    pub max_s: f64,
}

impl RunTimes {
    /// The run times a tally kept.
    pub fn of(tally: &crate::command::tally::Tally) -> RunTimes {
        let secs = |ns: u64| ns as f64 / 1e9;
        RunTimes {
            min_s: if tally.runs == 0 {
                0.0
            } else {
                secs(tally.min_ns)
            },
            median_s: secs(tally.median_ns()),
            max_s: secs(tally.max_ns),
        }
    }
}
