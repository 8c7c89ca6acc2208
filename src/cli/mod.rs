//! The command line, as clap parses it. Doc comments here are the `--help` text; checks that
//! need more than one flag, or a limit, live in `options`.

use clap::{Args, Parser, Subcommand, ValueEnum};

mod examples;
mod exec;
mod store;

use examples::*;
pub use exec::ExecArgs;
pub use store::{IsolationArgs, StoreArgs, WorkerArgs};

use crate::expect::Expect;
use crate::harness::StartMode;
use crate::strategy::{LockKind, StrategyKind};
use crate::sweep::Values;

/// Make race conditions visible: N threads increment one shared counter, with and without
/// synchronisation, over many trials; racedemo reports how often and how badly updates were
/// lost, and what the fix costs.
#[derive(Debug, Parser)]
#[command(
    name = "racedemo",
    version,
    override_usage = "racedemo <COMMAND> [OPTIONS]"
)]
#[command(after_help = EXAMPLES, after_long_help = format!("{EXAMPLES}\n\n{EXIT_STATUS}"))]
pub struct Cli {
    /// None: `racedemo` alone, which prints a short usage rather than the whole help.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `racedemo` with no arguments prints: enough to start, and where to read more.
pub const SHORT_USAGE: &str = "\
racedemo: make race conditions visible

Usage: racedemo <COMMAND> [OPTIONS]

Quick start:
  racedemo unsafe --threads 8     8 threads increment one counter; updates get lost
  racedemo locked --threads 8     the same under a Mutex: never loses one
  racedemo compare                every strategy side by side, with its cost

Try 'racedemo --help' for every command, or see the README's quick start.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Increment without synchronisation (load, add 1, store): updates get lost
    #[command(after_help = UNSAFE_EXAMPLES, after_long_help = format!("{UNSAFE_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Unsafe(RunArgs),
    /// Increment under a lock (a std::sync::Mutex unless --lock says otherwise): never loses
    /// an update
    #[command(after_help = LOCKED_EXAMPLES, after_long_help = format!("{LOCKED_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Locked(LockedArgs),
    /// Increment with one atomic fetch_add: never loses an update, takes no lock
    #[command(after_help = ATOMIC_EXAMPLES, after_long_help = format!("{ATOMIC_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Atomic(RunArgs),
    /// Increment by compare-and-swap, retried until it succeeds: never loses an update, counts
    /// the retries
    #[command(after_help = OPTIMISTIC_EXAMPLES, after_long_help = format!("{OPTIMISTIC_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Optimistic(RunArgs),
    /// Read, then write, inside one database transaction (needs a store): the stale write is
    /// refused (SQLITE_BUSY, 40001, 1020) or silently lost, by store and --isolation
    #[command(after_help = TRANSACTION_EXAMPLES, after_long_help = format!("{TRANSACTION_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Transaction(RunArgs),
    /// Run several strategies on the same workload and show them side by side
    #[command(after_help = COMPARE_EXAMPLES, after_long_help = format!("{COMPARE_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Compare(CompareArgs),
    /// Run the counter over a range of threads, iterations or window, and chart what changes
    ///
    /// One parameter takes a list of values; at each, every strategy runs, and the chart and
    /// table show how the differing rate, the share of increments lost and the cost per
    /// increment change.
    #[command(after_help = SWEEP_EXAMPLES, after_long_help = format!("{SWEEP_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Sweep(SweepArgs),
    /// Every isolation level of every --store side by side: the read-then-write transaction
    /// with and without retry, and Hermitage's lost-update schedule replayed at each
    ///
    /// For every store and level: how many increments were lost, how many transactions the
    /// server aborted, retries per success and increments per second; and a deterministic
    /// replay of T1 read, T2 read, T1 write, T2 write, T1 commit, T2 commit, with its verdict
    /// (lost, aborted with the server's error code, or deadlock).
    #[command(after_help = ISOLATION_EXAMPLES, after_long_help = format!("{ISOLATION_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Isolation(IsolationArgs),
    /// Join a run coordinated from elsewhere (its --run NAME --remote-workers K) as one of its
    /// workers, until the run ends
    #[command(after_help = WORKER_EXAMPLES, after_long_help = format!("{WORKER_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Worker(WorkerArgs),
    /// Other classic races, as scenario files: list, show, run, check
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Run your own program many times at once and show how often its result differs
    ///
    /// Each run gets stdin from /dev/null and RACEDEMO_RUN and RACEDEMO_SEED in its
    /// environment, in a process group of its own that is killed when the run ends (and past
    /// --timeout). A run's result is the last line it prints, unless --outcome says otherwise;
    /// a run that fails (exit status, signal, timeout) is its own result.
    #[command(after_help = EXEC_EXAMPLES, after_long_help = format!("{EXEC_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Exec(ExecArgs),
    /// Print a shell completion script to stdout
    #[command(after_help = COMPLETION_EXAMPLES)]
    Completions {
        /// The shell to complete for
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print racedemo's man page (roff) to stdout, or write a page per command into a folder
    #[command(after_help = MAN_EXAMPLES)]
    Man {
        /// Write racedemo.1 and one page per command (racedemo-unsafe.1, ...) into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
#[command(after_help = SCENARIO_EXAMPLES)]
pub enum ScenarioCommand {
    /// List the scenarios found by name (./scenarios, then $RACEDEMO_SCENARIOS, then built in)
    #[command(
        after_help = "Example:\n  racedemo scenario list                 name, summary and where each comes from"
    )]
    List,
    /// Print a scenario's explanation and its program
    #[command(
        after_help = "Examples:\n  racedemo scenario show tickets-racy    its explanation and its program\n  racedemo scenario show lost-wakeup-racy --as python > lost_wakeup.py   the same race in Python"
    )]
    Show {
        /// A scenario name, or a path to a .toml file or a herdtools7 .litmus file (C or X86)
        #[arg(value_name = "SCENARIO")]
        scenario: String,

        /// How to print it: its explanation and program (text), or a runnable Python
        /// `threading` program doing the same (python)
        #[arg(long = "as", value_name = "FORM", value_enum, default_value_t = ShowAs::Text)]
        form: ShowAs,
    },
    /// Run a scenario: each distinct outcome with its count, share and grade
    #[command(after_help = RUN_EXAMPLES, after_long_help = format!("{RUN_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Run {
        /// A scenario name, or a path to a .toml file or a herdtools7 .litmus file (C or X86)
        #[arg(value_name = "SCENARIO")]
        scenario: String,

        #[command(flatten)]
        args: ScenarioArgs,

        /// What the run must show, or exit with status 1 [default: the file's `expect`]
        #[arg(long, value_name = "WHAT", value_enum, help_heading = "Checks")]
        expect: Option<Expect>,

        /// After the trials, find one interleaving of the threads' steps that produces the
        /// most telling outcome observed, or show that none can (a weak-memory effect)
        #[arg(long, help_heading = "Output")]
        explain: bool,

        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run every scenario (or those in the given files and folders) and exit 1 if any does not
    /// show what its file expects: a forbidden outcome where it expects none, or no race where
    /// it expects one
    #[command(after_help = CHECK_EXAMPLES, after_long_help = format!("{CHECK_EXAMPLES}\n\n{EXIT_STATUS}"))]
    Check {
        /// Scenario files (.toml, .litmus), or folders of them [default: every scenario found by
        /// name]
        #[arg(value_name = "PATH")]
        paths: Vec<std::path::PathBuf>,

        #[command(flatten)]
        args: ScenarioArgs,

        #[command(flatten)]
        output: OutputArgs,

        /// Also write JUnit XML to FILE, one test case per scenario, for CI test reports
        #[arg(long, value_name = "FILE", help_heading = "Output")]
        junit: Option<std::path::PathBuf>,
    },
}

