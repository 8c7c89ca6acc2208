//! Workers that are OS processes: racedemo started again as `racedemo __worker`, one
//! connection each, living across trials, spoken to over pipes (see `protocol`).
//!
//! No orphans and no hangs: each worker is in a process group of its own, so a Ctrl-C at the
//! terminal reaches only the coordinator, which decides when they stop; a worker whose stdin
//! closes, or whose heartbeat cannot be written because the coordinator is gone, exits; a worker
//! that dies or goes silent for longer than the timeout ends the trial with an error naming it,
//! and dropping the crew ends every worker still running.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

use super::protocol::{FromWorker, Hello, ToWorker, WORKER_COMMAND};
use super::{Crew, CrewKind, Order, Part, Stop};
use crate::store::Address;

struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
}

/// What a worker's reader thread passes on: a message, or the end of its output.
enum Heard {
    Said(FromWorker),
    Garbled(String),
    Closed,
}

pub struct Processes {
    workers: Vec<Worker>,
    heard: Receiver<(usize, Heard)>,
    /// How long a worker may say nothing (no heartbeat) before it counts as hung.
    timeout: Duration,
}

impl Processes {
    /// Starts `count` workers on `address` and waits until each has connected.
    pub fn start(address: &Address, count: usize, timeout: Duration) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("finding racedemo itself: {e}"))?;
        let (tell, heard) = channel();
        let mut crew = Processes {
            workers: Vec::with_capacity(count),
            heard,
            timeout,
        };
        for index in 0..count {
            let hello = serde_json::to_string(&Hello {
                address: address.clone(),
                index,
            })
            .map_err(|e| e.to_string())?;
            let mut command = Command::new(&exe);
            command
                .arg(WORKER_COMMAND)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            own_group(&mut command);
            let mut child = command
                .spawn()
                .map_err(|e| format!("starting worker process {}: {e}", index + 1))?;
            let stdout = child.stdout.take().expect("stdout was piped");
            let tell = tell.clone();
            thread::Builder::new()
                .name(format!("racedemo-hear-{index}"))
                .spawn(move || {
                    for line in BufReader::new(stdout).lines() {
                        let heard = match line {
                            Ok(line) => serde_json::from_str(&line)
                                .map_or_else(|_| Heard::Garbled(line), Heard::Said),
                            Err(_) => break,
                        };
                        if tell.send((index, heard)).is_err() {
                            return;
                        }
                    }
                    let _ = tell.send((index, Heard::Closed));
                })
                .map_err(|e| format!("starting a thread: {e}"))?;
            // The hello first: it names the store, password and all, which a command line
            // would show to every user of the machine.
            let mut stdin = child.stdin.take();
            if let Some(pipe) = stdin.as_mut() {
                let _ = writeln!(pipe, "{hello}").and_then(|()| pipe.flush());
            }
            crew.workers.push(Worker { child, stdin });
        }
        match crew.gather(|m| matches!(m, FromWorker::Ready)) {
            Ok(_) => Ok(crew),
            Err(Stop::Fault(message)) => Err(message),
            Err(Stop::Interrupted) => Err("interrupted while the workers started".into()),
        }
    }

    fn name(&mut self, index: usize) -> String {
        format!(
            "process {} (pid {})",
            index + 1,
            self.workers[index].child.id()
        )
    }

    fn tell(&mut self, index: usize, message: &ToWorker) -> Result<(), String> {
        let line = serde_json::to_string(message).map_err(|e| e.to_string())?;
        let sent = self.workers[index]
            .stdin
            .as_mut()
            .map(|stdin| writeln!(stdin, "{line}").and_then(|()| stdin.flush()));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.death(index)),
        }
    }

    /// Why worker `index` stopped talking: how it ended, once it has.
    fn death(&mut self, index: usize) -> String {
        let name = self.name(index);
        let deadline = Instant::now() + Duration::from_millis(500);
        let status = loop {
            match self.workers[index].child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                _ => break None,
            }
        };
        match status {
            Some(s) => match (s.code(), signal_of(s)) {
                (_, Some(signal)) => format!("{name} was killed by signal {signal}"),
                (Some(code), _) => format!("{name} exited with status {code}"),
                _ => format!("{name} ended"),
            },
            None => format!("{name} closed its output"),
        }
    }

    /// Waits until every worker has said something `wanted` matches; returns what they said,
    /// in worker order. Heartbeats keep a worker alive; silence, death, a failure or garbage
    /// from any worker ends the wait with an error naming it.
    fn gather(&mut self, wanted: impl Fn(&FromWorker) -> bool) -> Result<Vec<FromWorker>, Stop> {
        let n = self.workers.len();
        let mut got: Vec<Option<FromWorker>> = vec![None; n];
        // When each worker last said anything, and last got further.
        let mut heard_at = vec![Instant::now(); n];
        let mut moved_at = vec![Instant::now(); n];
        let mut done = vec![0; n];
        while got.iter().any(Option::is_none) {
            match self.heard.recv_timeout(Duration::from_millis(50)) {
                Ok((i, Heard::Said(FromWorker::Beat { done: now }))) => {
                    heard_at[i] = Instant::now();
                    if now != done[i] {
                        done[i] = now;
                        moved_at[i] = heard_at[i];
                    }
                }
                Ok((i, Heard::Said(FromWorker::Failed { message }))) => {
                    return Err(Stop::Fault(format!("{}: {message}", self.name(i))));
                }
                Ok((i, Heard::Said(m))) if wanted(&m) => {
                    heard_at[i] = Instant::now();
                    moved_at[i] = heard_at[i];
                    got[i] = Some(m);
                }
                Ok((i, Heard::Said(m))) => {
                    return Err(Stop::Fault(format!(
                        "{} said {m:?} out of turn",
                        self.name(i)
                    )));
                }
                Ok((i, Heard::Garbled(line))) => {
                    return Err(Stop::Fault(format!(
                        "{} said something unreadable: {line}",
                        self.name(i)
                    )));
                }
                Ok((i, Heard::Closed)) => return Err(Stop::Fault(self.death(i))),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Stop::Fault("every worker is gone".into()));
                }
            }
            // A signal: the trial in flight is not waited for (its workers are stopped when
            // the crew is dropped), so a long trial does not hold up the report.
            if crate::harness::interrupted() {
                return Err(Stop::Interrupted);
            }
            let waiting = |i: &usize| got[*i].is_none();
            // Silent: stopped or hung, surely. Alive but not moving: waiting, perhaps on a lock
            // a silent one holds, so it gets twice as long before it is blamed.
            let silent: Vec<usize> = (0..n)
                .filter(waiting)
                .filter(|&i| heard_at[i].elapsed() > self.timeout)
                .collect();
            let stuck: Vec<usize> = (0..n)
                .filter(waiting)
                .filter(|&i| moved_at[i].elapsed() > self.timeout * 2)
                .collect();
            let (blamed, what, how_long) = match (silent.is_empty(), stuck.is_empty()) {
                (false, _) => (silent, "sent nothing", self.timeout),
                (true, false) => (
                    stuck,
                    "made no progress (a lock never released?)",
                    self.timeout * 2,
                ),
                (true, true) => continue,
            };
            let names: Vec<String> = blamed.iter().map(|&i| self.name(i)).collect();
            for &i in &blamed {
                let _ = self.workers[i].child.kill();
            }
            return Err(Stop::Fault(format!(
                "{} {what} for {}; stopped",
                names.join(" and "),
                humantime::format_duration(how_long)
            )));
        }
        Ok(got.into_iter().flatten().collect())
    }
}

