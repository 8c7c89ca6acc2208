//! The synchronisation types the strategies and the harness use, named in one place so that a
//! model checker's types (loom, shuttle) can stand in for std's without touching their code.

pub use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering, fence};
pub use std::sync::{Mutex, PoisonError};
