//! The worker process's side: `racedemo __worker` reads its hello (the store's address, which
//! may hold a password, so never on the command line) from the first line of its stdin,
//! connects, then runs the trials it is ordered to until its stdin closes.

use std::io::{self, BufRead, Write};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;

use super::protocol::{FromWorker, Hello, ToWorker};
use super::{BEAT, work};

/// Serves orders from stdin until it closes; the exit status is 0 then, 3 when the worker
/// could not go on (it said why on stdout first).
pub fn serve() -> u8 {
    // Not locked for good: the heartbeat thread writes to it too, a whole line at a time.
    let mut out = io::stdout();
    let mut lines = io::stdin().lock().lines();
    let hello = lines.next().and_then(Result::ok).unwrap_or_default();
    let Ok(hello) = serde_json::from_str::<Hello>(&hello) else {
        eprintln!(
            "racedemo: `{}` is for racedemo's own use",
            super::protocol::WORKER_COMMAND
        );
        return 2;
    };
    let mut conn = match hello.address.connect() {
        Ok(conn) => conn,
        Err(message) => {
            let _ = say(&mut out, &FromWorker::Failed { message });
            return 3;
        }
    };
    if say(&mut out, &FromWorker::Ready).is_err() {
        return 0;
    }
    let mut order = None;
    for line in lines {
        let Ok(line) = line else { break };
        let said = match serde_json::from_str::<ToWorker>(&line) {
            Ok(ToWorker::Arm(o)) => {
                order = Some(o);
                say(&mut out, &FromWorker::Armed)
            }
            Ok(ToWorker::Go) => match &order {
                Some(o) => match with_heartbeat(|done| work(conn.as_mut(), o, hello.index, done)) {
                    Ok(part) => say(&mut out, &FromWorker::Done(part)),
                    Err(message) => {
                        let _ = say(&mut out, &FromWorker::Failed { message });
                        return 3;
                    }
                },
                None => say(
                    &mut out,
                    &FromWorker::Failed {
                        message: "told to go before any order".into(),
                    },
                ),
            },
            Err(e) => say(
                &mut out,
                &FromWorker::Failed {
                    message: format!("unreadable order: {e}"),
                },
            ),
        };
        // The coordinator is gone (its end of the pipe closed): stop at once.
        if said.is_err() {
            return 0;
        }
    }
    0
}

/// Runs `trial` while a second thread says every [`BEAT`] how far it got. The heartbeat comes
/// from its own thread so that a worker waiting on a lock still beats (alive, not moving), and
/// one that is stopped or hung does not (silent). A heartbeat that cannot be written means the
/// coordinator is gone: the worker exits at once.
fn with_heartbeat<T>(trial: impl FnOnce(&AtomicU64) -> T) -> T {
    let done = AtomicU64::new(0);
    let (finished, wait) = mpsc::channel::<()>();
    thread::scope(|scope| {
        let done = &done;
        scope.spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(BEAT) {
                let beat = FromWorker::Beat {
                    done: done.load(Ordering::Relaxed),
                };
                if say(&mut io::stdout(), &beat).is_err() {
                    std::process::exit(0);
                }
            }
        });
        let result = trial(done);
        drop(finished);
        result
    })
}

/// One message, one line, flushed now.
fn say(out: &mut impl Write, message: &FromWorker) -> Result<(), String> {
    let line = serde_json::to_string(message).map_err(|e| e.to_string())?;
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}
