//! From what clap parsed to what the engine runs: every check on the user's input happens here,
//! once, and turns into a one-line [`Error::Input`] that names the flag.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{
    ColorChoice, Command, CompareArgs, Format, LockedArgs, OutputArgs, RunArgs, TrialArgs,
};
use crate::counter::CounterSpec;
use crate::error::Error;
use crate::expect::Expect;
use crate::exposure::DEFAULT_RACE_BUDGET;
use crate::harness::Plan;

use crate::strategy::StrategyKind;

use crate::window::WindowSpec;

use crate::harness::{StartMode, over_thread_limit};
use crate::store::StoreKind;

mod exec;
mod isolation;
mod scenario;
mod store;
mod sweep;
pub use exec::{ExecOptions, Perturbations, Vary, VaryKey};
pub use isolation::{Cell, IsolationOptions};
pub use scenario::{CheckOptions, PYTHON, ScenarioJob, ScenarioOptions};
pub use store::{STORE_TRIALS, StoreOptions};
pub use sweep::{SWEEP_ITERATIONS, SWEEP_TRIALS, SweepOptions};
/// Increments per thread when --iterations is not given (and trials need not be lengthened).
pub const DEFAULT_ITERATIONS: u64 = 1_000_000;
/// Busy-work units per increment; more would turn one trial into hours.
pub const MAX_WINDOW: u64 = 1_000_000;
/// Trials listed one by one in the reports; the rest are counted in the summary only.
pub const TRIAL_DETAIL_LIMIT: usize = 1000;

/// What to do, validated.
#[derive(Debug)]
pub enum Options {
    Counter(RunOptions),
    /// The library, laid out for a terminal this many columns wide.
    ScenarioList {
        width: usize,
    },
    /// One scenario, wrapped to this many columns.
    /// A scenario, the terminal's width, and whether to print it as a Python program.
    ScenarioShow(Box<crate::scenario::Scenario>, usize, bool),
    ScenarioRun(Box<ScenarioOptions>),
    ScenarioCheck(CheckOptions),
    Sweep(SweepOptions),
    Isolation(IsolationOptions),
    /// `racedemo exec`: a user's own commands, run many times.
    Exec(Box<ExecOptions>),
    /// `racedemo worker`: the store's kind and URL, the run's name, how long to wait for it.
    Worker {
        kind: StoreKind,
        url: String,
        run: String,
        wait: Duration,
    },
    Completions(clap_complete::Shell),
    /// Pages to stdout, or into a folder.
    Man(Option<PathBuf>),
}

impl Options {
    pub fn from_command(command: Command, env: &Environment) -> Result<Self, Error> {
        let (strategies, args) = match command {
            Command::Scenario(scenario) => return scenario::options(scenario, env),
            Command::Sweep(args) => return SweepOptions::new(args, env).map(Options::Sweep),
            Command::Isolation(args) => {
                return IsolationOptions::new(args, env).map(Options::Isolation);
            }
            Command::Worker(args) => return worker(args),
            Command::Exec(args) => {
                return ExecOptions::new(args, env).map(|o| Options::Exec(Box::new(o)));
            }
            Command::Completions { shell } => return Ok(Options::Completions(shell)),
            Command::Man { dir } => {
                if let Some(dir) = dir.as_ref().filter(|d| !d.is_dir()) {
                    return Err(Error::input(format!(
                        "--dir {}: no such folder",
                        dir.display()
                    )));
                }
                return Ok(Options::Man(dir));
            }
            Command::Unsafe(args) => (Some(vec![StrategyKind::Unsafe]), args),
            Command::Locked(LockedArgs { lock, run }) => (Some(vec![lock.strategy()]), run),
            Command::Atomic(args) => (Some(vec![StrategyKind::Atomic]), args),
            Command::Optimistic(args) => (Some(vec![StrategyKind::Optimistic]), args),
            Command::Transaction(args) => (Some(vec![StrategyKind::Transaction]), args),
            Command::Compare(CompareArgs { strategies, run }) => (strategies, run),
        };
        RunOptions::new(strategies, args, env).map(Options::Counter)
    }
}

