//! Helpers every integration test file shares. Not every file uses every helper.
#![allow(dead_code)]

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// racedemo with `args`, in an environment that does not leak the developer's settings. Text
/// is laid out for a terminal 200 columns wide, so that a test reads each line whole; wrapping
/// at 80 columns is tested on the exporters themselves.
pub fn racedemo(args: &str) -> Command {
    let mut cmd = cargo_bin_cmd!("racedemo");
    cmd.args(args.split_whitespace())
        .env("COLUMNS", "200")
        .env_remove("NO_COLOR")
        .env_remove("RACEDEMO_SCENARIOS");
    cmd
}

/// Runs `cmd`, checks it succeeded, returns its stdout as text.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).expect("stdout is UTF-8")
}

/// `racedemo ARGS`, checked for success: its stdout.
pub fn stdout(args: &str) -> String {
    stdout_of(&mut racedemo(args))
}

/// Runs `cmd` with `--format json`, checks the exit status, returns the parsed document.
pub fn json_of(cmd: &mut Command, status: i32) -> Value {
    let out = cmd
        .args(["--format", "json"])
        .assert()
        .code(status)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("stdout is one JSON document")
}

/// `racedemo ARGS --format json`, checked for `status`.
pub fn json(args: &str, status: i32) -> Value {
    json_of(&mut racedemo(args), status)
}

/// A counter command's JSON report (`unsafe`, `locked`, `atomic`, `compare`), checked for
/// `status` and for figures that agree with each other ([`assert_consistent`]): every counter
/// report a test reads goes through here.
pub fn counter_json(args: &str, status: i32) -> Value {
    let report = json(args, status);
    assert_consistent(&report);
    report
}

pub fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {v}"))
}

/// The pids of `pid`'s children, from /proc (empty where there is none).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                // The parent pid is the 4th field, after the ")" that ends the name.
                .and_then(|s| {
                    s.rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .parse()
                        .ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Whether process `pid` still exists (a zombie counts as gone).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

/// The scenario library, from its files: each scenario's name, what its file expects
/// ("correct", "race" or "any") and its default trials. Tests walk this list, so a new file
/// in scenarios/ cannot be left out of them.
pub fn library() -> Vec<(String, &'static str, u64)> {
    use racedemo::scenario::{Scenario, library};
    library::under(&[std::path::PathBuf::from("scenarios")])
        .expect("scenarios/ is readable")
        .into_iter()
        .map(|source| {
            let scenario = Scenario::load(source).expect("every library scenario loads");
            let expect = scenario.expect().name();
            (scenario.name.clone(), expect, scenario.default_trials())
        })
        .collect()
}

/// Every trial's figures agree with each other and with the summary.
pub fn assert_consistent(report: &Value) {
    let expected = u(&report["workload"]["expected"]);
    assert_eq!(
        expected,
        u(&report["workload"]["threads"]) * u(&report["workload"]["iterations"])
    );
    for result in report["results"].as_array().unwrap() {
        let trials = result["trials"].as_array().unwrap();
        let ran = u(&result["summary"]["trials"]);
        // The first 1,000 trials are listed one by one; the summary counts them all.
        assert_eq!(trials.len() as u64, ran.min(1000));
        let mut differed = 0;
        let on_store = report["workload"]["store"]["kind"] != "memory";
        for t in trials {
            // `expected` counts acknowledged increments: all planned in memory, those the
            // store acknowledged on a store.
            let own = u(&t["expected"]);
            assert_eq!(u(&t["final"]) + u(&t["lost"]), own, "{t}");
            if on_store {
                assert!(own <= expected, "{t}");
                assert_eq!(u(&t["acknowledged"]), own, "{t}");
            } else {
                assert_eq!(own, expected, "{t}");
            }
            differed += u64::from(u(&t["lost"]) > 0);
            let overlap = t["overlap"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&overlap), "{t}");
        }
        let summary = &result["summary"];
        if ran <= 1000 {
            assert_eq!(u(&summary["differed"]), differed);
        } else {
            assert!(u(&summary["differed"]) >= differed);
        }
        assert!(u(&summary["differed"]) <= ran);
        let [lo, hi] = [0, 1].map(|i| summary["differed_ci95"][i].as_f64().unwrap());
        let rate = summary["differed_rate"].as_f64().unwrap();
        assert!(lo <= rate && rate <= hi, "{summary}");
        // The histogram holds every trial, in ascending bins within the observed range.
        let bins = result["histogram"].as_array().unwrap();
        assert_eq!(bins.iter().map(|b| u(&b["count"])).sum::<u64>(), ran);
        let f = &result["finals"];
        if ran == 0 {
            assert!(bins.is_empty());
            continue;
        }
        assert!(u(&bins[0]["low"]) <= u(&f["observed_min"]), "{f}");
        assert!(u(&f["possible_min"]) <= u(&f["observed_min"]), "{f}");
        assert!(u(&f["observed_max"]) <= u(&f["possible_max"]), "{f}");
        assert_eq!(u(&f["possible_max"]), expected);
    }
}

/// The URL of a test server of `kind`, or `None` (after saying so) when it does not answer.
pub fn server(kind: &str) -> Option<String> {
    let (var, default, port) = match kind {
        "postgres" => (
            "RACEDEMO_TEST_POSTGRES",
            "postgres://postgres@127.0.0.1/test",
            5432,
        ),
        "mysql" => ("RACEDEMO_TEST_MYSQL", "mysql://root@127.0.0.1/test", 3306),
        _ => ("RACEDEMO_TEST_REDIS", "redis://127.0.0.1/", 6379),
    };
    let url = std::env::var(var).unwrap_or_else(|_| default.to_string());
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h))
        .unwrap_or("127.0.0.1");
    let address = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    let answers = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
    if answers {
        return Some(url);
    }
    if std::env::var("RACEDEMO_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{kind} at {address} does not answer, and RACEDEMO_REQUIRE_SERVICES=1");
    }
    skipped(&format!(
        "no {kind} server answers at {address} (set {var})"
    ));
    None
}