/// A worker in a process group of its own: a Ctrl-C at the terminal reaches only racedemo.
#[cfg(unix)]
fn own_group(command: &mut Command) {
    std::os::unix::process::CommandExt::process_group(command, 0);
}

#[cfg(windows)]
fn own_group(command: &mut Command) {
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    std::os::windows::process::CommandExt::creation_flags(command, CREATE_NEW_PROCESS_GROUP);
}

/// The signal that ended a process, where the OS has signals.
#[cfg(unix)]
fn signal_of(status: std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

#[cfg(not(unix))]
fn signal_of(_: std::process::ExitStatus) -> Option<i32> {
    None
}

impl Crew for Processes {
    fn kind(&self) -> CrewKind {
        CrewKind::Processes
    }

    fn trial(&mut self, order: &Order) -> Result<Vec<Part>, Stop> {
        for i in 0..self.workers.len() {
            self.tell(i, &ToWorker::Arm(order.clone()))?;
        }
        self.gather(|m| matches!(m, FromWorker::Armed))?;
        // Every worker is waiting on its stdin: "go" reaches them within microseconds of
        // each other, and each times its own loop.
        for i in 0..self.workers.len() {
            self.tell(i, &ToWorker::Go)?;
        }
        Ok(self
            .gather(|m| matches!(m, FromWorker::Done(_)))?
            .into_iter()
            .filter_map(|m| match m {
                FromWorker::Done(part) => Some(part),
                _ => None,
            })
            .collect())
    }
}

impl Drop for Processes {
    /// Closes every worker's stdin (idle workers exit at once), gives them a moment, then
    /// kills any still running, and reaps them all: no child outlives the crew.
    fn drop(&mut self) {
        for w in &mut self.workers {
            w.stdin = None;
        }
        let deadline = Instant::now() + Duration::from_millis(300);
        for w in &mut self.workers {
            loop {
                match w.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() < deadline => {
                        thread::sleep(Duration::from_millis(2));
                    }
                    Ok(None) => {
                        let _ = w.child.kill();
                        let _ = w.child.wait();
                        break;
                    }
                }
            }
        }
    }
}
