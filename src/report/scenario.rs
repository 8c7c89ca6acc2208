//! The report model of `scenario run` and `scenario check`; like the counter report, it is the
//! JSON schema.

use serde::Serialize;

use super::Envelope;
use crate::expect::Expect;
use crate::exposure::{Extra, Lengthened};
use crate::format::thousands;
use crate::harness::StartMode;
use crate::scenario::Grade;
use crate::scenario::condition::Observation;
use crate::scenario::interleave::Derivation;
use crate::scenario::model::Model;
use crate::stats::{Pace, Rate};

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioBody {
    pub scenario: ScenarioInfo,
    /// Each distinct outcome observed, most frequent first.
    pub outcomes: Vec<OutcomeRow>,
    /// Graded patterns that no trial produced.
    pub unobserved: Vec<Unobserved>,
    /// Which memory models were computed for this program, and why not where not.
    pub models: Vec<ModelRow>,
    /// Where the file's grades disagree with a computed model, or this machine produced an
    /// outcome its own architecture's model forbids: each fails the run.
    pub contradictions: Vec<String>,
    /// A litmus test's final condition: herd's verdict under each model, and how many
    /// trials satisfied it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionRow>,
    pub summary: ScenarioSummary,
    pub expect: Expect,
    pub expect_met: bool,
    pub notes: Vec<String>,
    /// With `--explain`: one observed outcome and how the threads' steps can produce it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<ScenarioExplanation>,
    /// When a race was expected: the trials run after the planned ones until one showed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<Extra>,
    /// With `--python`: the same program in CPython, run as `exec` runs a command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonRun>,
}

/// `--python`: the program `scenario show --as python` writes, run many times, each run's
/// last line read back as an outcome and graded as racedemo grades its own trials.
#[derive(Debug, Clone, Serialize)]
pub struct PythonRun {
    /// As `python3 --version` names it: `Python 3.11.7`.
    pub interpreter: String,
    pub runs: u64,
    /// Runs at once.
    pub parallel: usize,
    /// Each distinct last line, most frequent first.
    pub outcomes: Vec<PythonOutcome>,
    /// `differed`: runs graded interesting or forbidden (the race shown), as for trials.
    #[serde(flatten)]
    pub rate: Rate,
    pub time: super::RunTimes,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PythonOutcome {
    /// The run's last line: an outcome as racedemo names it, or what a failed run ended with.
    pub outcome: String,
    pub runs: u64,
    pub share: f64,
    /// Null where the line is no outcome of the program (the run failed).
    pub grade: Option<Grade>,
}

/// A scenario's `--python` runs in `scenario check`: how many, and how many showed the race.
/// They do not decide whether the scenario passed: a weak-memory outcome cannot happen in
/// CPython, and a rare race may not show in a few runs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PythonTally {
    pub runs: u64,
    pub differed: u64,
}

/// A litmus test's final condition, as herd judges it under each model (always, sometimes,
/// never), beside what this machine did. A model is left out where it was not computed, or
/// does not apply (RC11, the C11 model, to X86 code).
#[derive(Debug, Clone, Serialize)]
pub struct ConditionRow {
    /// As written: `exists (0:r0=0 /\ 1:r0=0)`.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sc: Option<Observation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tso: Option<Observation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rc11: Option<Observation>,
    /// Trials whose outcome satisfied the condition's proposition.
    pub observed: u64,
}

impl ConditionRow {
    /// Each model's verdict that was given, with the model.
    pub fn verdicts(&self) -> Vec<(Model, Observation)> {
        [
            (Model::Sc, self.sc),
            (Model::Tso, self.tso),
            (Model::Rc11, self.rc11),
        ]
        .into_iter()
        .filter_map(|(m, o)| Some((m, o?)))
        .collect()
    }

    /// `exists (...) — SC never · x86-TSO sometimes · observed 12 of 1,000 trials`.
    pub fn line(&self, trials: u64) -> String {
        let parts: Vec<String> = self
            .verdicts()
            .iter()
            .map(|(m, o)| format!("{} {}", m.name(), o.name()))
            .chain(std::iter::once(format!(
                "observed {} of {} trials",
                thousands(self.observed),
                thousands(trials)
            )))
            .collect();
        format!("{} — {}", self.text, parts.join(" · "))
    }
}

