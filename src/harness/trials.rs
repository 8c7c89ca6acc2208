//! The one trial loop, whoever races: trials one after another until the plan's count or time
//! is spent or the user interrupts, each handed on as it ends. What a trial is comes from a
//! [`Trials`]: threads spawned per trial in this process (`runner`), shuttle's threads (model
//! checking), or a crew of workers holding store connections (`run::store`).

use std::time::Instant;

use super::span::nanos;
use super::{Plan, RunInfo, Trial, interrupted, should_stop};

/// Why a trial has no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Something failed (a worker crashed or hung, the OS refused a thread, a store broke):
    /// the message names it. The run ends; the trials before it stand.
    Fault(String),
    /// The user asked the run to stop (a signal) while the trial ran; it is not counted.
    Interrupted,
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Fault(message)
    }
}

/// A source of trials: whatever runs one trial, by its index in the run (which seeds it).
pub trait Trials {
    type Outcome;
    fn trial(&mut self, index: u64) -> Result<Trial<Self::Outcome>, Stop>;
}

/// Runs the plan's trials of `trials`, handing each to `on_trial` as soon as it ends. A fault
/// ends the run: `Err` carries it with the run so far, whose trials `on_trial` has had.
pub fn run_trials<T: Trials + ?Sized>(
    trials: &mut T,
    plan: &Plan,
    mut on_trial: impl FnMut(Trial<T::Outcome>),
) -> Result<RunInfo, (String, RunInfo)> {
    let started = Instant::now();
    let info = |started: Instant| RunInfo {
        wall_ns: nanos(started.elapsed()),
        batched: false,
        interrupted: interrupted(),
    };
    let mut done = 0;
    while done < plan.trials && !should_stop(plan, started) {
        match trials.trial(plan.first_trial + done) {
            Ok(trial) => on_trial(trial),
            Err(Stop::Interrupted) => break,
            Err(Stop::Fault(fault)) => return Err((fault, info(started))),
        }
        done += 1;
    }
    Ok(info(started))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::StartMode;

    /// Trial i has outcome i; trial `fail` faults.
    struct Counting {
        fail: u64,
    }

    impl Trials for Counting {
        type Outcome = u64;
        fn trial(&mut self, index: u64) -> Result<Trial<u64>, Stop> {
            if index == self.fail {
                return Err(Stop::Fault(format!("trial {index} broke")));
            }
            Ok(Trial {
                outcome: index,
                elapsed_ns: 1,
                overlap: 1.0,
            })
        }
    }

    fn plan(trials: u64, first_trial: u64) -> Plan {
        Plan {
            trials,
            duration: None,
            start: StartMode::Barrier,
            seed: 1,
            first_trial,
            cpus: 2,
        }
    }

    #[test]
    fn trials_run_in_order_from_the_plans_first_index_until_a_fault() {
        let mut seen = Vec::new();
        let info = run_trials(&mut Counting { fail: 99 }, &plan(3, 10), |t| {
            seen.push(t.outcome)
        });
        assert!(info.is_ok());
        assert_eq!(seen, [10, 11, 12]);
        seen.clear();
        let err = run_trials(&mut Counting { fail: 2 }, &plan(5, 0), |t| {
            seen.push(t.outcome)
        });
        assert_eq!(err.err().map(|e| e.0), Some("trial 2 broke".to_string()));
        assert_eq!(seen, [0, 1], "the trials before the fault are kept");
    }
}
