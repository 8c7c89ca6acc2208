//! The store flags, checked once: where the counter lives, who races for it, and whether every
//! strategy asked for can run there.

use std::time::Duration;

use crate::cli::StoreArgs;
use crate::crew::CrewKind;
use crate::error::Error;
use crate::harness::{MAX_THREADS, StartMode};
use crate::store::{Isolation, StoreKind, StoreSpec};
use crate::strategy::{StrategyKind, Support};

/// A validated shared store and its workers (absent: the counter in this process's memory).
#[derive(Debug, Clone, PartialEq)]
pub struct StoreOptions {
    pub spec: StoreSpec,
    /// Why this store, when racedemo chose it.
    pub chosen: Option<&'static str>,
    pub crew: CrewKind,
    pub workers: usize,
    /// Failed attempts retried per increment.
    pub retry: u64,
    pub worker_timeout: Duration,
    /// What `transaction` begins with; `None`: the server's default.
    pub isolation: Option<Isolation>,
    /// The name remote workers join (`--run`), with a crew of remote workers.
    pub run: Option<String>,
}

/// `--store TEXT`, or the one-line reason it is not a store.
pub fn parse(text: &str) -> Result<StoreSpec, Error> {
    StoreSpec::parse(text).map_err(|e| Error::input(format!("--store: {e}")))
}

/// Increments per worker on SQLite when --iterations is not given: at a few thousand
/// statements a second, a trial of about a second at 4 processes, losing updates every time.
pub const SQLITE_ITERATIONS: u64 = 1_000;
/// Increments per worker on a file: a pread and a pwrite take microseconds, and at 2,000 the
/// processes often run one after another.
pub const FILE_ITERATIONS: u64 = 20_000;
/// Trials on a store when neither --trials nor --duration is given.
pub const STORE_TRIALS: u64 = 10;
/// How long a worker process may be silent before it counts as hung.
pub const WORKER_TIMEOUT: Duration = Duration::from_secs(30);

impl StoreOptions {
    /// The store and workers asked for, or `None` for memory; `threads` is `--threads` as
    /// given.
    pub fn new(
        args: &StoreArgs,
        threads: Option<u64>,
        strategies: &[StrategyKind],
        start: StartMode,
    ) -> Result<Option<Self>, Error> {
        let store = args.store.as_deref().map(parse).transpose()?;
        let (spec, chosen) = match (&store, args.processes) {
            (Some(StoreSpec::Memory), Some(_)) => {
                return Err(Error::input(
                    "--processes with --store memory: memory is not shared between processes; \
                     use --store sqlite or --store file",
                ));
            }
            (Some(spec), _) => (spec.clone(), None),
            (None, Some(_)) => (
                StoreSpec::Sqlite(None),
                Some("--processes needs a store they share; SQLite needs no server"),
            ),
            (None, None) => (StoreSpec::Memory, None),
        };
        let kind = spec.kind();
        for &s in strategies {
            if let Support::Refused(why) = kind.support(s) {
                let on = if kind == StoreKind::Memory {
                    String::new()
                } else {
                    format!(" on --store {}", kind.name())
                };
                return Err(Error::input(format!("{} cannot run{on}: {why}", s.name())));
            }
        }
        if let Some(level) = args.isolation {
            if let Err(why) = level.offered_by(kind) {
                return Err(Error::input(format!("--isolation {level}: {why}")));
            }
            if !strategies.contains(&StrategyKind::Transaction) {
                return Err(Error::input(format!(
                    "--isolation {level} is for the transaction strategy, which this run does not                      include"
                )));
            }
        }
        if kind == StoreKind::Memory {
            if args.retry.is_some() {
                return Err(Error::input(
                    "--retry needs a store: in memory no attempt fails (try --store sqlite)",
                ));
            }
            if args.worker_timeout.is_some() {
                return Err(Error::input("--worker-timeout needs --processes"));
            }
            return Ok(None);
        }
        if start == StartMode::Naive {
            return Err(Error::input(
                "--start naive is for threads in memory: store workers are always released \
                 together",
            ));
        }
        match (&args.run, args.remote_workers) {
            (Some(_), None) => {
                return Err(Error::input(
                    "--run NAME needs --remote-workers K: how many workers join it",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::input(
                    "--remote-workers needs --run NAME: the name its workers join",
                ));
            }
            (Some(name), Some(_)) => {
                crate::crew::remote::check_name(name)
                    .map_err(|e| Error::input(format!("--run: {e}")))?;
                if !kind.is_server() {
                    return Err(Error::input(format!(
                        "--remote-workers needs a server every machine reaches (postgres://, \
                         mysql:// or redis://): {} is local to this machine (--processes races \
                         processes here)",
                        kind.title()
                    )));
                }
            }
            (None, None) => {}
        }
        let (crew, workers) = match (args.processes, threads, args.remote_workers) {
            (Some(_), Some(_), _) => {
                return Err(Error::input(
                    "--threads and --processes both given: a run races threads or processes",
                ));
            }
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                return Err(Error::input(
                    "--remote-workers with --threads or --processes: a run races one kind of \
                     worker",
                ));
            }
            (None, None, Some(k)) => (CrewKind::Remote, k),
            (Some(p), None, None) => (CrewKind::Processes, p),
            (None, t, None) => (CrewKind::Threads, t.unwrap_or(4)),
        };
        let flag = match crew {
            CrewKind::Processes => "--processes",
            CrewKind::Threads => "--threads",
            CrewKind::Remote => "--remote-workers",
        };
        if workers == 0 {
            return Err(Error::input(format!("{flag} must be at least 1")));
        }
        if workers > MAX_THREADS {
            return Err(Error::input(format!(
                "{flag} {workers} is above the limit of {MAX_THREADS} workers: each holds its \
                 own connection, and beyond that a run measures the store's limits, not the race"
            )));
        }
        if args.worker_timeout.is_some() && crew == CrewKind::Threads && !kind.is_server() {
            return Err(Error::input(
                "--worker-timeout needs --processes, or a server in --store (where it is how long \
                 a call may go unanswered)",
            ));
        }
        if args.worker_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::input("--worker-timeout must be longer than 0s"));
        }
        Ok(Some(StoreOptions {
            spec,
            chosen,
            crew,
            workers: workers as usize,
            retry: args.retry.unwrap_or(0),
            worker_timeout: args.worker_timeout.unwrap_or(WORKER_TIMEOUT),
            isolation: args.isolation,
            run: args.run.clone(),
        }))
    }

    /// Whether `kind` can lose updates on this store at this run's isolation level.
    pub fn races(&self, kind: StrategyKind) -> bool {
        self.spec.kind().races(kind, self.isolation)
    }

    /// Increments per worker when --iterations is not given.
    pub fn default_iterations(&self) -> u64 {
        match self.spec.kind() {
            StoreKind::File => FILE_ITERATIONS,
            _ => SQLITE_ITERATIONS,
        }
    }
}
