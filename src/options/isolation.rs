//! `isolation`'s flags, checked once: which servers, which levels on each, and the two runs
//! (without and with retry) of every level.

use super::{Environment, OutputOptions, RunOptions};
use crate::cli::{IsolationArgs, RunArgs, StoreArgs, TrialArgs, WorkloadArgs};
use crate::error::Error;
use crate::expect::Expect;
use crate::harness::StartMode;
use crate::store::{Isolation, StoreSpec};
use crate::strategy::StrategyKind;

/// Increments per worker per trial when --iterations is not given: a matrix has many cells.
pub const ISOLATION_ITERATIONS: u64 = 250;
/// Trials per run when --trials is not given.
pub const ISOLATION_TRIALS: u64 = 3;
/// Retries in each level's second run when --retry is not given.
pub const ISOLATION_RETRY: u64 = 20;

/// One store at one level: the run without retry, then with.
#[derive(Debug, Clone)]
pub struct Cell {
    pub spec: StoreSpec,
    pub level: Isolation,
    pub runs: [RunOptions; 2],
}

#[derive(Debug, Clone)]
pub struct IsolationOptions {
    pub cells: Vec<Cell>,
    pub retry: u64,
    pub output: OutputOptions,
}

impl IsolationOptions {
    pub fn new(args: IsolationArgs, env: &Environment) -> Result<Self, Error> {
        let retry = args.retry.unwrap_or(ISOLATION_RETRY);
        let mut cells = Vec::new();
        let mut seen = Vec::new();
        for text in &args.stores {
            let spec = super::store::parse(text)?;
            if seen.contains(&spec) {
                return Err(Error::input(format!(
                    "--store {} is given twice",
                    spec.shown()
                )));
            }
            seen.push(spec.clone());
            let levels = Isolation::levels(spec.kind());
            if levels.is_empty() {
                return Err(Error::input(format!(
                    "--store {}: {}",
                    spec.shown(),
                    Isolation::ReadCommitted
                        .offered_by(spec.kind())
                        .expect_err("a store with no levels says why")
                )));
            }
            let wanted: Vec<Isolation> = match &args.levels {
                Some(asked) => levels.into_iter().filter(|l| asked.contains(l)).collect(),
                None => levels,
            };
            for level in wanted {
                let runs = [0, retry].map(|r| cell_run(&args, text, level, r, env));
                let [a, b] = runs;
                cells.push(Cell {
                    spec: spec.clone(),
                    level,
                    runs: [a?, b?],
                });
            }
        }
        if let Some(asked) = &args.levels {
            for level in asked {
                if !cells.iter().any(|c| c.level == *level) {
                    return Err(Error::input(format!(
                        "--levels {level}: no --store offers it ({})",
                        level
                            .offered_by(seen[0].kind())
                            .err()
                            .unwrap_or("not offered")
                    )));
                }
            }
        }
        let output = OutputOptions::new(&args.output, env);
        Ok(IsolationOptions {
            cells,
            retry,
            output,
        })
    }
}

/// The transaction run of one cell, as if typed as `racedemo transaction --store URL
/// --isolation LEVEL --retry N ...`: one set of checks for both.
fn cell_run(
    args: &IsolationArgs,
    store: &str,
    level: Isolation,
    retry: u64,
    env: &Environment,
) -> Result<RunOptions, Error> {
    let run = RunArgs {
        workload: WorkloadArgs {
            threads: args.threads,
            iterations: Some(args.iterations.unwrap_or(ISOLATION_ITERATIONS)),
            trial: TrialArgs {
                trials: Some(args.trials.unwrap_or(ISOLATION_TRIALS)),
                duration: None,
                start: StartMode::Barrier,
                seed: args.seed,
            },
            window: 0,
            jitter: false,
            yield_now: false,
        },
        // The matrix reports; it does not judge (a weak level is expected to lose).
        expect: Some(Expect::Any),
        race_budget: None,
        explain: false,
        store: StoreArgs {
            store: Some(store.to_string()),
            processes: args.processes,
            retry: Some(retry),
            worker_timeout: args.worker_timeout,
            isolation: Some(level),
            run: None,
            remote_workers: None,
        },
        output: args.output.clone(),
    };
    RunOptions::new(Some(vec![StrategyKind::Transaction]), run, env)
}