/// Trials when neither --trials nor --duration is given.
pub const DEFAULT_TRIALS: u64 = 20;
/// The longest --duration: a day.
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// How trials run, from the flags every run command shares. With --duration, trials run until
/// the time is spent (or --trials, if also given, are done).
fn plan(args: &TrialArgs, default_trials: u64, env: &Environment) -> Result<Plan, Error> {
    let trials = args
        .trials
        .map(|t| at_least_one("--trials", t))
        .transpose()?;
    let (trials, duration) = match args.duration {
        Some(d) if d.is_zero() => return Err(Error::input("--duration must be longer than 0s")),
        Some(d) if d > MAX_DURATION => {
            return Err(Error::input(
                "--duration is longer than a day; racedemo caps a run at 24h",
            ));
        }
        Some(d) => (trials.unwrap_or(u64::MAX), Some(d)),
        None => (trials.unwrap_or(default_trials), None),
    };
    Ok(Plan {
        trials,
        duration,
        start: args.start,
        seed: seed_or_random(args.seed),
        first_trial: 0,
        cpus: env.logical_cpus,
    })
}

/// Below 2^32 so that it is short to type and exact in every JSON reader.
fn seed_or_random(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(|| u64::from(rand::random::<u32>()))
}

/// `--strategies` names each strategy once.
fn distinct(strategies: &[StrategyKind]) -> Result<(), Error> {
    for (i, s) in strategies.iter().enumerate() {
        if strategies[..i].contains(s) {
            return Err(Error::input(format!(
                "--strategies lists '{}' twice",
                s.name()
            )));
        }
    }
    Ok(())
}

/// A validated run of one or more strategies on one workload.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub strategies: Vec<StrategyKind>,
    /// Where the counter lives when not in memory, and who races for it there.
    pub store: Option<StoreOptions>,
    pub spec: CounterSpec,
    pub plan: Plan,
    /// Whether trials may be made longer than `spec` says when the threads did not overlap
    /// (`--iterations` not given, threads started together).
    pub lengthen: bool,
    /// What every strategy must show; `None` means each strategy's own default.
    pub expect: Option<Expect>,
    /// With `--expect race`: how long to keep running trials when no planned one raced.
    pub race_budget: Duration,
    /// Record one more trial per strategy and tell a lost update in it.
    pub explain: bool,
    pub output: OutputOptions,
}

/// The width text output assumes when it cannot ask a terminal (a pipe, a file, CI logs).
pub const DEFAULT_WIDTH: usize = 80;

/// How results are shown, decided once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputOptions {
    pub format: Format,
    pub color: bool,
    pub progress: bool,
    /// Columns the text output may fill.
    pub width: usize,
}

/// What of the environment the output choices depend on, read once so that tests can vary it.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub no_color: bool,
    pub term_dumb: bool,
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    pub logical_cpus: usize,
    /// `COLUMNS`, else the terminal's width when stdout is one.
    pub columns: Option<usize>,
}

impl Environment {
    pub fn current() -> Self {
        Environment {
            // https://no-color.org: set and not empty.
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            term_dumb: std::env::var_os("TERM").is_some_and(|v| v == "dumb"),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            columns: std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse().ok())
                .filter(|&c: &usize| c > 0)
                .or_else(|| {
                    terminal_size::terminal_size_of(std::io::stdout())
                        .map(|(w, _)| usize::from(w.0))
                }),
        }
    }
}

/// How long `racedemo worker` waits for its run when --wait is not given.
pub const WORKER_WAIT: Duration = Duration::from_secs(60);

