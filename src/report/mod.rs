//! The report: one serde model, which is the JSON schema, rendered by one exporter per format.
//! Reports know nothing about threads; they only read the model.

mod csv;
mod exec;
mod isolation;
mod json;
pub mod junit;
mod markdown;
mod scenario;
pub mod svg;
mod sweep;
mod text;

pub use exec::{
    CommandResult, ExecBody, ExecReport, OutcomeBin, OutcomeCount, RunTimes, StatusCount,
};
pub use isolation::{IsolationBody, IsolationCell, IsolationReport, LevelRun};
pub use scenario::{
    Allowed, CheckBody, CheckReport, CheckRow, ConditionRow, GradedBy, GroupInfo, ModelRow,
    OutcomeRow, PythonOutcome, PythonRun, PythonTally, ScenarioBody, ScenarioExplanation,
    ScenarioInfo, ScenarioReport, ScenarioSummary, Unobserved,
};
pub use sweep::{PointResult, SweepBody, SweepPoint, SweepReport};

use std::io::{self, Write};

use serde::Serialize;

use crate::cli::Format;
use crate::crew::CrewKind;
use crate::expect::Expect;
use crate::explain::Explanation;
use crate::exposure::{Extra, Lengthened};
use crate::harness::StartMode;
use crate::histogram::Bin;
use crate::options::OutputOptions;
use crate::stats::{Summary, TrialRow};
use crate::store::StoreKind;
use crate::strategy::StrategyKind;

/// Bumped only when a field is renamed or removed; new fields may appear in any version.
pub const SCHEMA: u32 = 1;

/// What every report starts with, whatever the command: the schema, the version, whether the
/// run was stopped, the machine; then the command's own fields (`body`), flattened after them
/// in the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope<B> {
    pub schema: u32,
    pub racedemo: &'static str,
    /// The run was stopped (a signal): the body covers what completed, the last part maybe
    /// in part.
    pub interrupted: bool,
    /// Why the run ended early with exit status 3 (a worker died or hung, the store failed):
    /// the body covers the trials that completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// What the run could not remove from its store (the connection died, and a fresh one
    /// could not be had): each exactly what remains, with the command that removes it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_behind: Vec<String>,
    pub machine: Machine,
    #[serde(flatten)]
    pub body: B,
}

impl<B> Envelope<B> {
    /// This build's envelope around `body`.
    pub fn new(interrupted: bool, machine: Machine, body: B) -> Self {
        Envelope {
            schema: SCHEMA,
            racedemo: env!("CARGO_PKG_VERSION"),
            interrupted,
            fault: None,
            left_behind: Vec::new(),
            machine,
            body,
        }
    }
}

// Readers see a report's own fields as the report's: `report.workload`, not
// `report.body.workload`.
impl<B> std::ops::Deref for Envelope<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.body
    }
}

impl<B> std::ops::DerefMut for Envelope<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.body
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CounterBody {
    pub workload: WorkloadInfo,
    pub results: Vec<StrategyResult>,
}

/// `unsafe`, `locked`, `atomic`, `compare`.
pub type Report = Envelope<CounterBody>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    pub logical_cpus: usize,
    pub os: &'static str,
    pub arch: &'static str,
}

impl Machine {
    pub fn this(logical_cpus: usize) -> Self {
        Machine {
            logical_cpus,
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadInfo {
    pub threads: usize,
    pub iterations: u64,
    pub trials: u64,
    pub expected: u64,
    pub start: StartMode,
    pub window: u32,
    pub jitter: bool,
    #[serde(rename = "yield")]
    pub yield_now: bool,
    pub seed: u64,
    /// The time budget, when the run had one (`--duration`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    pub trial_mode: TrialMode,
    /// Trials made longer than the default because the threads did not overlap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lengthened: Option<Lengthened>,
    /// Where the counter lived.
    pub store: StoreInfo,
    /// Who raced for it: `threads` here is their count too.
    pub workers: WorkersInfo,
    /// The strategies asked for, in order: what the command was, even when a fault stopped
    /// the run before any result.
    pub strategies: Vec<StrategyKind>,
}

/// Where the counter lived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreInfo {
    pub kind: StoreKind,
    /// The file or database, for a store that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// racedemo's own part of it and its settings, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Why racedemo chose this store, when the command line did not name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<&'static str>,
    /// Failed attempts retried per increment (`--retry`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<u64>,
    /// The level `transaction` began with, when the run had one (`--isolation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<crate::store::Isolation>,
}

impl StoreInfo {
    pub fn memory() -> Self {
        StoreInfo {
            kind: StoreKind::Memory,
            location: None,
            details: None,
            chosen: None,
            retry: None,
            isolation: None,
        }
    }
}

/// Who raced for the counter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkersInfo {
    pub kind: CrewKind,
    pub count: usize,
    /// Each remote worker, as "host (pid N)", in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
}

/// How the harness ran the trials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialMode {
    /// Threads spawned for each trial and held at the start gate.
    Single,
    /// Tiny trials in lockstep batches on long-lived threads.
    Batch,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyResult {
    pub strategy: StrategyKind,
    /// What one increment does, in one line.
    pub operation: &'static str,
    /// The first trials, one by one (all of them up to a limit).
    pub trials: Vec<TrialRow>,
    pub summary: Summary,
    /// Final values in at most 12 bars, lowest first; the expected value has a bar of its own.
    pub histogram: Vec<Bin>,
    /// The range of final values observed beside the range the strategy can produce at all.
    pub finals: FinalRange,
    /// With `--explain`: one recorded trial's lost update, step by step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
    /// With `--expect race`: the trials run after the planned ones until one raced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<Extra>,
    pub expect: Expect,
    pub expect_met: bool,
    /// ns per increment over the unsafe strategy's, when `unsafe` ran in the same comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_unsafe: Option<f64>,
    /// Plain-language notes: why a race did not show, what to try.
    pub notes: Vec<String>,
}

/// Observed and possible final values: people guess the racy counter's floor is near the
/// expected value, and it is 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FinalRange {
    pub observed_min: u64,
    pub observed_max: u64,
    pub possible_min: u64,
    pub possible_max: u64,
}

