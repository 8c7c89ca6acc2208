//! `racedemo scenario`: the library, name resolution, the fixed variants, and bad files.
//! Tests that need a race to show live in tests/races.rs, which runs alone.

use std::fs;
use std::path::Path;

use crate::common;

use common::{assert_bad_scenario_files, json, json_of, library, racedemo, stdout, stdout_of, u};
use predicates::prelude::*;

#[test]
fn an_installed_binary_lists_its_built_in_library_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let text = stdout_of(racedemo("scenario list").current_dir(dir.path()));
    let library = library();
    assert!(library.len() >= 19, "{library:?}");
    for (name, _, _) in &library {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"));
        assert!(line.ends_with(&format!("(built-in:{name}.toml)")), "{line}");
    }
    assert_eq!(text.lines().count(), library.len() + 1, "{text}");
}

#[test]
fn local_scenarios_come_before_the_environment_and_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("scenarios");
    let env = dir.path().join("env");
    fs::create_dir_all(&local).unwrap();
    fs::create_dir_all(&env).unwrap();
    let text = fs::read_to_string("scenarios/counter-atomic.toml").unwrap();
    fs::write(
        local.join("counter-atomic.toml"),
        text.replace("summary = \"", "summary = \"LOCAL "),
    )
    .unwrap();
    fs::write(
        env.join("counter-atomic.toml"),
        text.replace("summary = \"", "summary = \"ENV "),
    )
    .unwrap();
    fs::write(
        env.join("only-in-env.toml"),
        text.replace("summary = \"", "summary = \"ENV ONLY "),
    )
    .unwrap();

    let listing = stdout_of(
        racedemo("scenario list")
            .current_dir(dir.path())
            .env("RACEDEMO_SCENARIOS", &env),
    );
    assert!(
        listing.lines().any(|l| l.starts_with("counter-atomic")
            && l.contains("LOCAL ")
            && l.ends_with("scenarios/counter-atomic.toml)")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("only-in-env") && l.contains("ENV ONLY")),
        "{listing}"
    );

    let report = json_of(
        racedemo("scenario run only-in-env --trials 2 --iterations 10")
            .current_dir(dir.path())
            .env("RACEDEMO_SCENARIOS", &env),
        0,
    );
    assert!(
        report["scenario"]["origin"]
            .as_str()
            .unwrap()
            .ends_with("only-in-env.toml")
    );
}

#[test]
fn a_path_works_as_well_as_a_name() {
    let report = json_of(
        &mut racedemo("scenario run ./scenarios/tickets-cas.toml --trials 20"),
        0,
    );
    assert_eq!(report["scenario"]["name"], "tickets-cas");
    assert_eq!(report["scenario"]["origin"], "./scenarios/tickets-cas.toml");
}

#[test]
fn show_prints_the_explanation_and_the_program() {
    racedemo("scenario show tickets-racy")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("tickets-racy — Ticket sale, check-then-act\n"))
        .stdout(predicate::str::contains("Between the check (seats > 0) and the act"))
        .stdout(predicate::str::contains("group buyer: 4 thread(s) x 5 iteration(s)\n    s = load seats\n    if s > 0\n        yield\n"))
        .stdout(predicate::str::contains("    invariant: sold <= 10\n"))
        .stdout(predicate::str::contains("expect: race\n"));
}

/// The fixed variants (every file that expects `correct`) never show a forbidden outcome,
/// however the threads interleave.
#[test]
fn fixed_variants_never_break_their_invariant() {
    let fixed: Vec<(String, u64)> = library()
        .into_iter()
        .filter(|(_, expect, _)| *expect == "correct")
        // Their own trials, but no more than a test's share of time.
        .map(|(name, _, trials)| (name, trials.min(2000)))
        .collect();
    assert!(fixed.len() >= 10, "{fixed:?}");
    for (name, trials) in fixed {
        let report = json_of(
            &mut racedemo(&format!("scenario run {name} --trials {trials}")),
            0,
        );
        let s = &report["summary"];
        assert_eq!(u(&s["trials"]), trials, "{name}");
        assert_eq!(u(&s["forbidden"]), 0, "{name}: {s}");
        assert_eq!(u(&s["deadlocks"]), 0, "{name}: {s}");
        assert_eq!(report["expect"], "correct", "{name}");
        let counted: u64 = report["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| u(&o["count"]))
            .sum();
        assert_eq!(
            counted, trials,
            "{name}: outcome counts add up to the trials"
        );
    }
}

#[test]
fn the_article_example_with_its_lock_always_ends_at_zero() {
    let report = json_of(&mut racedemo("scenario run article-locked --trials 300"), 0);
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["outcome"], "shared_variable=0");
    assert_eq!(u(&outcomes[0]["count"]), 300);
}

