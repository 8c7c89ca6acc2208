//! The counter commands: each strategy through the harness, its trials into a tally, the
//! tallies into one report.

use std::io::Write;
use std::time::Duration;

use crate::counter::{CounterSpec, CounterWorkload};
use crate::crew::CrewKind;
use crate::diagnosis;
use crate::error::Error;
use crate::expect::Expect;
use crate::explain::{self, Explanation};
use crate::exposure::{self, Extra, Lengthened};
use crate::harness::{self, Plan, RunInfo};
use crate::options::{OutputOptions, RunOptions, TRIAL_DETAIL_LIMIT};
use crate::progress::Progress;
use crate::report::{
    self, CounterBody, Envelope, FinalRange, Machine, Report, StoreInfo, StrategyResult, TrialMode,
    WorkersInfo, WorkloadInfo,
};
use crate::stats::{Summary, Tally};
use crate::strategy::{
    Atomic, Locked, LockedRwLock, LockedSemaphore, LockedSpin, Optimistic, Racy, Strategy,
    StrategyKind,
};

/// Runs every strategy of `options` and writes the report to `out`; returns a message for each
/// expectation that failed.
pub fn run(options: &RunOptions, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    let plan = &options.plan;
    let phases = options.strategies.len() as u64;
    let mut progress = Progress::new(phases, plan.duration, options.output.progress);
    let (spec, lengthened) = exposed_spec(options, &mut progress)?;
    let mut results = Vec::with_capacity(options.strategies.len());
    let mut batched = false;
    for &kind in &options.strategies {
        progress.phase(kind.name(), plan.trials);
        let expect = options.expect.unwrap_or(Expect::default_for(kind));
        let budget = (expect == Expect::Race).then_some(options.race_budget);
        let ran = tally(kind, &spec, plan, budget, options.explain, &mut progress)?;
        batched |= ran.info.batched;
        let mut r = result(kind, &ran.tally, &spec, options, ran.info.batched);
        r.explain = ran.explanation;
        if kind.is_racy() {
            r.notes.extend(lengthened.map(|l| l.describe("increments")));
        }
        if let Some(extra) = ran.extra {
            r.notes.push(extra.describe());
            r.extra = Some(extra);
        }
        results.push(r);
        if ran.info.interrupted {
            break;
        }
    }
    // Clear the bar before the results print, so it never interleaves with them.
    progress.finish();
    add_slowdowns(&mut results);

    let report = Envelope::new(
        harness::interrupted(),
        Machine::this(options.plan.cpus),
        CounterBody {
            // With --duration, what ran: the fewest trials any strategy completed.
            workload: WorkloadInfo {
                lengthened,
                ..workload_info(
                    options,
                    &spec,
                    results.iter().map(|r| r.summary.trials).min().unwrap_or(0),
                    batched,
                )
            },
            results,
        },
    );
    write(&report, &options.output, out)
}

/// Writes a counter report in the chosen format; returns a message for each expectation that
/// failed.
pub(super) fn write(
    report: &Report,
    output: &OutputOptions,
    out: &mut dyn Write,
) -> Result<Vec<String>, Error> {
    report::exporter(output)
        .counter(report, out)
        .and_then(|()| out.flush())
        .map_err(Error::io("writing the report"))?;
    Ok(report
        .failures()
        .map(|r| {
            r.expect.failure(
                r.strategy.name(),
                r.summary.trials,
                r.summary.rate.differed,
                r.extra.map(|e| e.searched()),
            )
        })
        .collect())
}

/// The most trials grow in a run with a correct strategy in it.
const COMPARE_GROWTH: u64 = 4;

/// The workload to count: as given, or with longer trials when the size was not pinned, a
/// racy strategy runs, and probe trials at the given size did not overlap. Every strategy of
/// the run gets the same size, so that their costs compare.
fn exposed_spec(
    options: &RunOptions,
    progress: &mut Progress,
) -> Result<(CounterSpec, Option<Lengthened>), Error> {
    let spec = options.spec;
    let racy = options.strategies.iter().any(|k| k.is_racy());
    if !options.lengthen || !racy || spec.threads < 2 {
        return Ok((spec, None));
    }
    progress.rename("probing");
    let expected = spec.expected();
    // Beside a correct strategy trials grow at most fourfold: a contended mutex costs fifty
    // times an unsafe increment, and at sixty-four times the size a comparison would take
    // minutes.
    let most = if options.strategies.iter().all(|k| k.is_racy()) {
        u64::MAX
    } else {
        spec.iterations.saturating_mul(COMPARE_GROWTH)
    };
    let (iterations, lengthened) = exposure::calibrate(
        spec.iterations,
        &options.plan,
        |iterations| {
            (spec.threads as u64)
                .checked_mul(iterations)
                .filter(|_| iterations <= most)
                .map(|_| CounterWorkload::<Racy>::new(CounterSpec { iterations, ..spec }))
        },
        |&final_value| final_value != expected,
    )
    .map_err(Error::io("starting a worker thread"))?;
    Ok((CounterSpec { iterations, ..spec }, lengthened))
}

/// What running one strategy gave.
pub(super) struct Ran {
    pub tally: Tally,
    pub info: RunInfo,
    pub explanation: Option<Explanation>,
    /// Trials run after the planned ones, until a race showed.
    pub extra: Option<Extra>,
}

