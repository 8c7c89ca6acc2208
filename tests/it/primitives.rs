//! The article's other primitives. In scenarios: condvars, semaphores, reader-writer locks and
//! loops (bad files, waits nobody ends, over-released semaphores, spurious wake-ups, the
//! Python rendering). Built in: `locked --lock mutex|rwlock|semaphore|spin`.

use crate::common;

use std::fs;
use std::process::Command;

use common::{assert_bad_scenario_files, json, json_of, library, racedemo, stdout, u};

/// A file that declares one of each primitive: lock `m`, reader-writer lock `t`, condvar `c`
/// on `m`, bounded semaphore `s`; ops go on line 17, the first op's text at column 9.
const HEAD: &str = "name = \"b\"\nsummary = \"b\"\nexplanation = \"b\"\nlocks = [\"m\"]\n\
rwlocks = [\"t\"]\n[condvars]\nc = \"m\"\n[bounded_semaphores]\ns = 1\n\n[shared]\nx = 0\n\n";

fn group(ops: &str) -> String {
    format!("{HEAD}[[group]]\nname = \"g\"\nthreads = 1\nops = [{ops}]\n\n[check]\n")
}

#[test]
fn bad_uses_of_the_primitives_name_the_file_line_and_column() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "unknown-condvar",
            group("\"lock m\", \"wait q\", \"unlock m\""),
            "17:24",
            "unknown condvar 'q' (known: c)",
        ),
        (
            "wait-without-its-lock",
            group("\"wait c\""),
            "17:14",
            "condvar 'c' is tied to lock 'm', which this thread does not hold here",
        ),
        (
            "notify-without-its-lock",
            group("\"notify c\""),
            "17:16",
            "Python's Condition raises RuntimeError",
        ),
        (
            "bounded-release-never-acquired",
            group("\"release s\""),
            "17:17",
            "bounded semaphore 's' is released but never acquired",
        ),
        (
            "loop-that-cannot-end",
            group("\"r = load x\", \"while r == 0\", \"end\""),
            "17:23",
            "reads nothing the loop changes",
        ),
        (
            "loop-always-true",
            group("\"while 1\", \"end\""),
            "17:9",
            "always true",
        ),
        (
            "while-without-end",
            group("\"while x == 0\""),
            "17:9",
            "this 'while' has no 'end'",
        ),
        (
            "write-unlock-of-a-read-lock",
            group("\"read_lock t\", \"write_unlock t\""),
            "17:37",
            "write_unlock of 't', which this thread does not hold for writing",
        ),
        (
            "condvar-on-no-lock",
            group("\"r = load x\"").replace("c = \"m\"", "c = \"q\""),
            "7:5",
            "condvar 'c' is tied to 'q', which is not a declared lock",
        ),
        (
            "negative-semaphore",
            group("\"r = load x\"").replace("\ns = 1", "\ns = -1"),
            "9:5",
            "must start with 0 to 1,000,000 permits",
        ),
    ];
    assert_bad_scenario_files(&cases);
}

/// A lost signal made certain: the producer notifies, and only then lets the consumer go on
/// to its wait, so every trial's consumer waits for a notify that already came.
const CERTAIN_LOST_SIGNAL: &str = r#"
name = "certain lost signal"
summary = "s"
explanation = "e"
trials = 3
watchdog_ms = 50
expect = "race"
locks = ["m"]
[condvars]
signal = "m"
[shared]
notified = 0
woken = 0
[[group]]
name = "consumer"
threads = 1
ops = ["while notified == 0", "  yield", "end", "lock m", "wait signal", "store woken = 1", "unlock m"]
[[group]]
name = "producer"
threads = 1
ops = ["lock m", "notify signal", "unlock m", "store notified = 1"]
[check]
invariant = "woken == 1"
"#;

#[test]
fn a_wait_nobody_ends_is_the_outcome_stuck_and_never_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lost.toml");
    fs::write(&path, CERTAIN_LOST_SIGNAL).unwrap();
    let started = std::time::Instant::now();
    let report = json_of(
        &mut racedemo(&format!("scenario run {} --explain", path.display())),
        0,
    );
    let s = &report["summary"];
    assert_eq!((u(&s["trials"]), u(&s["stuck"])), (3, 3), "{s}");
    assert_eq!(u(&s["deadlocks"]), 0, "{s}");
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0]["outcome"], "stuck");
    assert_eq!(outcomes[0]["grade"], "forbidden");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("3 of 3 trials were stuck: a thread waited on a condvar or a semaphore"),
        "{notes}"
    );
    // The derivation ends with the consumer asleep, after the notify that nobody heard.
    let steps = report["explain"]["steps"].as_array().unwrap();
    let text: Vec<&str> = steps.iter().map(|s| s.as_str().unwrap()).collect();
    assert!(
        text.contains(&"producer: notify signal (nobody waits: the signal is lost)"),
        "{text:?}"
    );
    assert_eq!(
        text.last(),
        Some(&"consumer: wait signal (releases m and sleeps)")
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn a_release_above_a_bounded_semaphores_count_ends_the_trial_as_over_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("over.toml");
    fs::write(
        &path,
        group("\"acquire s\", \"release s\", \"release s\"") + "invariant = \"x == 0\"\n",
    )
    .unwrap();
    let report = json_of(
        &mut racedemo(&format!(
            "scenario run {} --trials 2 --expect any",
            path.display()
        )),
        0,
    );
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0]["outcome"], "over-released s");
    assert_eq!(outcomes[0]["grade"], "forbidden");
}

