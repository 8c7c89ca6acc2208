//! Text rendering of `scenario run` and `scenario check`.

use std::io::{self, Write};

use super::chart::Row;
use super::{Paint, Text, nanos, rate_line, speed_line, thousands};
use crate::format::percent;
use crate::report::{CheckReport, ModelRow, OutcomeRow, ScenarioExplanation, ScenarioReport};
use crate::scenario::Grade;
use crate::scenario::interleave::Derivation;
use crate::scenario::model::Model;

/// Steps of a derived interleaving shown before the middle is elided.
const MAX_STORY_STEPS: usize = 24;

/// Distinct outcomes listed before the rest are counted in one line.
const MAX_OUTCOME_ROWS: usize = 20;

impl Text {
    fn grade(&self, grade: Grade, text: &str) -> String {
        self.paint(text, grade_paint(grade))
    }

    pub(super) fn scenario_report(
        &self,
        r: &ScenarioReport,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let info = &r.scenario;
        let head = format!("racedemo scenario {}:", info.name);
        writeln!(
            out,
            "{} {} ({})",
            self.paint(&head, Paint::Bold),
            info.title,
            info.origin
        )?;
        let groups: Vec<String> = info
            .groups
            .iter()
            .map(|g| format!("{} ({} x {})", g.name, g.threads, thousands(g.iterations)))
            .collect();
        let m = &r.machine;
        writeln!(out, "  {:<9} {}", "summary", info.summary)?;
        writeln!(
            out,
            "  {:<9} {} (threads x iterations)",
            "groups",
            groups.join(", ")
        )?;
        writeln!(
            out,
            "  {:<9} {} · start {} · seed {} · {} logical CPUs, {} {}",
            "trials",
            match r.extra {
                Some(e) => format!(
                    "{}, then {} more looking for a race",
                    thousands(info.trials.saturating_sub(e.trials)),
                    thousands(e.trials)
                ),
                None => thousands(info.trials),
            },
            info.start.name(),
            info.seed,
            m.logical_cpus,
            m.os,
            m.arch
        )?;
        if let Some(l) = &info.lengthened {
            writeln!(out, "  {:<9} {}", "longer", l.header())?;
        }
        if let Some(inv) = &info.invariant {
            writeln!(out, "  {:<9} {inv}", "invariant")?;
        }
        writeln!(out)?;

        // The models' columns only where one was computed.
        let modelled = r.models.iter().any(|m| m.computed);
        let after = |o: &OutcomeRow| {
            if !modelled {
                return o.grade.name().to_string();
            }
            let says = |m| match o.allowed.get(m) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            };
            format!(
                "{:<11}  {:<3}  {:<3}  {:<4}",
                o.grade.name(),
                says(Model::Sc),
                says(Model::Tso),
                says(Model::Rc11)
            )
        };
        let rows: Vec<Row> = r
            .outcomes
            .iter()
            .take(MAX_OUTCOME_ROWS)
            .map(|o| Row {
                label: o.outcome.clone(),
                count: o.count,
                paint: grade_paint(o.grade),
                after: after(o),
                note: o
                    .means
                    .as_deref()
                    .map_or(String::new(), |m| format!("  {m}")),
            })
            .collect();
        let heading = if modelled {
            "grade        SC   TSO  RC11"
        } else {
            ""
        };
        self.histogram_headed(["outcome", "count", heading], &rows, out)?;
        if modelled {
            writeln!(out, "{}", models_line(&r.models))?;
        }
        if let Some(c) = &r.condition {
            writeln!(out, "condition: {}", c.line(r.summary.trials))?;
        }
        if r.outcomes.len() > MAX_OUTCOME_ROWS {
            let rest: u64 = r.outcomes[MAX_OUTCOME_ROWS..].iter().map(|o| o.count).sum();
            writeln!(
                out,
                "... and {} more distinct outcomes in {} trials (--format json lists them all)",
                thousands((r.outcomes.len() - MAX_OUTCOME_ROWS) as u64),
                thousands(rest)
            )?;
        }
        for u in &r.unobserved {
            let means = u
                .means
                .as_deref()
                .map_or(String::new(), |m| format!(" ({m})"));
            let line = format!("{} [{}]: {}{means}", u.pattern, u.grade.name(), u.note);
            writeln!(out, "{}", self.grade(u.grade, &line))?;
        }
        writeln!(out)?;
        let s = &r.summary;
        let line = rate_line(
            "showed the race",
            s.rate.differed,
            s.trials,
            s.rate.differed_rate,
            s.rate.differed_ci95,
            s.rate.differed_upper95,
        );
        writeln!(out, "{}", self.by_count(s.rate.differed, &line))?;
        // `stuck` only where it happened: most scenarios cannot get stuck.
        let stuck = if s.stuck > 0 {
            format!(" · stuck {}", thousands(s.stuck))
        } else {
            String::new()
        };
        writeln!(
            out,
            "forbidden {} · interesting {} · deadlocks {}{stuck} · {} per pass over the ops · threads overlapped {} of each trial",
            thousands(s.forbidden),
            thousands(s.interesting),
            thousands(s.deadlocks),
            nanos(s.pace.ns_per_op),
            percent(s.pace.overlap.mean),
        )?;
        speed_line(&s.pace, "showing the race", info.trial_mode, out)?;
        if let Some(p) = &r.python {
            writeln!(out)?;
            self.python_section(r, p, out)?;
            writeln!(out)?;
        }
        self.expect_line(&info.name, r.expect, r.expect_met, out)?;
        for c in &r.contradictions {
            let line = format!("grades contradict the models: {c}");
            writeln!(out, "{}", self.paint(&line, Paint::Bad))?;
        }
        if let Some(e) = &r.explain {
            writeln!(out)?;
            self.scenario_explanation(e, out)?;
        }
        for note in &r.notes {
            writeln!(out, "{} {note}", self.paint("note:", Paint::Warn))?;
        }
        self.interrupted(r.interrupted, out)
    }

    fn scenario_explanation(&self, e: &ScenarioExplanation, out: &mut dyn Write) -> io::Result<()> {
        let head = format!(
            "{} {} ({}, {} {})",
            self.paint("explain:", Paint::Bold),
            e.outcome,
            self.grade(e.grade, e.grade.name()),
            thousands(e.count),
            if e.count == 1 { "trial" } else { "trials" }
        );
        match &e.derivation {
            Derivation::Interleaving { steps } => {
                writeln!(
                    out,
                    "{head}; one order of the threads' steps that produces it:"
                )?;
                let width = steps.len().to_string().len();
                let shown: Vec<usize> = if steps.len() <= MAX_STORY_STEPS {
                    (0..steps.len()).collect()
                } else {
                    let half = MAX_STORY_STEPS / 2;
                    (0..half).chain(steps.len() - half..steps.len()).collect()
                };
                for (k, &i) in shown.iter().enumerate() {
                    if k > 0 && i != shown[k - 1] + 1 {
                        writeln!(
                            out,
                            "  {:>width$}  ... {} more steps ...",
                            "",
                            i - shown[k - 1] - 1
                        )?;
                    }
                    writeln!(out, "  {:>width$}. {}", i + 1, steps[i])?;
                }
                Ok(())
            }
            Derivation::Impossible { states } => writeln!(
                out,
                "{head}: no order of the threads' steps produces it (all {} reachable states \
                 checked), so with each step seeing every earlier one it cannot happen. Seeing \
                 it means memory operations took effect out of program order (on x86, a store \
                 still in its core's store buffer while a later load ran): a weak-memory \
                 effect, which these orderings allow.",
                thousands(*states as u64)
            ),
            Derivation::GaveUp { states } => writeln!(
                out,
                "{head}: too many interleavings to search ({} states tried); with fewer \
                 --iterations or --threads the search can finish.",
                thousands(*states as u64)
            ),
        }
    }

    pub(super) fn check_report(&self, r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        let width = r.scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for s in &r.scenarios {
            let mark = if s.passed {
                self.paint("ok  ", Paint::Good)
            } else {
                self.paint("FAIL", Paint::Bad)
            };
            writeln!(
                out,
                "{mark}  {:<width$}  expect {:<7}  {}",
                s.name,
                s.expect.name(),
                s.verdict
            )?;
        }
        let line = format!("{} passed, {} failed", r.passed, r.failed);
        writeln!(out, "{}", self.by_count(r.failed, &line))?;
        self.interrupted(r.interrupted, out)
    }
}

/// What each model's columns rest on: how much it explored, or why it was not computed
/// (models with the same reason named together).
fn models_line(models: &[ModelRow]) -> String {
    let said = |m: &ModelRow| match (m.exhaustive, m.explored) {
        (Some(true), Some(n)) => format!(
            "exhaustive ({} {})",
            thousands(n),
            if m.model == Model::Rc11 {
                "candidate executions"
            } else {
                "states"
            }
        ),
        _ => m.note.clone().unwrap_or_else(|| "not computed".into()),
    };
    let mut parts: Vec<(Vec<&str>, String)> = Vec::new();
    for m in models {
        let text = said(m);
        match parts.last_mut() {
            Some((names, last)) if *last == text && !text.starts_with("exhaustive") => {
                names.push(&m.name)
            }
            _ => parts.push((vec![&m.name], text)),
        }
    }
    let parts: Vec<String> = parts
        .iter()
        .map(|(names, text)| format!("{}: {text}", names.join(", ")))
        .collect();
    format!("models: {}", parts.join(" · "))
}

fn grade_paint(grade: Grade) -> Paint {
    match grade {
        Grade::Acceptable => Paint::Good,
        Grade::Interesting => Paint::Warn,
        Grade::Forbidden => Paint::Bad,
    }
}
