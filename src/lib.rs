//! racedemo: make race conditions visible. See the README for what it shows and why.
#![forbid(unsafe_code)]

// Under `--cfg loom` only what a loom model can run is built: the strategies, the race window,
// the start gate and the sync shim they use. Under `--cfg shuttle`, also the scenario engine
// and the harness's workload types, but not the program around them.
#[cfg(not(any(loom, shuttle)))]
pub mod cli;
#[cfg(not(any(loom, shuttle)))]
pub mod counter;
#[cfg(not(any(loom, shuttle)))]
pub mod crew;
#[cfg(not(any(loom, shuttle)))]
pub mod diagnosis;
#[cfg(not(loom))]
pub mod error;
#[cfg(not(loom))]
pub mod expect;
#[cfg(not(any(loom, shuttle)))]
pub mod explain;
#[cfg(not(any(loom, shuttle)))]
pub mod exposure;
#[cfg(not(loom))]
pub mod format;
#[cfg(loom)]
#[path = "harness/gate.rs"]
pub mod gate;
#[cfg(not(loom))]
pub mod harness;
#[cfg(not(any(loom, shuttle)))]
pub mod histogram;
#[cfg(not(any(loom, shuttle)))]
pub mod options;
#[cfg(not(any(loom, shuttle)))]
pub mod progress;
#[cfg(not(any(loom, shuttle)))]
pub mod report;
#[cfg(not(any(loom, shuttle)))]
pub mod run;
#[cfg(not(loom))]
pub mod scenario;
#[cfg(not(any(loom, shuttle)))]
pub mod signals;
#[cfg(not(any(loom, shuttle)))]
pub mod stats;
#[cfg(not(any(loom, shuttle)))]
pub mod store;
pub mod strategy;
#[cfg(not(any(loom, shuttle)))]
pub mod sweep;
pub mod sync;
pub mod window;

#[cfg(not(any(loom, shuttle)))]
pub use app::run;

#[cfg(not(any(loom, shuttle)))]
mod app;