#[test]
fn fixed_condvar_scenarios_hold_with_spurious_wakeups_and_the_if_breaks() {
    for name in [
        "lost-wakeup-fixed",
        "if-not-while-fixed",
        "lost-signal-flag",
    ] {
        let report = json(
            &format!("scenario run {name} --spurious-wakeups --trials 60"),
            0,
        );
        let s = &report["summary"];
        assert_eq!(u(&s["forbidden"]), 0, "{name}: {s}");
        assert_eq!(u(&s["trials"]), 60, "{name}: {s}");
    }
    // The producer waits until both consumers wait, so every trial shows the `if`'s bug.
    let report = json("scenario run if-not-while-racy --trials 20", 0);
    assert_eq!(
        u(&report["summary"]["forbidden"]),
        20,
        "{}",
        report["summary"]
    );
}

#[test]
fn show_lists_the_primitives_and_their_locks() {
    let text = stdout("scenario show if-not-while-fixed");
    assert!(text.contains("condvars: changed (on m)"), "{text}");
    assert!(text.contains("    while items == 0 && done == 0\n        fetch_add waiting 1"));
    let text = stdout("scenario show buffer-semaphores");
    assert!(
        text.contains("semaphores: full = 0, empty = 4, bounded"),
        "{text}"
    );
}

/// `python3`, when this machine has it; a one-line notice otherwise.
fn python() -> Option<&'static str> {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: python3 is not on this machine");
    }
    found.then_some("python3")
}

#[test]
fn every_library_scenario_as_python_compiles() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, _, _) in library() {
        let program = stdout(&format!("scenario show {name} --as python"));
        assert!(program.starts_with("#!/usr/bin/env python3\n"), "{name}");
        assert!(
            program.contains("CPython"),
            "{name}: says what the GIL does"
        );
        let path = dir.path().join(format!("{}.py", name.replace('-', "_")));
        fs::write(&path, program).unwrap();
        paths.push(path.display().to_string());
    }
    // One interpreter compiles them all: py_compile exits 1 naming the first that fails.
    let out = Command::new(python)
        .args(["-m", "py_compile"])
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_python_programs_run_the_same_race_and_fix() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (name, printed) in [
        ("lost-signal-flag", "woken=1\n"),
        ("if-not-while-fixed", "items=0, taken=1, empty_takes=0\n"),
        ("philosophers-footman", "meals=250\n"),
    ] {
        let path = dir.path().join("p.py");
        fs::write(&path, stdout(&format!("scenario show {name} --as python"))).unwrap();
        let out = Command::new(python).arg(&path).output().unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), printed, "{name}");
    }
    // The `if` takes from the empty buffer in Python too: the last line says so, as
    // racedemo names the outcome.
    fs::write(
        dir.path().join("p.py"),
        stdout("scenario show if-not-while-racy --as python"),
    )
    .unwrap();
    let out = Command::new(python)
        .arg(dir.path().join("p.py"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "items=-1, taken=2, empty_takes=1 (invariant broken)\n"
    );
}

#[test]
fn every_lock_of_locked_never_loses_an_update_even_yielding_inside_it() {
    for lock in ["mutex", "rwlock", "semaphore", "spin"] {
        // The yield inside the lock lets another thread run there even on one CPU: a lock
        // that let it in would lose updates at once (unsafe does, with the same flags).
        let report = json(
            &format!("locked --lock {lock} --threads 4 --iterations 300 --trials 20 --yield"),
            0,
        );
        let result = &report["results"][0];
        let name = if lock == "mutex" {
            "locked".to_string()
        } else {
            format!("locked:{lock}")
        };
        assert_eq!(result["strategy"], name.as_str());
        assert_eq!(u(&result["summary"]["differed"]), 0, "{lock}");
        assert_eq!(result["expect"], "correct");
    }
    let racy = json("unsafe --threads 4 --iterations 300 --trials 20 --yield", 0);
    assert!(u(&racy["results"][0]["summary"]["differed"]) > 0);
}

#[test]
fn compare_puts_the_locks_side_by_side() {
    let report = json(
        "compare --strategies locked:mutex,locked:rwlock,locked:semaphore,locked:spin --threads 2 --iterations 1000 --trials 3",
        0,
    );
    let results = report["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["locked", "locked:rwlock", "locked:semaphore", "locked:spin"]
    );
    for r in results {
        assert_eq!(u(&r["summary"]["differed"]), 0, "{r}");
        assert!(r["summary"]["ns_per_op"].as_f64().unwrap() > 0.0, "{r}");
    }
}

#[test]
fn an_in_memory_lock_on_a_store_is_refused_with_the_reason() {
    racedemo("locked --lock spin --store sqlite")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::starts_with(
            "error: locked:spin cannot run on --store sqlite: an in-memory lock",
        ));
}
