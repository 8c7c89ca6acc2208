//! What a run is expected to show, and whether it did.

use clap::ValueEnum;
use serde::Serialize;

use crate::format::{seconds, thousands};
use crate::strategy::StrategyKind;

/// Trials run after the planned ones in search of a race, and the time allowed for them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Searched {
    pub trials: u64,
    pub budget_s: f64,
}

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
        Expect::default_when(kind.is_racy())
    }

    /// The same, for a strategy whose raciness depends on where it runs (a transaction at a
    /// weak isolation level).
    pub fn default_when(racy: bool) -> Self {
        if racy { Expect::Any } else { Expect::Correct }
    }

    pub fn name(self) -> &'static str {
        match self {
            Expect::Correct => "correct",
            Expect::Race => "race",
            Expect::Any => "any",
        }
    }

    /// `showed`: trials that showed the race in any way; `broken`: trials with a wrong result
    /// (for the counter both are the trials that lost updates).
    pub fn is_met(self, showed: u64, broken: u64) -> bool {
        match self {
            Expect::Correct => broken == 0,
            Expect::Race => showed > 0,
            Expect::Any => true,
        }
    }

    /// Why the expectation failed, for the one-line error on stderr. `extra`: the trials run
    /// after the planned ones, looking for a race, which are among `trials`.
    pub fn failure(self, what: &str, trials: u64, broken: u64, extra: Option<Searched>) -> String {
        match self {
            Expect::Correct => format!(
                "{what} was expected to be correct, but {} of {} trials went wrong",
                thousands(broken),
                thousands(trials)
            ),
            Expect::Race => {
                let planned = trials - extra.map_or(0, |e| e.trials);
                let mut line = format!(
                    "{what} was expected to race, but none of {} trials showed the race",
                    thousands(planned)
                );
                if let Some(e) = extra {
                    line.push_str(&format!(
                        ", nor {} more in the {} race budget (--race-budget)",
                        thousands(e.trials),
                        seconds(e.budget_s)
                    ));
                }
                line
            }
            Expect::Any => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_expectation_holds_exactly_when_it_should() {
        // (showed, broken) -> met
        let cases = [(0, 0), (1, 0), (1, 1), (0, 1)];
        let met = |e: Expect| cases.map(|(showed, broken)| e.is_met(showed, broken));
        assert_eq!(met(Expect::Correct), [true, true, false, false]);
        assert_eq!(met(Expect::Race), [false, true, true, false]);
        assert_eq!(met(Expect::Any), [true; 4]);
    }

    #[test]
    fn failures_say_what_was_expected_and_what_ran() {
        assert_eq!(
            Expect::Correct.failure("locked", 12_000, 3, None),
            "locked was expected to be correct, but 3 of 12,000 trials went wrong"
        );
        assert_eq!(
            Expect::Race.failure("unsafe", 20, 0, None),
            "unsafe was expected to race, but none of 20 trials showed the race"
        );
        let searched = Searched {
            trials: 7,
            budget_s: 2.0,
        };
        assert_eq!(
            Expect::Race.failure("unsafe", 27, 0, Some(searched)),
            "unsafe was expected to race, but none of 20 trials showed the race, nor 7 more \
             in the 2.0 s race budget (--race-budget)"
        );
    }
}
