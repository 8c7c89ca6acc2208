//! The counter commands on a shared store: the run's counter set up in the store, a crew of
//! threads or processes, every strategy through the same trial loop, into the same report as
//! in memory plus what the store adds (retries, errors, acknowledged increments).

use std::io::Write;

use super::counter::set_slowdowns;
use crate::crew::{self, Crew, Order, Part, Stop};
use crate::diagnosis;
use crate::error::Error;
use crate::expect::Expect;
use crate::explain::{self, Explanation, Increment};
use crate::exposure::{self, Extra};
use crate::harness::{self, Span, Trial, Trials, overlap};
use crate::options::{RunOptions, StoreOptions, TRIAL_DETAIL_LIMIT};
use crate::progress::Progress;
use crate::report::{
    CounterBody, Envelope, Machine, StoreInfo, StrategyResult, WorkersInfo, WorkloadInfo,
};
use crate::stats::{StoreOps, Tally};
use crate::store::{Counts, Place};
use crate::strategy::{StrategyKind, Support};

/// Increments each worker records per trial for `--explain`: enough to hold many lost updates,
/// few enough that recording costs nothing beside a statement.
const RECORD_PER_WORKER: u64 = 2_000;

/// What a run on a store gave, before it is reported.
pub(super) struct Executed {
    pub results: Vec<StrategyResult>,
    pub workload: WorkloadInfo,
    /// Why the run stopped early, when a worker or the store failed.
    pub fault: Option<String>,
    /// What the run could not remove from the store, each with the command that removes it.
    pub left_behind: Vec<String>,
}

pub fn run(options: &RunOptions, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    let mut progress = Progress::new(
        options.strategies.len() as u64,
        options.plan.duration,
        options.output.progress,
    );
    let done = execute(options, &mut progress)?;
    progress.finish();
    let mut report = Envelope::new(
        harness::interrupted(),
        Machine::this(options.plan.cpus),
        CounterBody {
            workload: done.workload,
            results: done.results,
        },
    );
    report.fault = done.fault.clone();
    report.left_behind = done.left_behind;
    let failures = super::counter::write(&report, &options.output, out)?;
    // CSV has no place for a note: what is left is said on stderr there.
    if options.output.format == crate::cli::Format::Csv {
        for note in &report.left_behind {
            eprintln!("racedemo: left behind: {note}");
        }
    }
    match done.fault {
        Some(fault) => Err(Error::Fault(fault)),
        None => Ok(failures),
    }
}

/// Runs every strategy of `options` on its store; the store's record or row is gone again when
/// this returns.
pub(super) fn execute(options: &RunOptions, progress: &mut Progress) -> Result<Executed, Error> {
    let store = options
        .store
        .as_ref()
        .expect("the store runner runs only runs with a store");
    let mut place = match Place::open(&store.spec, store.isolation, store.worker_timeout) {
        Ok(place) => place,
        // A server that cannot be reached: a report with no results, saying why.
        Err(Error::Fault(fault)) => {
            return Ok(Executed {
                results: Vec::new(),
                workload: workload_info(options, store, None, Vec::new(), 0),
                fault: Some(fault),
                left_behind: Vec::new(),
            });
        }
        Err(e) => return Err(e),
    };
    progress.rename("starting workers");
    let mut members = Vec::new();
    let crew = crew::start(
        store.crew,
        place.address(),
        store.workers,
        store.worker_timeout,
        store.run.as_deref(),
    )
    .map(|(crew, joined)| {
        members = joined;
        crew
    });
    let mut results = Vec::with_capacity(options.strategies.len());
    let mut fault = None;
    let mut left_behind = Vec::new();
    match crew {
        Err(e) => fault = Some(e),
        Ok(mut crew) => {
            for &kind in &options.strategies {
                progress.phase(kind.name(), options.plan.trials);
                let ran = tally(kind, options, store, &mut place, crew.as_mut(), progress);
                fault = ran.fault.clone();
                results.push(result(kind, &ran, options, store));
                if fault.is_some() || harness::interrupted() {
                    break;
                }
            }
            // The crew goes before the place: workers are gone before the row is deleted.
            left_behind.extend(crew.close(fault.as_deref()));
            drop(crew);
        }
    }
    set_slowdowns(
        &mut results,
        |r| (r.strategy, r.summary.pace.ns_per_op),
        |r, x| r.vs_unsafe = x,
    );
    let trials = results.iter().map(|r| r.summary.trials).min().unwrap_or(0);
    let workload = workload_info(options, store, Some(&place), members, trials);
    left_behind.extend(place.close());
    Ok(Executed {
        workload,
        results,
        fault,
        left_behind,
    })
}

