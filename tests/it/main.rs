//! racedemo's integration tests, one binary: a module per area (as ripgrep's `tests/`), the
//! shared helpers in `common`. Each test runs the built `racedemo` as a user would. loom's and
//! shuttle's model checks stay binaries of their own (`tests/loom.rs`, `tests/shuttle.rs`):
//! they build under `--cfg loom` / `--cfg shuttle`. So does `tests/races.rs`, the one test that
//! needs both cores to itself: cargo runs test binaries one after another, so it runs alone.

mod common;
mod proxy;

mod cli;
mod exec;
mod exec_shows;
mod explain;
mod hostile;
mod isolation;
mod leftovers;
mod litmus;
mod loader;
mod models;
mod partitions;
mod primitives;
mod remote;
mod scenario;
mod servers;
mod signals;
mod stores;
mod sweep;
mod terminal;
mod verdicts;
