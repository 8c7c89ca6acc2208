//! `exec`: each command run `--runs` times, `--parallel` at once, into one report.

use std::io::Write;

use crate::command::outcome::{NO_MATCH, OutcomeSpec};
use crate::command::process::Processes;
use crate::command::process::sitecustomize;
use crate::command::tally::Tally;
use crate::command::{Executor, Plan, Spec, UNBOUNDED, run_all};
use crate::error::Error;
use crate::expect::Expect;
use crate::format::thousands;
use crate::harness;
use crate::options::{ExecOptions, Perturbations};
use crate::progress::Progress;
use crate::report::{
    self, CommandResult, Envelope, ExecBody, Machine, OutcomeBin, OutcomeCount, RunTimes,
    StatusCount,
};
use crate::stats::Rate;

pub fn run(options: &ExecOptions, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    execute(options, &Processes, out)
}

/// Runs every command of `options` through `executor`, then writes the report; returns a
/// message per command whose expectation failed.
pub fn execute(
    options: &ExecOptions,
    executor: &dyn Executor,
    out: &mut dyn Write,
) -> Result<Vec<String>, Error> {
    let plan = options.plan;
    // Without --vary, one setting: the perturbations asked for.
    let settings: Vec<(Option<String>, Perturbations)> = match &options.vary {
        None => vec![(None, options.perturbations)],
        Some(vary) => vary
            .values
            .iter()
            .zip(&vary.labels)
            .map(|(&v, label)| {
                (
                    Some(format!("{}={label}", vary.key.name())),
                    options.perturbations.with(vary.key, v),
                )
            })
            .collect(),
    };
    let mut progress = Progress::new(
        (options.commands.len() * settings.len()) as u64,
        plan.duration,
        options.output.progress,
    )
    .counting("runs");
    let mut commands = Vec::with_capacity(options.commands.len() * settings.len());
    let mut fault = None;
    'settings: for (setting, perturbed) in &settings {
        let _load = Load::start(perturbed.load);
        let plan = Plan {
            cpus: perturbed.cpus,
            ..plan
        };
        // Each switch interval gets a sitecustomize.py of its own, first on PYTHONPATH, for as
        // long as this setting's runs go on.
        let site = perturbed
            .switch_interval_s
            .map(sitecustomize)
            .transpose()
            .map_err(Error::io("writing sitecustomize.py for --switch-interval"))?;
        for base in &options.commands {
            let mut spec = base.clone();
            if let Some((_, path)) = &site {
                spec.env.push(("PYTHONPATH".into(), path.clone()));
            }
            let ran = run_command(
                options,
                executor,
                &spec,
                plan,
                commands.len(),
                &mut progress,
            );
            let (mut done, stopped) = match ran {
                Ok(done) => done,
                Err(e) => {
                    progress.finish();
                    return Err(e);
                }
            };
            done.setting = setting.clone();
            commands.push(done);
            if let Some(e) = stopped {
                fault = Some(e);
                break 'settings;
            }
            if harness::interrupted() {
                break 'settings;
            }
        }
    }
    progress.finish();
    // Where no command's race showed, a Python one's may be hidden by the GIL: say why.
    if commands.iter().all(|c| c.differed.differed == 0) {
        for c in commands
            .iter_mut()
            .filter(|c| looks_like_python(&c.command))
        {
            c.notes.push(PYTHON_NOTE.into());
        }
    }
    let mut report = Envelope::new(
        harness::interrupted(),
        Machine::this(options.cpus),
        ExecBody {
            // With --duration, the runs the longest-running command made.
            runs: match plan.duration {
                Some(_) => commands.iter().map(|c| c.runs).max().unwrap_or(0),
                None => plan.runs,
            },
            parallel: plan.parallel,
            timeout_s: plan.timeout.as_secs_f64(),
            outcome_from: options.outcome.describe(),
            seed: plan.seed,
            perturbations: options.perturbations,
            varied: options.vary.as_ref().map(|v| v.key.name()),
            notes: options
                .vary
                .as_ref()
                .map_or_else(Vec::new, |v| what_changed(v.key.name(), &commands)),
            commands,
        },
    );
    report.fault = fault.clone();
    report::exporter(&options.output)
        .exec(&report, out)
        .and_then(|()| out.flush())
        .map_err(Error::io("writing the report"))?;
    if let Some(path) = &options.junit {
        std::fs::File::create(path)
            .and_then(|mut file| report::junit::write_exec(&report, &mut file))
            .map_err(Error::io("writing the JUnit file"))?;
    }
    if let Some(f) = fault {
        return Err(Error::Fault(f));
    }
    Ok(report
        .commands
        .iter()
        .filter(|c| !c.expect_met)
        .map(|c| {
            format!(
                "{}: expected {}, but {} of {} runs differed",
                c.command,
                c.expect.name(),
                c.differed.differed,
                c.runs
            )
        })
        .collect())
}

