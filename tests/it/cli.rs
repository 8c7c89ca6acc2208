//! The command line as a user and a CI script see it: values, exit statuses, streams.

use crate::common;

use common::{assert_consistent, counter_json as json, input_error, racedemo, stdout, u};
use predicates::prelude::*;

#[test]
fn unsafe_with_yield_loses_updates_in_every_trial_even_on_a_busy_machine() {
    // The yield between read and write lets another thread run on the same CPU, so this
    // holds even when other tests keep the second core busy.
    let report = json(
        "unsafe --threads 8 --iterations 2000 --trials 20 --yield",
        0,
    );
    assert_consistent(&report);
    let summary = &report["results"][0]["summary"];
    assert_eq!(u(&summary["differed"]), 20, "{summary}");
    assert!(u(&summary["lost"]["min"]) > 0);
    assert_eq!(report["workload"]["yield"], true);
}

#[test]
fn locked_counter_never_loses_an_update() {
    let report = json(
        "locked --threads 4 --iterations 2000 --trials 300 --window 3",
        0,
    );
    assert_consistent(&report);
    let result = &report["results"][0];
    assert_eq!(u(&result["summary"]["differed"]), 0);
    assert_eq!(u(&result["summary"]["distinct_finals"]), 1);
    assert_eq!(result["expect"], "correct");
    assert_eq!(result["expect_met"], true);
}

#[test]
fn atomic_counter_never_loses_an_update() {
    let report = json("atomic --threads 4 --iterations 2000 --trials 300", 0);
    assert_consistent(&report);
    assert_eq!(u(&report["results"][0]["summary"]["differed"]), 0);
    assert_eq!(u(&report["results"][0]["summary"]["lost"]["max"]), 0);
}

#[test]
fn locked_counter_stays_correct_with_a_yield_inside_the_lock() {
    let report = json("locked --threads 4 --iterations 300 --trials 20 --yield", 0);
    assert_eq!(u(&report["results"][0]["summary"]["differed"]), 0);
}

#[test]
fn json_report_carries_the_documented_fields() {
    let report = json(
        "unsafe --threads 3 --iterations 500 --trials 4 --seed 123 --window 2 --jitter --start naive",
        0,
    );
    assert_eq!(report["schema"], 1);
    assert_eq!(report["racedemo"], env!("CARGO_PKG_VERSION"));
    assert!(u(&report["machine"]["logical_cpus"]) >= 1);
    assert!(report["machine"]["os"].is_string() && report["machine"]["arch"].is_string());
    let w = &report["workload"];
    assert_eq!(
        (
            u(&w["threads"]),
            u(&w["iterations"]),
            u(&w["trials"]),
            u(&w["expected"])
        ),
        (3, 500, 4, 1500)
    );
    assert_eq!(
        (&w["start"], &w["window"], &w["jitter"]),
        (&"naive".into(), &2.into(), &true.into())
    );
    assert_eq!((u(&w["seed"]), &w["yield"]), (123, &false.into()));
    let r = &report["results"][0];
    assert_eq!(r["strategy"], "unsafe");
    assert_eq!(r["expect"], "any");
    for key in [
        "differed_rate",
        "differed_ci95",
        "lost",
        "distinct_finals",
        "ns_per_op",
    ] {
        assert!(r["summary"].get(key).is_some(), "summary lacks {key}");
    }
    for key in ["min", "median", "max", "mean_fraction"] {
        assert!(r["summary"]["lost"].get(key).is_some(), "lost lacks {key}");
    }
    for key in ["final", "lost", "elapsed_ns", "overlap"] {
        assert!(r["trials"][0].get(key).is_some(), "trial lacks {key}");
    }
    // 3 threads x 500 racy increments can end as low as 2.
    assert_eq!(u(&r["finals"]["possible_min"]), 2);
    assert_consistent(&report);
}

#[test]
fn compare_puts_one_result_per_strategy_with_its_cost_relative_to_unsafe() {
    let report = json("compare --threads 2 --iterations 20000 --trials 5", 0);
    assert_consistent(&report);
    let results = report["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["unsafe", "locked", "atomic", "optimistic"]);
    assert_eq!(results[0]["vs_unsafe"].as_f64(), Some(1.0));
    for r in &results[1..] {
        assert_eq!(u(&r["summary"]["differed"]), 0);
        assert!(r["vs_unsafe"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn compare_runs_only_the_strategies_asked_for() {
    let report = json(
        "compare --strategies atomic,locked --iterations 10 --trials 2",
        0,
    );
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["atomic", "locked"]);
    assert!(report["results"][0].get("vs_unsafe").is_none());
}

#[test]
fn text_report_shows_the_workload_the_trials_and_the_summary() {
    racedemo("locked --threads 2 --iterations 100 --trials 3 --seed 9")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "racedemo locked: 2 threads x 100 increments, 3 trials\n",
        ))
        .stdout(predicate::str::contains(
            "  expected  200 (threads x increments)\n",
        ))
        .stdout(predicate::str::contains("  seed      9\n"))
        .stdout(predicate::str::contains(
            "  locked    lock a std::sync::Mutex",
        ))
        .stdout(predicate::str::contains(
            "differed from expected in 0 of 3 trials: the rate is below 63% at 95% confidence\n",
        ))
        .stdout(predicate::str::contains(
            "locked: expected correct, and it was\n",
        ))
        .stderr("");
}

#[test]
fn a_race_that_did_not_show_is_never_reported_silently() {
    // One thread cannot race; the report says why instead of a bare "no race".
    racedemo("unsafe --threads 1 --iterations 100 --trials 3")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "differed from expected in 0 of 3 trials",
        ))
        .stdout(predicate::str::contains(
            "note: one thread has nobody to race with",
        ));
}

