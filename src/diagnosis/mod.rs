//! Plain-language notes on a run's result: why a race did not show, and what to try. Every
//! such message is written here, once, so the text and JSON reports say the same thing.

pub mod models;
mod store;

pub use store::store_notes;

use crate::counter::CounterSpec;
use crate::expect::Expect;
use crate::format::{percent, thousands};
use crate::harness::StartMode;
use crate::report::ScenarioSummary;
use crate::scenario::{Grade, Program};
use crate::stats::Summary;
use crate::strategy::StrategyKind;

/// Below this mean overlap the threads mostly ran one at a time.
const LOW_OVERLAP: f64 = 0.5;

/// Notes for one strategy's result, most important first; empty when there is nothing to say.
pub fn notes(
    kind: StrategyKind,
    spec: &CounterSpec,
    start: StartMode,
    cpus: usize,
    summary: &Summary,
    batched: bool,
) -> Vec<String> {
    let mut notes = Vec::new();
    if !kind.is_racy() {
        if summary.rate.differed > 0 {
            notes.push(format!(
                "{} lost updates in {} of {} trials: a correct strategy must never do that; \
                 this is a bug in racedemo, please report it",
                kind.name(),
                thousands(summary.rate.differed),
                thousands(summary.trials)
            ));
        }
        return notes;
    }
    if spec.threads == 1 {
        notes.push(
            "one thread has nobody to race with: every update lands; use --threads 2 or more"
                .to_string(),
        );
        return notes;
    }
    if summary.rate.differed > 0 {
        notes.push(
            "what happened: two threads read the same value, each added 1 and wrote it back, \
             and the later write overwrote the earlier one, so one increment vanished; \
             `racedemo locked` and `racedemo atomic` show the fix"
                .to_string(),
        );
    }
    if let Some(overlap) = summary.pace.overlap.mean_when_correct {
        let tries = suggestions(spec.window.yield_now, spec.threads > cpus, start);
        let words = ["lost an update", "lost nothing"];
        notes.push(quiet_trials(
            summary.trials,
            summary.rate.differed,
            overlap,
            &tries,
            words,
            batched,
        ));
    }
    notes.extend(shared_cpus(spec.threads, cpus, batched));
    if start == StartMode::Naive {
        notes.push(
            "threads started one by one as they were spawned (--start naive), so early ones \
             ran alone for a while; the default --start barrier releases them together"
                .to_string(),
        );
    }
    notes
}

/// Tiny trials batched with more threads than CPUs: how little they can have overlapped.
pub fn shared_cpus(threads: usize, cpus: usize, batched: bool) -> Option<String> {
    (batched && threads > cpus).then(|| {
        format!(
            "{threads} threads shared {cpus} logical CPUs: at most {cpus} ran at any moment, so \
             a trial could race only between threads that happened to run together, and the \
             overlap shown counts the time a thread waited off the CPU"
        )
    })
}

/// Why some (or all) trials showed no race: the overlap of exactly those trials, and what to
/// try. "No race" is never reported without it.
/// `[shown, none]` words the result: `["lost an update", "lost nothing"]`.
fn quiet_trials(
    trials: u64,
    differed: u64,
    overlap: f64,
    tries: &[&str],
    [shown, none]: [&str; 2],
    batched: bool,
) -> String {
    if batched {
        // A batch's overlap is the batch's, not the trial's: it cannot explain one trial.
        let why = "these tiny trials ran in lockstep batches, where a race shows only when the \
                   threads' accesses fall within the same few hundred nanoseconds";
        let head = if differed == 0 {
            format!("no trial {shown}, and that does not mean the code is safe: {why}")
        } else {
            format!(
                "{} of {} trials {none}: {why}",
                thousands(trials - differed),
                thousands(trials)
            )
        };
        return format!("{head}; try {}", tries.join(", "));
    }
    let mut line = if differed == 0 {
        format!(
            "no trial {shown}, and that does not mean the code is safe: threads overlapped {} \
             of each trial on average",
            percent(overlap)
        )
    } else {
        format!(
            "{} of {} trials {none}: in those the threads overlapped {} of the trial on \
             average",
            thousands(trials - differed),
            thousands(trials),
            percent(overlap)
        )
    };
    if overlap < LOW_OVERLAP {
        line.push_str(": this machine ran them mostly one at a time");
    }
    line.push_str(&format!("; try {}", tries.join(", ")));
    line
}

fn suggestions(yielding: bool, oversubscribed: bool, start: StartMode) -> Vec<&'static str> {
    let mut tries = Vec::new();
    if !yielding {
        tries.push("--yield (loses updates even on one CPU)");
    }
    if start == StartMode::Naive {
        tries.push("--start barrier");
    }
    tries.push("more --iterations (longer trials span several scheduler time slices)");
    if oversubscribed {
        tries.push("fewer --threads (no more than the logical CPUs)");
    }
    tries
}

