//! The memory models on generated programs: SC's outcomes are allowed by x86-TSO and by
//! RC11, and x86-TSO's by RC11 (the usual mapping of Rust's atomics to x86 is sound); a
//! native run of one thread gives exactly SC's outcome; and every outcome this machine
//! produces natively is allowed by its architecture's model (x86-TSO on x86_64).

use std::collections::BTreeSet;
use std::path::PathBuf;

use proptest::prelude::*;
use racedemo::harness::{self, Plan, StartMode};
use racedemo::scenario::model::{Model, Verdict, Verdicts};
use racedemo::scenario::{Origin, Outcome, Program, Scenario, Source};

/// One op of a generated thread: loads into `r` or `s`, stores and adds of small constants,
/// a compare-and-swap, fences, each with the orderings it can take.
fn op() -> impl Strategy<Value = String> {
    let var = prop_oneof![Just("x"), Just("y")];
    let reg = prop_oneof![Just("r"), Just("s")];
    prop_oneof![
        (
            reg.clone(),
            prop_oneof![Just(""), Just(".acquire"), Just(".seqcst")],
            var.clone()
        )
            .prop_map(|(r, o, v)| format!("{r} = load{o} {v}")),
        (
            prop_oneof![Just(""), Just(".release"), Just(".seqcst")],
            var.clone(),
            1..3i64
        )
            .prop_map(|(o, v, n)| format!("store{o} {v} = {n}")),
        (var.clone(), 1..3i64).prop_map(|(v, n)| format!("fetch_add {v} {n}")),
        (reg, var).prop_map(|(r, v)| format!("{r} = cas {v}: 0 -> 2")),
        prop_oneof![
            Just("fence.seqcst".to_string()),
            Just("fence.acquire".to_string()),
            Just("fence.release".to_string()),
        ],
    ]
}

/// A program of `threads` one-thread groups; its outcome is x, y and every register a
/// thread writes.
fn program(threads: Vec<Vec<String>>) -> Program {
    let mut text = String::from("name = \"g\"\nsummary = \"g\"\nexplanation = \"g\"\n");
    text.push_str("[shared]\nx = 0\ny = 0\n");
    let mut outcome = vec!["\"x\"".to_string(), "\"y\"".to_string()];
    for (i, ops) in threads.iter().enumerate() {
        let quoted: Vec<String> = ops.iter().map(|o| format!("{o:?}")).collect();
        text.push_str(&format!(
            "[[group]]\nname = \"p{i}\"\nthreads = 1\niterations = 1\nops = [{}]\n",
            quoted.join(", ")
        ));
        for reg in ["r", "s"] {
            if ops.iter().any(|o| o.starts_with(&format!("{reg} ="))) {
                outcome.push(format!("\"p{i}.{reg}\""));
            }
        }
    }
    text.push_str(&format!("[check]\noutcome = [{}]\n", outcome.join(", ")));
    Scenario::load(Source {
        name: "g".into(),
        origin: Origin::File(PathBuf::from("g.toml")),
        text,
    })
    .unwrap_or_else(|e| panic!("{e}"))
    .program
}

/// A model's outcomes, which must have been computed to the end.
fn outcomes(verdicts: &Verdicts, model: Model) -> BTreeSet<Outcome> {
    match verdicts.verdict(model) {
        Some(Verdict::Computed {
            outcomes,
            exhaustive: true,
            ..
        }) => outcomes.clone(),
        other => panic!("{} not computed to the end: {other:?}", model.name()),
    }
}

/// Every distinct outcome of `trials` native trials.
fn native(program: &Program, trials: u64) -> BTreeSet<Outcome> {
    let plan = Plan {
        trials,
        duration: None,
        start: StartMode::Barrier,
        seed: 7,
        first_trial: 0,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut seen = BTreeSet::new();
    harness::run(program, &plan, |t| {
        seen.insert(t.outcome);
    })
    .unwrap();
    seen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn what_sc_allows_x86_tso_allows_and_what_x86_tso_allows_rc11_allows(
        threads in prop::collection::vec(prop::collection::vec(op(), 1..4), 2..4)
    ) {
        let p = program(threads);
        let v = Verdicts::compute(&p);
        let (sc, tso, rc11) = (
            outcomes(&v, Model::Sc),
            outcomes(&v, Model::Tso),
            outcomes(&v, Model::Rc11),
        );
        prop_assert!(!sc.is_empty());
        prop_assert!(sc.is_subset(&tso), "SC {sc:?} not within x86-TSO {tso:?}");
        prop_assert!(tso.is_subset(&rc11), "x86-TSO {tso:?} not within RC11 {rc11:?}");
    }

    #[test]
    fn one_thread_run_natively_ends_as_sc_says(ops in prop::collection::vec(op(), 1..6)) {
        let p = program(vec![ops]);
        let v = Verdicts::compute(&p);
        let sc = outcomes(&v, Model::Sc);
        // One thread has one interleaving: one outcome, under every model.
        prop_assert_eq!(sc.len(), 1);
        prop_assert_eq!(&outcomes(&v, Model::Tso), &sc);
        prop_assert_eq!(&outcomes(&v, Model::Rc11), &sc);
        prop_assert_eq!(native(&p, 3), sc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_outcome_this_machine_produces_is_allowed_by_its_architecture_s_model(
        threads in prop::collection::vec(prop::collection::vec(op(), 1..4), 2..3)
    ) {
        let Some(model) = Model::of_this_machine() else {
            return Ok(());
        };
        let p = program(threads);
        let allowed = outcomes(&Verdicts::compute(&p), model);
        let seen = native(&p, 2_000);
        prop_assert!(
            seen.is_subset(&allowed),
            "observed {:?}, which {} does not allow (it allows {allowed:?})",
            seen.difference(&allowed).collect::<Vec<_>>(),
            model.name()
        );
    }
}
