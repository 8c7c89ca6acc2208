//! The flags of the commands on shared stores: where the counter lives and who races for it,
//! `isolation`'s matrix and `worker`'s run to join.

use clap::Args;

use super::{OutputArgs, parse_count, parse_duration};

/// Where the counter lives and who races for it.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Store")]
pub struct StoreArgs {
    /// Where the counter lives: memory, file[:PATH] (decimal text in a file), sqlite[:PATH]
    /// (a row of racedemo's own table; without PATH, a fresh one in a temporary folder,
    /// removed afterwards), postgres://USER@HOST/DB, mysql://USER@HOST/DB (MariaDB too) or
    /// redis://HOST/ [default: memory; sqlite with --processes]
    // Parsed in options, not by clap: clap's error would echo a password in a URL.
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,

    /// Race N OS processes (racedemo runs itself as workers), each with its own connection,
    /// instead of threads
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub processes: Option<u64>,

    /// Retry an increment whose attempt the store refused (SQLITE_BUSY, a serialization
    /// failure, a deadlock) up to N times, after a
    /// random pause that doubles each time; every failure is counted either way, and one not
    /// retried is not an acknowledged increment
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub retry: Option<u64>,

    /// The isolation level of `transaction`'s BEGIN: read-committed, repeatable-read,
    /// serializable, or repeatable-read+snapshot (MariaDB's innodb_snapshot_isolation)
    /// [default: the server's own]
    #[arg(long, value_name = "LEVEL", value_parser = crate::store::Isolation::parse)]
    pub isolation: Option<crate::store::Isolation>,

    /// Name this run, so that `racedemo worker --store URL --run NAME` processes on other
    /// machines can join it (with --remote-workers)
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,

    /// Race K `racedemo worker` processes that join through the store (started anywhere that
    /// reaches it, before or after this command), instead of threads or local processes
    #[arg(long, value_name = "K", value_parser = parse_count, allow_negative_numbers = true)]
    pub remote_workers: Option<u64>,

    /// How long a worker may go silent before its trial is ended as hung, how long a server
    /// may leave a call unanswered (a network partition ends the run with exit 3, not a
    /// hang), and how long a run waits for its remote workers to join [default: 30s]
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub worker_timeout: Option<std::time::Duration>,
}

/// Flags of `worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The server the run counts on, as this machine reaches it: postgres://…, mysql://… or
    /// redis://…
    // Parsed in options, not by clap: clap's error would echo a password in a URL.
    #[arg(long, value_name = "URL", required = true)]
    pub store: String,

    /// The run to join: the name its coordinator was given with --run
    #[arg(long, value_name = "NAME", required = true)]
    pub run: String,

    /// How long to wait for the run to appear on the store (10s, 2m) [default: 60s]
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,
}

/// Flags of `isolation`.
#[derive(Debug, Args)]
pub struct IsolationArgs {
    /// A SQL server to test: postgres://USER@HOST/DB or mysql://USER@HOST/DB; give it once
    /// per server
    // Parsed in options, not by clap: clap's error would echo a password in a URL.
    #[arg(
        long = "store",
        value_name = "URL",
        required = true,
        help_heading = "Store"
    )]
    pub stores: Vec<String>,

    /// Levels to try, separated by commas [default: every level each server offers]
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = crate::store::Isolation::parse, help_heading = "Store")]
    pub levels: Option<Vec<crate::store::Isolation>>,

    /// Retries per increment in each level's second run (the first has none) [default: 20]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Store")]
    pub retry: Option<u64>,

    /// Race N OS processes instead of threads, each with its own connection
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Store")]
    pub processes: Option<u64>,

    /// How long a server may leave a call unanswered, and a worker process go silent, before
    /// the run ends with exit 3 [default: 30s]
    #[arg(long, value_name = "TIME", value_parser = parse_duration, help_heading = "Store")]
    pub worker_timeout: Option<std::time::Duration>,

    /// Workers (threads) per run [default: 4]
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Workload")]
    pub threads: Option<u64>,

    /// Increments each worker makes per trial [default: 250]
    #[arg(short, long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Workload")]
    pub iterations: Option<u64>,

    /// Trials per level and retry setting [default: 3]
    #[arg(short = 'n', long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Workload")]
    pub trials: Option<u64>,

    /// Seed for the workers' random pauses [default: random; the report prints it]
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true, help_heading = "Workload")]
    pub seed: Option<u64>,

    #[command(flatten)]
    pub output: OutputArgs,
}