/// What `scenario show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowAs {
    /// The explanation and the program, as in the file
    Text,
    /// A Python 3 program with threading's Thread, Lock, Condition and Semaphore
    Python,
}

/// Overrides of a scenario file's defaults.
#[derive(Debug, Args)]
#[command(next_help_heading = "Workload")]
pub struct ScenarioArgs {
    /// Threads of each group that does not fix its own [default: the file's]
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub threads: Option<u64>,

    /// Repeats of each group's ops, for groups that do not fix their own [default: the
    /// file's, made up to 64 times longer for a scenario that expects a race when its threads
    /// did not run at the same time; a value given is kept as given]
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub iterations: Option<u64>,

    /// Let a condvar `wait` return now and then without a notify (one wait in four), as real
    /// condition variables may: code that waits in an `if` rather than a `while` breaks
    #[arg(long)]
    pub spurious_wakeups: bool,

    /// For a scenario that expects a race, when no planned trial showed one: keep running
    /// trials for up to this long until one does (10s, 500ms, 2m)
    #[arg(long, value_name = "TIME", value_parser = parse_duration, help_heading = "Checks")]
    pub race_budget: Option<std::time::Duration>,

    /// Also run the same program in Python (`scenario show --as python`) RUNS times, as
    /// `exec` runs a command, and set its outcomes beside racedemo's; `--python=50` for 50
    /// runs [default RUNS: 20]. Needs python3 on PATH
    #[arg(
        long,
        value_name = "RUNS",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "20",
        value_parser = parse_count,
        help_heading = "Python"
    )]
    pub python: Option<u64>,

    #[command(flatten)]
    pub trial: TrialArgs,
}