#[test]
fn expect_race_fails_with_status_1_when_no_trial_differed() {
    let out = racedemo(
        "locked --threads 2 --iterations 100 --trials 3 --expect race --race-budget 200ms \
         --format json",
    )
    .assert()
    .code(1)
    .stderr(
        predicate::str::is_match(
            "^error: expectation failed: locked was expected to race, but none of 3 trials showed \
         the race, nor [0-9,]+ more in the 0.2 s race budget \\(--race-budget\\)\n$",
        )
        .unwrap(),
    )
    .get_output()
    .stdout
    .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    common::assert_consistent(&report);
    let result = &report["results"][0];
    let extra = result["extra"]["trials"].as_u64().unwrap();
    assert!(extra >= 1, "{result}");
    assert_eq!(result["summary"]["trials"].as_u64(), Some(3 + extra));
    assert_eq!(result["extra"]["raced"], false);
    assert_eq!(result["expect_met"], false);
}

#[test]
fn expect_correct_fails_with_status_1_when_updates_were_lost() {
    let report = json(
        "unsafe --threads 8 --iterations 1000 --trials 5 --yield --expect correct",
        1,
    );
    assert_eq!(report["results"][0]["expect"], "correct");
    assert_eq!(report["results"][0]["expect_met"], false);
}

#[test]
fn expect_race_passes_when_updates_were_lost() {
    racedemo("unsafe --threads 8 --iterations 1000 --trials 5 --yield --expect race")
        .assert()
        .code(0);
}

#[test]
fn every_bad_input_gets_status_2_and_one_line_naming_the_flag() {
    let cases = [
        ("unsafe --threads 0", "--threads"),
        ("unsafe --threads -3", "--threads"),
        ("unsafe --threads many", "--threads"),
        (
            "unsafe --threads 5000",
            "--threads 5000 is above the limit of 1024",
        ),
        ("unsafe --iterations 0", "--iterations"),
        ("unsafe --iterations 1.5", "--iterations"),
        ("unsafe --trials 0", "--trials"),
        ("unsafe --trials 99999999999999999999999", "--trials"),
        (
            "unsafe --threads 2 --iterations 18446744073709551615",
            "overflows",
        ),
        ("unsafe --window 5000000", "--window"),
        ("unsafe --jitter", "--jitter"),
        ("unsafe --seed x", "--seed"),
        ("unsafe --start soon", "--start"),
        ("unsafe --expect maybe", "--expect"),
        ("unsafe --format xml", "--format"),
        ("unsafe --color sometimes", "--color"),
        ("compare --strategies unsafe,spinlock", "--strategies"),
        ("compare --strategies atomic,atomic", "--strategies"),
        ("unsafe --duration 0s", "--duration"),
        ("unsafe --duration soon", "--duration"),
        ("unsafe --duration 2days", "--duration"),
        ("unsafe --no-such-flag", "--no-such-flag"),
        ("unsafe --threads", "--threads"),
        ("race", "race"),
    ];
    for (args, names) in cases {
        let stderr = input_error(args);
        assert!(stderr.starts_with("error: "), "{args}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args}: {stderr}");
        assert!(stderr.contains(names), "{args}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args}: {stderr}");
    }
}

#[test]
fn no_colour_codes_when_stdout_is_not_a_terminal() {
    racedemo("unsafe --threads 2 --iterations 100 --trials 2")
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}[").not())
        .stderr("");
}

#[test]
fn colour_always_colours_even_into_a_pipe() {
    racedemo("locked --threads 2 --iterations 100 --trials 2 --color always")
        .assert()
        .success()
        .stdout(predicate::str::contains("\u{1b}["));
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    racedemo("atomic --threads 2 --iterations 1000 --trials 50")
        .assert()
        .success()
        .stderr("");
}

#[test]
fn help_documents_the_exit_statuses() {
    racedemo("unsafe --help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status:"))
        .stdout(predicate::str::contains("2  invalid input"));
}

