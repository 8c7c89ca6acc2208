//! Workers that are threads of this process, each with a connection of its own that lives
//! across trials, released together by a barrier.

use std::sync::Barrier;
use std::thread;

use super::{Crew, CrewKind, Order, Part, Stop, work};
use crate::store::{Address, Connection};

pub struct Threads {
    connections: Vec<Box<dyn Connection>>,
}

impl Threads {
    /// `count` threads' connections to `address`, opened now so a bad store fails before any
    /// trial.
    pub fn new(address: &Address, count: usize) -> Result<Self, String> {
        let connections = (0..count)
            .map(|_| address.connect())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Threads { connections })
    }
}

impl Crew for Threads {
    fn kind(&self) -> CrewKind {
        CrewKind::Threads
    }

    fn trial(&mut self, order: &Order) -> Result<Vec<Part>, Stop> {
        let barrier = Barrier::new(self.connections.len());
        let results: Vec<Result<Part, String>> = thread::scope(|scope| {
            let handles: Vec<_> = self
                .connections
                .iter_mut()
                .enumerate()
                .map(|(index, conn)| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        barrier.wait();
                        // Threads share this process's fate: nobody to tell how far they got.
                        let done = std::sync::atomic::AtomicU64::new(0);
                        work(conn.as_mut(), order, index, &done)
                            .map_err(|e| format!("thread {}: {e}", index + 1))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        if crate::harness::interrupted() {
            return Err(Stop::Interrupted);
        }
        results
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(Stop::Fault)
    }
}
