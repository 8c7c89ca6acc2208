//! `racedemo exec` making a hidden race show, and its examples: runs pinned to CPUs, busy
//! neighbours, Python's switch interval, settings side by side, numeric outcomes binned, the
//! racy and fixed programs of `examples/`.

use crate::common;

use std::process::{Command, Stdio};

use common::{exec, exec_json as json, input_error, u};

#[cfg(target_os = "linux")]
#[test]
fn cpus_pins_each_run_read_back_from_inside_it() {
    let report = json(
        &[
            "--runs",
            "3",
            "--cpus",
            "1",
            "-c",
            "grep Cpus_allowed_list /proc/self/status",
        ],
        0,
    );
    assert_eq!(report["perturbations"]["cpus"], 1);
    assert_eq!(
        report["commands"][0]["outcomes"][0]["value"],
        "Cpus_allowed_list:\t0"
    );
    assert_eq!(u(&report["commands"][0]["outcomes"][0]["runs"]), 3);
}

#[test]
fn busy_neighbours_and_a_python_switch_interval_are_named_in_the_report() {
    let report = json(
        &[
            "--runs",
            "2",
            "--load",
            "1",
            "--switch-interval",
            "1e-6",
            "-c",
            "echo $PYTHONPATH",
        ],
        0,
    );
    let p = &report["perturbations"];
    assert_eq!(p["load"], 1);
    assert_eq!(p["switch_interval_s"], 1e-6);
    // The folder put first on PYTHONPATH holds the sitecustomize.py that sets it.
    let path = report["commands"][0]["outcomes"][0]["value"]
        .as_str()
        .unwrap();
    let first = path.split(':').next().unwrap();
    assert!(first.contains("racedemo-site-"), "{path}");
    let text = String::from_utf8(
        exec(&[
            "--runs",
            "1",
            "--load",
            "1",
            "--switch-interval",
            "1e-6",
            "-c",
            "true",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone(),
    )
    .unwrap();
    assert!(
        text.contains("perturbed: 1 busy neighbour thread · Python's switch interval 1e-6 s"),
        "{text}"
    );
}

/// Whether `python3` can be run here; a test that needs it says so when it cannot.
fn python() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        common::skipped("python3 cannot be run here");
    }
    found
}

#[test]
fn the_racy_python_counter_loses_updates_with_a_short_switch_interval_and_the_locked_one_never() {
    if !python() {
        return;
    }
    // The GIL's switches race on one CPU as on many: this needs no parallelism. Measured
    // here: 80% of runs differ at 1e-6 (72% with two busy neighbours), 2.5% at the default
    // 5 ms; at least 8 of 20 tells the two apart.
    let report = json(
        &[
            "--runs",
            "20",
            "--correct",
            "0",
            "--expect",
            "any",
            "--switch-interval",
            "1e-6",
            "-c",
            "python3 examples/counter_racy.py",
            "-c",
            "python3 examples/counter_locked.py",
        ],
        0,
    );
    let racy = &report["commands"][0];
    let locked = &report["commands"][1];
    assert!(u(&racy["differed"]["differed"]) >= 8, "{racy}");
    assert_eq!(u(&locked["differed"]["differed"]), 0, "{locked}");
    assert_eq!(u(&locked["runs"]), 20);
}

#[test]
fn the_python_cache_checked_then_filled_computes_twice_and_its_lock_fixes_it() {
    if !python() {
        return;
    }
    // Measured here: 20 of 20 runs differ at 1e-6, 14 of 20 at the default 5 ms.
    let report = json(
        &[
            "--runs",
            "10",
            "--correct",
            "10000",
            "--expect",
            "any",
            "--switch-interval",
            "1e-6",
            "-c",
            "python3 examples/check_then_act.py",
            "-c",
            "python3 examples/check_then_act_locked.py",
        ],
        0,
    );
    let racy = &report["commands"][0];
    assert!(u(&racy["differed"]["differed"]) >= 6, "{racy}");
    assert_eq!(
        u(&report["commands"][1]["differed"]["differed"]),
        0,
        "{report}"
    );
}

#[test]
fn eight_processes_running_the_shell_file_counter_lose_increments_and_flock_fixes_it() {
    // Each run starts eight processes that read, add 1 and write a file 100 times: on one CPU
    // or many, a process that reads between another's read and write loses its increment.
    let report = json(
        &[
            "--runs",
            "2",
            "--correct",
            "800",
            "--expect",
            "any",
            "-c",
            "examples/file_counter.sh",
            "-c",
            "examples/file_counter_locked.sh",
        ],
        0,
    );
    assert!(
        u(&report["commands"][0]["differed"]["differed"]) > 0,
        "{report}"
    );
    assert_eq!(
        u(&report["commands"][1]["differed"]["differed"]),
        0,
        "{report}"
    );
    assert_eq!(report["commands"][1]["outcomes"][0]["value"], "800");
}

