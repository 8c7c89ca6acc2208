//! One run of a user's command as an OS process: stdin from /dev/null, `RACEDEMO_RUN` and
//! `RACEDEMO_SEED` in its environment, in a process group of its own, its output kept up to
//! [`KEEP`] a stream, killed with its whole group past the timeout, and its group killed when
//! it exits too, so that a child it left in the background does not outlive the run.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::outcome::Ended;
use super::{Captured, Executor, Ran, Spec};

/// How often a run in flight looks for an interrupt.
const SLICE: Duration = Duration::from_millis(20);

/// The most of each stream kept per run; the rest is read and dropped.
pub const KEEP: usize = 1 << 20;

/// Runs commands as processes.
pub struct Processes;

impl Executor for Processes {
    fn run(&self, spec: &Spec, index: u64, seed: u64, timeout: Duration) -> Result<Ran, String> {
        let started = Instant::now();
        let mut command = Command::new(&spec.argv[0]);
        command
            .args(&spec.argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("RACEDEMO_RUN", index.to_string())
            .env("RACEDEMO_SEED", seed.to_string())
            .envs(spec.env.iter().map(|(k, v)| (k, v)));
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .map_err(|e| format!("starting {}: {e}", spec.argv[0]))?;
        let pid = child.id();
        let out = keep(child.stdout.take().expect("piped"));
        let err = keep(child.stderr.take().expect("piped"));
        let (done, waited) = mpsc::channel();
        thread::spawn(move || {
            let _ = done.send(child.wait());
        });
        // Waited for in slices, so that Ctrl-C ends a run in flight at once.
        let ended = loop {
            let left = timeout.saturating_sub(started.elapsed());
            match waited.recv_timeout(left.min(SLICE)) {
                Ok(Ok(status)) => break ended_as(status),
                Ok(Err(e)) => return Err(format!("waiting for {}: {e}", spec.argv[0])),
                Err(_) if crate::harness::interrupted() || left <= SLICE => {
                    kill_group(pid);
                    let _ = waited.recv();
                    break Ended::TimedOut;
                }
                Err(_) => {}
            }
        };
        let elapsed = started.elapsed();
        // Whatever it left running in its group goes with it; then its pipes close.
        kill_group(pid);
        Ok(Ran {
            index,
            ended,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            elapsed,
        })
    }
}

/// Reads `stream` to its end in a thread of its own, keeping the first [`KEEP`] bytes.
fn keep(mut stream: impl Read + Send + 'static) -> thread::JoinHandle<Captured> {
    thread::spawn(move || {
        let mut captured = Captured::default();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return captured,
                Ok(n) => {
                    let room = KEEP.saturating_sub(captured.bytes.len());
                    captured.bytes.extend_from_slice(&buf[..n.min(room)]);
                    captured.truncated |= n > room;
                }
            }
        }
    })
}

#[cfg(unix)]
fn ended_as(status: std::process::ExitStatus) -> Ended {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ended::Exited(code),
        (None, Some(signal)) => Ended::Signal(signal),
        (None, None) => Ended::Exited(-1),
    }
}

#[cfg(not(unix))]
fn ended_as(status: std::process::ExitStatus) -> Ended {
    Ended::Exited(status.code().unwrap_or(-1))
}

/// SIGKILL to process group `pid` (the run's own); gone already is fine.
#[cfg(unix)]
pub fn kill_group(pid: u32) {
    use nix::sys::signal::{Signal, killpg};
    let _ = killpg(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL);
}

#[cfg(not(unix))]
pub fn kill_group(_: u32) {}

/// A folder holding a sitecustomize.py that sets Python's switch interval to `seconds`, and
/// the PYTHONPATH that puts it first (before any the user has).
pub fn sitecustomize(seconds: f64) -> std::io::Result<(tempfile::TempDir, String)> {
    let dir = tempfile::Builder::new()
        .prefix("racedemo-site-")
        .tempdir()?;
    std::fs::write(
        dir.path().join("sitecustomize.py"),
        format!(
            "# Written by racedemo exec --switch-interval: CPython switches threads only at \
             calls and loop back edges, at most this often.\nimport sys\nsys.setswitchinterval({seconds:e})\n"
        ),
    )?;
    let mut path = dir.path().display().to_string();
    if let Some(theirs) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        path.push(':');
        path.push_str(&theirs.to_string_lossy());
    }
    Ok((dir, path))
}
