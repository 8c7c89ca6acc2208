//! racedemo: make race conditions visible. See the README for what it shows and why.
#![forbid(unsafe_code)]

// Under `--cfg loom` only what a loom model can run is built: the strategies, the race window,
// the start gate and the sync shim they use.
#[cfg(not(loom))]
pub mod cli;
#[cfg(not(loom))]
pub mod counter;
#[cfg(not(loom))]
pub mod diagnosis;
#[cfg(not(loom))]
pub mod error;
#[cfg(not(loom))]
pub mod expect;
#[cfg(loom)]
#[path = "harness/gate.rs"]
pub mod gate;
#[cfg(not(loom))]
pub mod harness;
#[cfg(not(loom))]
pub mod options;
#[cfg(not(loom))]
pub mod progress;
#[cfg(not(loom))]
pub mod report;
#[cfg(not(loom))]
pub mod run;
#[cfg(not(loom))]
pub mod scenario;
#[cfg(not(loom))]
pub mod stats;
pub mod strategy;
pub mod sync;
pub mod window;

#[cfg(not(loom))]
pub use app::run;

#[cfg(not(loom))]
mod app;
