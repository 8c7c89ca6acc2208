//! `sweep`: the counter workload at every value of one parameter, every strategy at each, into
//! one report; the SVG chart too when asked.

use std::io::{self, Write};

use super::counter::{set_slowdowns, tally, workload_info};
use crate::error::Error;
use crate::harness;
use crate::options::SweepOptions;
use crate::progress::Progress;
use crate::report::{self, Envelope, Machine, PointResult, SweepBody, SweepPoint};

pub fn run(options: &SweepOptions, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    let Some((_, first)) = options.points.first() else {
        return Ok(Vec::new());
    };
    let phases = (options.points.len() * first.strategies.len()) as u64;
    let mut progress = Progress::new(phases, first.plan.duration, options.output.progress);
    let mut points = Vec::with_capacity(options.points.len());
    let mut interrupted = false;
    let mut fault = None;
    for (value, run) in &options.points {
        if run.store.is_some() {
            let done = super::store::execute(run, &mut progress)?;
            let results = done
                .results
                .into_iter()
                .map(|r| PointResult {
                    strategy: r.strategy,
                    summary: r.summary,
                    vs_unsafe: r.vs_unsafe,
                })
                .collect();
            points.push(SweepPoint {
                value: *value,
                workload: done.workload,
                results,
            });
            fault = done.fault;
            if fault.is_some() || harness::interrupted() {
                break;
            }
            continue;
        }
        let mut results = Vec::with_capacity(run.strategies.len());
        let mut batched = false;
        for &kind in &run.strategies {
            progress.phase(
                &format!("{} {value} {}", options.parameter.name(), kind.name()),
                run.plan.trials,
            );
            let ran = tally(kind, &run.spec, &run.plan, None, false, &mut progress)?;
            batched |= ran.info.batched;
            results.push(PointResult {
                strategy: kind,
                summary: ran.tally.summary(),
                vs_unsafe: None,
            });
            if ran.info.interrupted {
                interrupted = true;
                break;
            }
        }
        // An interrupted point keeps the strategies that ran; no point after it starts.
        points.push(point(*value, run, results, batched));
        if interrupted {
            break;
        }
    }
    progress.finish();
    let mut report = Envelope::new(
        harness::interrupted(),
        Machine::this(first.plan.cpus),
        SweepBody {
            parameter: options.parameter,
            points,
        },
    );
    report.fault = fault.clone();
    report::exporter(&options.output)
        .sweep(&report, out)
        .and_then(|()| out.flush())
        .map_err(Error::io("writing the report"))?;
    if let Some(path) = &options.svg {
        report::svg::write(&report, path)
            .map_err(|e| io::Error::other(e.to_string()))
            .map_err(Error::io("writing the --svg file"))?;
    }
    if let Some(fault) = fault {
        return Err(Error::Fault(fault));
    }
    // A sweep shows; it does not check. Expectations belong to the single runs.
    Ok(Vec::new())
}

fn point(
    value: u64,
    run: &crate::options::RunOptions,
    mut results: Vec<PointResult>,
    batched: bool,
) -> SweepPoint {
    set_slowdowns(
        &mut results,
        |r| (r.strategy, r.summary.pace.ns_per_op),
        |r, x| r.vs_unsafe = x,
    );
    let trials = results.iter().map(|r| r.summary.trials).min().unwrap_or(0);
    SweepPoint {
        value,
        workload: workload_info(run, &run.spec, trials, batched),
        results,
    }
}
