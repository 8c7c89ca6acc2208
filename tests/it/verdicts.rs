//! What the memory models allow, end to end: the textbook verdicts on the library's litmus
//! shapes, each outcome's `allowed` in JSON, and files whose grades contradict the models.

use crate::common;

use common::{assert_bad_scenario_files, json, racedemo, u};
use serde_json::Value;

/// SC, x86-TSO, RC11 for the outcome with these values, from `scenario run NAME`'s JSON. An
/// outcome no model allows has no row: then every model must have been computed to the end.
fn verdicts(name: &str, values: &[i64]) -> [bool; 3] {
    let report = json(&format!("scenario run {name} --trials 1"), 0);
    let rows = report["outcomes"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["values"] == serde_json::json!(values));
    match row {
        Some(r) => ["sc", "tso", "rc11"].map(|m| {
            r["allowed"][m]
                .as_bool()
                .unwrap_or_else(|| panic!("{name}: {m} not computed: {r}"))
        }),
        None => {
            for m in report["models"].as_array().unwrap() {
                assert_eq!(m["exhaustive"], true, "{name}: {m}");
            }
            [false; 3]
        }
    }
}

#[test]
fn the_library_s_litmus_shapes_get_the_textbook_verdicts() {
    const NO: bool = false;
    const YES: bool = true;
    let cases: &[(&str, &[i64], [bool; 3])] = &[
        ("store-buffering-relaxed", &[0, 0], [NO, YES, YES]),
        ("store-buffering-seqcst", &[0, 0], [NO, NO, NO]),
        ("message-passing-relaxed", &[1, 0], [NO, NO, YES]),
        ("message-passing-release-acquire", &[1, 0], [NO, NO, NO]),
        ("load-buffering-relaxed", &[1, 1], [NO, NO, NO]),
        ("2+2w-relaxed", &[1, 1], [NO, NO, YES]),
        ("2+2w-seqcst", &[1, 1], [NO, NO, NO]),
        ("corr", &[1, 0], [NO, NO, NO]),
        ("coww", &[1], [NO, NO, NO]),
        ("corw", &[2, 2], [NO, NO, NO]),
        ("cowr", &[2, 1], [NO, NO, NO]),
        ("iriw-relaxed", &[1, 0, 1, 0], [NO, NO, YES]),
        ("iriw-seqcst", &[1, 0, 1, 0], [NO, NO, NO]),
        ("r-relaxed", &[2, 0], [NO, YES, YES]),
        ("r-fenced", &[2, 0], [NO, NO, NO]),
        ("s-relaxed", &[1, 2], [NO, NO, YES]),
        ("s-release-acquire", &[1, 2], [NO, NO, NO]),
        ("wrc-relaxed", &[1, 1, 0], [NO, NO, YES]),
        ("wrc-release-acquire", &[1, 1, 0], [NO, NO, NO]),
        ("isa2-relaxed", &[1, 1, 0], [NO, NO, YES]),
        ("isa2-release-acquire", &[1, 1, 0], [NO, NO, NO]),
        // What every interleaving gives is allowed everywhere.
        ("store-buffering-relaxed", &[1, 1], [YES, YES, YES]),
    ];
    for (name, values, want) in cases {
        assert_eq!(&verdicts(name, values), want, "{name} {values:?}");
    }
}

#[test]
fn each_outcome_in_json_says_which_models_allow_it_and_allowed_ones_never_seen_are_listed() {
    let report = json("scenario run message-passing-relaxed --trials 200", 0);
    let rows = report["outcomes"].as_array().unwrap();
    let weak = rows
        .iter()
        .find(|r| r["values"] == serde_json::json!([1, 0]))
        .expect("the outcome RC11 allows is listed even though x86 never produces it");
    assert_eq!(u(&weak["count"]), 0);
    assert_eq!(
        weak["allowed"],
        serde_json::json!({"sc": false, "tso": false, "rc11": true})
    );
    assert_eq!(weak["graded_by"], "rule");
    let models: Vec<&Value> = report["models"].as_array().unwrap().iter().collect();
    assert_eq!(models.len(), 3);
    assert!(models.iter().all(|m| m["computed"] == true));
    let unobserved = &report["unobserved"][0]["note"];
    assert_eq!(
        unobserved,
        "allowed by RC11, not observed on this machine (x86-TSO, the model of this machine's \
         architecture, forbids it)"
    );

    // A program too big to explore: every verdict null, and the reason given.
    let big = json("scenario run counter-racy --trials 2", 0);
    let row = &big["outcomes"][0];
    assert_eq!(
        row["allowed"],
        serde_json::json!({"sc": null, "tso": null, "rc11": null})
    );
    assert_eq!(row["graded_by"], "invariant");
    assert!(
        big["models"][0]["note"]
            .as_str()
            .unwrap()
            .starts_with("not computed: "),
        "{}",
        big["models"]
    );
}