/// Runs one command `plan.runs` times (and, with --expect race, more within the budget): its
/// result, and the fault that stopped it, if one did. `index`: its place in the report, which
/// --keep's files are named by.
fn run_command(
    options: &ExecOptions,
    executor: &dyn Executor,
    spec: &Spec,
    plan: Plan,
    index: usize,
    progress: &mut Progress,
) -> Result<(CommandResult, Option<String>), Error> {
    // The bar names the command in a few words: it shares a line with the count.
    let mut name: String = spec.label.chars().take(24).collect();
    if name.len() < spec.label.len() {
        name.push('…');
    }
    progress.phase(&name, plan.runs);
    let mut tally = Tally::new(options.outcome.clone(), options.correct.clone(), plan.seed);
    let mut kept = Ok(());
    let mut on_run = |r: crate::command::Ran, tally: &mut Tally| {
        if tally.add(&r)
            && let Some(dir) = &options.keep
            && kept.is_ok()
        {
            kept = keep(dir, index, &r);
        }
        progress.set_differed(tally.differed);
        progress.trial_done();
    };
    let mut ran = run_all(executor, spec, plan, &mut |r| {
        on_run(r, &mut tally);
        true
    });
    // --expect race: more runs, until one differs or the budget is spent.
    let planned = tally.runs;
    if options.expect == Expect::Race
        && tally.differed == 0
        && ran.is_ok()
        && !harness::interrupted()
    {
        let more = Plan {
            runs: UNBOUNDED,
            duration: Some(options.race_budget),
            seed: plan.seed.wrapping_add(planned),
            ..plan
        };
        ran = run_all(executor, spec, more, &mut |mut r| {
            // Numbered after the planned runs, as reports and --keep's files name them.
            r.index += planned;
            on_run(r, &mut tally);
            tally.differed == 0
        });
    }
    kept.map_err(Error::io("writing a run to --keep's folder"))?;
    if let Err(e) = &ran
        && tally.runs == 0
    {
        // Not one run could start (a script with no #! line, say): the command is what
        // is wrong, and nothing ran.
        return Err(Error::input(e.clone()));
    }
    let mut done = result(options, &spec.label, &tally);
    if tally.runs > planned {
        done.notes.push(format!(
            "no run of the first {} differed: {} more ran within the race budget of {} (the \
             runs in flight when one differed are counted too), {}",
            thousands(planned),
            thousands(tally.runs - planned),
            humantime::format_duration(options.race_budget),
            match tally.differed {
                0 => "and none differed".to_string(),
                n => format!("and {} of them differed", thousands(n)),
            }
        ));
    }
    Ok((done, ran.err()))
}

/// For each command run under several settings: whether the share of runs that differed
/// changed, in words (changed: the 95% intervals of the lowest and the highest share do not
/// overlap).
fn what_changed(key: &str, commands: &[CommandResult]) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut notes = Vec::new();
    for c in commands {
        if seen.contains(&c.command.as_str()) {
            continue;
        }
        seen.push(&c.command);
        let rows: Vec<&CommandResult> =
            commands.iter().filter(|d| d.command == c.command).collect();
        let (Some(low), Some(high)) = (
            rows.iter().min_by(|a, b| {
                a.differed
                    .differed_rate
                    .total_cmp(&b.differed.differed_rate)
            }),
            rows.iter().max_by(|a, b| {
                a.differed
                    .differed_rate
                    .total_cmp(&b.differed.differed_rate)
            }),
        ) else {
            continue;
        };
        let shares: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} at {}",
                    crate::format::percent(r.differed.differed_rate),
                    r.setting
                        .as_deref()
                        .and_then(|s| s.split_once('='))
                        .map_or("?", |(_, v)| v)
                )
            })
            .collect();
        let changed = low.differed.differed_ci95[1] < high.differed.differed_ci95[0];
        notes.push(format!(
            "{key} {} the share of `{}`'s runs that differed: {}",
            if changed {
                "changed"
            } else {
                "did not measurably change"
            },
            c.command,
            shares.join(", ")
        ));
    }
    notes
}