#[test]
fn message_passing_relaxed_reports_its_weak_outcome_honestly_without_failing() {
    let report = json_of(
        &mut racedemo("scenario run message-passing-relaxed --trials 500"),
        0,
    );
    let seen = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["outcome"] == "reader.f=1, reader.d=0" && u(&o["count"]) > 0);
    let unobserved = &report["unobserved"];
    if seen {
        assert_eq!(unobserved.as_array().unwrap().len(), 0);
    } else {
        assert_eq!(unobserved[0]["pattern"], "reader.f=1, reader.d=0");
        assert_eq!(unobserved[0]["grade"], "interesting");
        // Said to be allowed because RC11 computed it, and why x86 never shows it.
        assert_eq!(
            unobserved[0]["note"],
            "allowed by RC11, not observed on this machine (x86-TSO, the model of this \
             machine's architecture, forbids it)"
        );
    }
    assert_eq!(report["expect_met"], true);
}

/// The library's deadlock scenario made certain: one iteration, and between the two lock takes
/// a spin of tens of milliseconds, far longer than the threads' start-up gap, so each thread
/// holds its first lock before either asks for its second. Saved as NAME.toml, expecting
/// `expect`.
fn certain_deadlock(name: &str, expect: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("scenarios/deadlock-racy.toml").unwrap();
    let certain = text
        .replace("\"yield\",", "\"spin 3000000\",")
        .replace("iterations = 50", "iterations = 1")
        .replace("expect = \"race\"", &format!("expect = \"{expect}\""));
    assert_ne!(certain, text);
    fs::write(dir.path().join(format!("{name}.toml")), certain).unwrap();
    dir
}

#[test]
fn the_deadlocking_scenario_never_hangs_and_counts_deadlocks() {
    let dir = certain_deadlock("deadlock", "race");
    let started = std::time::Instant::now();
    let report = json_of(
        &mut racedemo(&format!(
            "scenario run {} --trials 3",
            dir.path().join("deadlock.toml").display()
        )),
        0,
    );
    let s = &report["summary"];
    assert_eq!((u(&s["trials"]), u(&s["deadlocks"])), (3, 3), "{s}");
    // Observed: only the deadlock (SC's other outcomes are listed with count 0).
    let outcomes: Vec<&serde_json::Value> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| u(&o["count"]) > 0)
        .collect();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["outcome"], "deadlock");
    assert_eq!(outcomes[0]["grade"], "forbidden");
    assert_eq!(outcomes[0]["graded_by"], "halted");
    assert_eq!(outcomes[0]["allowed"]["sc"], true);
    // Each trial ends at the watchdog (100 ms after the spin), not never: 3 trials of about
    // 150 ms, with room for a slow machine.
    let per_trial = u(&s["elapsed_ns"]) / 3;
    assert!(per_trial < 2_000_000_000, "{per_trial} ns per trial");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn expect_overrides_the_files_expectation() {
    racedemo("scenario run tickets-locked --trials 5 --expect race --race-budget 100ms")
        .assert()
        .code(1)
        .stderr(
            predicate::str::is_match(
                "^error: expectation failed: tickets-locked was expected to race, but none of 5 \
                 trials showed the race, nor [0-9,]+ more in the 0.1 s race budget \\(--race-budget\\)\n$",
            )
            .unwrap(),
        );
}

/// A folder holding `claims-correct.toml`: a certain deadlock, claiming to be correct.
fn claims_correct() -> tempfile::TempDir {
    certain_deadlock("claims-correct", "correct")
}

#[test]
fn check_fails_when_a_file_that_expects_correct_shows_a_forbidden_outcome() {
    let dir = claims_correct();
    let out = racedemo(&format!(
        "scenario check {} --trials 2",
        dir.path().display()
    ))
    .assert()
    .code(1)
    .get_output()
    .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(
            "FAIL  claims-correct  expect correct  forbidden outcome in 2 of 2 trials, 2 of them \
             deadlocks"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("error: expectation failed: claims-correct was expected to be correct")
    );
}