/// Says on the real stderr, past the test harness's capture, that a test did not run and why:
/// a skip nobody sees looks like a pass.
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// Each case (name, file text, `line:column`, message), saved as NAME.toml and run: exit 2,
/// nothing on stdout, and one line on stderr that starts `error: PATH:line:column` and says
/// the message.
pub fn assert_bad_scenario_files(cases: &[(&str, String, &str, &str)]) {
    assert_bad_files("toml", cases);
}

/// [`assert_bad_scenario_files`] for files ending `.EXT`.
pub fn assert_bad_files(ext: &str, cases: &[(&str, String, &str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, position, message) in cases {
        let path = dir.path().join(format!("{name}.{ext}"));
        std::fs::write(&path, text).unwrap();
        let stderr = input_error(&format!("scenario run {}", path.display()));
        let prefix = format!("error: {}:{position}", path.display());
        assert!(
            stderr.starts_with(&prefix),
            "{name}: wanted {prefix}, got {stderr}"
        );
        assert!(stderr.contains(message), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

/// `racedemo ARGS`, checked to be refused as bad input (exit 2, nothing on stdout): its stderr.
pub fn input_error(args: &str) -> String {
    let out = racedemo(args)
        .assert()
        .code(2)
        .stdout("")
        .get_output()
        .clone();
    String::from_utf8(out.stderr).expect("stderr is UTF-8")
}

/// `racedemo exec` with `args` given one by one (a -c string keeps its spaces).
pub fn exec(args: &[&str]) -> Command {
    let mut cmd = cargo_bin_cmd!("racedemo");
    cmd.arg("exec")
        .args(args)
        .env("COLUMNS", "200")
        .env_remove("NO_COLOR");
    cmd
}

/// `racedemo exec ARGS --format json`, checked for `status`: the report.
pub fn exec_json(args: &[&str], status: i32) -> Value {
    // Before the others: after `--`, a flag would be the program's.
    let with: Vec<&str> = ["--format", "json"].iter().chain(args).copied().collect();
    let out = exec(&with)
        .assert()
        .code(status)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("one JSON document")
}
