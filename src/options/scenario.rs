//! The scenario commands' flags, checked once: each file loaded and compiled with the command
//! line's overrides before anything runs.

use std::path::PathBuf;
use std::time::Duration;

use super::{
    DEFAULT_WIDTH, Environment, Options, OutputOptions, at_least_one, plan, writable_file,
};
use crate::cli::{ScenarioArgs, ScenarioCommand, ShowAs};
use crate::error::Error;
use crate::expect::Expect;
use crate::exposure::DEFAULT_RACE_BUDGET;
use crate::harness::{Plan, StartMode, over_thread_limit};
use crate::scenario::{self, Overrides, Program, Scenario};

/// The interpreter `--python` runs the generated program with.
pub const PYTHON: &str = "python3";

/// One scenario, ready to run: what `scenario run` runs once and `scenario check` for each.
#[derive(Debug)]
pub struct ScenarioJob {
    pub scenario: Scenario,
    /// Compiled with the command line's overrides.
    pub program: Program,
    /// The overrides it was compiled with, to compile it again with longer trials.
    pub overrides: Overrides,
    pub plan: Plan,
    /// Whether its trials may be made longer when they did not overlap (no `--iterations`).
    pub lengthen: bool,
    /// When a race is expected and no planned trial showed one: how long to keep trying.
    pub race_budget: Duration,
    /// `--python`: runs of the Python program beside the native trials.
    pub python: Option<u64>,
}

/// A validated `scenario run`.
#[derive(Debug)]
pub struct ScenarioOptions {
    pub job: ScenarioJob,
    pub expect: Expect,
    /// Derive an interleaving that produces the most telling observed outcome.
    pub explain: bool,
    pub output: OutputOptions,
}

/// A validated `scenario check`: every scenario loaded and compiled before any runs.
#[derive(Debug)]
pub struct CheckOptions {
    pub scenarios: Vec<ScenarioJob>,
    pub output: OutputOptions,
    /// Where to write JUnit XML as well, when asked.
    pub junit: Option<PathBuf>,
}

/// `scenario list|show|run|check`, validated.
pub(super) fn options(command: ScenarioCommand, env: &Environment) -> Result<Options, Error> {
    Ok(match command {
        ScenarioCommand::List => Options::ScenarioList {
            width: env.columns.unwrap_or(DEFAULT_WIDTH),
        },
        ScenarioCommand::Show { scenario, form } => Options::ScenarioShow(
            Box::new(Scenario::load(scenario::library::find(&scenario)?)?),
            env.columns.unwrap_or(DEFAULT_WIDTH),
            form == ShowAs::Python,
        ),
        ScenarioCommand::Run {
            scenario,
            args,
            expect,
            explain,
            output,
        } => {
            let job = ScenarioJob::new(
                Scenario::load(scenario::library::find(&scenario)?)?,
                &args,
                env,
            )?;
            Options::ScenarioRun(Box::new(ScenarioOptions {
                expect: expect.unwrap_or(job.scenario.expect()),
                explain,
                job,
                output: OutputOptions::new(&output, env),
            }))
        }
        ScenarioCommand::Check {
            paths,
            args,
            output,
            junit,
        } => {
            if let Some(path) = &junit {
                writable_file("--junit", path)?;
            }
            let sources = if paths.is_empty() {
                scenario::library::all()?
            } else {
                scenario::library::under(&paths)?
            };
            if sources.is_empty() {
                return Err(Error::input("no scenario files found to check"));
            }
            let scenarios = sources
                .into_iter()
                .map(|source| ScenarioJob::new(Scenario::load(source)?, &args, env))
                .collect::<Result<Vec<_>, Error>>()?;
            Options::ScenarioCheck(CheckOptions {
                scenarios,
                output: OutputOptions::new(&output, env),
                junit,
            })
        }
    })
}

impl ScenarioJob {
    /// A scenario compiled with the command line's overrides, and how to run its trials.
    fn new(scenario: Scenario, args: &ScenarioArgs, env: &Environment) -> Result<Self, Error> {
        let threads = args
            .threads
            .map(|t| at_least_one("--threads", t))
            .transpose()?;
        if let Some(message) = threads.and_then(|t| over_thread_limit(&format!("--threads {t}"), t))
        {
            return Err(Error::input(message));
        }
        let iterations = args
            .iterations
            .map(|i| at_least_one("--iterations", i))
            .transpose()?;
        let plan = plan(&args.trial, scenario.default_trials(), env)?;
        let overrides = Overrides {
            threads,
            iterations,
            spurious_wakeups: args.spurious_wakeups,
        };
        let program = scenario.compile(overrides)?;
        let python = args
            .python
            .map(|runs| at_least_one("--python", runs))
            .transpose()?;
        if python.is_some() && super::exec::runnable(PYTHON).is_err() {
            return Err(Error::input(format!(
                "--python: {PYTHON} was not found on PATH; install Python 3 or leave out --python"
            )));
        }
        Ok(ScenarioJob {
            python,
            scenario,
            program,
            overrides,
            lengthen: iterations.is_none() && plan.start == StartMode::Barrier,
            race_budget: args.race_budget.unwrap_or(DEFAULT_RACE_BUDGET),
            plan,
        })
    }
}