impl Report {
    /// Every result whose expectation failed.
    pub fn failures(&self) -> impl Iterator<Item = &StrategyResult> {
        self.results.iter().filter(|r| !r.expect_met)
    }
}

/// Renders every kind of report in one format.
pub trait Exporter {
    /// `unsafe`, `locked`, `atomic`, `compare`.
    fn counter(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
    /// `scenario run`.
    fn scenario(&self, report: &ScenarioReport, out: &mut dyn Write) -> io::Result<()>;
    /// `scenario check`.
    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()>;
    /// `sweep`.
    fn sweep(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()>;
    /// `isolation`.
    fn isolation(&self, report: &IsolationReport, out: &mut dyn Write) -> io::Result<()>;
    /// `exec`.
    fn exec(&self, report: &ExecReport, out: &mut dyn Write) -> io::Result<()>;
}

/// The exporter for the chosen format.
pub fn exporter(output: &OutputOptions) -> Box<dyn Exporter> {
    match output.format {
        Format::Text => Box::new(text::Text {
            color: output.color,
            width: output.width,
        }),
        Format::Json => Box::new(json::Json),
        Format::Markdown => Box::new(markdown::Markdown),
        Format::Csv => Box::new(csv::Csv),
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A fixed report for the exporters' exact-output tests.
    use super::*;
    use crate::stats::Tally;

    pub fn report(strategies: &[(StrategyKind, &[u64])]) -> Report {
        let results = strategies
            .iter()
            .map(|&(strategy, finals)| {
                let mut tally = Tally::new(2_000, 100);
                for (i, &f) in finals.iter().enumerate() {
                    tally.add(f, 1_000_000 + 250_000 * i as u64, 0.9);
                }
                let summary = tally.summary();
                let expect = Expect::default_for(strategy);
                StrategyResult {
                    strategy,
                    operation: strategy.operation(),
                    trials: tally.rows().to_vec(),
                    histogram: tally.histogram(),
                    finals: FinalRange {
                        observed_min: 2_000 - summary.lost.max,
                        observed_max: 2_000 - summary.lost.min,
                        possible_min: if strategy.is_racy() { 2 } else { 2_000 },
                        possible_max: 2_000,
                    },
                    explain: None,
                    extra: None,
                    expect_met: expect.is_met(summary.rate.differed, summary.rate.differed),
                    summary,
                    expect,
                    vs_unsafe: None,
                    notes: Vec::new(),
                }
            })
            .collect();
        Envelope {
            schema: SCHEMA,
            racedemo: "0.0.0-test",
            interrupted: false,
            fault: None,
            left_behind: Vec::new(),
            machine: Machine {
                logical_cpus: 2,
                os: "linux",
                arch: "x86_64",
            },
            body: CounterBody {
                workload: WorkloadInfo {
                    threads: 2,
                    iterations: 1_000,
                    trials: 3,
                    expected: 2_000,
                    start: StartMode::Barrier,
                    window: 0,
                    jitter: false,
                    yield_now: false,
                    seed: 42,
                    duration_s: None,
                    trial_mode: TrialMode::Single,
                    lengthened: None,
                    store: StoreInfo::memory(),
                    workers: WorkersInfo {
                        kind: CrewKind::Threads,
                        count: 2,
                        members: None,
                    },
                    strategies: strategies.iter().map(|(k, _)| *k).collect(),
                },
                results,
            },
        }
    }
}