/// Flags of `sweep`: one workload parameter gets a list of values, the others one value.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Threads: one value, or the values to sweep: 1,2,4 or 1..64 (doubling) or 2..32:+2
    /// [default: 1..16 when no other parameter is swept, else 4]
    #[arg(short, long, value_name = "VALUES", value_parser = crate::sweep::values, help_heading = "Sweep")]
    pub threads: Option<Values>,

    /// Increments per thread: one value, or the values to sweep (10..1000000:x10)
    /// [default: 100000]
    #[arg(short, long, value_name = "VALUES", value_parser = crate::sweep::values, help_heading = "Sweep")]
    pub iterations: Option<Values>,

    /// Busy work between read and write: one value, or the values to sweep (0..100:+20)
    /// [default: 0]
    #[arg(short, long, value_name = "VALUES", value_parser = crate::sweep::values, help_heading = "Sweep")]
    pub window: Option<Values>,

    /// Worker processes: one value, or the values to sweep (1,2,4,8); on a store (without
    /// --store, the embedded SQLite)
    #[arg(short, long, value_name = "VALUES", value_parser = crate::sweep::values, help_heading = "Sweep")]
    pub processes: Option<Values>,

    /// Strategies to run at every point, separated by commas [default: every strategy the
    /// store can run]
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Sweep"
    )]
    pub strategies: Option<Vec<StrategyKind>>,

    /// Where the counter lives: memory, file[:PATH], sqlite[:PATH]
    #[arg(long, value_name = "STORE", help_heading = "Store")]
    pub store: Option<String>,

    /// Retry an increment the store refused (SQLITE_BUSY) up to N times
    #[arg(long, value_name = "N", value_parser = parse_count, help_heading = "Store")]
    pub retry: Option<u64>,

    /// Also draw the chart into FILE as SVG, for slides
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub svg: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub trial: TrialArgs,

    /// Draw the busy work per increment at random from 0..=N (N from --window)
    #[arg(long, help_heading = "Workload")]
    pub jitter: bool,

    /// Yield the CPU between each read and write: updates are lost even on one CPU
    #[arg(long = "yield", help_heading = "Workload")]
    pub yield_now: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Flags of `unsafe`, `locked` and `atomic`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,

    /// What the run must show, or exit with status 1 [default: any for unsafe, correct for the
    /// others]
    #[arg(long, value_name = "WHAT", value_enum, help_heading = "Checks")]
    pub expect: Option<Expect>,

    /// With --expect race, when no planned trial raced: keep running trials for up to this
    /// long until one does (10s, 500ms, 2m)
    #[arg(long, value_name = "TIME", value_parser = parse_duration, help_heading = "Checks")]
    pub race_budget: Option<std::time::Duration>,

    /// After the trials, record one more (the first 100,000 increments) and tell one lost
    /// update in it step by step: which thread read which value, and what it wrote (on a
    /// store, from the first increments of every trial)
    #[arg(long, help_heading = "Output")]
    pub explain: bool,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct LockedArgs {
    /// The lock taken around each read and write: mutex (std::sync::Mutex), rwlock
    /// (std::sync::RwLock, for writing), semaphore (one permit, from a Mutex and a Condvar)
    /// or spin (one atomic flag); all but mutex run in memory only
    #[arg(long, value_name = "LOCK", value_enum, default_value_t = LockKind::Mutex, help_heading = "Workload")]
    pub lock: LockKind,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Strategies to run, in order, separated by commas: unsafe, locked (also locked:mutex),
    /// locked:rwlock, locked:semaphore, locked:spin, atomic, optimistic, transaction
    /// [default: every strategy the store can run: unsafe,locked,atomic,optimistic in memory]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub strategies: Option<Vec<StrategyKind>>,

    #[command(flatten)]
    pub run: RunArgs,
}

