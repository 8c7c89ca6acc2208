//! The counter on a shared store (a file, SQLite), raced by threads and by OS processes: the
//! race shows, the fixes hold, failures are counted, and workers never outlive a run.
//!
//! Every test that asserts a race runs with `--yield` between the read and the write, which
//! hands the CPU to another worker mid-increment: the race shows even on one CPU, whatever the
//! other tests in this binary keep busy.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{alive, children, counter_json, racedemo, stdout, u};
use serde_json::Value;

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().unwrap()
}

/// Every listed trial of `result` lost at least one update.
fn every_trial_lost(result: &Value) {
    let trials = result["trials"].as_array().unwrap();
    assert!(!trials.is_empty());
    for t in trials {
        assert!(u(&t["lost"]) > 0, "a trial lost nothing: {t}");
    }
}

#[test]
fn unsafe_on_sqlite_loses_updates_between_processes_in_every_trial() {
    let report = counter_json(
        "unsafe --store sqlite --processes 3 --iterations 300 --trials 3 --yield",
        0,
    );
    let w = &report["workload"];
    assert_eq!(w["store"]["kind"], "sqlite");
    assert_eq!(w["workers"]["kind"], "processes");
    assert_eq!(u(&w["workers"]["count"]), 3);
    let r = &results(&report)[0];
    every_trial_lost(r);
    // Unsafe never fails an attempt: every increment was acknowledged, and lost.
    assert_eq!(u(&r["summary"]["acknowledged"]), 3 * 3 * 300);
    assert!(
        r["operation"]
            .as_str()
            .unwrap()
            .contains("SELECT v, then UPDATE")
    );
}

#[test]
fn unsafe_on_a_file_loses_updates_between_processes_in_every_trial() {
    let report = counter_json(
        "unsafe --store file --processes 2 --iterations 2000 --trials 3 --yield",
        0,
    );
    assert_eq!(report["workload"]["store"]["kind"], "file");
    every_trial_lost(&results(&report)[0]);
}

#[test]
fn unsafe_on_sqlite_loses_updates_between_threads_with_a_connection_each() {
    let report = counter_json(
        "unsafe --store sqlite --threads 3 --iterations 300 --trials 3 --yield",
        0,
    );
    assert_eq!(report["workload"]["workers"]["kind"], "threads");
    every_trial_lost(&results(&report)[0]);
}

#[test]
fn locked_atomic_and_optimistic_never_lose_an_update_on_sqlite() {
    let report = counter_json(
        "compare --store sqlite --strategies locked,atomic,optimistic --processes 3 \
         --iterations 200 --trials 8 --yield",
        0,
    );
    for r in results(&report) {
        assert_eq!(u(&r["summary"]["differed"]), 0, "{}", r["strategy"]);
        assert_eq!(u(&r["summary"]["lost"]["max"]), 0);
        assert_eq!(r["expect_met"], true);
        // Nothing was refused: every planned increment counted.
        assert_eq!(u(&r["summary"]["acknowledged"]), 8 * 3 * 200);
    }
    // With a yield between every read and write, some compare-and-swap found another's write.
    let optimistic = &results(&report)[2];
    assert!(u(&optimistic["summary"]["retries"]) > 0, "{optimistic}");
}

#[test]
fn flock_never_loses_an_update_on_a_file() {
    let report = counter_json(
        "locked --store file --processes 3 --iterations 1000 --trials 8 --yield",
        0,
    );
    let r = &results(&report)[0];
    assert_eq!(u(&r["summary"]["differed"]), 0);
    assert_eq!(u(&r["summary"]["acknowledged"]), 8 * 3 * 1000);
}

#[test]
fn a_transaction_without_retry_counts_busy_errors_and_never_loses_an_acknowledged_increment() {
    let report = counter_json(
        "transaction --store sqlite --processes 3 --iterations 200 --trials 3 --yield",
        0,
    );
    let r = &results(&report)[0];
    let s = &r["summary"];
    assert!(u(&s["errors"]["busy"]) > 0, "{s}");
    assert_eq!(u(&s["retries"]), 0);
    assert_eq!(u(&s["given_up"]), u(&s["errors"]["busy"]), "{s}");
    assert_eq!(u(&s["differed"]), 0);
    // The failed transactions were never acknowledged: fewer than planned.
    assert!(u(&s["acknowledged"]) < 3 * 3 * 200, "{s}");
    assert_eq!(
        u(&s["acknowledged"]) + u(&s["errors"]["busy"]),
        3 * 3 * 200,
        "each increment either committed or failed once"
    );
}

#[test]
fn a_transaction_with_retry_retries_its_failures_and_loses_nothing() {
    let report = counter_json(
        "transaction --store sqlite --processes 2 --iterations 100 --trials 2 --yield --retry 1000",
        0,
    );
    let s = &results(&report)[0]["summary"];
    assert_eq!(u(&s["differed"]), 0);
    assert_eq!(u(&s["retries"]), u(&s["errors"]["busy"]), "{s}");
    assert_eq!(u(&s["given_up"]), 0, "{s}");
    assert_eq!(u(&s["acknowledged"]), 2 * 2 * 100, "{s}");
}

