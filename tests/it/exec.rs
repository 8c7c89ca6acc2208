//! `racedemo exec`: a user's own command run many times, its outcomes counted; timeouts and
//! background children killed with the run's process group; bad input refused in one line.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{exec, exec_json as json, input_error, u};
use serde_json::Value;

/// Whether a process whose command line holds `marker` is running.
fn running(marker: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", marker])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn each_run_gets_its_index_and_seed_and_its_last_line_is_its_outcome() {
    let report = json(
        &[
            "--runs",
            "6",
            "--parallel",
            "3",
            "--seed",
            "5",
            "-c",
            "echo start; echo $RACEDEMO_RUN; [ -n \"$RACEDEMO_SEED\" ]",
        ],
        0,
    );
    let c = &report["commands"][0];
    assert_eq!(u(&c["runs"]), 6);
    let mut values: Vec<u64> = c["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(u(&o["runs"]), 1);
            o["value"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    values.sort_unstable();
    assert_eq!(values, [0, 1, 2, 3, 4, 5]);
    assert_eq!(c["statuses"][0]["status"], "exit 0");
    assert_eq!(report["seed"], 5);
}

#[test]
fn runs_that_differ_from_the_correct_value_are_counted_with_their_interval_and_fail_the_run() {
    let report = json(
        &[
            "--runs",
            "10",
            "--correct",
            "0",
            "-c",
            "echo $((RACEDEMO_RUN % 2))",
        ],
        1,
    );
    let c = &report["commands"][0];
    assert_eq!(u(&c["differed"]["differed"]), 5);
    assert_eq!(c["differed"]["differed_rate"], 0.5);
    assert_eq!(c["expect"], "correct");
    assert_eq!(c["expect_met"], false);
    assert_eq!(c["examples"].as_array().unwrap().len(), 3);
    let text = String::from_utf8(
        exec(&[
            "--runs",
            "10",
            "--correct",
            "0",
            "-c",
            "echo $((RACEDEMO_RUN % 2))",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone(),
    )
    .unwrap();
    assert!(
        text.contains("differed from 0 in 5 of 10 runs (50%; 95% CI"),
        "{text}"
    );
    // --expect race passes on the same runs.
    json(
        &[
            "--runs",
            "10",
            "--correct",
            "0",
            "--expect",
            "race",
            "-c",
            "echo $((RACEDEMO_RUN % 2))",
        ],
        0,
    );
}

#[test]
fn the_exit_status_a_pattern_or_a_failure_can_be_the_outcome() {
    let report = json(
        &[
            "--runs",
            "4",
            "--outcome",
            "exit",
            "--correct",
            "0",
            "--expect",
            "any",
            "-c",
            "exit $((RACEDEMO_RUN % 2 * 3))",
        ],
        0,
    );
    let c = &report["commands"][0];
    let outcomes: Vec<(&str, u64)> = c["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_str().unwrap(), u(&o["runs"])))
        .collect();
    assert_eq!(outcomes, [("0", 2), ("3", 2)]);
    let report = json(
        &[
            "--runs",
            "2",
            "--outcome",
            r"total: (\d+) of (\d+)",
            "-c",
            "echo total: 1 of 2; echo total: 3 of 4; echo end",
        ],
        0,
    );
    assert_eq!(report["commands"][0]["outcomes"][0]["value"], "3, 4");
    let report = json(
        &[
            "--runs",
            "2",
            "--outcome",
            r"total: (\d+)",
            "-c",
            "echo none",
        ],
        0,
    );
    assert_eq!(report["commands"][0]["outcomes"][0]["value"], "no match");
    assert!(
        report["commands"][0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("matched nothing")
    );
    let report = json(&["--runs", "2", "-c", "echo 41; kill -SEGV $$"], 0);
    assert_eq!(
        report["commands"][0]["outcomes"][0]["value"],
        "killed by SIGSEGV"
    );
    let report = json(&["--runs", "1", "-c", "printf 'ok\\377\\n'"], 0);
    assert_eq!(report["commands"][0]["outcomes"][0]["value"], "ok\\xff");
}

#[test]
fn several_commands_run_side_by_side_in_one_report() {
    let report = json(&["--runs", "3", "-c", "echo a", "-c", "echo b"], 0);
    let commands = report["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0]["command"], "echo a");
    assert_eq!(commands[1]["outcomes"][0]["value"], "b");
}

#[test]
fn a_run_past_its_timeout_is_killed_with_its_children_and_counted_as_timeout() {
    let started = Instant::now();
    let report = json(
        &[
            "--runs",
            "2",
            "--timeout",
            "500ms",
            "-c",
            "sleep 979 & sleep 978; echo never",
        ],
        0,
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report["commands"][0]["outcomes"][0]["value"], "timeout");
    assert_eq!(u(&report["commands"][0]["outcomes"][0]["runs"]), 2);
    assert!(
        !running("sleep 97[89]"),
        "a run's process outlived its timeout"
    );
}

#[test]
fn a_child_left_in_the_background_is_gone_when_its_run_ends() {
    let report = json(&["--runs", "3", "-c", "sleep 977 & echo done"], 0);
    assert_eq!(report["commands"][0]["outcomes"][0]["value"], "done");
    assert!(!running("sleep 977"), "a background child outlived its run");
}

#[test]
fn a_run_that_reads_stdin_gets_eof_at_once() {
    let started = Instant::now();
    let report = json(
        &["--runs", "2", "--timeout", "20s", "-c", "cat; echo read"],
        0,
    );
    assert_eq!(report["commands"][0]["outcomes"][0]["value"], "read");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_run_that_prints_megabytes_is_kept_to_one_mebibyte_and_said_so() {
    let report = json(
        &[
            "--runs",
            "1",
            "-c",
            "head -c 3000000 /dev/zero | tr '\\0' a",
        ],
        0,
    );
    let c = &report["commands"][0];
    assert_eq!(u(&c["truncated"]), 1);
    assert!(c["notes"][0].as_str().unwrap().contains("1 MiB"), "{c}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_runs_in_flight_and_leaves_no_process() {
    let child = Command::new(assert_cmd::cargo::cargo_bin!("racedemo"))
        .args([
            "exec",
            "--runs",
            "50",
            "--parallel",
            "2",
            "--format",
            "json",
            "-c",
            "sleep 976",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !running("sleep 976") {
        assert!(Instant::now() < deadline, "no run started");
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(sent.elapsed() < Duration::from_secs(5));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["interrupted"], true);
    assert!(!running("sleep 976"), "a run outlived Ctrl-C");
}

/// The stdout of a successful `exec` with `args` in `format`.
fn output(args: &[&str], format: &str) -> String {
    let with: Vec<&str> = ["--format", format].iter().chain(args).copied().collect();
    String::from_utf8(exec(&with).assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn every_format_reports_the_outcomes() {
    let args = [
        "--runs",
        "4",
        "--correct",
        "x",
        "--expect",
        "any",
        "-c",
        "echo x",
    ];
    let text =
        String::from_utf8(exec(&args).assert().success().get_output().stdout.clone()).unwrap();
    assert!(text.contains("$ echo x"), "{text}");
    assert!(text.contains("differed from x in 0 of 4 runs"), "{text}");
    let md = output(&args, "markdown");
    assert!(
        md.starts_with("### racedemo exec: 4 runs of each command"),
        "{md}"
    );
    assert!(md.contains("| `x` | 4 | 100% |"), "{md}");
    let csv = output(&args, "csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "command,setting,outcome,runs,share,correct,command_runs,differed,differed_rate"
    );
    assert_eq!(lines[1], "echo x,,x,4,1.0,true,4,0,0.0");
}

#[test]
fn bad_exec_input_is_one_line_and_exit_2() {
    for (args, says) in [
        (
            "exec -- racedemo-no-such-command",
            "command not found: racedemo-no-such-command",
        ),
        ("exec", "exec needs a command"),
        ("exec --parallel 0 -- true", "--parallel 0"),
        ("exec --runs 0 -- true", "--runs 0"),
        ("exec --outcome a(b -- true", "unclosed group, at column 2"),
        (
            "exec --outcome exit --correct zero -- true",
            "an exit status is a number",
        ),
        ("exec --expect race -- true", "needs --correct"),
        (
            "exec --timeout 0s -- true",
            "--timeout must be longer than 0s",
        ),
    ] {
        let err = input_error(args);
        assert!(err.contains(says), "{args}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a program\n").unwrap();
    let err = input_error(&format!("exec -- {}", notes.display()));
    assert!(err.contains("not executable"), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&notes, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = input_error(&format!("exec -- {}", notes.display()));
        assert!(err.contains("Exec format error"), "{err}");
    }
    let out = exec(&["-c", " "]).assert().code(2).get_output().clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("an empty command"));
}

#[test]
fn keep_writes_every_run_that_differed_to_files_named_by_run() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().display().to_string();
    json(
        &[
            "--runs",
            "4",
            "--correct",
            "0",
            "--expect",
            "any",
            "--keep",
            &keep,
            "-c",
            "echo oops >&2; echo $((RACEDEMO_RUN % 2))",
        ],
        0,
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cmd-1-run-1.status",
            "cmd-1-run-1.stderr",
            "cmd-1-run-1.stdout",
            "cmd-1-run-3.status",
            "cmd-1-run-3.stderr",
            "cmd-1-run-3.stdout"
        ]
    );
    let stdout = std::fs::read_to_string(dir.path().join("cmd-1-run-3.stdout")).unwrap();
    assert_eq!(stdout, "1\n");
    let status = std::fs::read_to_string(dir.path().join("cmd-1-run-3.status")).unwrap();
    assert_eq!(status, "exit 0\n");
}

#[test]
fn duration_runs_as_many_as_fit_and_the_race_budget_looks_for_a_differing_run() {
    let report = json(
        &[
            "--duration",
            "600ms",
            "--parallel",
            "2",
            "-c",
            "sleep 0.05; echo x",
        ],
        0,
    );
    let runs = u(&report["commands"][0]["runs"]);
    assert!(
        (4..=40).contains(&runs),
        "{runs} runs of 50 ms in 600 ms, 2 at once"
    );
    // The 7th run is the first to differ (a file counts the runs, one at a time): 5 planned
    // runs do not reach it, the race budget does, and stops there.
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("n");
    let script = format!(
        "n=$(cat {0} 2>/dev/null || echo 0); echo $((n + 1)) > {0}; [ $n -ge 6 ] && echo 1 || echo 0",
        count.display()
    );
    let report = json(
        &[
            "--runs",
            "5",
            "--parallel",
            "1",
            "--correct",
            "0",
            "--expect",
            "race",
            "-c",
            &script,
        ],
        0,
    );
    let c = &report["commands"][0];
    // The run already started when the 7th differed is counted too.
    assert!((1..=2).contains(&u(&c["differed"]["differed"])), "{c}");
    assert!((7..=8).contains(&u(&c["runs"])), "{c}");
    assert_eq!(
        u(&c["examples"][0]["run"]),
        6,
        "numbered after the planned runs"
    );
    assert!(
        c["notes"][0]
            .as_str()
            .unwrap()
            .contains("more ran within the race budget"),
        "{c}"
    );
    let err = input_error("exec --runs 5 --duration 1s -- true");
    assert!(err.contains("cannot be used with"), "{err}");
    let err = input_error("exec --race-budget 1s -- true");
    assert!(err.contains("--race-budget is for --expect race"), "{err}");
}

#[test]
fn junit_has_one_test_case_per_command_and_fails_the_unmet_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exec.xml");
    exec(&[
        "--runs",
        "4",
        "--correct",
        "0",
        "--junit",
        &file.display().to_string(),
        "-c",
        "echo 0",
        "-c",
        "echo $((RACEDEMO_RUN % 2))",
    ])
    .assert()
    .code(1);
    let xml = std::fs::read_to_string(&file).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].attribute("name"), Some("echo 0"));
    assert!(!cases[0].children().any(|c| c.has_tag_name("failure")));
    let failure = cases[1]
        .children()
        .find(|c| c.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .starts_with("expected correct: differed in 2 of 4"),
        "{xml}"
    );
}