/// The workload: how many threads, how much work, how many trials, how they race.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Workload")]
pub struct WorkloadArgs {
    /// Threads incrementing the counter at once (1 to 1024) [default: 4]
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub threads: Option<u64>,

    /// Increments each thread performs per trial [default: 1,000,000, made up to 64 times
    /// longer (4 beside locked or atomic) when the threads did not run at the same time; on a
    /// store, 1,000 (file 20,000); a value given is kept as given]
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub iterations: Option<u64>,

    #[command(flatten)]
    pub trial: TrialArgs,

    /// Units of busy work between each read and write, widening the race window
    #[arg(short, long, value_name = "N", default_value = "0", value_parser = parse_count, allow_negative_numbers = true)]
    pub window: u64,

    /// Draw the busy work per increment at random from 0..=N (N from --window)
    #[arg(long)]
    pub jitter: bool,

    /// Yield the CPU between each read and write: updates are lost even on one CPU
    #[arg(long = "yield")]
    pub yield_now: bool,
}

/// How many trials, for how long, how threads start, and the seed: the same for every command
/// that runs trials.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Workload")]
pub struct TrialArgs {
    /// Trials to run, each on fresh shared state [default: 20; a scenario file's own; 10 per
    /// point and strategy in a sweep; with --duration, as many as fit]
    #[arg(short = 'n', long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub trials: Option<u64>,

    /// Run trials until this much time has passed (10s, 500ms, 2m) instead of a fixed number
    #[arg(short, long, value_name = "TIME", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,

    /// How threads start: together at a barrier, or one by one as spawned (as the article does)
    #[arg(long, value_name = "MODE", value_enum, default_value_t = StartMode::Barrier)]
    pub start: StartMode,

    /// Seed for random busy work (--jitter, `jitter` ops) [default: random; the report always
    /// prints it]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub seed: Option<u64>,
}

/// How results are shown.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format for the results on stdout
    #[arg(short, long, value_name = "FORMAT", value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// When to colour the text output (auto honours NO_COLOR, TERM=dumb and a non-terminal stdout)
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// No progress bar on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables and a summary for people
    Text,
    /// One JSON document for scripts (schema in the README)
    Json,
    /// GitHub-flavoured Markdown tables, for CI job summaries
    Markdown,
    /// Comma-separated values with a header row, for spreadsheets
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// A whole number, with `_` allowed between digits (`1_000_000`). Zero passes here; whether it
/// makes sense is the options' business.
fn parse_count(text: &str) -> Result<u64, String> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    if digits.starts_with('-') {
        return Err("must not be negative".into());
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a whole number, like 1000 or 1_000_000".into());
    }
    digits
        .parse()
        .map_err(|_| format!("too large (the limit is {})", u64::MAX))
}

/// A span of time such as `10s`, `500ms` or `1m 30s`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (write a time like 10s, 500ms or 2m)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_shows_examples_in_its_help() {
        fn walk(cmd: &clap::Command, path: &str) {
            let help = cmd
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(help.contains("Example"), "{path} --help has no examples");
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&Cli::command(), "racedemo");
    }

    #[test]
    fn counts_accept_underscores_and_reject_the_rest() {
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("0"), Ok(0));
        assert!(parse_count("-5").unwrap_err().contains("negative"));
        assert!(parse_count("abc").unwrap_err().contains("whole number"));
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("").is_err());
        assert!(
            parse_count("99999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
    }
}