#[test]
fn check_writes_junit_xml_with_a_test_case_per_scenario_and_a_failure_for_each_miss() {
    let dir = claims_correct();
    fs::copy(
        "scenarios/counter-mutex.toml",
        dir.path().join("counter-mutex.toml"),
    )
    .unwrap();
    let xml_path = dir.path().join("junit.xml");
    racedemo(&format!(
        "scenario check {} --trials 2 --junit {}",
        dir.path().display(),
        xml_path.display()
    ))
    .assert()
    .code(1);
    let xml = fs::read_to_string(&xml_path).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    // The shape CI systems read: <testsuites><testsuite><testcase>[<failure/>]...
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        (root.attribute("tests"), root.attribute("failures")),
        (Some("2"), Some("1"))
    );
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0].tag_name().name(), "testsuite");
    let cases: Vec<_> = suites[0]
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<_> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(names, ["claims-correct", "counter-mutex"]);
    for case in &cases {
        assert_eq!(case.attribute("classname"), Some("racedemo.scenarios"));
        let time: f64 = case.attribute("time").unwrap().parse().unwrap();
        assert!(time >= 0.0);
    }
    let failure = cases[0]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("the scenario that missed its expectation fails");
    assert_eq!(
        failure.attribute("message"),
        Some("expected correct: forbidden outcome in 2 of 2 trials, 2 of them deadlocks")
    );
    assert!(!cases[1].children().any(|n| n.has_tag_name("failure")));
}

#[test]
fn junit_into_a_missing_folder_is_refused_before_anything_runs() {
    racedemo("scenario check --junit no/such/folder/junit.xml")
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: --junit no/such/folder/junit.xml: the folder no/such/folder does not exist\n",
        );
}

#[test]
fn overrides_change_the_threads_and_iterations_of_groups_that_do_not_fix_their_own() {
    let report = json_of(
        &mut racedemo("scenario run counter-atomic --threads 3 --iterations 7 --trials 2"),
        0,
    );
    assert_eq!(u(&report["scenario"]["threads"]), 3);
    assert_eq!(report["outcomes"][0]["outcome"], "counter=21");
    // The article's groups fix one thread each.
    let report = json_of(
        &mut racedemo("scenario run article-locked --threads 9 --trials 2"),
        0,
    );
    assert_eq!(u(&report["scenario"]["threads"]), 2);
}

const HEAD: &str =
    "name = \"b\"\nsummary = \"b\"\nexplanation = \"b\"\nlocks = [\"m\"]\n\n[shared]\nx = 0\n\n";

fn group(ops: &str) -> String {
    format!("{HEAD}[[group]]\nname = \"g\"\nthreads = 1\nops = [{ops}]\n\n[check]\n")
}

/// Every bad file gives status 2 and one line naming file:line:column and the problem.
#[test]
fn bad_scenario_files_name_the_file_line_and_column() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "malformed",
            "name = \"b\"\nsummary = \n".into(),
            "2:11",
            "string values must be quoted",
        ),
        ("unknown-op", group("\"frob x\""), "12:9", "expected an op"),
        (
            "undefined-variable",
            group("\"r = load y\""),
            "12:18",
            "unknown shared variable 'y' (known: x)",
        ),
        (
            "undefined-lock",
            group("\"lock q\", \"unlock q\""),
            "12:14",
            "unknown lock 'q' (known: m)",
        ),
        (
            "unlock-not-held",
            group("\"r = load x\", \"unlock m\""),
            "12:30",
            "unlock of 'm', which this thread does not hold",
        ),
        (
            "lock-held-at-end",
            group("\"lock m\""),
            "12:14",
            "lock 'm' is still held after the last op",
        ),
        (
            "bad-guard",
            group("\"r = load x\", \"if r >\", \"end\""),
            "12:29",
            "expected a value",
        ),
        (
            "if-without-end",
            group("\"r = load x\", \"if r > 0\""),
            "12:23",
            "this 'if' has no 'end'",
        ),
        (
            "unread-register",
            group("\"store x = q + 1\""),
            "12:19",
            "unknown register 'q'",
        ),
        (
            "bad-ordering",
            group("\"r = load.release x\""),
            "12:18",
            "'load' cannot be release",
        ),
        (
            "zero-threads",
            format!(
                "{HEAD}[[group]]\nname = \"g\"\nthreads = 0\nops = [\"r = load x\"]\n[check]\n"
            ),
            "11:11",
            "threads must be at least 1",
        ),
        (
            "millions-of-threads",
            format!(
                "{HEAD}[[group]]\nname = \"g\"\nthreads = 5000000\nops = [\"r = load x\"]\n[check]\n"
            ),
            "11:11",
            "above the limit of 1024",
        ),
        (
            "unknown-field",
            format!("{HEAD}[[group]]\nname = \"g\"\nopz = [\"r = load x\"]\n[check]\n"),
            "11:1",
            "unknown field `opz`",
        ),
        (
            "bad-invariant",
            format!("{}invariant = \"x == \"\n", group("\"r = load x\"")),
            "15:19",
            "expected a value",
        ),
        (
            "unknown-in-invariant",
            format!("{}invariant = \"x == zz\"\n", group("\"r = load x\"")),
            "15:19",
            "unknown shared variable 'zz'",
        ),
        (
            "pattern-that-cannot-match",
            format!(
                "{}outcome = [\"x\", \"g.r\"]\n[[check.grade]]\nmatch = \"1\"\ngrade = \"forbidden\"\n",
                group("\"r = load x\"")
            ),
            "17:10",
            "can never match",
        ),
        (
            "bad-grade",
            format!(
                "{}[[check.grade]]\nmatch = \"1\"\ngrade = \"awful\"\n",
                group("\"r = load x\"")
            ),
            "17:9",
            "unknown grade 'awful'",
        ),
        (
            "no-groups",
            format!("{HEAD}[check]\n"),
            "1:1",
            "at least one [[group]]",
        ),
    ];
    assert_bad_scenario_files(&cases);
}

