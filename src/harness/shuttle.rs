//! Trials on shuttle's threads, for model checking the scenario engine (`tests/shuttle.rs`):
//! the same [`Workload`] and the same trial loop as native runs, with shuttle choosing every
//! interleaving. No start gate and no pinning: shuttle decides who runs when.

use std::sync::Arc;
use std::time::Instant;

use super::span::{overlap, spans_from};
use super::{Plan, Stop, ThreadCtx, Trial, Trials, Workload, thread_seed};

/// `W`'s trials, each on fresh state, its threads spawned by shuttle.
pub struct ShuttleThreads<W> {
    workload: Arc<W>,
    seed: u64,
}

impl<W> ShuttleThreads<W> {
    pub fn new(workload: Arc<W>, plan: &Plan) -> Self {
        ShuttleThreads {
            workload,
            seed: plan.seed,
        }
    }
}

impl<W> Trials for ShuttleThreads<W>
where
    W: Workload + Send + 'static,
    W::State: 'static,
{
    type Outcome = W::Outcome;

    fn trial(&mut self, index: u64) -> Result<Trial<W::Outcome>, Stop> {
        let state = Arc::new(self.workload.fresh());
        let handles: Vec<_> = (0..self.workload.threads())
            .map(|thread| {
                let (workload, state) = (self.workload.clone(), state.clone());
                let ctx = ThreadCtx {
                    index: thread,
                    seed: thread_seed(self.seed, index, thread),
                };
                shuttle::thread::spawn(move || {
                    let start = Instant::now();
                    workload.run_thread(&state, ctx);
                    (start, Instant::now())
                })
            })
            .collect();
        let times: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Stop::Fault("a thread panicked".into()))
            })
            .collect::<Result<_, _>>()?;
        let state = Arc::try_unwrap(state)
            .ok()
            .expect("every thread has joined");
        let spans = spans_from(&times);
        Ok(Trial {
            outcome: self.workload.outcome(state),
            elapsed_ns: spans.iter().map(|s| s.end_ns).max().unwrap_or(0),
            overlap: overlap(&spans),
        })
    }
}