fn worker(args: crate::cli::WorkerArgs) -> Result<Options, Error> {
    let (kind, url) = match store::parse(&args.store)? {
        crate::store::StoreSpec::Server(kind, url) => (kind, url),
        other => {
            return Err(Error::input(format!(
                "--store {}: a worker joins through a server every machine reaches \
                 (postgres://, mysql:// or redis://)",
                other.shown()
            )));
        }
    };
    crate::crew::remote::check_name(&args.run).map_err(|e| Error::input(format!("--run: {e}")))?;
    if args.wait.is_some_and(|w| w.is_zero()) {
        return Err(Error::input("--wait must be longer than 0s"));
    }
    Ok(Options::Worker {
        kind,
        url,
        run: args.run,
        wait: args.wait.unwrap_or(WORKER_WAIT),
    })
}

impl RunOptions {
    /// `strategies`: those named, or `None` for every one the store can run.
    fn new(
        strategies: Option<Vec<StrategyKind>>,
        args: RunArgs,
        env: &Environment,
    ) -> Result<Self, Error> {
        let w = args.workload;
        let store_kind = match (&args.store.store, args.store.processes) {
            (Some(text), _) => store::parse(text)?.kind(),
            (None, Some(_)) => StoreKind::Sqlite,
            (None, None) => StoreKind::Memory,
        };
        let strategies = strategies.unwrap_or_else(|| store_kind.strategies());
        distinct(&strategies)?;
        let store = StoreOptions::new(&args.store, w.threads, &strategies, w.trial.start)?;
        let threads = match &store {
            Some(s) => s.workers as u64,
            None => at_least_one("--threads", w.threads.unwrap_or(4))?,
        };
        if let Some(message) = over_thread_limit(&format!("--threads {threads}"), threads) {
            return Err(Error::input(message));
        }
        let lengthen =
            w.iterations.is_none() && w.trial.start == StartMode::Barrier && store.is_none();
        let default_iterations = store
            .as_ref()
            .map_or(DEFAULT_ITERATIONS, StoreOptions::default_iterations);
        let iterations = at_least_one("--iterations", w.iterations.unwrap_or(default_iterations))?;
        let default_trials = if store.is_some() {
            STORE_TRIALS
        } else {
            DEFAULT_TRIALS
        };
        let plan = plan(&w.trial, default_trials, env)?;
        if threads.checked_mul(iterations).is_none() {
            return Err(Error::input(format!(
                "--threads {threads} x --iterations {iterations} overflows the 64-bit counter; \
                 lower one of them"
            )));
        }
        if w.window > MAX_WINDOW {
            return Err(Error::input(format!(
                "--window {} is above the limit of {MAX_WINDOW} units per increment",
                w.window
            )));
        }
        if w.jitter && w.window == 0 {
            return Err(Error::input(
                "--jitter needs --window N: it draws the busy work from 0..=N",
            ));
        }
        Ok(RunOptions {
            strategies,
            store,
            spec: CounterSpec {
                threads: threads as usize,
                iterations,
                window: WindowSpec {
                    spin: w.window as u32,
                    jitter: w.jitter,
                    yield_now: w.yield_now,
                },
            },
            plan,
            lengthen,
            expect: args.expect,
            race_budget: args.race_budget.unwrap_or(DEFAULT_RACE_BUDGET),
            explain: args.explain,
            output: OutputOptions::new(&args.output, env),
        })
    }
}

impl OutputOptions {
    pub fn new(args: &OutputArgs, env: &Environment) -> Self {
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                args.format == Format::Text
                    && !env.no_color
                    && !env.term_dumb
                    && env.stdout_is_terminal
            }
        };
        OutputOptions {
            format: args.format,
            color,
            progress: env.stderr_is_terminal && !args.quiet,
            width: env.columns.unwrap_or(DEFAULT_WIDTH),
        }
    }
}

/// A file the run will write at its end: refuse before running, not after, when it cannot be.
fn writable_file(flag: &str, path: &Path) -> Result<(), Error> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(Error::input(format!(
            "{flag} {}: is a folder; give a file name",
            path.display()
        )));
    }
    if !folder.is_dir() {
        return Err(Error::input(format!(
            "{flag} {}: the folder {} does not exist",
            path.display(),
            folder.display()
        )));
    }
    Ok(())
}

