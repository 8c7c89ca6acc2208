//! What a person at a terminal sees while a run goes: the progress bar on stderr, drawn only
//! when stderr is a terminal. Run under a pseudo-terminal made by util-linux's `script`.

use std::process::Command;

/// Runs racedemo ARGS under a pseudo-terminal and returns every frame the terminal was sent,
/// or `None` (saying so) where `script` is not installed.
fn frames(args: &str) -> Option<Vec<String>> {
    let bin = assert_cmd::cargo::cargo_bin!("racedemo");
    let typescript = tempfile::NamedTempFile::new().unwrap();
    let ran = Command::new("script")
        .args(["-qfec", &format!("{} {args}", bin.display())])
        .arg(typescript.path())
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .output();
    let Ok(out) = ran else {
        eprintln!("skipped: util-linux `script` is not installed, so no pseudo-terminal");
        return None;
    };
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(typescript.path()).unwrap();
    // The bar redraws one line in place: each frame ends with a carriage return.
    Some(text.split('\r').map(str::to_string).collect())
}

#[test]
fn the_progress_bar_keeps_moving_during_a_long_trial_and_counts_trials() {
    // One trial of 2 x 20,000,000 locked increments: about two seconds in a test (debug) build.
    let Some(frames) = frames("locked --threads 2 --iterations 20000000 --trials 1") else {
        return;
    };
    let bar: Vec<&String> = frames.iter().filter(|f| f.contains("elapsed")).collect();
    let during = bar.iter().filter(|f| f.contains("0/1 trials")).count();
    // Redrawn a few times a second while the trial runs, not once per 256 trials.
    assert!(during >= 3, "{during} frames during the trial: {bar:?}");
    assert!(bar.iter().any(|f| f.contains("1/1 trials")), "{bar:?}");
    // The results follow the cleared bar.
    assert!(frames.iter().any(|f| f.contains("racedemo locked:")));
}

#[test]
fn the_progress_bar_fills_phase_by_phase() {
    let Some(frames) = frames("compare --threads 2 --iterations 1000 --trials 5") else {
        return;
    };
    for strategy in ["unsafe", "locked", "atomic"] {
        assert!(
            frames
                .iter()
                .any(|f| f.contains(strategy) && f.contains("/5 trials")),
            "{strategy}: {frames:?}"
        );
    }
}
