//! racedemo: make race conditions visible. See the README for what it shows and why.
#![forbid(unsafe_code)]

// Under `--cfg loom` only what a loom model can run is built: the strategies, the race window,
// the start gate and the sync shim they use. Under `--cfg shuttle`, also the scenario engine
// and the harness's workload types, but not the program around them. Miri builds what shuttle
// does, with std's sync types: its tests are the strategies', and so none of the store drivers
// (SQLite's C, tokio, the MySQL and Redis clients) is built for it.
#[cfg(not(any(loom, shuttle, miri)))]
pub mod cli;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod command;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod counter;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod crew;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod diagnosis;
#[cfg(not(loom))]
pub mod error;
#[cfg(not(loom))]
pub mod expect;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod explain;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod exposure;
#[cfg(not(loom))]
pub mod format;
#[cfg(loom)]
#[path = "harness/gate.rs"]
pub mod gate;
#[cfg(not(loom))]
pub mod harness;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod histogram;
pub mod locks;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod options;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod progress;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod report;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod run;
#[cfg(not(loom))]
pub mod scenario;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod signals;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod stats;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod store;
pub mod strategy;
#[cfg(not(any(loom, shuttle, miri)))]
pub mod sweep;
pub mod sync;
pub mod window;

#[cfg(not(any(loom, shuttle, miri)))]
pub use app::run;

#[cfg(not(any(loom, shuttle, miri)))]
mod app;
