//! The start gate: holds every worker of a trial until all of them have arrived, then lets
//! them go together, so that their loops overlap even when a trial lasts microseconds.

use crate::sync::{AtomicBool, AtomicUsize, Ordering, spin_loop, yield_now};

/// How the workers of a trial are started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartMode {
    /// Hold every thread at a start barrier and release them together.
    Barrier,
    /// Let each thread run as soon as it is spawned, as the Python article does.
    Naive,
}

/// Spins this many times before yielding even when every thread has a CPU: on a machine
/// that is busy with other work a thread we wait for may not be running at all.
const SPINS_BEFORE_YIELD: u32 = 1 << 14;

impl StartMode {
    /// As the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            StartMode::Barrier => "barrier",
            StartMode::Naive => "naive",
        }
    }

    /// What it means, in the reports' words.
    pub fn meaning(self) -> &'static str {
        match self {
            StartMode::Barrier => "threads released together",
            StartMode::Naive => "each thread runs as soon as spawned",
        }
    }
}

pub struct StartGate {
    mode: StartMode,
    parties: usize,
    arrived: AtomicUsize,
    /// Yield instead of spinning from the start: with more threads than CPUs a spinning
    /// thread would keep the one we are waiting for off its CPU.
    polite: bool,
    aborted: AtomicBool,
}

impl StartGate {
    pub fn new(mode: StartMode, parties: usize, cpus: usize) -> Self {
        StartGate {
            mode,
            parties,
            arrived: AtomicUsize::new(0),
            polite: parties > cpus,
            aborted: AtomicBool::new(false),
        }
    }

    /// Waits until every party has arrived. Returns false when the trial was abandoned before
    /// it started (a thread could not be spawned), and the caller must not run its loop.
    pub fn wait(&self) -> bool {
        if self.mode == StartMode::Naive {
            return true;
        }
        self.arrived.fetch_add(1, Ordering::AcqRel);
        let mut spins = 0u32;
        while self.arrived.load(Ordering::Acquire) < self.parties {
            if self.aborted.load(Ordering::Acquire) {
                return false;
            }
            if self.polite || spins >= SPINS_BEFORE_YIELD {
                yield_now();
            } else {
                spins += 1;
                spin_loop();
            }
        }
        true
    }

    /// Releases the threads already waiting without running the trial.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn gate_releases_all_parties_together() {
        let gate = StartGate::new(StartMode::Barrier, 4, 1);
        let released = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    assert!(gate.wait());
                    // Nobody gets past the gate before the last party has arrived.
                    assert_eq!(gate.arrived.load(Ordering::Acquire), 4);
                    released.fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        assert_eq!(released.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn aborted_gate_lets_waiting_threads_leave() {
        let gate = StartGate::new(StartMode::Barrier, 3, 8);
        thread::scope(|s| {
            let waiter = s.spawn(|| gate.wait());
            gate.abort();
            assert!(!waiter.join().unwrap());
        });
    }
}