/// `scenario run`.
pub type ScenarioReport = Envelope<ScenarioBody>;

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioExplanation {
    /// As the outcome table shows it.
    pub outcome: String,
    pub grade: Grade,
    /// Trials that ended this way.
    pub count: u64,
    #[serde(flatten)]
    pub derivation: Derivation,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    /// What it is looked up by.
    pub name: String,
    pub title: String,
    pub summary: String,
    /// The file it came from, or `built-in:NAME.toml`.
    pub origin: String,
    pub threads: usize,
    pub iterations: u64,
    pub trials: u64,
    pub start: StartMode,
    pub seed: u64,
    pub groups: Vec<GroupInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    pub trial_mode: super::TrialMode,
    /// The names an outcome lists, in order.
    pub outcome: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invariant: Option<String>,
    /// Trials made longer than the file's because the threads did not overlap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lengthened: Option<Lengthened>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupInfo {
    pub name: String,
    pub threads: usize,
    pub iterations: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeRow {
    /// As people read it: `a.r=0, b.r=0`, or `deadlock`.
    pub outcome: String,
    /// The values, in the order of `scenario.outcome`; absent for a deadlock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<i64>>,
    pub invariant_held: bool,
    pub count: u64,
    pub share: f64,
    pub grade: Grade,
    /// Where the grade comes from: `invariant` (broken: the program's bug), `halted` (a
    /// deadlock, stuck or over-released: the program's bug too), `rule` (a `[[check.grade]]`
    /// pattern), or `default`.
    pub graded_by: GradedBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub means: Option<String>,
    /// Whether each memory model allows this outcome; null where the model was not computed
    /// (see `models`).
    pub allowed: Allowed,
}

/// Where an outcome's grade comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GradedBy {
    Invariant,
    Halted,
    Rule,
    Default,
}

/// Whether SC, x86-TSO and RC11 allow an outcome; `None` where not computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allowed {
    pub sc: Option<bool>,
    pub tso: Option<bool>,
    pub rc11: Option<bool>,
}

impl Allowed {
    pub fn get(&self, model: Model) -> Option<bool> {
        match model {
            Model::Sc => self.sc,
            Model::Tso => self.tso,
            Model::Rc11 => self.rc11,
        }
    }

    pub fn any_computed(&self) -> bool {
        Model::ALL.iter().any(|&m| self.get(m).is_some())
    }
}

/// One memory model's part in a run.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    pub model: Model,
    /// As people write it: SC, x86-TSO, RC11.
    pub name: String,
    pub computed: bool,
    /// False when the exploration stopped at its budget: outcomes it did not reach are
    /// unknown (null in `allowed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exhaustive: Option<bool>,
    /// States (SC, x86-TSO) or candidate executions (RC11) looked at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explored: Option<u64>,
    /// Why it was not computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unobserved {
    pub pattern: String,
    pub grade: Grade,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub means: Option<String>,
    /// What the computed models say of it: "allowed by x86-TSO and RC11, not observed on
    /// this machine", "forbidden by SC, x86-TSO and RC11, and not observed".
    pub note: String,
}

/// Like the counter's summary: `differed` counts the trials that showed the race (graded
/// interesting or forbidden).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub trials: u64,
    #[serde(flatten)]
    pub rate: Rate,
    pub forbidden: u64,
    pub interesting: u64,
    pub acceptable: u64,
    pub deadlocks: u64,
    /// Trials given up because a thread waited on a condvar or a semaphore, or looped, past
    /// the watchdog with nobody left to end the wait (`stuck`).
    pub stuck: u64,
    pub distinct_outcomes: u64,
    /// `ns_per_op` here is per pass of one thread over its ops.
    #[serde(flatten)]
    pub pace: Pace,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckBody {
    pub scenarios: Vec<CheckRow>,
    pub passed: u64,
    pub failed: u64,
}

/// `scenario check`.
pub type CheckReport = Envelope<CheckBody>;

#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub name: String,
    pub origin: String,
    pub trials: u64,
    pub differed: u64,
    pub forbidden: u64,
    pub deadlocks: u64,
    pub stuck: u64,
    pub expect: Expect,
    pub expect_met: bool,
    /// The run's contradictions between grades and computed models (see `scenario run`).
    pub contradictions: Vec<String>,
    /// Expectation met and no contradiction.
    pub passed: bool,
    /// Wall-clock seconds the scenario's trials took.
    pub elapsed_s: f64,
    /// One line: what happened, for people.
    pub verdict: String,
    /// With `--python`: the Python program's runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonTally>,
}
