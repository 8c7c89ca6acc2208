//! Who races against a store: threads of this process, each with its own connection, or OS
//! processes (racedemo run again as a hidden worker), each with its own. A run is generic over
//! [`Crew`]: it hands every worker the same [`Order`] and gets back each one's [`Part`].
//!
//! The loop one worker runs ([`work`]) is the same for both kinds, so a thread and a process
//! do exactly the same increments; only how they are started and heard from differs.

pub mod joined;
mod processes;
pub mod protocol;
pub mod remote;
mod threads;
pub mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use processes::Processes;
pub use remote::Remote;
pub use threads::Threads;

pub use crate::harness::Stop;

use crate::explain::Increment;
use crate::store::{self, Connection, Counts};
use crate::strategy::StrategyKind;
use crate::window::WindowSpec;

/// Threads or processes, as reports name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CrewKind {
    Threads,
    Processes,
    /// `racedemo worker` processes, on this machine or others, joined through the store.
    Remote,
}

impl CrewKind {
    /// One of them, as the explanations say it ("process 2 read 41").
    pub fn one(self) -> &'static str {
        match self {
            CrewKind::Threads => "thread",
            CrewKind::Processes => "process",
            CrewKind::Remote => "remote worker",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CrewKind::Threads => "threads",
            CrewKind::Processes => "processes",
            CrewKind::Remote => "remote workers",
        }
    }
}

/// What every worker does in one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub strategy: StrategyKind,
    pub iterations: u64,
    /// Failed attempts retried per increment (`--retry`).
    pub retry: u64,
    pub window: WindowSpec,
    pub seed: u64,
    /// The trial's index in the run, for the workers' seeds.
    pub trial: u64,
    /// Increments each worker records for `--explain` (its first ones).
    pub record: u64,
}

impl Order {
    /// `iterations` increments with `strategy` and nothing else: no retry, no race window,
    /// nothing recorded (what a benchmark times).
    pub fn plain(strategy: StrategyKind, iterations: u64) -> Order {
        Order {
            strategy,
            iterations,
            retry: 0,
            window: WindowSpec::default(),
            seed: 1,
            trial: 0,
            record: 0,
        }
    }
}

/// What one worker did in one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// When its loop started and ended, in ns since the Unix epoch: one clock for every
    /// process on the machine, so spans of different processes compare.
    pub start_ns: u64,
    pub end_ns: u64,
    pub counts: Counts,
    /// Its first acknowledged increments: (value read, ns before, ns after), epoch ns.
    pub recorded: Vec<(u64, u64, u64)>,
}

impl Part {
    /// The recorded increments in the form the lost-update finder reads.
    pub fn increments(&self) -> Vec<Increment> {
        self.recorded
            .iter()
            .map(|&(read, before_ns, after_ns)| Increment {
                read,
                before_ns,
                after_ns,
            })
            .collect()
    }
}

/// A set of workers that run trials together.
pub trait Crew {
    fn kind(&self) -> CrewKind;
    /// Runs one trial on every worker, released together; one part per worker, in order.
    fn trial(&mut self, order: &Order) -> Result<Vec<Part>, Stop>;
    /// Ends the crew once the run is over, `fault` saying why when one stopped it: `Some`,
    /// what it could not remove from the store (a note with the command that removes it).
    fn close(&mut self, fault: Option<&str>) -> Option<String> {
        let _ = fault;
        None
    }
}

/// Starts `count` workers of `kind` on `address`: threads, local processes, or remote workers
/// joining run `run` through the store (each named, as "host (pid N)", beside the crew).
/// `timeout`: how long a worker may be silent, and how long remote workers have to join.
pub fn start(
    kind: CrewKind,
    address: &store::Address,
    count: usize,
    timeout: std::time::Duration,
    run: Option<&str>,
) -> Result<(Box<dyn Crew>, Vec<String>), String> {
    Ok(match kind {
        CrewKind::Threads => (Box::new(Threads::new(address, count)?), Vec::new()),
        CrewKind::Processes => (
            Box::new(Processes::start(address, count, timeout)?),
            Vec::new(),
        ),
        CrewKind::Remote => {
            let board = store::board::open(address.kind, &address.location, address.deadline())?;
            let record = remote::RunRecord {
                kind: address.kind,
                slot: address.slot,
                isolation: address.isolation,
                workers: count,
                by: remote::Member::me().label(),
                deadline_ms: address.deadline_ms,
            };
            let name = run.ok_or("remote workers need a run name")?;
            let crew = Remote::start(board, &address.location, name, record, timeout)?;
            let members = crew.members();
            (Box::new(crew), members)
        }
    })
}

/// Now, in ns since the Unix epoch.
pub fn epoch_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One worker's part of a trial: `order.iterations` increments on `conn`, each counted in
/// `done` as it ends, so that a coordinator can tell a slow worker from a stuck one.
pub fn work(
    conn: &mut dyn Connection,
    order: &Order,
    index: usize,
    done: &AtomicU64,
) -> Result<Part, String> {
    let mut window = order
        .window
        .open(crate::harness::thread_seed(order.seed, order.trial, index));
    let closed = order.window.is_closed();
    let mut between = || {
        if !closed {
            crate::window::Window::between(&mut window);
        }
    };
    let mut counts = Counts::default();
    let mut recorded = Vec::with_capacity(order.record.min(order.iterations) as usize);
    let start_ns = epoch_ns();
    for i in 0..order.iterations {
        // A signal in this process (threads share racedemo's; worker processes get none):
        // leave the trial, which will not be counted, rather than finish it.
        if i % 64 == 0 && crate::harness::interrupted() {
            return Err(INTERRUPTED.into());
        }
        let before = ((recorded.len() as u64) < order.record).then(epoch_ns);
        let read = store::increment(conn, order.strategy, order.retry, &mut between, &mut counts)?;
        if let (Some(read), Some(before)) = (read, before) {
            recorded.push((read, before, epoch_ns()));
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
    Ok(Part {
        start_ns,
        end_ns: epoch_ns(),
        counts,
        recorded,
    })
}

/// What [`work`] says when it left a trial because the run was interrupted.
pub const INTERRUPTED: &str = "interrupted";

/// How often a worker process says it is alive, and how far it got.
pub const BEAT: std::time::Duration = std::time::Duration::from_millis(100);
