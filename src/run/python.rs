//! `scenario run|check --python`: the program `scenario show --as python` writes, run as
//! `exec` runs a command (its own process group, a timeout, stdin from /dev/null), each run's
//! last line read back as one of the scenario's outcomes and graded as a trial is.

use std::time::Duration;

use crate::command::outcome::OutcomeSpec;
use crate::command::process::Processes;
use crate::command::tally::Tally;
use crate::command::{Plan, Spec, run_all};
use crate::error::Error;
use crate::options::{PYTHON, ScenarioJob};
use crate::progress::Progress;
use crate::report::{PythonOutcome, PythonRun, RunTimes};
use crate::scenario::Grade;
use crate::stats::Rate;

/// A run of the Python program that takes longer than this has hung past its own watchdog.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the job's program in Python `runs` times, as many at once as the trials use CPUs.
pub fn run(job: &ScenarioJob, runs: u64, progress: &mut Progress) -> Result<PythonRun, Error> {
    let dir = tempfile::Builder::new()
        .prefix("racedemo-python-")
        .tempdir()
        .map_err(Error::io("making a folder for the Python program"))?;
    let file = format!("{}.py", job.scenario.name.replace(['-', '.', ' '], "_"));
    let path = dir.path().join(&file);
    std::fs::write(&path, job.scenario.python_for(&job.program))
        .map_err(Error::io("writing the Python program"))?;
    let spec = Spec {
        argv: vec![PYTHON.into(), path.display().to_string()],
        label: format!("{PYTHON} {file}"),
        env: Vec::new(),
    };
    let parallel = job.plan.cpus.max(1);
    let plan = Plan {
        runs,
        parallel,
        timeout: TIMEOUT,
        seed: job.plan.seed,
        cpus: None,
        duration: None,
    };
    progress.phase(&spec.label, runs);
    let mut tally = Tally::new(OutcomeSpec::LastLine, Vec::new(), plan.seed);
    let ran = run_all(&Processes, &spec, plan, &mut |r| {
        tally.add(&r);
        progress.trial_done();
        true
    });
    if let Err(e) = ran
        && tally.runs == 0
    {
        return Err(Error::input(format!("--python: {e}")));
    }
    let program = &job.program;
    let outcomes: Vec<PythonOutcome> = tally
        .by_count()
        .into_iter()
        .map(|(outcome, n)| PythonOutcome {
            grade: program.outcome_named(&outcome).map(|o| program.grade(&o)),
            share: n as f64 / tally.runs.max(1) as f64,
            runs: n,
            outcome,
        })
        .collect();
    let differed: u64 = outcomes
        .iter()
        .filter(|o| matches!(o.grade, Some(Grade::Interesting | Grade::Forbidden)))
        .map(|o| o.runs)
        .sum();
    let mut notes = Vec::new();
    let failed: u64 = outcomes
        .iter()
        .filter(|o| o.grade.is_none())
        .map(|o| o.runs)
        .sum();
    if failed > 0 {
        let example = tally
            .examples
            .first()
            .map(|e| {
                let last = e.stderr_tail.lines().last().unwrap_or("").trim();
                format!(
                    " (run {}: {}{})",
                    e.run,
                    e.status,
                    if last.is_empty() {
                        String::new()
                    } else {
                        format!(", {last}")
                    }
                )
            })
            .unwrap_or_default();
        notes.push(format!(
            "{failed} of {} runs ended without an outcome of the scenario{example}",
            tally.runs
        ));
    }
    Ok(PythonRun {
        interpreter: version(),
        runs: tally.runs,
        parallel,
        outcomes,
        rate: Rate::new(differed, tally.runs),
        time: RunTimes::of(&tally),
        notes,
    })
}

/// `Python 3.11.7`, or the interpreter's name where it does not say.
fn version() -> String {
    std::process::Command::new(PYTHON)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text).trim().to_string()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| PYTHON.to_string())
}
