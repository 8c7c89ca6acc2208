//! The scenario engine under shuttle's randomised and PCT schedulers: the fixed library
//! scenarios never produce a forbidden outcome, the racy ones do. Built and run by `.ci/run` as
//! `RUSTFLAGS="--cfg shuttle" cargo test --release --target-dir target/shuttle --test shuttle`.
//!
//! When a check fails, shuttle prints the failing schedule as a string. To reproduce it
//! exactly, run the same closure with `shuttle::replay(move || { ... }, "SCHEDULE")` in place of
//! `check_random` / `check_pct`, then debug that one interleaving.
//!
//! Shuttle's atomics are sequentially consistent, so the litmus scenarios (store buffering,
//! message passing) cannot show their weak outcomes here; they are left to the native runs.
//! So are the races that end in a thread waiting forever (the deadlocks, the lost wakeups):
//! racedemo's waits spin until a wall-clock watchdog, which shuttle's step bound stops first.
#![cfg(shuttle)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use racedemo::expect::Expect;
use racedemo::harness::{self, Plan, ShuttleThreads, StartMode};
use racedemo::scenario::{Grade, Overrides, Program, Scenario, library};

/// The scenario with few threads and iterations (shuttle explores schedules, not volume), but
/// enough for its race: the ticket sale needs more buyers than seats, so it keeps its own.
fn program(name: &str) -> Arc<Program> {
    let scenario = Scenario::load(library::find(name).unwrap()).unwrap();
    let small = Overrides {
        threads: Some(2),
        iterations: Some(2),
        ..Overrides::default()
    };
    let sizes = if name.starts_with("tickets") || name.starts_with("lazy-init") {
        Overrides::default()
    } else {
        small
    };
    Arc::new(scenario.compile(sizes).unwrap())
}

/// One trial through the harness's trial loop, on shuttle's threads; the grade of its outcome.
fn trial(program: &Arc<Program>) -> Grade {
    let plan = Plan {
        trials: 1,
        duration: None,
        start: StartMode::Barrier,
        seed: 1,
        first_trial: 0,
        cpus: 2,
    };
    let mut grade = None;
    harness::run_trials(
        &mut ShuttleThreads::new(program.clone(), &plan),
        &plan,
        |t| grade = Some(program.grade(&t.outcome)),
    )
    .expect("no thread panicked");
    grade.expect("the one trial ran")
}

/// Library scenarios whose race shuttle cannot show, and why: each ends in a thread that
/// waits forever, which racedemo finds with a wall-clock watchdog, and shuttle's step bound
/// stops the spinning wait first.
const NOT_UNDER_SHUTTLE: [(&str, &str); 4] = [
    (
        "deadlock-racy",
        "racedemo's locks spin until a wall-clock watchdog, which shuttle's step bound stops first",
    ),
    ("philosophers-racy", "a deadlock, as deadlock-racy"),
    (
        "lost-wakeup-racy",
        "a wait nobody ends (stuck), found by the watchdog",
    ),
    (
        "lost-signal-racy",
        "a wait nobody ends (stuck), found by the watchdog",
    ),
];

/// The library's scenarios that expect `expect`, from their files, so that a new one is
/// checked here without being listed.
fn expecting(expect: Expect) -> Vec<String> {
    let names: Vec<String> = library::all()
        .unwrap()
        .into_iter()
        .map(|source| Scenario::load(source).unwrap())
        .filter(|s| s.expect() == expect)
        .map(|s| s.name)
        .filter(|name| !NOT_UNDER_SHUTTLE.iter().any(|(n, _)| n == name))
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    names
}

#[test]
fn the_scenarios_left_out_are_in_the_library() {
    for (name, _) in NOT_UNDER_SHUTTLE {
        assert!(library::find(name).is_ok(), "{name}");
    }
}

#[test]
fn fixed_scenarios_never_show_a_forbidden_outcome() {
    for name in expecting(Expect::Correct) {
        let p = program(&name);
        let name = Arc::new(name);
        let other = name.clone();
        let q = p.clone();
        shuttle::check_random(
            move || assert_ne!(trial(&p), Grade::Forbidden, "{name}"),
            300,
        );
        shuttle::check_pct(
            move || assert_ne!(trial(&q), Grade::Forbidden, "{other}"),
            300,
            3,
        );
    }
}

#[test]
fn racy_scenarios_show_their_race_under_random_schedules() {
    for name in expecting(Expect::Race) {
        let p = program(&name);
        let found = Arc::new(AtomicBool::new(false));
        let seen = found.clone();
        shuttle::check_random(
            move || {
                if trial(&p) == Grade::Forbidden {
                    seen.store(true, Ordering::Relaxed);
                }
            },
            300,
        );
        assert!(
            found.load(Ordering::Relaxed),
            "{name}: no schedule showed the race"
        );
    }
}