fn at_least_one(flag: &str, value: u64) -> Result<u64, Error> {
    if value == 0 {
        Err(Error::input(format!("{flag} must be at least 1")))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn terminal() -> Environment {
        Environment {
            stdout_is_terminal: true,
            stderr_is_terminal: true,
            logical_cpus: 2,
            ..Environment::default()
        }
    }

    fn parse(args: &str, env: &Environment) -> Result<RunOptions, Error> {
        let cli = Cli::try_parse_from(std::iter::once("racedemo").chain(args.split_whitespace()))
            .expect("clap accepts it");
        match Options::from_command(cli.command.expect("a command"), env)? {
            Options::Counter(options) => Ok(options),
            other => panic!("not a counter command: {other:?}"),
        }
    }

    fn error(args: &str) -> String {
        parse(args, &terminal()).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_four_threads_a_million_increments_twenty_trials() {
        let o = parse("unsafe", &terminal()).unwrap();
        assert_eq!(
            (o.spec.threads, o.spec.iterations, o.plan.trials),
            (4, 1_000_000, 20)
        );
        assert_eq!(o.spec.expected(), 4_000_000);
        assert!(o.spec.window.is_closed());
        assert!(o.plan.seed < 1 << 32);
        assert_eq!(o.strategies, [StrategyKind::Unsafe]);
    }

    #[test]
    fn compare_runs_all_three_by_default_in_order() {
        let o = parse("compare --threads 8", &terminal()).unwrap();
        assert_eq!(o.strategies, StrategyKind::ALL);
        assert_eq!(o.spec.threads, 8);
    }

    #[test]
    fn bad_values_name_their_flag() {
        assert_eq!(error("unsafe --threads 0"), "--threads must be at least 1");
        assert_eq!(
            error("locked --iterations 0"),
            "--iterations must be at least 1"
        );
        assert_eq!(error("atomic --trials 0"), "--trials must be at least 1");
        assert!(error("unsafe --threads 1025").starts_with("--threads 1025 is above the limit"));
        assert!(
            error("unsafe --threads 1024 --iterations 18446744073709551615").contains("overflows")
        );
        assert!(error("unsafe --window 1000001").starts_with("--window 1000001 is above"));
        assert!(error("unsafe --jitter").starts_with("--jitter needs --window"));
        assert_eq!(
            error("compare --strategies unsafe,locked,unsafe"),
            "--strategies lists 'unsafe' twice"
        );
    }

    #[test]
    fn colour_is_decided_by_flag_then_environment() {
        let on = |args: &str, env: &Environment| parse(args, env).unwrap().output.color;
        assert!(on("unsafe", &terminal()));
        assert!(!on("unsafe --format json", &terminal()));
        assert!(!on(
            "unsafe",
            &Environment {
                no_color: true,
                ..terminal()
            }
        ));
        assert!(!on(
            "unsafe",
            &Environment {
                term_dumb: true,
                ..terminal()
            }
        ));
        assert!(!on(
            "unsafe",
            &Environment {
                stdout_is_terminal: false,
                ..terminal()
            }
        ));
        assert!(on(
            "unsafe --color always",
            &Environment {
                no_color: true,
                ..terminal()
            }
        ));
        assert!(!on("unsafe --color never", &terminal()));
    }

    #[test]
    fn progress_shows_only_on_a_terminal_and_without_quiet() {
        let progress = |args: &str, env: &Environment| parse(args, env).unwrap().output.progress;
        assert!(progress("unsafe", &terminal()));
        assert!(!progress("unsafe --quiet", &terminal()));
        assert!(!progress(
            "unsafe",
            &Environment {
                stderr_is_terminal: false,
                ..terminal()
            }
        ));
    }
}
