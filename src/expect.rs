//! What a run is expected to show, and whether it did.

use clap::ValueEnum;
use serde::Serialize;

use crate::stats::Summary;
use crate::strategy::StrategyKind;

/// What a run is expected to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// No trial may differ from the expected value
    Correct,
    /// At least one trial must differ (proves the demo works on this machine)
    Race,
    /// Anything goes
    Any,
}

impl Expect {
    /// A fix that loses an update is a bug and must fail loudly; the demo itself may or may
    /// not show the race on a given run, so it expects nothing unless asked.
    pub fn default_for(kind: StrategyKind) -> Self {
        if kind.is_racy() {
            Expect::Any
        } else {
            Expect::Correct
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Expect::Correct => "correct",
            Expect::Race => "race",
            Expect::Any => "any",
        }
    }

    pub fn is_met(self, summary: &Summary) -> bool {
        match self {
            Expect::Correct => summary.differed == 0,
            Expect::Race => summary.differed > 0,
            Expect::Any => true,
        }
    }

    /// Why the expectation failed, for the one-line error on stderr.
    pub fn failure(self, strategy: &str, summary: &Summary) -> String {
        match self {
            Expect::Correct => format!(
                "{strategy} was expected to be correct, but {} of {} trials lost updates",
                summary.differed, summary.trials
            ),
            Expect::Race => format!(
                "{strategy} was expected to race, but none of {} trials lost an update",
                summary.trials
            ),
            Expect::Any => String::new(),
        }
    }
}
