//! `isolation` as text: the matrix, then each level's replay step by step.

use std::io::{self, Write};

use super::{Paint, Text};
use crate::format::thousands;
use crate::report::IsolationReport;

impl Text {
    pub(super) fn isolation_report(
        &self,
        report: &IsolationReport,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        writeln!(
            out,
            "{} read, +1, write in one transaction: {} {} x {} increments, {} trials per run, \
             without retry and with --retry {}",
            self.paint("racedemo isolation:", Paint::Bold),
            report.workers.count,
            report.workers.kind.name(),
            thousands(report.iterations),
            thousands(report.trials),
            report.retry
        )?;
        for location in unique(report.cells.iter().map(|c| c.location.as_str())) {
            writeln!(out, "  store  {location}")?;
        }
        writeln!(out)?;
        for retried in [false, true] {
            let title = if retried {
                format!("with --retry {}", report.retry)
            } else {
                "without retry".to_string()
            };
            writeln!(out, "{}", self.paint(&title, Paint::Bold))?;
            let (header, rows) = report.matrix(retried);
            self.table(&header, &rows, out)?;
            writeln!(out)?;
        }
        writeln!(
            out,
            "P4, the lost update (Hermitage): T1 and T2 begin, T1 reads, T2 reads, T1 writes, \
             T2 writes, T1 commits, T2 commits"
        )?;
        for c in &report.cells {
            let story = match (&c.replay, &c.unavailable) {
                (Some(r), _) => format!(
                    "{} · counter {}: {}",
                    r.events
                        .iter()
                        .map(|e| e.describe())
                        .collect::<Vec<_>>()
                        .join(" · "),
                    r.final_value,
                    c.verdict()
                ),
                (None, Some(why)) => why.clone(),
                (None, None) => "not run".into(),
            };
            writeln!(out, "  {} {}: {story}", c.store.name(), c.level.name())?;
        }
        if let Some(fault) = &report.fault {
            writeln!(out, "\nstopped early: {fault}")?;
        }
        self.left_behind(&report.left_behind, out)?;
        self.interrupted(report.interrupted, out)
    }
}

impl Text {
    /// Columns padded to their widest cell, two spaces apart.
    fn table(
        &self,
        header: &[(&str, bool)],
        rows: &[Vec<String>],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].0.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| -> String {
            cells
                .iter()
                .zip(header.iter().zip(&widths))
                .map(|(text, (&(_, right), &w))| {
                    if right {
                        format!("{text:>w$}")
                    } else {
                        format!("{text:<w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let names = header.iter().map(|h| h.0).collect();
        writeln!(out, "  {}", line(names))?;
        for row in rows {
            writeln!(out, "  {}", line(row.iter().map(String::as_str).collect()))?;
        }
        Ok(())
    }
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for i in items {
        if !seen.contains(&i) {
            seen.push(i);
        }
    }
    seen
}
