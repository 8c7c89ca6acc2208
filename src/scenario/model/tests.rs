//! The models against textbook results (herd7's and the papers' verdicts for the classic
//! litmus shapes), on small programs written here.

use super::*;
use crate::scenario::{Scenario, library};

/// A program: shared variables at 0, one thread per op list (named p0, p1, ...), and the
/// outcome's names.
fn program(vars: &[&str], threads: &[&[&str]], outcome: &[&str]) -> Program {
    let mut text = String::from("name = \"t\"\nsummary = \"t\"\nexplanation = \"t\"\n[shared]\n");
    for v in vars {
        text.push_str(&format!("{v} = 0\n"));
    }
    for (i, ops) in threads.iter().enumerate() {
        let ops: Vec<String> = ops.iter().map(|o| format!("{o:?}")).collect();
        text.push_str(&format!(
            "[[group]]\nname = \"p{i}\"\nthreads = 1\niterations = 1\nops = [{}]\n",
            ops.join(", ")
        ));
    }
    let outcome: Vec<String> = outcome.iter().map(|o| format!("{o:?}")).collect();
    text.push_str(&format!("[check]\noutcome = [{}]\n", outcome.join(", ")));
    Scenario::load(library::Source {
        name: "t".into(),
        origin: library::Origin::BuiltIn("t".into()),
        text,
    })
    .unwrap_or_else(|e| panic!("{e}"))
    .program
}

/// SC, x86-TSO, RC11: whether each allows the outcome with these values.
fn allowed(p: &Program, values: &[i64]) -> [Option<bool>; 3] {
    let v = Verdicts::compute(p);
    let outcome = Outcome::Values {
        values: values.iter().copied().collect(),
        invariant_held: true,
    };
    Model::ALL.map(|m| v.allows(m, &outcome))
}

const NO: Option<bool> = Some(false);
const YES: Option<bool> = Some(true);

fn sb(store: &str, load: &str, fence: Option<&str>) -> Program {
    let (s, l) = (format!("{store} x = 1"), format!("r = {load} y"));
    let (s2, l2) = (format!("{store} y = 1"), format!("r = {load} x"));
    let a: Vec<&str> = [Some(s.as_str()), fence, Some(l.as_str())]
        .into_iter()
        .flatten()
        .collect();
    let b: Vec<&str> = [Some(s2.as_str()), fence, Some(l2.as_str())]
        .into_iter()
        .flatten()
        .collect();
    program(&["x", "y"], &[&a, &b], &["p0.r", "p1.r"])
}

#[test]
fn store_buffering_relaxed_is_allowed_by_tso_and_rc11_but_not_sc() {
    assert_eq!(allowed(&sb("store", "load", None), &[0, 0]), [NO, YES, YES]);
    // Every interleaving's outcome is allowed everywhere.
    assert_eq!(
        allowed(&sb("store", "load", None), &[1, 1]),
        [YES, YES, YES]
    );
}

#[test]
fn store_buffering_seqcst_or_with_seqcst_fences_is_forbidden_everywhere() {
    let seqcst = sb("store.seqcst", "load.seqcst", None);
    assert_eq!(allowed(&seqcst, &[0, 0]), [NO, NO, NO]);
    let fenced = sb("store", "load", Some("fence.seqcst"));
    assert_eq!(allowed(&fenced, &[0, 0]), [NO, NO, NO]);
    // Release/acquire is not enough: the store may still wait in the buffer.
    let ra = sb("store.release", "load.acquire", None);
    assert_eq!(allowed(&ra, &[0, 0]), [NO, YES, YES]);
}

fn mp(store: &str, load: &str) -> Program {
    let flag_store = format!("{store} flag = 1");
    let flag_load = format!("f = {load} flag");
    program(
        &["data", "flag"],
        &[
            &["store data = 1", &flag_store],
            &[&flag_load, "d = load data"],
        ],
        &["p1.f", "p1.d"],
    )
}

#[test]
fn message_passing_relaxed_is_allowed_only_by_rc11() {
    assert_eq!(allowed(&mp("store", "load"), &[1, 0]), [NO, NO, YES]);
}

#[test]
fn message_passing_release_acquire_is_forbidden_everywhere() {
    assert_eq!(
        allowed(&mp("store.release", "load.acquire"), &[1, 0]),
        [NO, NO, NO]
    );
    assert_eq!(
        allowed(&mp("store.release", "load.acquire"), &[1, 1]),
        [YES, YES, YES]
    );
}

#[test]
fn load_buffering_relaxed_is_forbidden_everywhere_even_rc11() {
    let lb = program(
        &["x", "y"],
        &[
            &["r = load x", "store y = 1"],
            &["r = load y", "store x = 1"],
        ],
        &["p0.r", "p1.r"],
    );
    assert_eq!(allowed(&lb, &[1, 1]), [NO, NO, NO]);
    assert_eq!(allowed(&lb, &[0, 0]), [YES, YES, YES]);
}

#[test]
fn two_plus_two_writes_relaxed_is_allowed_by_rc11_not_tso() {
    let w = program(
        &["x", "y"],
        &[
            &["store x = 1", "store y = 2"],
            &["store y = 1", "store x = 2"],
        ],
        &["x", "y"],
    );
    assert_eq!(allowed(&w, &[1, 1]), [NO, NO, YES]);
    let sc = program(
        &["x", "y"],
        &[
            &["store.seqcst x = 1", "store.seqcst y = 2"],
            &["store.seqcst y = 1", "store.seqcst x = 2"],
        ],
        &["x", "y"],
    );
    assert_eq!(allowed(&sc, &[1, 1]), [NO, NO, NO]);
}

