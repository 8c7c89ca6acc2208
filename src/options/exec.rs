//! `exec`'s flags, checked once: the commands exist and can run, the counts are sane, the
//! pattern compiles, the correct values can be outcomes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Environment, OutputOptions};
use crate::cli::ExecArgs;
use crate::command::outcome::OutcomeSpec;
use crate::command::{Plan, Spec};
use crate::error::Error;
use crate::expect::Expect;

/// Runs of each command when --runs is not given.
pub const RUNS: u64 = 100;
/// A run's limit when --timeout is not given.
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// The most runs at once: each is a process and three threads of racedemo's.
pub const MAX_PARALLEL: u64 = 256;

/// What is done to make a hidden race show, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Perturbations {
    /// Each run pinned to this many CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<usize>,
    /// Busy neighbour threads.
    pub load: u64,
    /// Python's switch interval, set through sitecustomize.py.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switch_interval_s: Option<f64>,
}

impl Perturbations {
    /// These, with `key` set to `value`.
    pub fn with(self, key: VaryKey, value: f64) -> Perturbations {
        match key {
            VaryKey::Cpus => Perturbations {
                cpus: Some(value as usize),
                ..self
            },
            VaryKey::Load => Perturbations {
                load: value as u64,
                ..self
            },
            VaryKey::SwitchInterval => Perturbations {
                switch_interval_s: Some(value),
                ..self
            },
        }
    }
}

/// What `--vary` varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaryKey {
    Cpus,
    Load,
    SwitchInterval,
}

impl VaryKey {
    pub fn name(self) -> &'static str {
        match self {
            VaryKey::Cpus => "cpus",
            VaryKey::Load => "load",
            VaryKey::SwitchInterval => "switch-interval",
        }
    }
}

/// `--vary KEY=LIST`: one perturbation, several values.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    pub key: VaryKey,
    pub values: Vec<f64>,
    /// Each value as written (`1e-6`), as reports name the settings.
    pub labels: Vec<String>,
}

impl Vary {
    /// `cpus=1,2`, `load=0,2`, `switch-interval=0.005,1e-6`.
    fn parse(text: &str, cpus: usize) -> Result<Vary, Error> {
        let bad = |why: String| Error::input(format!("--vary {text}: {why}"));
        let (key, list) = text
            .split_once('=')
            .ok_or_else(|| bad("write KEY=LIST, such as cpus=1,2".into()))?;
        let key = match key {
            "cpus" => VaryKey::Cpus,
            "load" => VaryKey::Load,
            "switch-interval" => VaryKey::SwitchInterval,
            other => {
                return Err(bad(format!(
                    "unknown '{other}': racedemo varies cpus, load and switch-interval"
                )));
            }
        };
        let values = list
            .split(',')
            .map(|v| {
                let n: f64 = v
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("'{v}' is not a number")))?;
                let whole = n.fract() == 0.0 && n >= 0.0;
                match key {
                    VaryKey::Cpus if !whole || n < 1.0 || n as usize > cpus => Err(bad(format!(
                        "cpus {v}: give whole numbers from 1 to {cpus} (this machine's CPUs)"
                    ))),
                    VaryKey::Load if !whole || n > MAX_PARALLEL as f64 => Err(bad(format!(
                        "load {v}: give whole numbers from 0 to {MAX_PARALLEL}"
                    ))),
                    VaryKey::SwitchInterval if !(n.is_finite() && n > 0.0) => {
                        Err(bad(format!("switch-interval {v}: give seconds above 0")))
                    }
                    _ => Ok(n),
                }
            })
            .collect::<Result<Vec<f64>, Error>>()?;
        if values.len() < 2 {
            return Err(bad("give at least two values, separated by commas".into()));
        }
        let labels = list.split(',').map(|v| v.trim().to_string()).collect();
        Ok(Vary {
            key,
            values,
            labels,
        })
    }
}

/// A validated `exec`.
#[derive(Debug)]
pub struct ExecOptions {
    pub commands: Vec<Spec>,
    pub plan: Plan,
    pub outcome: OutcomeSpec,
    pub correct: Vec<String>,
    pub expect: Expect,
    pub output: OutputOptions,
    pub cpus: usize,
    pub perturbations: Perturbations,
    /// Where every run that differed or failed is written.
    pub keep: Option<PathBuf>,
    /// With --expect race: how long to go on looking for a run that differs.
    pub race_budget: Duration,
    /// JUnit XML, one test case per command.
    pub junit: Option<PathBuf>,
    /// Every command under each of several settings (`--vary`).
    pub vary: Option<Vary>,
}

