//! The report model of `isolation`: for every store and level, the statistics of the
//! read-then-write transaction without and with retry, and Hermitage's lost-update schedule
//! replayed. Like the other reports, it is the JSON schema.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Envelope, WorkersInfo};
use crate::stats::Summary;
use crate::store::replay::Replay;
use crate::store::{Isolation, StoreKind};

#[derive(Debug, Clone, Serialize)]
pub struct IsolationBody {
    pub workers: WorkersInfo,
    pub iterations: u64,
    /// Trials per run.
    pub trials: u64,
    /// Retries per increment in each cell's second run.
    pub retry: u64,
    pub cells: Vec<IsolationCell>,
}

/// `isolation`.
pub type IsolationReport = Envelope<IsolationBody>;

/// One store at one level.
#[derive(Debug, Clone, Serialize)]
pub struct IsolationCell {
    pub store: StoreKind,
    /// The URL, its password hidden.
    pub location: String,
    pub level: Isolation,
    /// Why this server cannot run the level, when it cannot (the cell has nothing else).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// Hermitage's P4 schedule at this level, step by step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<Replay>,
    /// The runs: without retry, then with `retry`.
    pub runs: Vec<LevelRun>,
}

/// The transaction strategy's trials at one level and retry setting.
#[derive(Debug, Clone, Serialize)]
pub struct LevelRun {
    pub retry: u64,
    pub trials: u64,
    /// Trials whose final value missed acknowledged increments.
    pub differed: u64,
    /// Mean share of acknowledged increments lost.
    pub lost_fraction: f64,
    /// Share of transactions the server refused (each an error, retried or not).
    pub aborted_fraction: f64,
    /// Retries per acknowledged increment.
    pub retries_per_success: f64,
    /// Increments given up, after --retry ran out.
    pub given_up: u64,
    pub acknowledged_per_second: f64,
    /// Refusals by kind, with the server's error code.
    pub errors: BTreeMap<String, u64>,
}

impl LevelRun {
    pub fn from_summary(retry: u64, s: &Summary) -> Option<LevelRun> {
        let ops = s.ops.as_ref()?;
        let errors = ops.error_total();
        let attempts = ops.acknowledged + errors;
        Some(LevelRun {
            retry,
            trials: s.trials,
            differed: s.rate.differed,
            lost_fraction: s.lost.mean_fraction,
            aborted_fraction: if attempts == 0 {
                0.0
            } else {
                errors as f64 / attempts as f64
            },
            retries_per_success: if ops.acknowledged == 0 {
                0.0
            } else {
                ops.retries as f64 / ops.acknowledged as f64
            },
            given_up: ops.given_up,
            acknowledged_per_second: ops.acknowledged_per_second,
            errors: ops.errors.clone(),
        })
    }
}

impl IsolationCell {
    /// "lost", "aborted 40001", or why there is no replay.
    pub fn verdict(&self) -> String {
        match (&self.replay, &self.unavailable) {
            (Some(r), _) => match &r.error {
                // The error's code: its first word.
                Some(e) => format!("{} {}", r.verdict.name(), e.split(' ').next().unwrap_or(e)),
                None => r.verdict.name().to_string(),
            },
            (None, Some(_)) => "not available".into(),
            (None, None) => "not run".into(),
        }
    }
}

impl IsolationBody {
    /// One of the two tables as words, one row per store and level: the runs without retry
    /// (with the replay's verdict), or those with; `true` marks a right-aligned column.
    pub fn matrix(&self, retried: bool) -> (Vec<(&'static str, bool)>, Vec<Vec<String>>) {
        use crate::format::{per_second, percent, thousands};
        let header = if retried {
            vec![
                ("store", false),
                ("level", false),
                ("lost", true),
                ("retries/ok", true),
                ("gave up", true),
                ("incr/s", true),
            ]
        } else {
            vec![
                ("store", false),
                ("level", false),
                ("lost", true),
                ("aborted", true),
                ("incr/s", true),
                ("P4 replay", false),
            ]
        };
        let rows = self
            .cells
            .iter()
            .map(|c| {
                let run = |f: &dyn Fn(&LevelRun) -> String| {
                    c.runs.get(usize::from(retried)).map_or("–".to_string(), f)
                };
                // A level the server runs as another is marked, and the text says which.
                let level = match c.level.runs_as(c.store) {
                    Some(_) => format!("{} (as read-committed)", c.level.name()),
                    None => c.level.name().to_string(),
                };
                let mut row = vec![c.store.name().to_string(), level];
                row.push(run(&|l| percent(l.lost_fraction)));
                if retried {
                    row.push(run(&|l| format!("{:.2}", l.retries_per_success)));
                    row.push(run(&|l| thousands(l.given_up)));
                    row.push(run(&|l| per_second(l.acknowledged_per_second)));
                } else {
                    row.push(run(&|l| percent(l.aborted_fraction)));
                    row.push(run(&|l| per_second(l.acknowledged_per_second)));
                    row.push(c.verdict());
                }
                row
            })
            .collect();
        (header, rows)
    }
}
