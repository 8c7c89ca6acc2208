//! `sweep`'s flags, checked once: which parameter varies, and at each of its values a run
//! validated as `compare` would validate it.

use std::path::PathBuf;

use super::{Environment, OutputOptions, RunOptions, distinct, seed_or_random, writable_file};
use crate::cli::{RunArgs, StoreArgs, SweepArgs, WorkloadArgs};
use crate::error::Error;
use crate::store::StoreSpec;
use crate::sweep::{Parameter, Values};

/// A validated `sweep`: one run per value of the swept parameter, each validated as a run of
/// its own would be.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub parameter: Parameter,
    /// The swept value and the run at it, in the order given.
    pub points: Vec<(u64, RunOptions)>,
    pub svg: Option<PathBuf>,
    pub output: OutputOptions,
}

/// Trials per point when --trials is not given: a sweep runs many points.
pub const SWEEP_TRIALS: u64 = 10;
/// Increments per thread when --iterations is not given: long enough to race, short enough
/// for 64 threads under a mutex.
pub const SWEEP_ITERATIONS: u64 = 100_000;

impl SweepOptions {
    pub(super) fn new(args: SweepArgs, env: &Environment) -> Result<Self, Error> {
        let lists = [
            (Parameter::Threads, values_of(&args.threads)),
            (Parameter::Iterations, values_of(&args.iterations)),
            (Parameter::Window, values_of(&args.window)),
            (Parameter::Processes, values_of(&args.processes)),
        ];
        let swept: Vec<Parameter> = lists
            .iter()
            .filter(|(_, values)| values.len() > 1)
            .map(|&(p, _)| p)
            .collect();
        let parameter = match swept.as_slice() {
            [] if args.threads.is_none() && args.processes.is_none() => Parameter::Threads,
            [] => {
                return Err(Error::input(
                    "sweep needs one parameter with several values, e.g. --threads 1,2,4,8 or \
                     --iterations 10..1000000:x10",
                ));
            }
            [one] => *one,
            [a, b, ..] => {
                return Err(Error::input(format!(
                    "sweep one parameter at a time: --{} and --{} both list several values",
                    a.name(),
                    b.name()
                )));
            }
        };
        if let Some(path) = &args.svg {
            writable_file("--svg", path)?;
        }
        if let Some(strategies) = &args.strategies {
            distinct(strategies)?;
        }
        let one = |values: &Option<Values>, default: u64| {
            values_of(values).first().copied().unwrap_or(default)
        };
        let values = match parameter {
            Parameter::Threads if args.threads.is_none() => vec![1, 2, 4, 8, 16],
            Parameter::Threads => values_of(&args.threads).to_vec(),
            Parameter::Iterations => values_of(&args.iterations).to_vec(),
            Parameter::Window => values_of(&args.window).to_vec(),
            Parameter::Processes => values_of(&args.processes).to_vec(),
        };
        let on_store = args.processes.is_some()
            || args
                .store
                .as_deref()
                .map(super::store::parse)
                .transpose()?
                .is_some_and(|s| s != StoreSpec::Memory);
        let mut trial = args.trial.clone();
        trial.trials = trial
            .trials
            .or(Some(SWEEP_TRIALS).filter(|_| trial.duration.is_none()));
        // Every point shares the seed, so that only the swept parameter differs between them.
        trial.seed = Some(seed_or_random(trial.seed));
        let mut points = Vec::with_capacity(values.len());
        for value in values {
            let at = |p: Parameter, list: &Option<Values>, default: u64| {
                if p == parameter {
                    value
                } else {
                    one(list, default)
                }
            };
            // Processes take the place of threads; given both, the run's options refuse.
            let threads = (args.processes.is_none() || args.threads.is_some())
                .then(|| at(Parameter::Threads, &args.threads, 4));
            let workload = WorkloadArgs {
                threads,
                // A sweep compares its points: every one runs the size it names (on a store,
                // the store's default unless given).
                iterations: (!on_store || args.iterations.is_some())
                    .then(|| at(Parameter::Iterations, &args.iterations, SWEEP_ITERATIONS)),
                window: at(Parameter::Window, &args.window, 0),
                trial: trial.clone(),
                jitter: args.jitter,
                yield_now: args.yield_now,
            };
            let run = RunArgs {
                workload,
                expect: None,
                race_budget: None,
                explain: false,
                store: StoreArgs {
                    store: args.store.clone(),
                    processes: args
                        .processes
                        .is_some()
                        .then(|| at(Parameter::Processes, &args.processes, 1)),
                    retry: args.retry,
                    worker_timeout: None,
                    isolation: None,
                    run: None,
                    remote_workers: None,
                },
                output: args.output.clone(),
            };
            let options = RunOptions::new(args.strategies.clone(), run, env)
                .map_err(|e| Error::input(format!("at {} {value}: {e}", parameter.name())))?;
            points.push((value, options));
        }
        Ok(SweepOptions {
            parameter,
            points,
            svg: args.svg,
            output: OutputOptions::new(&args.output, env),
        })
    }
}

fn values_of(values: &Option<Values>) -> &[u64] {
    values.as_ref().map_or(&[], |v| v.0.as_slice())
}