#[test]
fn coherence_tests_are_forbidden_everywhere() {
    let corr = program(
        &["x"],
        &[&["store x = 1"], &["a = load x", "b = load x"]],
        &["p1.a", "p1.b"],
    );
    assert_eq!(allowed(&corr, &[1, 0]), [NO, NO, NO]);
    // A thread reads its own store, even while it waits in the store buffer.
    let own = program(&["x"], &[&["store x = 1", "r = load x"]], &["p0.r"]);
    assert_eq!(allowed(&own, &[0]), [NO, NO, NO]);
    let coww = program(&["x"], &[&["store x = 1", "store x = 2"]], &["x"]);
    assert_eq!(allowed(&coww, &[1]), [NO, NO, NO]);
    let corw = program(
        &["x"],
        &[&["r = load x", "store x = 1"], &["store x = 2"]],
        &["p0.r", "x"],
    );
    assert_eq!(allowed(&corw, &[2, 2]), [NO, NO, NO]);
    let cowr = program(
        &["x"],
        &[&["store x = 1", "r = load x"], &["store x = 2"]],
        &["p0.r", "x"],
    );
    assert_eq!(allowed(&cowr, &[2, 1]), [NO, NO, NO]);
}

fn iriw(store: &str, load: &str) -> Program {
    let (wx, wy) = (format!("{store} x = 1"), format!("{store} y = 1"));
    let (rx, ry) = (format!("a = {load} x"), format!("b = {load} y"));
    let (ry2, rx2) = (format!("a = {load} y"), format!("b = {load} x"));
    program(
        &["x", "y"],
        &[&[&wx], &[&wy], &[&rx, &ry], &[&ry2, &rx2]],
        &["p2.a", "p2.b", "p3.a", "p3.b"],
    )
}

#[test]
fn iriw_is_allowed_by_rc11_unless_seqcst_and_never_by_tso() {
    assert_eq!(
        allowed(&iriw("store", "load"), &[1, 0, 1, 0]),
        [NO, NO, YES]
    );
    assert_eq!(
        allowed(&iriw("store.release", "load.acquire"), &[1, 0, 1, 0]),
        [NO, NO, YES]
    );
    assert_eq!(
        allowed(&iriw("store.seqcst", "load.seqcst"), &[1, 0, 1, 0]),
        [NO, NO, NO]
    );
}

#[test]
fn r_relaxed_is_allowed_by_tso_and_forbidden_by_mfence() {
    let r = program(
        &["x", "y"],
        &[
            &["store x = 1", "store y = 1"],
            &["store y = 2", "r = load x"],
        ],
        &["y", "p1.r"],
    );
    assert_eq!(allowed(&r, &[2, 0]), [NO, YES, YES]);
    let fenced = program(
        &["x", "y"],
        &[
            &["store x = 1", "fence.seqcst", "store y = 1"],
            &["store y = 2", "fence.seqcst", "r = load x"],
        ],
        &["y", "p1.r"],
    );
    assert_eq!(allowed(&fenced, &[2, 0]), [NO, NO, NO]);
}

#[test]
fn s_and_wrc_need_release_acquire_under_rc11() {
    let s = |st: &str, ld: &str| {
        let (w, r) = (format!("{st} y = 1"), format!("r = {ld} y"));
        program(
            &["x", "y"],
            &[&["store x = 2", &w], &[&r, "store x = 1"]],
            &["p1.r", "x"],
        )
    };
    assert_eq!(allowed(&s("store", "load"), &[1, 2]), [NO, NO, YES]);
    assert_eq!(
        allowed(&s("store.release", "load.acquire"), &[1, 2]),
        [NO, NO, NO]
    );
    let wrc = |st: &str, ld: &str| {
        let (w, r) = (format!("{st} y = 1"), format!("b = {ld} y"));
        program(
            &["x", "y"],
            &[&["store x = 1"], &["a = load x", &w], &[&r, "c = load x"]],
            &["p1.a", "p2.b", "p2.c"],
        )
    };
    assert_eq!(allowed(&wrc("store", "load"), &[1, 1, 0]), [NO, NO, YES]);
    assert_eq!(
        allowed(&wrc("store.release", "load.acquire"), &[1, 1, 0]),
        [NO, NO, NO]
    );
}

#[test]
fn read_modify_writes_are_atomic_in_every_model() {
    let p = program(&["x"], &[&["fetch_add x 1"], &["fetch_add x 1"]], &["x"]);
    assert_eq!(allowed(&p, &[1]), [NO, NO, NO]);
    assert_eq!(allowed(&p, &[2]), [YES, YES, YES]);
    let racy = program(
        &["x"],
        &[
            &["r = load x", "store x = r + 1"],
            &["r = load x", "store x = r + 1"],
        ],
        &["x"],
    );
    assert_eq!(allowed(&racy, &[1]), [YES, YES, YES]);
}

#[test]
fn programs_with_locks_or_loops_get_sc_only_and_say_why() {
    let p = Scenario::load(library::find("counter-mutex").unwrap())
        .unwrap()
        .compile(crate::scenario::Overrides {
            threads: Some(2),
            iterations: Some(1),
            ..Default::default()
        })
        .unwrap();
    let v = Verdicts::compute(&p);
    assert!(matches!(
        v.verdict(Model::Sc),
        Some(Verdict::Computed {
            exhaustive: true,
            ..
        })
    ));
    match v.verdict(Model::Rc11) {
        Some(Verdict::NotComputed(why)) => assert!(why.contains("locks"), "{why}"),
        other => panic!("{other:?}"),
    }
}
