//! The scenario commands: list, show, run, check.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Instant;

use crate::diagnosis::{self, models};
use crate::error::Error;
use crate::expect::Expect;
use crate::exposure::{self, Lengthened};
use crate::format::thousands;
use crate::harness::{self, Workload};
use crate::options::{CheckOptions, ScenarioJob, ScenarioOptions};
use crate::progress::Progress;
use crate::report::{
    self, CheckBody, CheckRow, ConditionRow, Envelope, GradedBy, GroupInfo, Machine, OutcomeRow,
    PythonTally, ScenarioBody, ScenarioExplanation, ScenarioInfo, ScenarioReport, ScenarioSummary,
    TrialMode, Unobserved,
};
use crate::scenario::litmus::Dialect;
use crate::scenario::model::{Model, Verdict, Verdicts};
use crate::scenario::program::matches;
use crate::scenario::{Grade, Outcome, Overrides, Program, Scenario, interleave, library};
use crate::stats::{self, Rate, Timing};

const WRITING: &str = "writing the report";

/// Name and summary of every scenario found, the summary wrapped in its column with where the
/// scenario comes from after it, so the columns stay aligned at any width.
pub fn list(width: usize, out: &mut dyn Write) -> Result<(), Error> {
    let sources = library::all()?;
    let name_width = sources
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let indent = " ".repeat(name_width + 2);
    let column = width.saturating_sub(name_width + 2).max(20);
    let mut lines = vec![format!("{:<name_width$}  SUMMARY (FROM)", "NAME")];
    for source in sources {
        let (name, origin) = (source.name.clone(), source.origin.to_string());
        let summary = match Scenario::load(source) {
            Ok(s) => s.summary().to_string(),
            Err(e) => format!("(invalid: {e})"),
        };
        let text = format!("{summary} ({origin})");
        let options = textwrap::Options::new(column)
            .break_words(false)
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        for (i, part) in textwrap::wrap(&text, options).iter().enumerate() {
            let head = if i == 0 {
                format!("{name:<name_width$}  ")
            } else {
                indent.clone()
            };
            lines.push(format!("{head}{part}"));
        }
    }
    writeln!(out, "{}", lines.join("\n")).map_err(Error::io(WRITING))
}

/// `scenario show`: the explanation and the program, or (`python`) the same program as
/// Python.
pub fn show(
    scenario: &Scenario,
    width: usize,
    python: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    if python {
        return write!(out, "{}", scenario.python()).map_err(Error::io(WRITING));
    }
    let text = format!(
        "{} — {}\n{}\nfrom {}\n\n{}\n\n{}",
        scenario.name,
        scenario.title(),
        scenario.summary(),
        scenario.origin,
        scenario.explanation(),
        scenario.listing()
    );
    write!(out, "{}", crate::format::wrap_lines(&text, width)).map_err(Error::io(WRITING))
}

pub fn run(options: &ScenarioOptions, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    let job = &options.job;
    let plan = &job.plan;
    let phases = 1 + u64::from(job.python.is_some());
    let mut progress = Progress::new(phases, plan.duration, options.output.progress);
    progress.phase(&job.scenario.name, plan.trials);
    let (program, mut report) = run_one(job, options.expect, &mut progress)?;
    if let Some(runs) = job.python
        && !report.interrupted
    {
        report.body.python = Some(super::python::run(job, runs, &mut progress)?);
        report.interrupted = harness::interrupted();
    }
    progress.finish();
    if options.explain {
        report.body.explain = explain(&program, &report);
    }
    report::exporter(&options.output)
        .scenario(&report, out)
        .and_then(|()| out.flush())
        .map_err(Error::io(WRITING))?;
    Ok(failure(&report))
}