/// Numeric outcomes in round bins, where every outcome is a whole number and there are more
/// than the text lists (the counter's histogram, shifted so that negative numbers bin too).
fn histogram(options: &ExecOptions, tally: &Tally) -> Vec<OutcomeBin> {
    let numbers: Option<std::collections::BTreeMap<i64, u64>> = tally
        .outcomes
        .iter()
        .map(|(k, &n)| k.parse::<i64>().ok().map(|v| (v, n)))
        .collect();
    let Some(numbers) = numbers.filter(|m| m.len() > 10) else {
        return Vec::new();
    };
    let min = *numbers.keys().next().expect("more than ten");
    let shift = |v: i64| (i128::from(v) - i128::from(min)) as u64;
    let shifted = numbers.iter().map(|(&v, &n)| (shift(v), n)).collect();
    let expected = match options.correct.as_slice() {
        [one] => one
            .parse::<i64>()
            .ok()
            .filter(|&c| c >= min)
            .map_or(u64::MAX, shift),
        _ => u64::MAX,
    };
    crate::histogram::bins(&shifted, expected)
        .into_iter()
        .map(|b| OutcomeBin {
            low: (i128::from(min) + i128::from(b.low)) as i64,
            high: (i128::from(min) + i128::from(b.high)) as i64,
            runs: b.count,
        })
        .collect()
}

/// Why a Python program's race may not show.
const PYTHON_NOTE: &str = "no run differed: CPython 3.10+ switches threads only at calls and \
    loop back edges, so a bare `x += 1` cannot lose an update under the GIL; it is a race on a \
    free-threaded build, or where a call separates the read and the write (try \
    --switch-interval 1e-6)";

/// Whether `command` runs Python, for the note on why its race may not show.
fn looks_like_python(command: &str) -> bool {
    command.split_whitespace().next().is_some_and(|p| {
        p.rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("python"))
    }) || command.ends_with(".py")
}

/// Writes run `ran` of command `command` (0-based) into `dir`: its stdout, stderr and how it
/// ended, named by run (and by command when there are several).
fn keep(dir: &std::path::Path, command: usize, ran: &crate::command::Ran) -> std::io::Result<()> {
    let stem = dir.join(format!("cmd-{}-run-{}", command + 1, ran.index));
    let with = |ext: &str| stem.with_extension(ext);
    std::fs::write(with("stdout"), &ran.stdout.bytes)?;
    std::fs::write(with("stderr"), &ran.stderr.bytes)?;
    std::fs::write(with("status"), format!("{}\n", ran.ended.describe()))
}

/// Busy neighbour threads for as long as this lives (`--load N`).
struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(n: u64) -> Load {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn result(options: &ExecOptions, command: &str, tally: &Tally) -> CommandResult {
    let runs = tally.runs.max(1);
    let outcomes = tally
        .by_count()
        .into_iter()
        .map(|(value, n)| OutcomeCount {
            correct: (!options.correct.is_empty()).then(|| options.correct.contains(&value)),
            share: n as f64 / runs as f64,
            value,
            runs: n,
        })
        .collect();
    let differed = Rate::new(tally.differed, tally.runs);
    let mut notes = Vec::new();
    if let Some(&n) = tally.outcomes.get(NO_MATCH)
        && matches!(options.outcome, OutcomeSpec::Pattern(_))
    {
        notes.push(format!(
            "the pattern matched nothing in {n} of {} runs: their outcome is `{NO_MATCH}`",
            tally.runs
        ));
    }
    if tally.truncated > 0 {
        notes.push(format!(
            "{} runs printed more than 1 MiB on a stream: racedemo kept the first 1 MiB of each",
            tally.truncated
        ));
    }
    if options.correct.is_empty() && tally.outcomes.len() > 1 {
        notes.push(
            "without --correct no outcome is called wrong: give the correct one to see how \
             often a run differed from it"
                .into(),
        );
    }
    CommandResult {
        command: command.to_string(),
        setting: None,
        histogram: histogram(options, tally),
        runs: tally.runs,
        correct: options.correct.clone(),
        outcomes,
        statuses: tally
            .statuses
            .iter()
            .map(|(s, &n)| StatusCount {
                status: s.clone(),
                runs: n,
            })
            .collect(),
        expect_met: options.expect.is_met(tally.differed, tally.differed),
        expect: options.expect,
        differed,
        time: RunTimes::of(tally),
        examples: tally.examples.clone(),
        truncated: tally.truncated,
        notes,
    }
}
