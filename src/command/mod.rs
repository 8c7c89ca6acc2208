//! A user's own program, run many times at once (`racedemo exec`): an [`Executor`] runs it
//! once (as a process: [`process`]; a test's stand-in runs nothing), and [`run_all`] keeps
//! `--parallel` runs going until `--runs` are done, handing each run's record to the caller,
//! which keeps counts, not runs.

pub mod outcome;
pub mod process;
pub mod tally;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use outcome::Ended;

/// A command to run: the program and its arguments (`sh -c STRING` for `-c`), and how reports
/// name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub argv: Vec<String>,
    pub label: String,
    /// Set in each run's environment besides RACEDEMO_RUN and RACEDEMO_SEED.
    pub env: Vec<(String, String)>,
}

/// The output of one stream of one run, as much as was kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    pub bytes: Vec<u8>,
    /// More came than was kept.
    pub truncated: bool,
}

/// One run, as it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub index: u64,
    pub ended: Ended,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
}

/// Runs a command once.
pub trait Executor: Sync {
    /// Run `index` of `spec`, given `seed`, ended at `timeout`. `Err`: it could not be started.
    fn run(&self, spec: &Spec, index: u64, seed: u64, timeout: Duration) -> Result<Ran, String>;
}

/// A count of runs that is no limit: with a duration, or until one differs.
pub const UNBOUNDED: u64 = u64::MAX / 4;

/// How many runs, how many at once, and each one's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub runs: u64,
    pub parallel: usize,
    pub timeout: Duration,
    pub seed: u64,
    /// Pin every run to the first N CPUs.
    pub cpus: Option<usize>,
    /// Start runs only for this long (then `runs` is only a ceiling).
    pub duration: Option<Duration>,
}

/// Runs `spec` `plan.runs` times (or for `plan.duration`), `plan.parallel` at once, calling
/// `on_run` for each as it ends (on this thread); once `on_run` says false, no more runs
/// start. Stops starting runs once the user interrupts; the runs in flight are killed and not
/// counted. `Err`: a run could not be started.
pub fn run_all(
    executor: &dyn Executor,
    spec: &Spec,
    plan: Plan,
    on_run: &mut dyn FnMut(Ran) -> bool,
) -> Result<(), String> {
    let next = AtomicU64::new(0);
    let until = plan.duration.map(|d| std::time::Instant::now() + d);
    let (tell, heard) = mpsc::channel::<Result<Ran, String>>();
    thread::scope(|scope| {
        for _ in 0..plan.parallel.max(1) {
            let (tell, next) = (tell.clone(), &next);
            scope.spawn(move || {
                // A child inherits the affinity of the thread that starts it.
                if let Some(n) = plan.cpus {
                    pin_to_first(n);
                }
                loop {
                    if crate::harness::interrupted()
                        || until.is_some_and(|u| std::time::Instant::now() >= u)
                    {
                        return;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= plan.runs {
                        return;
                    }
                    let seed = crate::harness::thread_seed(plan.seed, index, 0);
                    let ran = executor.run(spec, index, seed, plan.timeout);
                    let failed = ran.is_err();
                    if tell.send(ran).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(tell);
        let mut first_error = None;
        for ran in heard {
            match ran {
                // A run cut short by Ctrl-C is not counted, as a trial in flight is not.
                Ok(_) if crate::harness::interrupted() => {}
                Ok(ran) => {
                    if !on_run(ran) {
                        // Past any count of runs, UNBOUNDED included: no index is started.
                        next.store(u64::MAX / 2, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    // No more runs start; those in flight are still counted.
                    next.store(u64::MAX / 2, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}

/// Pins this thread (and so every process it starts) to CPUs 0..n.
#[cfg(target_os = "linux")]
fn pin_to_first(n: usize) {
    use nix::sched::{CpuSet, sched_setaffinity};
    let mut set = CpuSet::new();
    for cpu in 0..n {
        let _ = set.set(cpu);
    }
    let _ = sched_setaffinity(nix::unistd::Pid::from_raw(0), &set);
}

#[cfg(not(target_os = "linux"))]
fn pin_to_first(_: usize) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Says each run's index as its output, and which indices ran.
    struct Echo(Mutex<Vec<u64>>);

    impl Executor for Echo {
        fn run(&self, _: &Spec, index: u64, _: u64, _: Duration) -> Result<Ran, String> {
            self.0.lock().unwrap().push(index);
            Ok(Ran {
                index,
                ended: Ended::Exited(0),
                stdout: Captured {
                    bytes: format!("{}\n", index % 3).into_bytes(),
                    truncated: false,
                },
                stderr: Captured::default(),
                elapsed: Duration::from_millis(1),
            })
        }
    }

    #[test]
    fn every_run_happens_once_however_many_run_at_once() {
        for parallel in [1, 3, 8] {
            let echo = Echo(Mutex::new(Vec::new()));
            let spec = Spec {
                argv: vec!["x".into()],
                label: "x".into(),
                env: Vec::new(),
            };
            let plan = Plan {
                runs: 50,
                parallel,
                timeout: Duration::from_secs(1),
                seed: 1,
                cpus: None,
                duration: None,
            };
            let mut seen = Vec::new();
            run_all(&echo, &spec, plan, &mut |r| {
                seen.push(r.index);
                true
            })
            .unwrap();
            seen.sort_unstable();
            assert_eq!(seen, (0..50).collect::<Vec<_>>(), "parallel {parallel}");
            assert_eq!(echo.0.lock().unwrap().len(), 50);
        }
    }
}