pub fn check(options: &CheckOptions, out: &mut dyn Write) -> Result<Vec<String>, Error> {
    let phases = options
        .scenarios
        .iter()
        .map(|s| 1 + u64::from(s.python.is_some()))
        .sum();
    let duration = options.scenarios.first().and_then(|s| s.plan.duration);
    let mut progress = Progress::new(phases, duration, options.output.progress);
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for job in &options.scenarios {
        progress.phase(&job.scenario.name, job.plan.trials);
        let started = Instant::now();
        let (_, report) = run_one(job, job.scenario.expect(), &mut progress)?;
        failures.extend(failure(&report));
        let mut row = check_row(&report, started.elapsed().as_secs_f64());
        if report.interrupted {
            rows.push(row);
            break;
        }
        if let Some(runs) = job.python {
            let python = super::python::run(job, runs, &mut progress)?;
            row.verdict.push_str(&format!(
                "; in Python the race showed in {} of {} runs",
                thousands(python.rate.differed),
                thousands(python.runs)
            ));
            row.python = Some(PythonTally {
                runs: python.runs,
                differed: python.rate.differed,
            });
        }
        rows.push(row);
        if harness::interrupted() {
            break;
        }
    }
    progress.finish();
    let failed = rows.iter().filter(|r| !r.passed).count() as u64;
    let report = Envelope::new(
        harness::interrupted(),
        Machine::this(options.scenarios.first().map_or(1, |s| s.plan.cpus)),
        CheckBody {
            passed: rows.len() as u64 - failed,
            failed,
            scenarios: rows,
        },
    );
    report::exporter(&options.output)
        .check(&report, out)
        .and_then(|()| out.flush())
        .map_err(Error::io(WRITING))?;
    if let Some(path) = &options.junit {
        std::fs::File::create(path)
            .and_then(|file| {
                let mut file = io::BufWriter::new(file);
                report::junit::write(&report, &mut file)?;
                file.flush()
            })
            .map_err(Error::io("writing the --junit file"))?;
    }
    Ok(failures)
}

/// Why a run failed: its expectation not met, and each contradiction between its grades and
/// the computed models.
fn failure(report: &ScenarioReport) -> Vec<String> {
    let s = &report.summary;
    let expect = (!report.expect_met).then(|| {
        report.expect.failure(
            &report.scenario.name,
            s.trials,
            s.forbidden,
            report.extra.map(|e| e.searched()),
        )
    });
    expect
        .into_iter()
        .chain(report.contradictions.iter().map(|c| {
            format!(
                "{}: grades contradict the models: {c}",
                report.scenario.name
            )
        }))
        .collect()
}

/// The program to run: the job's, or one with longer trials when the scenario expects a race,
/// its size was not pinned and probe trials at the file's size did not overlap or race.
fn exposed_program(
    job: &ScenarioJob,
    expect: Expect,
    progress: &mut Progress,
) -> Result<(Program, Option<Lengthened>), Error> {
    let program = &job.program;
    if !job.lengthen
        || expect != Expect::Race
        || program.threads < 2
        || program.iterations < 2
        || program.is_tiny()
    {
        return Ok((program.clone(), None));
    }
    progress.rename(&format!("{} (probing)", job.scenario.name));
    let (iterations, lengthened) = exposure::calibrate(
        program.iterations,
        &job.plan,
        |iterations| {
            job.scenario
                .compile(Overrides {
                    iterations: Some(iterations),
                    ..job.overrides
                })
                .ok()
        },
        |outcome| program.grade(outcome) != Grade::Acceptable,
    )
    .map_err(Error::io("starting a worker thread"))?;
    progress.rename(&job.scenario.name);
    let program = match lengthened {
        Some(_) => job.scenario.compile(Overrides {
            iterations: Some(iterations),
            ..job.overrides
        })?,
        None => program.clone(),
    };
    Ok((program, lengthened))
}

