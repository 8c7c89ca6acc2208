//! Tests that need threads to really run at the same time. This file holds one test, so cargo
//! runs it alone: no other test keeps the second core busy while it races.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let out = cargo_bin_cmd!("racedemo")
        .args(args)
        .args(["--format", "json"])
        .env_remove("RACEDEMO_SCENARIOS")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("stdout is one JSON document")
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {v}"))
}

#[test]
fn races_show_when_threads_run_at_once() {
    // The promise: default `racedemo unsafe` differs in at least 19 of 20 trials on an
    // idle 2-core machine.
    let report = json(&["unsafe"]);
    let summary = &report["results"][0]["summary"];
    assert!(u(&summary["differed"]) >= 19, "{summary}");

    // Every racy library scenario shows its race; every fixed one stays correct.
    let check = json(&["scenario", "check", "scenarios"]);
    assert_eq!(u(&check["failed"]), 0, "{check}");
    assert_eq!(u(&check["passed"]), 19);
    for row in check["scenarios"].as_array().unwrap() {
        let name = row["name"].as_str().unwrap();
        if name.ends_with("-racy") || name == "lock-too-small" {
            assert!(
                u(&row["forbidden"]) > 0,
                "{name} did not show its race: {row}"
            );
        }
        if name == "deadlock-racy" {
            assert!(u(&row["deadlocks"]) > 0, "{row}");
        }
    }

    // Store buffering: both threads read 0, really observed on this hardware.
    let sb = json(&[
        "scenario",
        "run",
        "store-buffering-relaxed",
        "--trials",
        "40000",
    ]);
    assert!(u(&sb["summary"]["interesting"]) > 0, "{}", sb["summary"]);
}
