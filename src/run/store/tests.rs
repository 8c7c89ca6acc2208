//! The store runner's trial loop over a scripted crew.

use super::*;
use crate::cli::Format;
use crate::counter::CounterSpec;
use crate::crew::CrewKind;
use crate::harness::{Plan, StartMode};
use crate::options::OutputOptions;
use crate::store::{Address, Connection, StoreSpec};
use crate::window::WindowSpec;
use std::time::Duration;

/// A crew that does exactly what it is told: per trial, the increments it really makes on
/// the store and the increments it claims were acknowledged; `None` is a fault.
struct Scripted {
    conn: Box<dyn Connection>,
    script: Vec<Option<(u64, u64)>>,
}

impl Crew for Scripted {
    fn kind(&self) -> CrewKind {
        CrewKind::Processes
    }
    fn trial(&mut self, _: &Order) -> Result<Vec<Part>, Stop> {
        let Some((made, claimed)) = self.script.remove(0) else {
            return Err(Stop::Fault(
                "process 2 (pid 42) was killed by signal 9".into(),
            ));
        };
        for _ in 0..made {
            self.conn.attempt(StrategyKind::Atomic, &mut || {})?;
        }
        let part = |acknowledged, start_ns, end_ns| Part {
            start_ns,
            end_ns,
            counts: Counts {
                acknowledged,
                retries: 1,
                given_up: 1,
                errors: [("busy".to_string(), 2)].into(),
            },
            recorded: Vec::new(),
        };
        Ok(vec![
            part(claimed / 2, 100, 300),
            part(claimed - claimed / 2, 200, 400),
        ])
    }
}

fn options(store: &StoreOptions) -> RunOptions {
    RunOptions {
        strategies: vec![StrategyKind::Unsafe],
        store: Some(store.clone()),
        spec: CounterSpec {
            threads: 2,
            iterations: 50,
            window: WindowSpec::default(),
        },
        plan: Plan {
            trials: 5,
            duration: None,
            start: StartMode::Barrier,
            seed: 1,
            first_trial: 0,
            cpus: 2,
        },
        lengthen: false,
        expect: None,
        race_budget: Duration::from_secs(1),
        explain: false,
        output: OutputOptions {
            format: Format::Json,
            color: false,
            progress: false,
            width: 80,
        },
    }
}

#[test]
fn a_trial_counts_what_was_acknowledged_and_a_fault_keeps_the_trials_before_it() {
    let store = StoreOptions {
        spec: StoreSpec::Sqlite(None),
        chosen: None,
        crew: CrewKind::Processes,
        workers: 2,
        retry: 0,
        worker_timeout: Duration::from_secs(1),
        isolation: None,
        run: None,
    };
    let mut place = Place::open(&store.spec, None, Duration::from_secs(5)).unwrap();
    let address: Address = place.address().clone();
    let mut crew = Scripted {
        conn: address.connect().unwrap(),
        // 100 made and acknowledged; 60 made of 100 acknowledged (40 lost); 90 made of 90
        // acknowledged (10 refused, never promised); then a worker dies.
        script: vec![Some((100, 100)), Some((60, 100)), Some((90, 90)), None],
    };
    let options = options(&store);
    let mut progress = Progress::new(1, None, false);
    let ran = tally(
        StrategyKind::Unsafe,
        &options,
        &store,
        &mut place,
        &mut crew,
        &mut progress,
    );
    assert_eq!(
        ran.fault.as_deref(),
        Some("process 2 (pid 42) was killed by signal 9")
    );
    let rows: Vec<(u64, u64, u64)> = ran
        .tally
        .rows()
        .iter()
        .map(|r| (r.final_value, r.lost, r.expected))
        .collect();
    assert_eq!(rows, [(100, 0, 100), (60, 40, 100), (90, 0, 90)]);
    assert_eq!(ran.tally.differed(), 1);
    assert_eq!(ran.counts.acknowledged, 290);
    assert_eq!(ran.counts.retries, 6);
    assert_eq!(ran.counts.given_up, 6);
    assert_eq!(ran.counts.errors["busy"], 12);
    // Spans 100..300 and 200..400: 300 ns a trial, a third of it with both inside.
    assert_eq!(ran.elapsed_ns, 900);
    assert_eq!(ran.tally.rows()[0].overlap, 1.0 / 3.0);
    let r = result(StrategyKind::Unsafe, &ran, &options, &store);
    let ops = r.summary.ops.unwrap();
    assert_eq!(ops.acknowledged, 290);
    assert!((r.summary.pace.ns_per_op - 900.0 / 290.0).abs() < 1e-9);
}