impl ExecOptions {
    pub fn new(args: ExecArgs, env: &Environment) -> Result<Self, Error> {
        let commands: Vec<Spec> = if !args.commands.is_empty() {
            args.commands
                .iter()
                .map(|c| {
                    if c.trim().is_empty() {
                        return Err(Error::input("-c '': an empty command"));
                    }
                    Ok(Spec {
                        argv: vec!["sh".into(), "-c".into(), c.clone()],
                        label: c.clone(),
                        env: Vec::new(),
                    })
                })
                .collect::<Result<_, _>>()?
        } else if let Some(program) = args.argv.first() {
            if program.is_empty() {
                return Err(Error::input("exec: an empty command after --"));
            }
            runnable(program)?;
            vec![Spec {
                label: args.argv.join(" "),
                argv: args.argv.clone(),
                env: Vec::new(),
            }]
        } else {
            return Err(Error::input(
                "exec needs a command: racedemo exec -- CMD [ARGS...], or -c 'STRING'",
            ));
        };
        // With --duration, as many runs as fit: the count is only a ceiling.
        let runs = match args.duration {
            Some(d) if d.is_zero() => {
                return Err(Error::input("--duration must be longer than 0s"));
            }
            Some(_) => crate::command::UNBOUNDED,
            None => args.runs.unwrap_or(RUNS),
        };
        if runs == 0 {
            return Err(Error::input("--runs 0: give at least 1"));
        }
        let parallel = args.parallel.unwrap_or(env.logical_cpus as u64);
        if parallel == 0 {
            return Err(Error::input(
                "--parallel 0: give at least 1 (1 runs one at a time)",
            ));
        }
        if parallel > MAX_PARALLEL {
            return Err(Error::input(format!(
                "--parallel {parallel} is above the limit of {MAX_PARALLEL} runs at once"
            )));
        }
        let timeout = args.timeout.unwrap_or(TIMEOUT);
        if timeout.is_zero() {
            return Err(Error::input("--timeout must be longer than 0s"));
        }
        let outcome = OutcomeSpec::parse(args.outcome.as_deref()).map_err(Error::input)?;
        if matches!(outcome, OutcomeSpec::Exit)
            && let Some(bad) = args.correct.iter().find(|c| c.parse::<i32>().is_err())
        {
            return Err(Error::input(format!(
                "--correct '{bad}' with --outcome exit: an exit status is a number"
            )));
        }
        let expect = match (args.expect, args.correct.is_empty()) {
            (Some(Expect::Race | Expect::Correct), true) => {
                return Err(Error::input(
                    "--expect race or correct needs --correct VALUE: what a correct run prints",
                ));
            }
            (Some(e), _) => e,
            (None, true) => Expect::Any,
            (None, false) => Expect::Correct,
        };
        let cpus = match args.cpus {
            Some(0) => return Err(Error::input("--cpus 0: give at least 1")),
            Some(n) if n as usize > env.logical_cpus => {
                return Err(Error::input(format!(
                    "--cpus {n}: this machine has {} logical CPUs",
                    env.logical_cpus
                )));
            }
            other => other.map(|n| n as usize),
        };
        let load = args.load.unwrap_or(0);
        if load > MAX_PARALLEL {
            return Err(Error::input(format!(
                "--load {load} is above the limit of {MAX_PARALLEL} busy threads"
            )));
        }
        let vary = args
            .vary
            .as_deref()
            .map(|v| Vary::parse(v, env.logical_cpus))
            .transpose()?;
        if let Some(path) = &args.junit {
            super::writable_file("--junit", path)?;
        }
        if args.race_budget.is_some() && expect != Expect::Race {
            return Err(Error::input(
                "--race-budget is for --expect race: how long to look for a run that differs",
            ));
        }
        if let Some(dir) = &args.keep
            && !dir.is_dir()
        {
            return Err(Error::input(format!(
                "--keep {}: no such folder",
                dir.display()
            )));
        }
        if let Some(s) = args.switch_interval
            && !(s.is_finite() && s > 0.0)
        {
            return Err(Error::input(format!(
                "--switch-interval {s}: give a time in seconds above 0, such as 1e-6"
            )));
        }
        Ok(ExecOptions {
            commands,
            plan: Plan {
                runs,
                parallel: parallel as usize,
                timeout,
                seed: args
                    .seed
                    .unwrap_or_else(|| u64::from(rand::random::<u32>())),
                cpus,
                duration: args.duration,
            },
            outcome,
            correct: args.correct,
            expect,
            output: OutputOptions::new(&args.output, env),
            cpus: env.logical_cpus,
            perturbations: Perturbations {
                cpus,
                load,
                switch_interval_s: args.switch_interval,
            },
            keep: args.keep,
            race_budget: args
                .race_budget
                .unwrap_or(crate::exposure::DEFAULT_RACE_BUDGET),
            junit: args.junit,
            vary,
        })
    }
}

/// `program` names a file that can be run: a path, or a name found on PATH.
pub(super) fn runnable(program: &str) -> Result<PathBuf, Error> {
    let found = if program.contains('/') {
        Some(PathBuf::from(program))
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
    };
    let Some(path) = found else {
        return Err(Error::input(format!("exec: command not found: {program}")));
    };
    if !path.is_file() {
        return Err(Error::input(format!(
            "exec: {}: no such file",
            path.display()
        )));
    }
    if !executable(&path) {
        return Err(Error::input(format!(
            "exec: {}: not executable (chmod +x it, or name its interpreter first)",
            path.display()
        )));
    }
    Ok(path)
}

#[cfg(unix)]
fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(_: &Path) -> bool {
    true
}
