//! `racedemo exec`'s cost per run beside `xargs -P`, the plainest way to run a command many
//! times at once: `racedemo exec --runs N --parallel 2 -- /bin/true` against
//! `seq N | xargs -P 2 -I{} /bin/true`, alternating, as a ratio of runs per second measured in
//! the same process (the machine is shared and noisy: only the ratio is compared).
//!
//!     cargo bench --bench exec

use std::process::{Command, Stdio};
use std::time::Instant;

const RUNS: u64 = 5_000;
const ROUNDS: usize = 5;

fn seconds(mut command: Command) -> f64 {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the command starts");
    assert!(status.success(), "{command:?} failed");
    started.elapsed().as_secs_f64()
}

fn main() {
    let racedemo = env!("CARGO_BIN_EXE_racedemo");
    let mut ratios = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        let mut exec = Command::new(racedemo);
        exec.args([
            "exec",
            "--runs",
            &RUNS.to_string(),
            "--parallel",
            "2",
            "--format",
            "json",
        ])
        .args(["--", "/bin/true"]);
        let ours = seconds(exec);
        let mut xargs = Command::new("sh");
        xargs.args(["-c", &format!("seq {RUNS} | xargs -P 2 -I{{}} /bin/true")]);
        let theirs = seconds(xargs);
        let ratio = theirs / ours;
        ratios.push(ratio);
        println!(
            "round {round}: racedemo exec {:.0} runs/s, xargs -P 2 {:.0} runs/s: {ratio:.2}x",
            RUNS as f64 / ours,
            RUNS as f64 / theirs
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median of {ROUNDS}: racedemo exec at {:.2}x the runs per second of xargs -P 2",
        ratios[ROUNDS / 2]
    );
}
