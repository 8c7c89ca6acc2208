//! `exec` as text: per command, how often a run differed, its outcomes as bars, how runs
//! ended, run times, and the first runs that differed or failed.

use std::io::{self, Write};

use super::chart::{Row, bar};
use super::{Paint, Text};
use crate::format::{duration, percent, thousands};
use crate::report::ExecReport;

/// Cells of the longest outcome bar.
const BAR: usize = 30;
/// Outcomes listed per command; the rest are summed on one line.
const ROWS: usize = 10;

impl Text {
    pub(super) fn exec_report(&self, report: &ExecReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{} {} runs of each command, {} at once, timeout {}; outcome: {}; seed {}",
            self.paint("racedemo exec:", Paint::Bold),
            thousands(report.runs),
            report.parallel,
            duration((report.timeout_s * 1e9) as u64),
            report.outcome_from,
            report.seed
        )?;
        let p = &report.perturbations;
        let mut perturbed = Vec::new();
        if let Some(n) = p.cpus {
            perturbed.push(format!(
                "each run pinned to {n} CPU{}",
                if n == 1 { "" } else { "s" }
            ));
        }
        if p.load > 0 {
            perturbed.push(format!(
                "{} busy neighbour thread{}",
                p.load,
                if p.load == 1 { "" } else { "s" }
            ));
        }
        if let Some(s) = p.switch_interval_s {
            perturbed.push(format!("Python's switch interval {s:e} s"));
        }
        if !perturbed.is_empty() {
            writeln!(out, "  perturbed: {}", perturbed.join(" · "))?;
        }
        for c in &report.commands {
            writeln!(out)?;
            writeln!(
                out,
                "{}{}",
                self.paint(&format!("$ {}", c.command), Paint::Bold),
                c.setting
                    .as_ref()
                    .map_or(String::new(), |s| format!("   [{s}]"))
            )?;
            let rate = &c.differed;
            let headline = if c.correct.is_empty() {
                format!(
                    "{} distinct outcome{} in {} runs; {} failed",
                    c.outcomes.len(),
                    if c.outcomes.len() == 1 { "" } else { "s" },
                    thousands(c.runs),
                    thousands(rate.differed)
                )
            } else {
                format!(
                    "differed from {} in {} of {} runs ({}; 95% CI {})",
                    c.correct.join(" or "),
                    thousands(rate.differed),
                    thousands(c.runs),
                    percent(rate.differed_rate),
                    rate.uncertainty()
                )
            };
            let paint = if rate.differed > 0 {
                Paint::Bad
            } else {
                Paint::Good
            };
            writeln!(out, "  {}", self.paint(&headline, paint))?;
            let width = c
                .outcomes
                .iter()
                .map(|o| o.value.chars().count())
                .max()
                .unwrap_or(7)
                .clamp(7, 40);
            let most = c.outcomes.first().map_or(1, |o| o.runs) as f64;
            // The bar takes what the line leaves, so that no row wraps.
            let cells = self.width.saturating_sub(width + 22).clamp(8, BAR);
            writeln!(
                out,
                "  {:<width$}  {:>6}  {:>6}",
                "outcome", "runs", "share"
            )?;
            for o in c.outcomes.iter().take(ROWS) {
                let mark = match o.correct {
                    Some(false) => self.paint(" ✗", Paint::Bad),
                    _ => String::new(),
                };
                let mut value: String = o.value.chars().take(39).collect();
                if o.value.chars().count() > 40 {
                    value.push('…');
                } else {
                    value = o.value.clone();
                }
                writeln!(
                    out,
                    "  {value:<width$}  {:>6}  {:>6}  {}{mark}",
                    thousands(o.runs),
                    percent(o.share),
                    bar(o.runs as f64, most, cells)
                )?;
            }
            if c.outcomes.len() > ROWS {
                let rest = &c.outcomes[ROWS..];
                let runs: u64 = rest.iter().map(|o| o.runs).sum();
                writeln!(
                    out,
                    "  … {} other outcomes, {} runs ({}; every one in --format json)",
                    thousands(rest.len() as u64),
                    thousands(runs),
                    percent(runs as f64 / c.runs.max(1) as f64)
                )?;
            }
            if !c.histogram.is_empty() {
                let correct: Vec<i64> = c.correct.iter().filter_map(|v| v.parse().ok()).collect();
                let rows: Vec<Row> = c
                    .histogram
                    .iter()
                    .map(|b| {
                        let right = b.low == b.high && correct.contains(&b.low);
                        Row {
                            label: if b.low == b.high {
                                b.low.to_string()
                            } else {
                                format!("{}–{}", b.low, b.high)
                            },
                            count: b.runs,
                            paint: if right { Paint::Good } else { Paint::Bad },
                            after: if right { "correct" } else { "" }.to_string(),
                            note: String::new(),
                        }
                    })
                    .collect();
                writeln!(out)?;
                self.histogram(["outcome", "runs"], &rows, out)?;
                writeln!(out)?;
            }
            let statuses: Vec<String> = c
                .statuses
                .iter()
                .map(|s| format!("{} {}", s.status, thousands(s.runs)))
                .collect();
            writeln!(out, "  ended: {}", statuses.join(" · "))?;
            writeln!(
                out,
                "  run time: min {} · median {} · max {}",
                duration((c.time.min_s * 1e9) as u64),
                duration((c.time.median_s * 1e9) as u64),
                duration((c.time.max_s * 1e9) as u64)
            )?;
            for e in &c.examples {
                writeln!(out, "  run {} ({}): outcome {}", e.run, e.status, e.outcome)?;
                for (name, tail) in [("stdout", &e.stdout_tail), ("stderr", &e.stderr_tail)] {
                    for line in tail.lines() {
                        writeln!(out, "    {name} | {line}")?;
                    }
                }
            }
            for note in &c.notes {
                writeln!(out, "{} {note}", self.paint("note:", Paint::Warn))?;
            }
        }
        if !report.notes.is_empty() {
            writeln!(out)?;
        }
        for note in &report.notes {
            writeln!(out, "{} {note}", self.paint("note:", Paint::Warn))?;
        }
        if let Some(fault) = &report.fault {
            writeln!(out, "\nstopped early: {fault}")?;
        }
        self.interrupted(report.interrupted, out)
    }
}