#[test]
fn processes_without_a_store_race_on_an_embedded_sqlite_database_and_say_so() {
    let text = stdout("unsafe --processes 2 --iterations 50 --trials 1");
    assert!(text.contains("2 processes x 50 increments"), "{text}");
    assert!(
        text.contains("(chosen: --processes needs a store they share"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  store ") && l.contains(" sqlite ")),
        "{text}"
    );
}

#[test]
fn explain_on_a_store_tells_one_lost_update_between_processes() {
    let text =
        stdout("unsafe --store sqlite --processes 2 --iterations 200 --trials 2 --yield --explain");
    assert!(text.contains("one of those counted"), "{text}");
    assert!(
        text.contains("process 1 read") || text.contains("process 2 read"),
        "{text}"
    );
    assert!(text.contains("increment is lost"), "{text}");
}

#[test]
fn runs_against_one_sqlite_file_at_once_each_keep_their_own_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let args = format!(
        "atomic --store sqlite:{} --threads 2 --iterations 300 --trials 5 --format json",
        db.display()
    );
    let spawn = || {
        Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
            .args(args.split_whitespace())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Four at once, so that some start while another is still making the database.
    let runs: Vec<_> = (0..4).map(|_| spawn()).collect();
    for child in runs {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        common::assert_consistent(&report);
        assert_eq!(u(&report["results"][0]["summary"]["differed"]), 0);
    }
    // Each run deleted its row at the end; racedemo's table is all that is left.
    let rows: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM racedemo_counter", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn sweep_varies_the_processes_on_a_store() {
    let report = common::json(
        "sweep --store sqlite --processes 1,2 --iterations 50 --trials 2 --strategies unsafe,atomic",
        0,
    );
    assert_eq!(report["parameter"], "processes");
    let points = report["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(u(&points[1]["workload"]["workers"]["count"]), 2);
    assert_eq!(points[1]["workload"]["workers"]["kind"], "processes");
}

/// Starts a long run with two worker processes, waits until both exist, does `to_worker` to
/// them (and returns their pids), then reads the run's end.
fn run_and_disturb(
    extra: &[&str],
    disturb: impl FnOnce(u32, &[u32]),
) -> (std::process::Output, Vec<u32>) {
    let child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(["unsafe", "--store", "sqlite", "--processes", "2"])
        .args(["--trials", "1000", "--format", "json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let workers = loop {
        let found = children(child.id());
        if found.len() == 2 {
            break found;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no workers");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the first trial begin.
    std::thread::sleep(Duration::from_millis(300));
    disturb(child.id(), &workers);
    let out = child.wait_with_output().unwrap();
    (out, workers)
}

fn kill(signal: &str, pid: u32) {
    let done = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(done.success());
}

#[test]
fn a_worker_killed_mid_run_ends_the_run_with_exit_3_valid_json_and_no_child_left() {
    let (out, workers) = run_and_disturb(&["--iterations", "2000000"], |_, workers| {
        kill("KILL", workers[1])
    });
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a whole JSON document");
    let fault = report["fault"].as_str().unwrap();
    assert!(
        fault.contains(&format!("process 2 (pid {})", workers[1])) && fault.contains("signal 9"),
        "{fault}"
    );
    common::assert_consistent(&report);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: process 2"), "{stderr}");
    for pid in workers {
        assert!(!alive(pid), "worker {pid} outlived the run");
    }
}

#[test]
fn ctrl_c_stops_the_workers_too_and_prints_the_partial_report() {
    let (out, workers) =
        run_and_disturb(&["--iterations", "5000"], |parent, _| kill("INT", parent));
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a whole JSON document");
    assert_eq!(report["interrupted"], true);
    common::assert_consistent(&report);
    for pid in workers {
        assert!(!alive(pid), "worker {pid} outlived the run");
    }
}

#[test]
fn a_hung_worker_ends_the_run_with_exit_3_after_the_worker_timeout() {
    let long = ["--iterations", "2000000", "--worker-timeout", "1s"];
    let (out, workers) = run_and_disturb(&long, |_, workers| kill("STOP", workers[0]));
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a whole JSON document");
    let fault = report["fault"].as_str().unwrap();
    // The stopped worker is named: it is the silent one; the other still beats.
    assert!(
        fault.contains(&format!("process 1 (pid {})", workers[0]))
            && fault.contains("sent nothing for 1s"),
        "{fault}"
    );
    for pid in workers {
        assert!(!alive(pid), "worker {pid} outlived the run");
    }
}

/// Bad input of every kind: one line naming the flag or path, exit 2, nothing on stdout.
#[test]
fn bad_store_input_is_one_line_naming_the_problem_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes\n").unwrap();
    let text_db = dir.path().join("text.db");
    std::fs::write(&text_db, "not a database ".repeat(100)).unwrap();
    let cases = [
        ("unsafe --store nosuch", "unknown store 'nosuch'"),
        (
            "unsafe --store mongodb://me:secret@db/x",
            "unknown store 'mongodb://me:***@db/x'",
        ),
        (
            "unsafe --store file:/no/such/folder/c.txt",
            "no such folder /no/such/folder",
        ),
        (
            &format!("unsafe --store file:{}", notes.display()),
            "never overwrites a file",
        ),
        (
            &format!("unsafe --store sqlite:{}", text_db.display()),
            "not a SQLite database",
        ),
        ("unsafe --processes 0", "--processes must be at least 1"),
        (
            "unsafe --processes 5000",
            "--processes 5000 is above the limit",
        ),
        ("atomic --store file", "atomic cannot run on --store file"),
        (
            "optimistic --store file",
            "optimistic cannot run on --store file",
        ),
        (
            "transaction",
            "transaction cannot run: memory has no transactions",
        ),
        (
            "unsafe --store memory --processes 2",
            "memory is not shared between processes",
        ),
        ("unsafe --retry 3", "--retry needs a store"),
        (
            "unsafe --processes 2 --threads 2",
            "--threads and --processes both given",
        ),
        (
            "unsafe --store sqlite --start naive",
            "--start naive is for threads in memory",
        ),
        ("unsafe --store file: ", "names no file after the colon"),
    ];
    for (args, message) in cases {
        let out = racedemo(args).assert().code(2).get_output().clone();
        assert!(out.stdout.is_empty(), "{args}: stdout not empty");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args}: {stderr}");
        assert!(stderr.contains(message), "{args}: {stderr}");
        assert!(!stderr.contains("secret"), "{args}: {stderr}");
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    assert_eq!(
        std::fs::read(&text_db).unwrap(),
        "not a database ".repeat(100).as_bytes()
    );
}

#[test]
fn expect_race_on_a_store_runs_more_trials_within_the_budget_and_fails_when_none_races() {
    // One thread has nobody to race with: every extra trial is spent, and the run fails.
    let report = counter_json(
        "unsafe --store sqlite --threads 1 --iterations 20 --trials 2 --expect race \
         --race-budget 300ms",
        1,
    );
    let r = &results(&report)[0];
    let extra = u(&r["extra"]["trials"]);
    assert!(extra > 0, "{r}");
    assert_eq!(r["extra"]["raced"], false);
    assert_eq!(u(&r["summary"]["trials"]), 2 + extra);
    assert_eq!(r["expect_met"], false);
}

#[test]
fn a_users_sqlite_database_keeps_its_tables_rows_and_journal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let app = rusqlite::Connection::open(&db).unwrap();
    app.execute_batch(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER);
         INSERT INTO accounts VALUES (1, 100), (2, 250);",
    )
    .unwrap();
    drop(app);
    let report = counter_json(
        &format!(
            "compare --store sqlite:{} --threads 2 --iterations 50 --trials 2",
            db.display()
        ),
        0,
    );
    let details = report["workload"]["store"]["details"].as_str().unwrap();
    assert!(
        details.contains("journal mode delete (the database's own)"),
        "{details}"
    );
    let app = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<(i64, i64)> = app
        .prepare("SELECT id, balance FROM accounts ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [(1, 100), (2, 250)]);
    let mode: String = app
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        mode, "delete",
        "racedemo set WAL on a database it did not make"
    );
    let ours: i64 = app
        .query_row("SELECT count(*) FROM racedemo_counter", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        ours, 0,
        "racedemo's row is gone; only its empty table is left"
    );
}

#[test]
fn the_worker_command_is_racedemos_own_and_offered_nowhere() {
    for args in ["--help", "completions bash", "man"] {
        // Bash completion names its cases racedemo__subcmd__NAME: the public `worker` command
        // appears so, as `__subcmd__worker`.
        let text = stdout(args).replace("__subcmd__", " ");
        assert!(
            !text.contains("__worker"),
            "{args} offers the worker command"
        );
    }
    let out = racedemo("__worker").assert().code(2).get_output().clone();
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "racedemo: `__worker` is for racedemo's own use\n"
    );
}

#[test]
fn ctrl_c_leaves_a_long_trial_of_threads_on_a_store_without_waiting_for_it() {
    let child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args(["unsafe", "--store", "sqlite", "--threads", "2"])
        .args(["--iterations", "2000000", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once its signal thread is up, a signal is racedemo's to handle.
    let tasks = format!("/proc/{}/task", child.id());
    let started = Instant::now();
    while !std::fs::read_dir(&tasks)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .any(|n| n.starts_with("racedemo-sign"))
    {
        assert!(started.elapsed() < Duration::from_secs(30), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    kill("INT", child.id());
    // A trial of 4 million SQLite statements takes minutes; the run ends without it.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a whole JSON document");
    assert_eq!(report["interrupted"], true);
    assert_eq!(u(&report["results"][0]["summary"]["trials"]), 0);
    assert!(report.get("fault").is_none(), "{report}");
}