/// The one place a strategy name becomes a strategy type. With `race_budget`, trials go on
/// after the planned ones until one races or the budget is spent.
pub(super) fn tally(
    kind: StrategyKind,
    spec: &CounterSpec,
    plan: &Plan,
    race_budget: Option<Duration>,
    explain: bool,
    progress: &mut Progress,
) -> Result<Ran, Error> {
    match kind {
        StrategyKind::Unsafe => tally_of::<Racy>(spec, plan, race_budget, explain, progress),
        StrategyKind::Locked => tally_of::<Locked>(spec, plan, race_budget, explain, progress),
        StrategyKind::LockedRwLock => {
            tally_of::<LockedRwLock>(spec, plan, race_budget, explain, progress)
        }
        StrategyKind::LockedSemaphore => {
            tally_of::<LockedSemaphore>(spec, plan, race_budget, explain, progress)
        }
        StrategyKind::LockedSpin => {
            tally_of::<LockedSpin>(spec, plan, race_budget, explain, progress)
        }
        StrategyKind::Atomic => tally_of::<Atomic>(spec, plan, race_budget, explain, progress),
        StrategyKind::Optimistic => {
            tally_of::<Optimistic>(spec, plan, race_budget, explain, progress)
        }
        // Options refuse it in memory; the store runner runs it.
        StrategyKind::Transaction => Err(Error::input(
            "transaction needs a store: --store sqlite (or --processes N)",
        )),
    }
}

fn tally_of<S: Strategy>(
    spec: &CounterSpec,
    plan: &Plan,
    race_budget: Option<Duration>,
    explain: bool,
    progress: &mut Progress,
) -> Result<Ran, Error> {
    let mut tally = Tally::new(spec.expected(), TRIAL_DETAIL_LIMIT);
    let workload = CounterWorkload::<S>::new(*spec);
    let mut info = harness::run(&workload, plan, |trial| {
        tally.add(trial.outcome, trial.elapsed_ns, trial.overlap);
        progress.trial_done();
    })
    .map_err(Error::io("starting a worker thread"))?;
    let mut extra = None;
    if let Some(budget) = race_budget.filter(|_| tally.differed() == 0 && !info.interrupted) {
        let expected = spec.expected();
        let more = exposure::until_race(
            &workload,
            plan,
            tally.trials(),
            budget,
            &mut info,
            |&v| v != expected,
            |trial| {
                tally.add(trial.outcome, trial.elapsed_ns, trial.overlap);
                progress.trial_done();
            },
        )
        .map_err(Error::io("starting a worker thread"))?;
        extra = Some(more);
    }
    tally.set_wall_ns(info.wall_ns);
    let explanation = if explain && !info.interrupted {
        Some(explain::record::<S>(spec, plan).map_err(Error::io("starting a worker thread"))?)
    } else {
        None
    };
    Ok(Ran {
        tally,
        info,
        explanation,
        extra,
    })
}

fn result(
    kind: StrategyKind,
    tally: &Tally,
    spec: &CounterSpec,
    options: &RunOptions,
    batched: bool,
) -> StrategyResult {
    let summary = tally.summary();
    let expect = options.expect.unwrap_or(Expect::default_for(kind));
    StrategyResult {
        strategy: kind,
        operation: kind.operation(),
        trials: tally.rows().to_vec(),
        histogram: tally.histogram(),
        finals: final_range(kind.is_racy(), spec, &summary),
        explain: None,
        extra: None,
        expect,
        expect_met: expect.is_met(summary.rate.differed, summary.rate.differed),
        vs_unsafe: None,
        notes: diagnosis::notes(
            kind,
            spec,
            options.plan.start,
            options.plan.cpus,
            &summary,
            batched,
        ),
        summary,
    }
}

pub(super) fn final_range(racy: bool, spec: &CounterSpec, summary: &Summary) -> FinalRange {
    let expected = spec.expected();
    let [possible_min, possible_max] = spec.possible_finals(racy);
    FinalRange {
        // Most lost = lowest final value.
        observed_min: expected.saturating_sub(summary.lost.max),
        observed_max: expected.saturating_sub(summary.lost.min),
        possible_min,
        possible_max,
    }
}

/// The cost of correctness: each strategy's ns per increment over unsafe's, when both ran.
fn add_slowdowns(results: &mut [StrategyResult]) {
    set_slowdowns(
        results,
        |r| (r.strategy, r.summary.pace.ns_per_op),
        |r, x| r.vs_unsafe = x,
    );
}

/// Sets each item's ns per increment over unsafe's (from `cost`) with `set`; none unless unsafe
/// ran beside another strategy.
pub(super) fn set_slowdowns<T>(
    items: &mut [T],
    cost: impl Fn(&T) -> (StrategyKind, f64),
    set: impl Fn(&mut T, Option<f64>),
) {
    let base = items
        .iter()
        .map(&cost)
        .find(|(kind, _)| *kind == StrategyKind::Unsafe)
        .map(|(_, ns)| ns)
        .filter(|&ns| ns > 0.0 && items.len() > 1);
    for item in items {
        let ns = cost(item).1;
        set(item, base.map(|b| ns / b));
    }
}

pub(super) fn workload_info(
    options: &RunOptions,
    spec: &CounterSpec,
    trials: u64,
    batched: bool,
) -> WorkloadInfo {
    let plan = &options.plan;
    WorkloadInfo {
        trials,
        duration_s: plan.duration.map(|d| d.as_secs_f64()),
        trial_mode: if batched {
            TrialMode::Batch
        } else {
            TrialMode::Single
        },
        threads: spec.threads,
        iterations: spec.iterations,
        expected: spec.expected(),
        start: plan.start,
        window: spec.window.spin,
        jitter: spec.window.jitter,
        yield_now: spec.window.yield_now,
        seed: plan.seed,
        lengthened: None,
        store: StoreInfo::memory(),
        workers: WorkersInfo {
            kind: CrewKind::Threads,
            count: spec.threads,
            members: None,
        },
        strategies: options.strategies.clone(),
    }
}