/// What running one strategy on the store gave.
struct Ran {
    tally: Tally,
    counts: Counts,
    /// The workers' loops, first start to last end, over all trials.
    elapsed_ns: u64,
    extra: Option<Extra>,
    explanation: Option<Explanation>,
    /// Why the run could not go on, if it could not.
    fault: Option<String>,
}

/// One trial's outcome on a store: the counter's final value and every worker's part.
struct StoreTrial {
    final_value: u64,
    parts: Vec<Part>,
}

/// One strategy's trials on the store, for the harness's trial loop: the counter zeroed, every
/// worker's part, the counter read.
struct OnStore<'a> {
    place: &'a mut Place,
    crew: &'a mut dyn Crew,
    order: Order,
}

impl Trials for OnStore<'_> {
    type Outcome = StoreTrial;

    fn trial(&mut self, index: u64) -> Result<Trial<StoreTrial>, Stop> {
        self.order.trial = index;
        self.place.admin().reset()?;
        let parts = self.crew.trial(&self.order)?;
        let final_value = self.place.admin().read()?;
        // Every worker's loop, from the first start, on the one clock all processes share.
        let origin = parts.iter().map(|p| p.start_ns).min().unwrap_or(0);
        let spans: Vec<Span> = parts
            .iter()
            .map(|p| Span {
                start_ns: p.start_ns - origin,
                end_ns: p.end_ns.max(p.start_ns) - origin,
            })
            .collect();
        Ok(Trial {
            elapsed_ns: spans.iter().map(|s| s.end_ns).max().unwrap_or(0),
            overlap: overlap(&spans),
            outcome: StoreTrial { final_value, parts },
        })
    }
}

fn tally(
    kind: StrategyKind,
    options: &RunOptions,
    store: &StoreOptions,
    place: &mut Place,
    crew: &mut dyn Crew,
    progress: &mut Progress,
) -> Ran {
    let (spec, plan) = (&options.spec, &options.plan);
    let racy = store.races(kind);
    let expect = options.expect.unwrap_or(Expect::default_when(racy));
    let mut ran = Ran {
        tally: Tally::new(spec.expected(), TRIAL_DETAIL_LIMIT),
        counts: Counts::default(),
        elapsed_ns: 0,
        extra: None,
        explanation: None,
        fault: None,
    };
    let who = crew.kind().one();
    let mut trials = OnStore {
        place,
        crew,
        order: Order {
            strategy: kind,
            iterations: spec.iterations,
            retry: store.retry,
            window: spec.window,
            seed: plan.seed,
            trial: 0,
            record: if options.explain {
                RECORD_PER_WORKER
            } else {
                0
            },
        },
    };
    // With --explain: the first recorded trial that lost an update, else the last one.
    let mut recorded: Option<(bool, StoreTrial, u64)> = None;
    let mut on_trial = |t: Trial<StoreTrial>| {
        add(&mut ran, &t);
        progress.trial_done();
        if options.explain && recorded.as_ref().is_none_or(|(lost, ..)| !lost) {
            let lost = lost_of(&t.outcome) > 0;
            recorded = Some((lost, t.outcome, ran.tally.trials()));
        }
    };
    let (mut info, fault) = match harness::run_trials(&mut trials, plan, &mut on_trial) {
        Ok(info) => (info, None),
        Err((fault, info)) => (info, Some(fault)),
    };
    ran.fault = fault;
    // --expect race: more trials until one loses an update, within the budget.
    if expect == Expect::Race
        && ran.tally.differed() == 0
        && !info.interrupted
        && ran.fault.is_none()
    {
        let extra = exposure::until_race_with(
            |part, on_trial| harness::run_trials(&mut trials, part, on_trial).map_err(|(f, _)| f),
            1,
            plan,
            ran.tally.trials(),
            options.race_budget,
            &mut info,
            |t: &StoreTrial| lost_of(t) > 0,
            |t| {
                add(&mut ran, &t);
                progress.trial_done();
            },
        );
        match extra {
            Ok(extra) => ran.extra = Some(extra),
            Err(fault) => ran.fault = Some(fault),
        }
    }
    ran.tally.set_wall_ns(info.wall_ns);
    ran.explanation = recorded.map(|(_, t, at)| explanation(racy, &t, at, who));
    ran
}

