//! The scenario loader on hostile input: arbitrary text, mutated library files and random op
//! strings give a scenario or a one-line error, never a panic.

use std::path::PathBuf;

use proptest::prelude::*;
use racedemo::scenario::{Origin, Outcome, Overrides, Scenario, Source, interleave};

/// Loads and compiles `text` the way `scenario run` does; returns the error line, if any.
fn load(text: String) -> Option<String> {
    let source = Source {
        name: "fuzz".into(),
        origin: Origin::File(PathBuf::from("fuzz.toml")),
        text,
    };
    match Scenario::load(source) {
        Ok(scenario) => scenario
            .compile(Overrides {
                threads: Some(3),
                iterations: Some(2),
                ..Overrides::default()
            })
            .err()
            .map(|e| e.to_string()),
        Err(e) => Some(e.to_string()),
    }
}

fn library() -> Vec<String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn assert_one_line(error: Option<String>) {
    if let Some(e) = error {
        assert!(!e.contains('\n'), "error spans lines: {e}");
        assert!(
            e.starts_with("fuzz.toml"),
            "error does not name the file: {e}"
        );
    }
}

const TOKENS: &[&str] = &[
    "r",
    "x",
    "m",
    "=",
    "load",
    "load.acquire",
    "store",
    "store.release",
    "fetch_add",
    "cas",
    "cas_loop",
    "lock",
    "unlock",
    "if",
    "while",
    "end",
    "wait",
    "notify",
    "notify_all",
    "c",
    "acquire",
    "release",
    "s",
    "b",
    "read_lock",
    "read_unlock",
    "write_lock",
    "write_unlock",
    "t",
    "spin",
    "jitter",
    "yield",
    "fence",
    "fence.seqcst",
    ":",
    "->",
    "+",
    "-",
    "*",
    "/",
    "%",
    "(",
    ")",
    "==",
    "&&",
    "!",
    "0",
    "1",
    "99999999999999999999",
    "threads",
    "é",
    ".",
    "g.r",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_text_gives_a_scenario_or_an_error(text in "\\PC{0,300}") {
        assert_one_line(load(text));
    }

    #[test]
    fn mutated_library_scenarios_give_a_scenario_or_an_error(
        file in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..6),
    ) {
        let library = library();
        let mut text: Vec<char> = library[file.index(library.len())].chars().collect();
        for (at, c) in edits {
            let i = at.index(text.len());
            text[i] = c;
        }
        assert_one_line(load(text.into_iter().collect()));
    }

    #[test]
    fn random_ops_give_a_scenario_or_an_error(
        ops in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(TOKENS), 0..7), 1..6),
        invariant in proptest::collection::vec(proptest::sample::select(TOKENS), 0..6),
    ) {
        let ops: Vec<String> = ops.iter().map(|op| format!("{:?}", op.join(" "))).collect();
        let text = format!(
            "name = \"f\"\nsummary = \"f\"\nexplanation = \"f\"\nlocks = [\"m\"]\nrwlocks = [\"t\"]\n\
             watchdog_ms = 5\n[condvars]\nc = \"m\"\n[semaphores]\ns = 1\n[bounded_semaphores]\nb = 1\n\
             [shared]\nx = 0\n[[group]]\nname = \"g\"\nthreads = 1\nops = [{}]\n[check]\ninvariant = {:?}\n",
            ops.join(", "),
            invariant.join(" ")
        );
        let error = load(text.clone());
        // What compiles can also be searched and written as Python, without a panic.
        if error.is_none() {
            let scenario = Scenario::load(Source {
                name: "fuzz".into(),
                origin: Origin::File(PathBuf::from("fuzz.toml")),
                text,
            })
            .unwrap();
            let program = scenario.compile(Overrides::default()).unwrap();
            let _ = interleave::derive(&program, &Outcome::Stuck);
            let _ = scenario.python();
        }
        assert_one_line(error);
    }
}

#[test]
fn every_library_scenario_loads() {
    for text in library() {
        assert_eq!(load(text), None);
    }
}
