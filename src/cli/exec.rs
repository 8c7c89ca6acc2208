//! The flags of `exec`: a user's own command, run many times at once.

use clap::Args;

use super::{OutputArgs, parse_count, parse_duration};
use crate::expect::Expect;

/// Which command, how many runs, and what a run's result is.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// A command for `sh -c`; give it again to run several side by side (say, the racy and
    /// the locked version of a program) in one report
    #[arg(
        short = 'c',
        long = "command",
        value_name = "STRING",
        conflicts_with = "argv"
    )]
    pub commands: Vec<String>,

    /// Runs of each command [default: 100]
    #[arg(short = 'n', long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Runs")]
    pub runs: Option<u64>,

    /// Runs at once [default: the logical CPUs; 1 runs one at a time]
    #[arg(short, long, value_name = "P", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Runs")]
    pub parallel: Option<u64>,

    /// Run for this long instead of a count: as many runs as fit [exclusive with --runs]
    #[arg(long, value_name = "TIME", value_parser = parse_duration, conflicts_with = "runs", help_heading = "Runs")]
    pub duration: Option<std::time::Duration>,

    /// With --expect race: when no run differed, keep running for up to this long until one
    /// does [default: 10s]
    #[arg(long, value_name = "TIME", value_parser = parse_duration, help_heading = "Results")]
    pub race_budget: Option<std::time::Duration>,

    /// Also write JUnit XML to FILE, one test case per command, for CI test reports
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub junit: Option<std::path::PathBuf>,

    /// How long a run may take; past it, its whole process group is killed and its outcome is
    /// `timeout` [default: 60s]
    #[arg(long, value_name = "TIME", value_parser = parse_duration, help_heading = "Runs")]
    pub timeout: Option<std::time::Duration>,

    /// Seed handed to each run as RACEDEMO_SEED (with RACEDEMO_RUN, its index)
    /// [default: random; the report prints it]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Runs")]
    pub seed: Option<u64>,

    /// What a run's result is: `last-line` (the last line of stdout with something on it),
    /// `exit` (the exit status), or a regex whose last match's groups are the result, joined
    /// with ", " [default: last-line]
    #[arg(long, value_name = "HOW", help_heading = "Results")]
    pub outcome: Option<String>,

    /// A correct result; give it again for more. The report then says how often a run
    /// differed from them, with a 95% confidence interval
    #[arg(long, value_name = "VALUE", help_heading = "Results")]
    pub correct: Vec<String>,

    /// Exit 1 unless: correct (no run differed), race (at least one did) or any
    /// [default: correct with --correct, else any]
    #[arg(long, value_name = "WHAT", value_enum, help_heading = "Results")]
    pub expect: Option<Expect>,

    /// Pin each run to N CPUs (the first N), the affinity set before it starts: `--cpus 1`
    /// runs it as in a one-CPU container
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Making a hidden race show")]
    pub cpus: Option<u64>,

    /// Keep N busy neighbour threads running while the runs go on, like a noisy CI runner
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Making a hidden race show")]
    pub load: Option<u64>,

    /// For Python programs: make the GIL switch threads every SECONDS (say 1e-6), through a
    /// sitecustomize.py put first on PYTHONPATH; the program is not edited
    #[arg(
        long,
        value_name = "SECONDS",
        help_heading = "Making a hidden race show"
    )]
    pub switch_interval: Option<f64>,

    /// Run every command under each of several settings, side by side: cpus=1,2, load=0,2 or
    /// switch-interval=0.005,1e-6
    #[arg(
        long,
        value_name = "KEY=LIST",
        help_heading = "Making a hidden race show"
    )]
    pub vary: Option<String>,

    /// Write every run that differed or failed to DIR: cmd-C-run-N.stdout, .stderr and
    /// .status, for command C and run N (the folder must exist)
    #[arg(long, value_name = "DIR", help_heading = "Results")]
    pub keep: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// The program and its arguments, after `--`, run as they are (no shell)
    #[arg(last = true, value_name = "CMD")]
    pub argv: Vec<String>,
}