#[test]
fn unknown_scenario_names_list_the_known_ones() {
    racedemo("scenario run no-such-race")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: unknown scenario 'no-such-race': known scenarios are 2+2w-relaxed, 2+2w-seqcst, \
             article-locked, ",
        ));
}

#[test]
fn a_missing_or_binary_file_is_bad_input_too() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.toml");
    fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    for (path, message) in [
        (binary.as_path(), "not UTF-8 text"),
        (Path::new("./nope.toml"), "no such file"),
    ] {
        racedemo(&format!("scenario run {}", path.display()))
            .assert()
            .code(2)
            .stderr(format!("error: {}: {message}\n", path.display()));
    }
}

#[test]
fn explain_derives_an_interleaving_that_produces_the_observed_outcome() {
    // Under the mutex every trial ends at 2, so the outcome to explain is known in advance.
    let report = json(
        "scenario run counter-mutex --threads 2 --iterations 1 --trials 3 --explain",
        0,
    );
    let e = &report["explain"];
    assert_eq!(e["outcome"], "counter=2");
    assert_eq!(e["found"], "interleaving");
    assert_eq!(
        e["steps"],
        serde_json::json!([
            "incrementer#1: lock m",
            "incrementer#1: r = counter (reads 0)",
            "incrementer#1: counter = r + 1 (writes 1)",
            "incrementer#1: unlock m",
            "incrementer#2: lock m",
            "incrementer#2: r = counter (reads 1)",
            "incrementer#2: counter = r + 1 (writes 2)",
            "incrementer#2: unlock m"
        ])
    );
    let text = stdout("scenario run counter-mutex --threads 2 --iterations 1 --trials 3 --explain");
    assert!(
        text.contains(
            "explain: counter=2 (acceptable, 3 trials); one order of the threads' steps that produces it:\n  1. incrementer#1: lock m\n"
        ),
        "{text}"
    );
}

#[test]
fn a_counter_flag_given_to_a_scenario_command_says_where_it_belongs() {
    for (args, says) in [
        (
            "scenario run counter-racy --yield",
            "error: --yield is not a flag of `racedemo scenario run`: a scenario's race window is in its file",
        ),
        (
            "scenario check --window 3",
            "error: --window is not a flag of `racedemo scenario check`",
        ),
        (
            "scenario check --expect race",
            "error: --expect is not a flag of `racedemo scenario check`: each file says what it expects",
        ),
        (
            "sweep --explain",
            "error: --explain is not a flag of `racedemo sweep`",
        ),
    ] {
        let out = racedemo(args).assert().code(2).get_output().clone();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with(says), "{args}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args}: {stderr}");
        assert!(!stderr.contains("-- --"), "{args}: {stderr}");
    }
}

#[test]
fn tiny_scenario_trials_in_batches_each_start_from_fresh_state() {
    // More trials than one batch holds, so renewed states are run again: a state not reset
    // would carry its counter into the next trial (4, 6, ...).
    let report = json_of(
        &mut racedemo("scenario run counter-atomic --threads 2 --iterations 1 --trials 40000"),
        0,
    );
    assert_eq!(report["scenario"]["trial_mode"], "batch");
    let observed: Vec<(String, u64)> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| u(&o["count"]) > 0)
        .map(|o| (o["outcome"].as_str().unwrap().to_string(), u(&o["count"])))
        .collect();
    assert_eq!(observed, [("counter=2".to_string(), 40000)]);
}