#[test]
fn the_python_producer_and_consumer_under_a_condition_always_add_up() {
    if !python() {
        return;
    }
    let report = json(
        &[
            "--runs",
            "2",
            "--correct",
            "50005000",
            "--",
            "python3",
            "examples/producer_consumer.py",
        ],
        0,
    );
    assert_eq!(
        u(&report["commands"][0]["differed"]["differed"]),
        0,
        "{report}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn vary_runs_every_command_under_each_setting_and_says_what_changed() {
    let report = json(
        &[
            "--runs",
            "2",
            "--vary",
            "cpus=1,2",
            "-c",
            "grep Cpus_allowed_list /proc/self/status",
        ],
        0,
    );
    assert_eq!(report["varied"], "cpus");
    let commands = report["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0]["setting"], "cpus=1");
    assert_eq!(commands[0]["outcomes"][0]["value"], "Cpus_allowed_list:\t0");
    assert_eq!(commands[1]["setting"], "cpus=2");
    assert_eq!(
        commands[1]["outcomes"][0]["value"],
        "Cpus_allowed_list:\t0-1"
    );
    // A share that moves from 0 of 12 to 12 of 12 changed; one that stays did not.
    let report = json(
        &[
            "--runs",
            "12",
            "--correct",
            "0",
            "--expect",
            "any",
            "--vary",
            "load=0,1",
            "-c",
            "[ -n \"$RACEDEMO_LOADED\" ] && echo 1 || echo 0",
        ],
        0,
    );
    let note = report["notes"][0].as_str().unwrap();
    assert!(note.starts_with("load did not measurably change"), "{note}");
    for (args, says) in [
        ("exec --vary cpus=1 -- true", "at least two values"),
        ("exec --vary foo=1,2 -- true", "unknown 'foo'"),
        ("exec --vary cpus=0,1 -- true", "whole numbers from 1"),
        ("exec --vary switch-interval=0,1 -- true", "above 0"),
        ("exec --vary cpus -- true", "KEY=LIST"),
    ] {
        let err = input_error(args);
        assert!(err.contains(says), "{args}: {err}");
    }
}

#[test]
fn many_numeric_outcomes_are_binned_with_the_correct_value_on_its_own_bar() {
    let report = json(
        &[
            "--runs",
            "30",
            "--correct",
            "0",
            "--expect",
            "any",
            "-c",
            "echo $((RACEDEMO_RUN - 10))",
        ],
        0,
    );
    let bins = report["commands"][0]["histogram"].as_array().unwrap();
    assert!(bins.len() <= 12, "{bins:?}");
    assert_eq!(bins.iter().map(|b| u(&b["runs"])).sum::<u64>(), 30);
    assert!(
        bins.iter()
            .any(|b| b["low"] == 0 && b["high"] == 0 && b["runs"] == 1),
        "{bins:?}"
    );
    assert_eq!(bins[0]["low"], -10);
    // A handful of outcomes needs no bins: the table lists them all.
    let report = json(&["--runs", "3", "-c", "echo $RACEDEMO_RUN"], 0);
    assert!(report["commands"][0].get("histogram").is_none());
}

#[test]
fn the_python_program_of_a_scenario_reads_as_a_teacher_would_write_it() {
    let program = common::stdout("scenario show counter-mutex --as python");
    // A lock held over a few statements is a `with` block; the threads start together.
    assert!(
        program.contains("        with m:\n            r = counter\n"),
        "{program}"
    );
    assert!(!program.contains(".acquire()"), "{program}");
    assert!(
        program.contains("start = threading.Barrier(THREADS)"),
        "{program}"
    );
    assert!(program.contains("    start.wait()\n"), "{program}");
    assert!(program.contains("sys.setswitchinterval(1e-6)"), "{program}");
    assert!(program.contains("ITERATIONS = 10_000\n"), "{program}");
    assert!(program.contains("for _ in range(ITERATIONS):"), "{program}");
    // The separate load and store, with a call between them where CPython can switch.
    let racy = common::stdout("scenario show counter-racy --as python");
    assert!(
        racy.contains("        r = counter\n        pause()")
            && racy.contains("\n        counter = r + 1\n"),
        "{racy}"
    );
    assert!(racy.contains("ITERATIONS = 100_000\n"), "{racy}");
    // Five numbered copies of a group are one function taking its index.
    let philosophers = common::stdout("scenario show philosophers-racy --as python");
    assert_eq!(
        philosophers.matches("\ndef philosopher").count(),
        1,
        "{philosophers}"
    );
    assert!(
        philosophers.contains("def philosopher(i):"),
        "{philosophers}"
    );
    assert!(
        philosophers.contains("with forks[(i + 1) % 5]:"),
        "{philosophers}"
    );
    assert!(
        philosophers.contains("forks = [threading.Lock() for _ in range(5)]"),
        "{philosophers}"
    );
    // No scaffolding a program does not use, and the outcome printed last.
    for name in [
        "counter-racy",
        "counter-mutex",
        "philosophers-racy",
        "lost-signal-racy",
    ] {
        let program = common::stdout(&format!("scenario show {name} --as python"));
        for unused in [
            "_registers",
            "_spin",
            "_atomic",
            "range(1)",
            "import os",
            "import random",
        ] {
            assert!(!program.contains(unused), "{name}: {unused}\n{program}");
        }
        let main = program.split("def main():").nth(1).unwrap();
        let last = main
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with("print("))
            .unwrap();
        assert!(
            last.trim() == "print(outcome)" || last.contains("print(f\""),
            "{name}: {last}"
        );
    }
    let lone = common::stdout("scenario show lost-signal-racy --as python");
    assert!(
        !lone.contains("ITERATIONS"),
        "one pass needs no loop:\n{lone}"
    );
}

/// `scenario check DIR --python` on the racy scenarios of the article's kind and their fixed
/// twins: how many of 20 Python runs each showed the race.
fn python_races(names: &[&str]) -> Vec<(String, u64, u64)> {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        std::fs::copy(
            format!("scenarios/{name}.toml"),
            dir.path().join(format!("{name}.toml")),
        )
        .unwrap();
    }
    let report = common::json(
        &format!(
            "scenario check {} --python --trials 3 --race-budget 5s",
            dir.path().display()
        ),
        0,
    );
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                u(&s["python"]["differed"]),
                u(&s["python"]["runs"]),
            )
        })
        .collect()
}

