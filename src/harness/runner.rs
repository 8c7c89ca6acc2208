//! Running trials: one by one on threads spawned per trial, or in lockstep batches.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use super::gate::StartGate;
use super::{
    Plan, RunInfo, Span, StartMode, ThreadCtx, Trial, Workload, batch, interrupted, thread_seed,
};
use crate::stats;

/// Runs the plan's trials of `workload`, handing each to `on_trial` as soon as it ends, so the
/// caller's memory, not the harness's, decides what is kept.
pub fn run<W: Workload>(
    workload: &W,
    plan: &Plan,
    mut on_trial: impl FnMut(Trial<W::Outcome>),
) -> io::Result<RunInfo> {
    let started = Instant::now();
    let batched = plan.start == StartMode::Barrier
        && workload.is_tiny()
        && workload.threads() > 1
        && workload.threads() <= plan.cpus;
    if batched {
        batch::run(workload, plan, started, &mut on_trial)?;
    } else {
        let mut trial = 0;
        while trial < plan.trials && !should_stop(plan, started) {
            on_trial(run_one(workload, plan, trial)?);
            trial += 1;
        }
    }
    Ok(RunInfo {
        wall_ns: nanos(started.elapsed()),
        batched,
        interrupted: interrupted(),
    })
}

/// No new trial starts once the time is spent or the user interrupted.
pub(super) fn should_stop(plan: &Plan, started: Instant) -> bool {
    interrupted() || plan.duration.is_some_and(|d| started.elapsed() >= d)
}

fn run_one<W: Workload>(workload: &W, plan: &Plan, trial: u64) -> io::Result<Trial<W::Outcome>> {
    let threads = workload.threads();
    let state = workload.fresh();
    let gate = StartGate::new(plan.start, threads, plan.cpus);
    let times = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let ctx = ThreadCtx {
                index,
                seed: thread_seed(plan.seed, plan.first_trial + trial, index),
            };
            let (gate, state) = (&gate, &state);
            let spawned = thread::Builder::new()
                .name(format!("racedemo-{index}"))
                .spawn_scoped(scope, move || {
                    if !gate.wait() {
                        return None;
                    }
                    let start = Instant::now();
                    workload.run_thread(state, ctx);
                    Some((start, Instant::now()))
                });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(err) => {
                    gate.abort();
                    return Err(err);
                }
            }
        }
        // A worker that panicked is a bug in racedemo: let the panic surface as it is.
        Ok(handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<_>>())
    })?;
    let times: Vec<(Instant, Instant)> = times.into_iter().flatten().collect();
    let spans = spans_from(&times);
    Ok(Trial {
        outcome: workload.outcome(state),
        elapsed_ns: spans.iter().map(|s| s.end_ns).max().unwrap_or(0),
        overlap: stats::overlap(&spans),
    })
}

/// Each thread's (start, end) as spans from the earliest start.
pub(super) fn spans_from(times: &[(Instant, Instant)]) -> Vec<Span> {
    let Some(origin) = times.iter().map(|t| t.0).min() else {
        return Vec::new();
    };
    times
        .iter()
        .map(|&(s, e)| Span {
            start_ns: nanos(s.duration_since(origin)),
            end_ns: nanos(e.duration_since(origin)),
        })
        .collect()
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}
