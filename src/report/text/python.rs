//! Text rendering of `scenario run --python`: the Python program's outcomes beside
//! racedemo's own, in one table.

use std::io::{self, Write};

use super::{Paint, Text, thousands};
use crate::format::{percent, seconds};
use crate::report::{PythonRun, ScenarioReport};

/// Outcomes listed one per row; with more, one row per grade.
const MAX_ROWS: usize = 12;

impl Text {
    pub(super) fn python_section(
        &self,
        r: &ScenarioReport,
        p: &PythonRun,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        writeln!(
            out,
            "the same program in {} (`--as python`): {} runs, {} at once",
            p.interpreter,
            thousands(p.runs),
            p.parallel
        )?;
        // Every outcome either side saw, most common over both first.
        let mut rows: Vec<(String, u64, u64, String)> = Vec::new();
        for o in &r.outcomes {
            rows.push((o.outcome.clone(), o.count, 0, o.grade.name().into()));
        }
        for o in &p.outcomes {
            match rows.iter_mut().find(|row| row.0 == o.outcome) {
                Some(row) => row.2 = o.runs,
                None => rows.push((
                    o.outcome.clone(),
                    0,
                    o.runs,
                    o.grade.map_or("no outcome", |g| g.name()).into(),
                )),
            }
        }
        // Too many to list (a counter's every final value): one row per grade.
        if rows.len() > MAX_ROWS {
            let mut by_grade: Vec<(u64, u64, u64, String)> = Vec::new();
            for (_, native, python, grade) in rows {
                match by_grade.iter_mut().find(|g| g.3 == grade) {
                    Some(g) => *g = (g.0 + 1, g.1 + native, g.2 + python, grade),
                    None => by_grade.push((1, native, python, grade)),
                }
            }
            rows = by_grade
                .into_iter()
                .map(|(n, native, python, grade)| {
                    let outcomes = if n == 1 { "outcome" } else { "outcomes" };
                    (
                        format!("{} {outcomes}", thousands(n)),
                        native,
                        python,
                        grade,
                    )
                })
                .collect();
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.1 + r.2));
        let width = rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(0)
            .max("outcome".len());
        writeln!(
            out,
            "{:<width$}  {:>8}  {:>6}",
            "outcome", "racedemo", "python"
        )?;
        for (outcome, native, python, grade) in &rows {
            writeln!(
                out,
                "{outcome:<width$}  {:>8}  {:>6}  {grade}",
                thousands(*native),
                thousands(*python)
            )?;
        }
        let line = format!(
            "in Python the race showed in {} of {} runs ({}; 95% CI {}) · run time median {}",
            thousands(p.rate.differed),
            thousands(p.runs),
            percent(p.rate.differed_rate),
            p.rate.uncertainty(),
            seconds(p.time.median_s)
        );
        writeln!(out, "{}", self.by_count(p.rate.differed, &line))?;
        for note in &p.notes {
            writeln!(out, "{} {note}", self.paint("note:", Paint::Warn))?;
        }
        Ok(())
    }
}