#[test]
fn the_same_seed_gives_the_same_jitter_draws_and_another_seed_other_ones() {
    use racedemo::harness::thread_seed;
    use racedemo::window::WindowSpec;
    // What the seed drives: each thread's busy-work draws, trial by trial, as the counter
    // workload opens its window from the harness's per-thread seed.
    let spec = WindowSpec {
        spin: 1000,
        jitter: true,
        yield_now: false,
    };
    let draws = |seed: u64| -> Vec<Vec<u32>> {
        (0..3u64)
            .flat_map(|trial| (0..2).map(move |thread| (trial, thread)))
            .map(|(trial, thread)| {
                let mut window = spec.open(thread_seed(seed, trial, thread));
                (0..50).map(|_| window.next_units()).collect()
            })
            .collect()
    };
    assert_eq!(draws(77), draws(77));
    assert_ne!(draws(77), draws(78));
    // Threads and trials of one run draw differently from each other.
    let run = draws(77);
    assert!(
        run.iter()
            .enumerate()
            .all(|(i, a)| run[i + 1..].iter().all(|b| a != b))
    );
    // The command line hands the seed to that machinery and echoes it.
    let args = "unsafe --threads 2 --iterations 10 --trials 1 --window 50 --jitter --seed 77";
    assert_eq!(u(&json(args, 0)["workload"]["seed"]), 77);
}

#[test]
fn tiny_trials_run_in_lockstep_batches_and_every_trial_is_counted() {
    for strategy in ["locked", "atomic"] {
        let report = json(
            &format!("{strategy} --threads 2 --iterations 1 --trials 30000"),
            0,
        );
        assert_eq!(report["workload"]["trial_mode"], "batch", "{strategy}");
        let s = &report["results"][0]["summary"];
        assert_eq!(u(&s["trials"]), 30000, "{strategy}");
        assert_eq!(u(&s["differed"]), 0, "{strategy}: {s}");
        assert!(s["trials_per_second"].as_f64().unwrap() > 0.0);
        assert_consistent(&report);
    }
    let report = json("unsafe --threads 2 --iterations 3 --trials 20000", 0);
    assert_eq!(report["workload"]["trial_mode"], "batch");
    assert_eq!(u(&report["results"][0]["summary"]["trials"]), 20000);
    assert_consistent(&report);
}

#[test]
fn a_yield_or_big_trials_run_trials_one_by_one() {
    let report = json("atomic --threads 2 --iterations 1 --trials 50 --yield", 0);
    assert_eq!(report["workload"]["trial_mode"], "single");
    let report = json("atomic --threads 2 --iterations 100000 --trials 3", 0);
    assert_eq!(report["workload"]["trial_mode"], "single");
}

