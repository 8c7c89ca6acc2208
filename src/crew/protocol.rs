//! What the coordinator and a worker process say to each other: one JSON document a line, on
//! the worker's stdin and stdout. The worker's stdin closing means "stop": a worker never
//! outlives the process that started it by more than one heartbeat.

use serde::{Deserialize, Serialize};

use super::{Order, Part};
use crate::store::Address;

/// The hidden command a worker process is started with (`racedemo __worker`).
pub const WORKER_COMMAND: &str = "__worker";

/// Who the worker is and where the counter is: the first line on the worker's stdin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub address: Address,
    /// 0-based, among the run's workers.
    pub index: usize,
}

/// Coordinator to worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "lowercase")]
pub enum ToWorker {
    /// Get ready for a trial and answer `Armed`.
    Arm(Order),
    /// Start the armed trial now.
    Go,
}

/// Worker to coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "lowercase")]
pub enum FromWorker {
    /// Connected; waiting for orders.
    Ready,
    Armed,
    /// Alive, with the increments done so far in this trial (every 100 ms of a trial).
    Beat {
        done: u64,
    },
    Done(Part),
    /// Could not go on; the message says why.
    Failed {
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Counts;

    #[test]
    fn messages_are_one_line_of_json_each_and_read_back_the_same() {
        let done = FromWorker::Done(Part {
            start_ns: 1,
            end_ns: 2,
            counts: Counts::default(),
            recorded: vec![(41, 5, 6)],
        });
        let line = serde_json::to_string(&done).unwrap();
        assert!(!line.contains('\n'));
        assert!(line.starts_with(r#"{"is":"done""#), "{line}");
        assert_eq!(serde_json::from_str::<FromWorker>(&line).unwrap(), done);
        let go = serde_json::to_string(&ToWorker::Go).unwrap();
        assert_eq!(go, r#"{"do":"go"}"#);
    }
}