/// Runs one scenario's trials and builds its report; also gives back the program it ran.
fn run_one(
    job: &ScenarioJob,
    expect: Expect,
    progress: &mut Progress,
) -> Result<(Program, ScenarioReport), Error> {
    let (scenario, plan) = (&job.scenario, &job.plan);
    let (program, lengthened) = exposed_program(job, expect, progress)?;
    let program = &program;
    let mut counts: BTreeMap<Outcome, u64> = BTreeMap::new();
    let mut timing = Timing::default();
    let add = |counts: &mut BTreeMap<Outcome, u64>,
               timing: &mut Timing,
               progress: &mut Progress,
               trial: harness::Trial<Outcome>| {
        let quiet = program.grade(&trial.outcome) == Grade::Acceptable;
        timing.add(trial.elapsed_ns, trial.overlap, quiet);
        *counts.entry(trial.outcome).or_insert(0) += 1;
        progress.trial_done();
    };
    let mut info = harness::run(program, plan, |t| {
        add(&mut counts, &mut timing, progress, t)
    })
    .map_err(Error::io("starting a worker thread"))?;
    let raced = |o: &Outcome| program.grade(o) != Grade::Acceptable;
    let mut extra = None;
    if expect == Expect::Race && !info.interrupted && !counts.keys().any(raced) {
        let done = counts.values().sum();
        let more = exposure::until_race(
            program,
            plan,
            done,
            job.race_budget,
            &mut info,
            raced,
            |t| add(&mut counts, &mut timing, progress, t),
        )
        .map_err(Error::io("starting a worker thread"))?;
        extra = Some(more);
    }
    timing.set_wall_ns(info.wall_ns);

    let trials = timing.trials();
    let verdicts = Verdicts::compute(program);
    // Outcomes a model allows that no trial produced are listed too, with count 0.
    let mut listed = counts.clone();
    for outcome in verdicts.allowed_outcomes() {
        listed.entry(outcome).or_insert(0);
    }
    let mut outcomes: Vec<OutcomeRow> = listed
        .iter()
        .map(|(outcome, &count)| {
            let (values, invariant_held) = match outcome {
                Outcome::Values {
                    values,
                    invariant_held,
                } => (Some(values.to_vec()), *invariant_held),
                _ => (None, true),
            };
            let rule = models::rule_of(program, outcome);
            let means = rule.and_then(|r| program.rules[r].means.clone());
            OutcomeRow {
                outcome: program.describe(outcome),
                values,
                invariant_held,
                count,
                share: stats::ratio(count as f64, trials as f64),
                grade: program.grade(outcome),
                graded_by: match outcome {
                    _ if outcome.halted() => GradedBy::Halted,
                    _ if !invariant_held => GradedBy::Invariant,
                    _ if rule.is_some() => GradedBy::Rule,
                    _ => GradedBy::Default,
                },
                means,
                allowed: models::allowed(&verdicts, outcome),
            }
        })
        .collect();
    // Most frequent first; the sort is stable, so ties keep the outcomes' natural order.
    outcomes.sort_by_key(|o| std::cmp::Reverse(o.count));

    let graded = |g: Grade| {
        outcomes
            .iter()
            .filter(|o| o.grade == g)
            .map(|o| o.count)
            .sum::<u64>()
    };
    let (forbidden, interesting, acceptable) = (
        graded(Grade::Forbidden),
        graded(Grade::Interesting),
        graded(Grade::Acceptable),
    );
    let differed = forbidden + interesting;
    let summary = ScenarioSummary {
        trials,
        rate: Rate::new(differed, trials),
        forbidden,
        interesting,
        acceptable,
        deadlocks: counts.get(&Outcome::Deadlock).copied().unwrap_or(0),
        stuck: counts.get(&Outcome::Stuck).copied().unwrap_or(0),
        distinct_outcomes: counts.len() as u64,
        pace: timing.pace(program.iterations_per_trial(), differed),
    };
    let mut hardware_explains = false;
    let unobserved: Vec<Unobserved> = program
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.grade != Grade::Acceptable)
        .filter(|(_, r)| {
            !counts.keys().any(|o| match o {
                Outcome::Values { values, .. } => matches(&r.pattern, values),
                _ => false,
            })
        })
        .map(|(i, r)| {
            let (note, allowed) = models::unobserved(program, &verdicts, i);
            hardware_explains |= allowed && r.grade == Grade::Interesting;
            Unobserved {
                pattern: models::pattern_text(program, &r.pattern),
                grade: r.grade,
                means: r.means.clone(),
                note,
            }
        })
        .collect();
    let mut notes = diagnosis::scenario_notes(
        program,
        plan.start,
        expect,
        &summary,
        hardware_explains,
        info.batched,
    );
    notes.extend(diagnosis::shared_cpus(
        program.threads,
        plan.cpus,
        info.batched,
    ));
    notes.extend(models::notes(program, &verdicts, &counts, trials));
    let contradictions = models::contradictions(program, &verdicts, &counts);
    let condition = condition_row(scenario, program, &verdicts, &counts);
    notes.extend(lengthened.map(|l| l.describe("iterations")));
    notes.extend(extra.map(|e| e.describe()));
    let report = Envelope::new(
        harness::interrupted(),
        Machine::this(plan.cpus),
        ScenarioBody {
            scenario: ScenarioInfo {
                name: scenario.name.clone(),
                title: scenario.title().to_string(),
                summary: scenario.summary().to_string(),
                origin: scenario.origin.to_string(),
                threads: program.threads,
                iterations: program.iterations,
                trials,
                duration_s: plan.duration.map(|d| d.as_secs_f64()),
                trial_mode: if info.batched {
                    TrialMode::Batch
                } else {
                    TrialMode::Single
                },
                start: plan.start,
                seed: plan.seed,
                groups: program
                    .groups
                    .iter()
                    .map(|g| GroupInfo {
                        name: g.name.clone(),
                        threads: g.threads,
                        iterations: g.iterations,
                    })
                    .collect(),
                outcome: program.outcome.iter().map(|o| o.0.clone()).collect(),
                invariant: program.invariant.as_ref().map(|i| i.0.clone()),
                lengthened,
            },
            outcomes,
            unobserved,
            models: models::model_rows(&verdicts),
            contradictions,
            condition,
            expect_met: expect.is_met(differed, forbidden),
            expect,
            summary,
            notes,
            explain: None,
            extra,
            python: None,
        },
    );
    Ok((program.clone(), report))
}

