//! Running trials: one by one on threads spawned per trial, or in lockstep batches.

use std::io;
use std::thread;
use std::time::Instant;

use super::gate::StartGate;
use super::span::{nanos, overlap, spans_from};
use super::{
    Plan, RunInfo, StartMode, ThreadCtx, Trial, Workload, batch, interrupted, should_stop,
    thread_seed,
};

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
        overlap: overlap(&spans),
    })
}
