//! The interleaving search on the library's scenarios.

use super::*;
use crate::scenario::{Overrides, Scenario, library};

fn program(name: &str, threads: u64, iterations: u64) -> Program {
    Scenario::load(library::find(name).unwrap())
        .unwrap()
        .compile(Overrides {
            threads: Some(threads),
            iterations: Some(iterations),
            ..Overrides::default()
        })
        .unwrap()
}

fn values(values: &[i64]) -> Outcome {
    Outcome::Values {
        values: values.iter().copied().collect(),
        invariant_held: true,
    }
}

fn broken(values: &[i64]) -> Outcome {
    Outcome::Values {
        values: values.iter().copied().collect(),
        invariant_held: false,
    }
}

fn steps(d: Derivation) -> Vec<String> {
    match d {
        Derivation::Interleaving { steps } => steps,
        other => panic!("no interleaving: {other:?}"),
    }
}

#[test]
fn a_lost_update_is_two_loads_before_two_stores() {
    let p = program("counter-racy", 2, 1);
    assert_eq!(
        steps(derive(&p, &broken(&[1]))),
        [
            "incrementer#1: r = counter (reads 0)",
            "incrementer#2: r = counter (reads 0)",
            "incrementer#2: counter = r + 1 (writes 1)",
            "incrementer#1: counter = r + 1 (writes 1)",
        ]
    );
    // And the correct total needs no switch in the middle of an increment.
    assert_eq!(steps(derive(&p, &values(&[2]))).len(), 4);
}

#[test]
fn store_buffering_both_zero_has_no_interleaving() {
    let p = program("store-buffering-relaxed", 1, 1);
    assert_eq!(
        derive(&p, &values(&[0, 0])),
        Derivation::Impossible { states: 13 }
    );
    assert_eq!(
        steps(derive(&p, &values(&[0, 1]))),
        [
            "a: x = 1 (writes 1)",
            "a: r = y (reads 0)",
            "b: y = 1 (writes 1)",
            "b: r = x (reads 1)"
        ]
    );
}

#[test]
fn opposite_lock_orders_deadlock_in_two_steps() {
    let p = program("deadlock-racy", 1, 1);
    assert_eq!(
        steps(derive(&p, &Outcome::Deadlock)),
        ["ab: lock a", "ba: lock b"]
    );
    assert_eq!(
        derive(&program("deadlock-ordered", 1, 1), &Outcome::Deadlock),
        Derivation::Impossible { states: 20 }
    );
}

#[test]
fn too_many_interleavings_give_up_rather_than_guess() {
    let p = program("counter-racy", 4, 1_000_000);
    assert!(matches!(
        derive(&p, &broken(&[3])),
        Derivation::GaveUp { .. }
    ));
}

#[test]
fn a_lost_wakeup_is_a_notify_between_the_check_and_the_wait() {
    let p = program("lost-wakeup-racy", 1, 1);
    assert_eq!(
        steps(derive(&p, &Outcome::Stuck)),
        [
            "consumer: lock m",
            "consumer: seen = ready (reads 0)",
            "consumer: unlock m",
            "producer: lock m",
            "producer: ready = 1 (writes 1)",
            "producer: notify changed (nobody waits: the signal is lost)",
            "producer: unlock m",
            "consumer: lock m",
            "consumer: wait changed (releases m and sleeps)",
        ]
    );
    assert!(matches!(
        derive(&program("lost-wakeup-fixed", 1, 1), &Outcome::Stuck),
        Derivation::Impossible { .. }
    ));
}

#[test]
fn notify_all_wakes_both_consumers_and_the_if_takes_from_an_empty_buffer() {
    let p = program("if-not-while-racy", 1, 1);
    let story = steps(derive(&p, &broken(&[-1, 2, 1])));
    assert!(
        story.contains(&"producer: notify_all changed (wakes consumer#1, consumer#2)".to_string()),
        "{story:?}"
    );
    // With a while, no interleaving takes from the empty buffer or leaves a consumer asleep.
    let fixed = program("if-not-while-fixed", 1, 1);
    for outcome in [broken(&[-1, 2, 1]), Outcome::Stuck, Outcome::Deadlock] {
        assert!(
            matches!(derive(&fixed, &outcome), Derivation::Impossible { .. }),
            "{outcome:?}"
        );
    }
}

#[test]
fn spurious_wakeups_let_a_wait_return_without_a_notify() {
    let mut p = program("if-not-while-racy", 1, 1);
    p.spurious_wakeups = true;
    let story = steps(derive(&p, &broken(&[-1, 2, 2])));
    assert!(
        story.iter().any(|s| s.contains("wakes without a notify")),
        "{story:?}"
    );
}

#[test]
fn semaphores_and_reader_writer_locks_admit_what_their_counts_allow() {
    // Two permits let two increments overlap; one does not.
    assert_eq!(
        steps(derive(&program("semaphore-lock-racy", 2, 1), &broken(&[1])))[..3],
        [
            "incrementer#1: acquire guard (2 -> 1)",
            "incrementer#1: r = counter (reads 0)",
            "incrementer#2: acquire guard (1 -> 0)",
        ]
    );
    assert!(matches!(
        derive(&program("semaphore-lock", 2, 1), &broken(&[1])),
        Derivation::Impossible { .. }
    ));
    // Readers share the lock, writers do not.
    assert!(matches!(
        derive(
            &program("rwlock-write-under-read-racy", 2, 1),
            &broken(&[1])
        ),
        Derivation::Interleaving { .. }
    ));
    assert!(matches!(
        derive(&program("rwlock-writer", 2, 1), &broken(&[1])),
        Derivation::Impossible { .. }
    ));
}

#[test]
fn five_philosophers_deadlock_unless_ordered_or_seated_four_at_a_time() {
    let story = steps(derive(
        &program("philosophers-racy", 1, 1),
        &Outcome::Deadlock,
    ));
    assert_eq!(story.len(), 5, "{story:?}");
    assert!(story.iter().all(|s| s.contains(": lock fork")), "{story:?}");
    for fixed in ["philosophers-ordered", "philosophers-footman"] {
        assert!(
            matches!(
                derive(&program(fixed, 1, 1), &Outcome::Deadlock),
                Derivation::Impossible { .. }
            ),
            "{fixed}"
        );
    }
}