fn acknowledged(trial: &StoreTrial) -> u64 {
    trial.parts.iter().map(|p| p.counts.acknowledged).sum()
}

fn lost_of(trial: &StoreTrial) -> u64 {
    acknowledged(trial).saturating_sub(trial.final_value)
}

fn add(ran: &mut Ran, trial: &Trial<StoreTrial>) {
    let mut counts = Counts::default();
    for p in &trial.outcome.parts {
        counts.merge(&p.counts);
    }
    ran.tally.add_counted(
        trial.outcome.final_value,
        counts.acknowledged,
        trial.elapsed_ns,
        trial.overlap,
    );
    let number = ran.tally.trials();
    ran.tally.set_ops(number, ops(&counts, trial.elapsed_ns));
    ran.counts.merge(&counts);
    ran.elapsed_ns += trial.elapsed_ns;
}

fn ops(counts: &Counts, elapsed_ns: u64) -> StoreOps {
    StoreOps::new(
        counts.acknowledged,
        counts.retries,
        counts.given_up,
        counts.errors.clone(),
        elapsed_ns,
    )
}

/// One lost update among the recorded increments, told step by step; or, where none was lost,
/// two increments handing the counter on.
fn explanation(racy: bool, trial: &StoreTrial, attempt: u64, who: &'static str) -> Explanation {
    let logs: Vec<Vec<Increment>> = trial.parts.iter().map(Part::increments).collect();
    let found = if racy {
        explain::lost_update(&logs)
    } else {
        None
    };
    let lost_update = found.is_some();
    Explanation {
        attempt,
        recorded_per_thread: logs.iter().map(|l| l.len() as u64).max().unwrap_or(0),
        lost_update,
        steps: found
            .or_else(|| explain::handoff(&logs))
            .unwrap_or_default(),
        final_value: trial.final_value,
        expected: acknowledged(trial),
        who,
        counted: true,
    }
}

fn result(
    kind: StrategyKind,
    ran: &Ran,
    options: &RunOptions,
    store: &StoreOptions,
) -> StrategyResult {
    let mut summary = ran.tally.summary();
    let ops = ops(&ran.counts, ran.elapsed_ns);
    // On a store the cost is per acknowledged increment: a refused attempt did no work a
    // caller could use. Every exporter reads it from here.
    summary.pace.ns_per_op = ops.us_per_increment * 1e3;
    summary.ops = Some(ops);
    let racy = store.races(kind);
    let expect = options.expect.unwrap_or(Expect::default_when(racy));
    let operation = match store.spec.kind().support(kind) {
        Support::Does(line) | Support::Refused(line) => line,
    };
    let mut notes = diagnosis::store_notes(
        kind,
        racy,
        store.spec.kind(),
        store.crew,
        store.retry,
        &summary,
    );
    notes.extend(ran.extra.map(|e| e.describe()));
    StrategyResult {
        strategy: kind,
        operation,
        trials: ran.tally.rows().to_vec(),
        histogram: ran.tally.histogram(),
        finals: super::counter::final_range(racy, &options.spec, &summary),
        explain: ran.explanation.clone(),
        extra: ran.extra,
        expect,
        expect_met: expect.is_met(summary.rate.differed, summary.rate.differed),
        vs_unsafe: None,
        notes,
        summary,
    }
}

/// The memory run's workload, with the store and its workers in place of threads in memory;
/// `members`: each remote worker as "host (pid N)", none for local ones.
fn workload_info(
    options: &RunOptions,
    store: &StoreOptions,
    place: Option<&Place>,
    members: Vec<String>,
    trials: u64,
) -> WorkloadInfo {
    WorkloadInfo {
        store: StoreInfo {
            kind: store.spec.kind(),
            location: Some(place.map_or_else(|| store.spec.shown(), |p| p.address().shown())),
            details: place.map(|p| p.details.clone()),
            chosen: store.chosen,
            retry: Some(store.retry),
            isolation: store.isolation,
        },
        workers: WorkersInfo {
            kind: store.crew,
            count: store.workers,
            members: (!members.is_empty()).then_some(members),
        },
        ..super::counter::workload_info(options, &options.spec, trials, false)
    }
}

#[cfg(test)]
mod tests;
