//! Helpers every integration test file shares. Not every file uses every helper.
#![allow(dead_code)]

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// racedemo with `args`, in an environment that does not leak the developer's settings.
pub fn racedemo(args: &str) -> Command {
    let mut cmd = cargo_bin_cmd!("racedemo");
    cmd.args(args.split_whitespace())
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

pub fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {v}"))
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
