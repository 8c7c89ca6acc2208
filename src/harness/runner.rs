//! Running trials: one by one on threads spawned per trial, or in lockstep batches.

use std::io;
use std::thread;
use std::time::Instant;

use super::gate::StartGate;
use super::span::{nanos, overlap, spans_from};
use super::{
    Plan, RunInfo, StartMode, Stop, ThreadCtx, Trial, Trials, Workload, batch, interrupted,
    run_trials, thread_seed,
};

/// Runs the plan's trials of `workload`, handing each to `on_trial` as soon as it ends, so the
/// caller's memory, not the harness's, decides what is kept.
pub fn run<W: Workload>(
    workload: &W,
    plan: &Plan,
    mut on_trial: impl FnMut(Trial<W::Outcome>),
) -> io::Result<RunInfo> {
    let started = Instant::now();
    let batched = plan.start == StartMode::Barrier && workload.is_tiny() && workload.threads() > 1;
    if batched {
        batch::run(workload, plan, started, &mut on_trial)?;
        return Ok(RunInfo {
            wall_ns: nanos(started.elapsed()),
            batched,
            interrupted: interrupted(),
        });
    }
    // With the barrier, each thread on a CPU of its own (round robin when they outnumber the
    // CPUs). Left to itself, the scheduler often starts new threads on the CPU that spawned
    // them, where they take turns: an idle 2-core machine then ran 2 threads one after the
    // other in a third of million-increment trials, and 4 threads in one trial of twenty.
    // Naive start is the article's way, placement included; threads that wait for each
    // other's locks stay free to move (`Workload::waits`).
    let cpus = (plan.start == StartMode::Barrier && !workload.waits())
        .then(core_affinity::get_core_ids)
        .flatten()
        .filter(|ids| !ids.is_empty());
    let mut spawned = Spawned {
        workload,
        plan,
        cpus: cpus.as_deref(),
    };
    run_trials(&mut spawned, plan, on_trial).map_err(|(fault, _)| io::Error::other(fault))
}

/// Trials on threads spawned for each one and held at the start gate.
struct Spawned<'a, W> {
    workload: &'a W,
    plan: &'a Plan,
    cpus: Option<&'a [core_affinity::CoreId]>,
}

impl<W: Workload> Trials for Spawned<'_, W> {
    type Outcome = W::Outcome;

    fn trial(&mut self, index: u64) -> Result<Trial<W::Outcome>, Stop> {
        run_one(self.workload, self.plan, index, self.cpus).map_err(|e| Stop::Fault(e.to_string()))
    }
}

fn run_one<W: Workload>(
    workload: &W,
    plan: &Plan,
    trial: u64,
    cpus: Option<&[core_affinity::CoreId]>,
) -> io::Result<Trial<W::Outcome>> {
    let threads = workload.threads();
    let state = workload.fresh();
    let gate = StartGate::new(plan.start, threads, plan.cpus);
    let times = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let ctx = ThreadCtx {
                index,
                seed: thread_seed(plan.seed, trial, index),
            };
            let (gate, state) = (&gate, &state);
            let cpu = cpus.map(|ids| ids[index % ids.len()]);
            let spawned = thread::Builder::new()
                .name(format!("racedemo-{index}"))
                .spawn_scoped(scope, move || {
                    if let Some(cpu) = cpu {
                        // A refusal only costs overlap: the thread still runs, unpinned.
                        core_affinity::set_for_current(cpu);
                    }
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