#[test]
fn tiny_trials_with_more_threads_than_cpus_still_run_in_batches_and_say_how_little_they_overlapped()
{
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cpus + 1;
    for strategy in ["unsafe", "atomic"] {
        let report = json(
            &format!("{strategy} --threads {threads} --iterations 1 --trials 20000"),
            0,
        );
        assert_eq!(report["workload"]["trial_mode"], "batch", "{strategy}");
        let result = &report["results"][0];
        assert_eq!(u(&result["summary"]["trials"]), 20000, "{strategy}");
        assert_consistent(&report);
        if strategy == "atomic" {
            assert_eq!(u(&result["summary"]["differed"]), 0);
            continue;
        }
        let shared = format!("{threads} threads shared {cpus} logical CPUs: at most {cpus} ran");
        assert!(
            result["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().starts_with(&shared)),
            "{strategy}: {}",
            result["notes"]
        );
    }
}

#[test]
fn duration_runs_trials_until_the_time_is_spent() {
    let report = json("atomic --threads 2 --iterations 100 --duration 300ms", 0);
    assert_eq!(report["workload"]["duration_s"].as_f64(), Some(0.3));
    let s = &report["results"][0]["summary"];
    assert!(u(&s["trials"]) > 0, "{s}");
    assert_eq!(u(&report["workload"]["trials"]), u(&s["trials"]));
    assert_eq!(u(&s["differed"]), 0);
    // --trials caps a timed run.
    let report = json(
        "atomic --threads 2 --iterations 100 --duration 10s --trials 7",
        0,
    );
    assert_eq!(u(&report["results"][0]["summary"]["trials"]), 7);
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(["compare", "--trials", "1000", "--iterations", "1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the report is written, like `| head -1` after its line.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
}

#[test]
fn soak_locked_and_atomic_never_differ_over_100000_trials() {
    for strategy in ["locked", "atomic"] {
        let report = json(
            &format!("{strategy} --threads 2 --iterations 5 --trials 100000"),
            0,
        );
        let s = &report["results"][0]["summary"];
        assert_eq!(
            (u(&s["trials"]), u(&s["differed"])),
            (100_000, 0),
            "{strategy}"
        );
    }
}

#[test]
fn markdown_is_a_table_for_ci_job_summaries() {
    let md = stdout(
        "compare --strategies locked,atomic --threads 2 --iterations 1000 --trials 3 --format markdown",
    );
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines[0],
        "### racedemo locked vs atomic: 2 threads × 1,000 increments, 3 trials"
    );
    assert!(
        lines[2].starts_with("| strategy | differed | 95% CI |"),
        "{md}"
    );
    assert!(lines[3].starts_with("|---|---:|"), "{md}");
    assert!(
        lines[4].starts_with("| `locked` | 0 of 3 (0%) | < 63% (one-sided) | 0 | 2,000 (2,000) |"),
        "{md}"
    );
    assert!(lines[4].ends_with("| correct ✅ |"), "{md}");
    assert!(lines[5].starts_with("| `atomic` | 0 of 3 (0%) |"), "{md}");
    assert_eq!(lines.len(), 6, "{md}");
}

#[test]
fn csv_has_a_header_and_one_row_per_strategy() {
    let text = stdout(
        "compare --strategies locked,atomic --threads 2 --iterations 1000 --trials 3 --format csv",
    );
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{text}");
    let column = |name: &str| rows[0].iter().position(|&c| c == name).unwrap();
    for (row, strategy) in rows[1..].iter().zip(["locked", "atomic"]) {
        assert_eq!(row.len(), rows[0].len());
        assert_eq!(row[column("strategy")], strategy);
        assert_eq!(row[column("trials")], "3");
        assert_eq!(row[column("differed")], "0");
        assert_eq!(row[column("observed_min")], "2000");
        assert_eq!(row[column("expect_met")], "true");
    }
}

#[test]
fn no_arguments_prints_a_short_usage_pointing_at_the_quick_start() {
    racedemo("")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "racedemo: make race conditions visible\n",
        ))
        .stderr(predicate::str::contains(
            "Quick start:\n  racedemo unsafe --threads 8 ",
        ))
        .stderr(predicate::str::contains("Try 'racedemo --help'"));
}

#[test]
fn completions_are_generated_for_every_shell() {
    // What each shell's script must contain to complete our commands and flags.
    for (shell, marker) in [
        ("bash", "complete -F _racedemo"),
        ("zsh", "#compdef racedemo"),
        ("fish", "complete -c racedemo"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[racedemo]"),
    ] {
        let script = stdout(&format!("completions {shell}"));
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for word in ["unsafe", "scenario", "threads", "junit"] {
            assert!(script.contains(word), "{shell}: no {word:?}");
        }
    }
    racedemo("completions tcsh").assert().code(2);
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let page = stdout("man");
    assert!(page.contains(".TH racedemo 1"), "{page}");
    for command in [
        "unsafe",
        "locked",
        "atomic",
        "compare",
        "scenario",
        "completions",
    ] {
        assert!(
            page.contains(&format!("racedemo\\-{command}(1)")),
            "{command}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    racedemo(&format!("man --dir {}", dir.path().display()))
        .assert()
        .success();
    for page in [
        "racedemo.1",
        "racedemo-unsafe.1",
        "racedemo-scenario-check.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".SH SYNOPSIS"), "{page}");
    }
}

#[test]
fn trials_are_lengthened_only_when_the_size_was_not_given_and_then_say_from_what() {
    // Given --iterations: kept as given, whatever the overlap.
    for args in [
        "unsafe --threads 2 --iterations 1000 --trials 2",
        "unsafe --threads 2 --trials 1 --start naive",
        "locked --threads 2 --trials 1",
    ] {
        let report = json(args, 0);
        assert!(report["workload"].get("lengthened").is_none(), "{args}");
    }
    let report = json("locked --threads 2 --trials 1", 0);
    assert_eq!(u(&report["workload"]["iterations"]), 1_000_000);
    // Not given: 1,000,000, or that times a power of four up to 64 (4 beside a correct
    // strategy), and the header says so.
    let report = json("compare --threads 2 --trials 1", 0);
    let w = &report["workload"];
    let iterations = u(&w["iterations"]);
    assert!([1, 4].map(|k| k * 1_000_000).contains(&iterations), "{w}");
    match w.get("lengthened") {
        None => assert_eq!(iterations, 1_000_000),
        Some(l) => {
            assert_eq!((u(&l["from"]), u(&l["to"])), (1_000_000, iterations), "{l}");
            assert_eq!(u(&l["probes"]), 5);
            assert!(u(&l["raced"]) <= 5);
            let note = format!("trials lengthened to {}", iterations);
            let notes = report["results"][0]["notes"].to_string().replace(',', "");
            assert!(notes.contains(&note), "{notes}");
        }
    }
}
