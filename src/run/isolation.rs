//! `isolation`: every level of every store, each replayed (Hermitage's P4) and then run as
//! the transaction strategy without and with retry, into one matrix.

use std::io::Write;

use crate::error::Error;
use crate::harness;
use crate::options::IsolationOptions;
use crate::progress::Progress;
use crate::report::{self, Envelope, IsolationBody, IsolationCell, LevelRun, Machine, WorkersInfo};
use crate::store::Place;
use crate::store::replay::replay;

pub fn run(options: &IsolationOptions, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    let Some(first) = options.cells.first().map(|c| &c.runs[0]) else {
        return Ok(Vec::new());
    };
    let store = first.store.as_ref().expect("every cell runs on a store");
    let mut progress = Progress::new(
        options.cells.len() as u64 * 2,
        None,
        options.output.progress,
    );
    let mut cells = Vec::with_capacity(options.cells.len());
    let mut fault = None;
    let mut left_behind = Vec::new();
    for cell in &options.cells {
        let mut done = IsolationCell {
            store: cell.spec.kind(),
            location: cell.spec.shown(),
            level: cell.level,
            unavailable: None,
            replay: None,
            runs: Vec::new(),
        };
        progress.rename(&format!(
            "{} {} replay",
            cell.spec.kind().name(),
            cell.level
        ));
        // The replay first: it also finds out whether the server offers the level at all.
        let deadline = cell.runs[0]
            .store
            .as_ref()
            .map_or(crate::store::DEADLINE, |s| s.worker_timeout);
        match Place::open(&cell.spec, Some(cell.level), deadline) {
            Ok(mut place) => {
                let address = place.address().clone();
                match replay(&address, place.admin()) {
                    Ok(r) => done.replay = Some(r),
                    Err(e) if e.contains("has no innodb_snapshot_isolation") => {
                        done.unavailable = Some(e);
                    }
                    Err(e) => fault = Some(e),
                }
                left_behind.extend(place.close());
            }
            Err(Error::Fault(e)) => fault = Some(e),
            Err(e) => return Err(e),
        }
        if done.unavailable.is_none() && fault.is_none() {
            for run in &cell.runs {
                let executed = super::store::execute(run, &mut progress)?;
                let retry = run.store.as_ref().map_or(0, |s| s.retry);
                if let Some(r) = executed.results.first() {
                    done.runs.extend(LevelRun::from_summary(retry, &r.summary));
                }
                fault = executed.fault;
                left_behind.extend(executed.left_behind);
                if fault.is_some() || harness::interrupted() {
                    break;
                }
            }
        }
        cells.push(done);
        if fault.is_some() || harness::interrupted() {
            break;
        }
    }
    progress.finish();
    let mut report = Envelope::new(
        harness::interrupted(),
        Machine::this(first.plan.cpus),
        IsolationBody {
            workers: WorkersInfo {
                kind: store.crew,
                count: store.workers,
                members: None,
            },
            iterations: first.spec.iterations,
            trials: first.plan.trials,
            retry: options.retry,
            cells,
        },
    );
    report.fault = fault.clone();
    report.left_behind = left_behind;
    report::exporter(&options.output)
        .isolation(&report, out)
        .and_then(|()| out.flush())
        .map_err(Error::io("writing the report"))?;
    match fault {
        Some(f) => Err(Error::Fault(f)),
        None => Ok(Vec::new()),
    }
}