/// A litmus test's condition: herd's verdict under each model that was computed and applies
/// to the test's dialect, and the trials that satisfied it.
fn condition_row(
    scenario: &Scenario,
    program: &Program,
    verdicts: &Verdicts,
    counts: &BTreeMap<Outcome, u64>,
) -> Option<ConditionRow> {
    let condition = program.condition.as_ref()?;
    let applies = |m: Model| {
        !(m == Model::Rc11 && scenario.litmus.as_ref().map(|l| l.dialect) == Some(Dialect::X86))
    };
    let observation = |m: Model| match verdicts.verdict(m)? {
        Verdict::Computed {
            outcomes,
            exhaustive,
            ..
        } if applies(m) => {
            let states = outcomes.iter().map(|o| match o {
                Outcome::Values { values, .. } => Some(values.as_slice()),
                _ => None,
            });
            condition.observation(states, *exhaustive)
        }
        _ => None,
    };
    Some(ConditionRow {
        text: condition.text.clone(),
        sc: observation(Model::Sc),
        tso: observation(Model::Tso),
        rc11: observation(Model::Rc11),
        observed: counts
            .iter()
            .filter(|(o, _)| program.satisfies(o))
            .map(|(_, n)| n)
            .sum(),
    })
}

/// The observed outcome most worth explaining (the worst grade, then the most frequent), and
/// how the threads' steps can produce it.
fn explain(program: &Program, report: &ScenarioReport) -> Option<ScenarioExplanation> {
    let row = report
        .outcomes
        .iter()
        .filter(|o| o.count > 0)
        .max_by_key(|o| (o.grade, o.count))?;
    let outcome = match &row.values {
        Some(values) => Outcome::Values {
            values: values.iter().copied().collect(),
            invariant_held: row.invariant_held,
        },
        None => program.halted_named(&row.outcome)?,
    };
    Some(ScenarioExplanation {
        outcome: row.outcome.clone(),
        grade: row.grade,
        count: row.count,
        derivation: interleave::derive(program, &outcome),
    })
}

fn check_row(r: &ScenarioReport, elapsed_s: f64) -> CheckRow {
    let s = &r.summary;
    let mut verdict = if let Some(c) = &r.condition {
        // A litmus test's question is its condition: its verdict stands for the grades'.
        format!("condition {}", c.line(s.trials))
    } else if s.forbidden > 0 {
        let halted: Vec<String> = [(s.deadlocks, "deadlocks"), (s.stuck, "stuck")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .enumerate()
            .map(|(i, (n, what))| {
                let of_them = if i == 0 { " of them" } else { "" };
                format!("{}{of_them} {what}", thousands(*n))
            })
            .collect();
        let deadlocks = if halted.is_empty() {
            String::new()
        } else {
            format!(", {}", halted.join(" and "))
        };
        format!(
            "forbidden outcome in {} of {} trials{deadlocks}",
            thousands(s.forbidden),
            thousands(s.trials)
        )
    } else if s.interesting > 0 {
        format!(
            "interesting outcome in {} of {} trials",
            thousands(s.interesting),
            thousands(s.trials)
        )
    } else {
        format!("all {} trials acceptable", thousands(s.trials))
    };
    for u in r
        .unobserved
        .iter()
        .filter(|u| u.grade == Grade::Interesting)
    {
        verdict.push_str(&format!("; {}: {}", u.pattern, u.note));
    }
    for c in &r.contradictions {
        verdict.push_str(&format!("; contradicts the models: {c}"));
    }
    CheckRow {
        name: r.scenario.name.clone(),
        origin: r.scenario.origin.clone(),
        trials: s.trials,
        differed: s.rate.differed,
        forbidden: s.forbidden,
        elapsed_s,
        deadlocks: s.deadlocks,
        stuck: s.stuck,
        expect: r.expect,
        expect_met: r.expect_met,
        contradictions: r.contradictions.clone(),
        passed: r.expect_met && r.contradictions.is_empty(),
        verdict,
        python: None,
    }
}