/// What a graded outcome that no trial produced means.
pub fn unobserved(grade: Grade) -> &'static str {
    match grade {
        Grade::Interesting => "allowed, not observed on this machine",
        Grade::Forbidden => "forbidden, and not observed",
        Grade::Acceptable => "acceptable, not observed",
    }
}

/// Notes for a scenario run. `hardware_explains` is set when an allowed outcome was not
/// observed: that line already says why nothing showed, and the overlap would only confuse.
pub fn scenario_notes(
    program: &Program,
    start: StartMode,
    expect: Expect,
    s: &ScenarioSummary,
    hardware_explains: bool,
    batched: bool,
) -> Vec<String> {
    let mut notes = Vec::new();
    if s.deadlocks > 0 {
        notes.push(format!(
            "{} of {} trials deadlocked: a thread waited for a lock longer than the {} ms \
             watchdog, so racedemo gave the trial up and went on",
            thousands(s.deadlocks),
            thousands(s.trials),
            program.watchdog.as_millis()
        ));
    }
    if s.stuck > 0 {
        notes.push(format!(
            "{} of {} trials were stuck: a thread waited on a condvar or a semaphore, or \
             looped, longer than the {} ms watchdog with nobody left to end the wait, so \
             racedemo gave the trial up and went on",
            thousands(s.stuck),
            thousands(s.trials),
            program.watchdog.as_millis()
        ));
    }
    if expect != Expect::Correct
        && !hardware_explains
        && program.threads > 1
        && let Some(overlap) = s.pace.overlap.mean_when_correct
        && s.rate.differed == 0
    {
        let mut tries = vec!["more --trials", "more --iterations (where the file allows)"];
        if start == StartMode::Naive {
            tries.insert(0, "--start barrier");
        }
        notes.push(quiet_trials(
            s.trials,
            s.rate.differed,
            overlap,
            &tries,
            ["showed the race", "showed nothing"],
            batched,
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Tally;
    use crate::window::WindowSpec;

    fn spec(threads: usize) -> CounterSpec {
        CounterSpec {
            threads,
            iterations: 10,
            window: WindowSpec::default(),
        }
    }

    fn summary(expected: u64, finals: &[u64], overlap: f64) -> Summary {
        let mut t = Tally::new(expected, 0);
        for &f in finals {
            t.add(f, 1, overlap);
        }
        t.summary()
    }

    /// The notes for an unsafe run of two threads on two CPUs.
    fn unsafe_notes(s: &Summary, batched: bool) -> Vec<String> {
        notes(
            StrategyKind::Unsafe,
            &spec(2),
            StartMode::Barrier,
            2,
            s,
            batched,
        )
    }

    #[test]
    fn a_race_that_did_not_show_is_explained_with_the_overlap() {
        let s = summary(20, &[20, 20], 0.03);
        let notes = unsafe_notes(&s, false);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("no trial lost an update"),
            "{}",
            notes[0]
        );
        assert!(
            notes[0].contains("overlapped 3.0% of each trial"),
            "{}",
            notes[0]
        );
        assert!(notes[0].contains("mostly one at a time"));
        assert!(notes[0].contains("--yield"));
    }

    #[test]
    fn trials_that_lost_nothing_are_explained_by_their_own_overlap() {
        let mut t = Tally::new(20, 0);
        t.add(20, 1, 0.02);
        t.add(20, 1, 0.04);
        t.add(11, 1, 0.96);
        let notes = unsafe_notes(&t.summary(), false);
        assert_eq!(notes.len(), 2);
        assert!(notes[1].starts_with("2 of 3 trials lost nothing: in those the threads overlapped 3.0% of the trial on average: this machine ran them mostly one at a time; try --yield"), "{}", notes[1]);
    }

    #[test]
    fn a_race_that_showed_with_full_overlap_is_only_explained() {
        let s = summary(20, &[15, 12], 0.97);
        let notes = unsafe_notes(&s, false);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("what happened: two threads read the same value"));
    }

    #[test]
    fn batched_trials_are_not_explained_by_a_batch_overlap() {
        let s = summary(2, &[2, 1], 1.0);
        let notes = unsafe_notes(&s, true);
        assert!(
            notes[1].starts_with(
                "1 of 2 trials lost nothing: these tiny trials ran in lockstep batches"
            ),
            "{}",
            notes[1]
        );
        assert!(!notes[1].contains("overlapped"));
    }

    #[test]
    fn a_fix_that_lost_updates_is_called_a_bug() {
        let s = summary(20, &[19, 20], 1.0);
        let notes = notes(
            StrategyKind::Locked,
            &spec(2),
            StartMode::Barrier,
            2,
            &s,
            false,
        );
        assert!(notes[0].contains("bug in racedemo"));
    }

    #[test]
    fn a_fix_that_lost_nothing_gets_no_note() {
        let s = summary(20, &[20, 20], 1.0);
        let notes = notes(
            StrategyKind::Atomic,
            &spec(2),
            StartMode::Barrier,
            2,
            &s,
            false,
        );
        assert!(notes.is_empty(), "{notes:?}");
    }

    /// The suggestions of a quiet unsafe run of `threads` threads on `cpus` CPUs.
    fn quiet_suggestions(threads: usize, cpus: usize, start: StartMode, overlap: f64) -> String {
        let s = summary(20, &[20, 20], overlap);
        notes(StrategyKind::Unsafe, &spec(threads), start, cpus, &s, false).join("\n")
    }

    #[test]
    fn quiet_runs_suggest_what_fits_their_cause() {
        let fewer = "fewer --threads";
        assert!(quiet_suggestions(4, 2, StartMode::Barrier, 0.1).contains(fewer));
        assert!(!quiet_suggestions(2, 2, StartMode::Barrier, 0.1).contains(fewer));
        assert!(!quiet_suggestions(2, 3, StartMode::Barrier, 0.1).contains(fewer));
        let barrier = "--start barrier";
        assert!(quiet_suggestions(2, 2, StartMode::Naive, 0.1).contains(barrier));
        assert!(!quiet_suggestions(2, 2, StartMode::Barrier, 0.1).contains(barrier));
        // Half the trial together is not "one at a time".
        let alone = "mostly one at a time";
        assert!(!quiet_suggestions(2, 2, StartMode::Barrier, LOW_OVERLAP).contains(alone));
        assert!(quiet_suggestions(2, 2, StartMode::Barrier, 0.49).contains(alone));
    }

    #[test]
    fn unobserved_outcomes_say_what_their_grade_means() {
        assert_eq!(
            unobserved(Grade::Interesting),
            "allowed, not observed on this machine"
        );
        assert_eq!(unobserved(Grade::Forbidden), "forbidden, and not observed");
        assert_eq!(unobserved(Grade::Acceptable), "acceptable, not observed");
    }

    fn program(name: &str, threads: Option<u64>) -> Program {
        use crate::scenario::{Overrides, Scenario, library};
        let scenario = Scenario::load(library::find(name).unwrap()).unwrap();
        scenario
            .compile(Overrides {
                threads,
                iterations: None,
                ..Overrides::default()
            })
            .unwrap()
    }

    /// A scenario summary of `trials` trials, `differed` of them forbidden, `deadlocks` of
    /// those deadlocks, every quiet trial overlapping 10%.
    fn scenario_summary(trials: u64, differed: u64, deadlocks: u64) -> ScenarioSummary {
        let mut timing = crate::stats::Timing::default();
        for i in 0..trials {
            timing.add(1, 0.1, i >= differed);
        }
        ScenarioSummary {
            trials,
            rate: crate::stats::Rate::new(differed, trials),
            forbidden: differed,
            interesting: 0,
            acceptable: trials - differed,
            deadlocks,
            stuck: 0,
            distinct_outcomes: 1,
            pace: timing.pace(1, differed),
        }
    }

    #[test]
    fn scenario_notes_count_deadlocks_and_explain_a_race_that_did_not_show() {
        let racy = program("counter-racy", None);
        let quiet = scenario_summary(5, 0, 0);
        let barrier = StartMode::Barrier;
        let notes = scenario_notes(&racy, barrier, Expect::Race, &quiet, false, false);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("no trial showed the race"),
            "{notes:?}"
        );
        assert!(notes[0].contains("try more --trials"), "{notes:?}");
        let naive = scenario_notes(&racy, StartMode::Naive, Expect::Race, &quiet, false, false);
        assert!(
            naive[0].contains("try --start barrier, more --trials"),
            "{naive:?}"
        );
        // Nothing to explain: correct expected, the hardware explains it, one thread, a race.
        for notes in [
            scenario_notes(&racy, barrier, Expect::Correct, &quiet, false, false),
            scenario_notes(&racy, barrier, Expect::Race, &quiet, true, false),
            scenario_notes(
                &program("counter-racy", Some(1)),
                barrier,
                Expect::Race,
                &quiet,
                false,
                false,
            ),
            scenario_notes(
                &racy,
                barrier,
                Expect::Race,
                &scenario_summary(5, 1, 0),
                false,
                false,
            ),
        ] {
            assert!(notes.is_empty(), "{notes:?}");
        }
        let deadlocky = program("deadlock-racy", None);
        let notes = scenario_notes(
            &deadlocky,
            barrier,
            Expect::Race,
            &scenario_summary(5, 2, 2),
            false,
            false,
        );
        assert_eq!(
            notes,
            [
                "2 of 5 trials deadlocked: a thread waited for a lock longer than the 100 ms \
              watchdog, so racedemo gave the trial up and went on"
            ]
        );
    }
}
