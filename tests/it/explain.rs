//! `--explain`: one more recorded trial, told step by step.

use crate::common;

use common::{counter_json as json, racedemo, stdout_of, u};

#[test]
fn explain_tells_a_lost_update_as_two_reads_of_one_value_then_two_equal_writes() {
    // --yield loses updates even on one CPU, so the recorded trial always has one to tell.
    let report = json(
        "unsafe --threads 2 --iterations 1000 --yield --trials 1 --explain",
        0,
    );
    let e = &report["results"][0]["explain"];
    assert_eq!(e["lost_update"], true, "{e}");
    assert_eq!(u(&e["recorded_per_thread"]), 1000);
    let steps = e["steps"].as_array().unwrap();
    let actions: Vec<_> = steps
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["read", "read", "wrote", "wrote"]);
    let v = u(&steps[0]["value"]);
    let values: Vec<_> = steps.iter().map(|s| u(&s["value"])).collect();
    assert_eq!(values, [v, v, v + 1, v + 1]);
    let threads: Vec<_> = steps.iter().map(|s| u(&s["thread"])).collect();
    assert_ne!(threads[0], threads[1]);
    assert!(threads.iter().all(|&t| t == 1 || t == 2));
    // Times are relative to the first step and never go backwards.
    let ns: Vec<_> = steps.iter().map(|s| u(&s["ns"])).collect();
    assert_eq!(ns[0], 0);
    assert!(ns[2] <= ns[3], "{ns:?}");
}

#[test]
fn explain_shows_a_correct_strategy_handing_the_counter_from_thread_to_thread() {
    for strategy in ["locked", "atomic"] {
        let report = json(
            &format!("{strategy} --threads 2 --iterations 500 --trials 1 --explain"),
            0,
        );
        let e = &report["results"][0]["explain"];
        assert_eq!(e["lost_update"], false, "{e}");
        assert_eq!(u(&e["final_value"]), 1000);
        let steps = e["steps"].as_array().unwrap();
        let values: Vec<_> = steps.iter().map(|s| u(&s["value"])).collect();
        let v = values[0];
        assert_eq!(values, [v, v + 1, v + 1, v + 2], "{strategy}");
        assert_ne!(steps[0]["thread"], steps[2]["thread"], "{strategy}");
        assert!(steps.iter().all(|s| s.get("ns").is_none()));
    }
    let text = stdout_of(
        racedemo("locked --threads 2 --iterations 500 --trials 1 --explain").env("COLUMNS", "200"),
    );
    assert!(
        text.contains(
            "explain (locked): one more trial, recorded after the counted ones and not among \
             them: no update lost; two increments in a row:\n  thread "
        ),
        "{text}"
    );
}