#[test]
fn the_text_report_puts_the_models_beside_the_counts_and_says_it_in_words() {
    let out = racedemo("scenario run store-buffering-relaxed --trials 2000 --seed 3")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("grade        SC   TSO  RC11"), "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("a.r=0, b.r=0"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("interesting  no   yes  yes"), "{row}");
    assert!(
        out.contains("a.r=0, b.r=0 (both read 0: each store was still in its core's store buffer): impossible under SC, allowed by x86-TSO and RC11; observed"),
        "{out}"
    );
}

/// CoRR with its forbidden outcome graded as `grade`, and `extra` lines in the rule.
fn corr(grade: &str, extra: &str) -> String {
    format!(
        r#"name = "CoRR, misgraded"
summary = "s"
explanation = "e"
trials = 200
[shared]
x = 0
[[group]]
name = "a"
threads = 1
ops = ["store x = 1"]
[[group]]
name = "b"
threads = 1
ops = ["r = load x", "s = load x"]
[check]
outcome = ["b.r", "b.s"]
[[check.grade]]
match = "1, 0"
grade = "{grade}"
{extra}
"#
    )
}

#[test]
fn an_outcome_every_model_forbids_graded_interesting_is_never_called_allowed_and_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corr-misgraded.toml");
    std::fs::write(&path, corr("interesting", "")).unwrap();
    let run = racedemo(&format!("scenario run {}", path.display()))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let (stdout, stderr) = (
        String::from_utf8(run.stdout).unwrap(),
        String::from_utf8(run.stderr).unwrap(),
    );
    assert!(!stdout.contains("allowed, not observed"), "{stdout}");
    assert!(
        stdout.contains(
            "b.r=1, b.s=0 [interesting]: forbidden by SC, x86-TSO and RC11, and not observed"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "grades contradict the models: b.r=1, b.s=0 is graded interesting, but SC, x86-TSO and RC11 forbid it: grade it forbidden"
        ),
        "{stderr}"
    );
    let check = json(&format!("scenario check {}", path.display()), 1);
    assert_eq!(u(&check["failed"]), 1);
    let row = &check["scenarios"][0];
    assert_eq!(row["expect_met"], true);
    assert_eq!(row["passed"], false);
    assert!(
        row["contradictions"][0]
            .as_str()
            .unwrap()
            .contains("forbid it"),
        "{row}"
    );

    // Graded forbidden, it passes.
    std::fs::write(&path, corr("forbidden", "")).unwrap();
    let check = json(&format!("scenario check {}", path.display()), 0);
    assert_eq!(u(&check["passed"]), 1);
}

/// Store buffering with both-read-0 graded by `rule`.
fn sb(rule: &str) -> String {
    format!(
        r#"name = "SB"
summary = "s"
explanation = "e"
trials = 100
[shared]
x = 0
y = 0
[[group]]
name = "a"
threads = 1
ops = ["store x = 1", "r = load y"]
[[group]]
name = "b"
threads = 1
ops = ["store y = 1", "r = load x"]
[check]
outcome = ["a.r", "b.r"]
[[check.grade]]
match = "0, 0"
{rule}
"#
    )
}

#[test]
fn an_outcome_a_model_allows_graded_forbidden_must_name_the_model_that_forbids_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sb.toml");
    std::fs::write(&path, sb("grade = \"forbidden\"")).unwrap();
    let check = json(&format!("scenario check {}", path.display()), 1);
    assert_eq!(
        check["scenarios"][0]["contradictions"][0],
        "a.r=0, b.r=0 is graded forbidden, but x86-TSO and RC11 allow it: name the model that \
         forbids it (model = \"sc\") or grade it interesting"
    );
    std::fs::write(&path, sb("grade = \"forbidden\"\nmodel = \"sc\"")).unwrap();
    json(&format!("scenario check {}", path.display()), 0);
    // Naming a model that allows it is as wrong.
    std::fs::write(&path, sb("grade = \"forbidden\"\nmodel = \"tso\"")).unwrap();
    let check = json(&format!("scenario check {}", path.display()), 1);
    assert_eq!(
        check["scenarios"][0]["contradictions"][0],
        "a.r=0, b.r=0 is graded forbidden under x86-TSO, but x86-TSO allows it"
    );
}

#[test]
fn a_rule_naming_an_unknown_model_or_one_not_forbidden_is_refused_at_its_position() {
    assert_bad_scenario_files(&[
        (
            "unknown-model",
            sb("grade = \"forbidden\"\nmodel = \"arm\""),
            "21:10",
            "unknown memory model 'arm' (known: sc, tso, rc11)",
        ),
        (
            "model-not-forbidden",
            sb("grade = \"interesting\"\nmodel = \"sc\""),
            "21:10",
            "goes with grade = \"forbidden\"",
        ),
    ]);
}
