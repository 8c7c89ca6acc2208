//! Stopping a run from outside, as a CI runner, `timeout` or a closed terminal does: the
//! partial report is whole and the exit status says which signal came.

use crate::common;

use common::{assert_consistent, u};
use serde_json::Value;

/// Starts a long unsafe run, waits until its trials are running and its signal thread is up
/// (on Linux, by its threads' names; elsewhere, for a while), sends `signal` with kill(1), and
/// checks the partial report and the exit status.
fn stopped_by(signal: &str, status: i32) {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        // --iterations given: no probe trials, so a worker thread means a counted trial.
        .args(["unsafe", "--iterations", "100000", "--trials", "1000000"])
        .args(["--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let tasks = format!("/proc/{}/task", child.id());
    let names = || -> Vec<String> {
        std::fs::read_dir(&tasks)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
            .collect()
    };
    let started = Instant::now();
    if std::path::Path::new("/proc/self/task").exists() {
        while !(names().iter().any(|n| n.starts_with("racedemo-sign"))
            && names().iter().any(|n| n.starts_with("racedemo-0")))
        {
            assert!(started.elapsed() < Duration::from_secs(30), "never started");
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        std::thread::sleep(Duration::from_secs(2));
    }
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(status), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a whole JSON document");
    assert_eq!(report["interrupted"], true);
    let ran = u(&report["results"][0]["summary"]["trials"]);
    assert!(ran > 0 && ran < 1_000_000, "{ran}");
    assert_eq!(u(&report["workload"]["trials"]), ran);
    assert_consistent(&report);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "racedemo: interrupted by SIG{signal}; the report covers the trials that completed\n"
        )
    );
}

#[test]
fn ctrl_c_prints_the_completed_trials_as_valid_json_and_exits_130() {
    stopped_by("INT", 130);
}

#[test]
fn sigterm_from_a_ci_runner_or_timeout_stops_the_run_like_ctrl_c_and_exits_143() {
    stopped_by("TERM", 143);
}

#[test]
fn sighup_from_a_closed_terminal_stops_the_run_like_ctrl_c_and_exits_129() {
    stopped_by("HUP", 129);
}