#[test]
fn the_python_programs_show_the_race_in_most_runs_and_their_fixed_twins_never() {
    if !python() {
        return;
    }
    // CPython switches threads at the call between the read and the write, on one CPU as
    // on many. Measured here: 20, 20, 20 and 18 of 20 (38 and 40 of 40 on one CPU); the
    // issue's target is 15.
    let racy = [
        "counter-racy",
        "article-racy",
        "lost-signal-racy",
        "lazy-init-racy",
    ];
    let fixed = [
        "counter-mutex",
        "article-locked",
        "lost-signal-flag",
        "lazy-init-once",
    ];
    let all: Vec<&str> = racy.iter().chain(&fixed).copied().collect();
    for (name, differed, runs) in python_races(&all) {
        assert_eq!(runs, 20, "{name}");
        if racy.contains(&name.as_str()) {
            assert!(
                differed >= 15,
                "{name}: the race showed in {differed} of 20 runs"
            );
        } else {
            assert_eq!(differed, 0, "{name}");
        }
    }
}

#[test]
fn scenario_run_python_sets_the_python_outcomes_beside_the_native_ones() {
    if !python() {
        return;
    }
    let report = common::json("scenario run lost-signal-flag --python=3 --trials 5", 0);
    let p = &report["python"];
    assert_eq!(u(&p["runs"]), 3);
    assert!(
        p["interpreter"].as_str().unwrap().starts_with("Python 3"),
        "{p}"
    );
    assert_eq!(p["outcomes"][0]["outcome"], "woken=1");
    assert_eq!(p["outcomes"][0]["grade"], "acceptable");
    assert_eq!(u(&p["differed"]), 0);
    let text = common::stdout("scenario run lost-signal-flag --python=2 --trials 5");
    assert!(
        text.contains("outcome  racedemo  python\nwoken=1         5       2  acceptable"),
        "{text}"
    );
    assert!(
        text.contains("in Python the race showed in 0 of 2 runs"),
        "{text}"
    );
    // Without --python, no key: the schema only grows.
    assert!(
        common::json("scenario run lost-signal-flag --trials 2", 0)
            .get("python")
            .is_none()
    );
}

#[test]
fn python_flags_that_cannot_work_are_refused_before_anything_runs() {
    let err = input_error("scenario run counter-racy --python=0");
    assert!(err.contains("--python must be at least 1"), "{err}");
    // Without python3 on PATH: one line that says so, exit 2.
    let out = common::racedemo("scenario run counter-racy --python")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--python: python3 was not found on PATH"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
