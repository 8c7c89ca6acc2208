//! Text rendering of the counter commands (`unsafe`, `locked`, ..., `compare`): the header, the
//! per-trial table, the summary or the side-by-side comparison, and the notes.

use std::io::{self, Write};

use super::{Paint, Text, differed_line, range, speed_line, times};
use crate::format::{duration, nanos, per_second, percent, thousands};
use crate::report::{Report, StoreInfo, StrategyResult, TrialMode};
use crate::stats::StoreOps;
use crate::store::StoreKind;

/// Above this many trials the per-trial table gives way to the summary.
const MAX_TABLE_ROWS: usize = 20;

impl Text {
    pub(super) fn counter_report(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        self.workload(report, out)?;
        if let [result] = report.results.as_slice() {
            writeln!(out)?;
            self.trials(result, report.workload.trials, out)?;
            writeln!(out)?;
            if result.summary.distinct_finals > 1 {
                self.finals_histogram(&result.histogram, report.workload.expected, out)?;
                writeln!(out)?;
            }
            let workers = report.workload.workers.kind.name();
            self.summary(result, report.workload.trial_mode, workers, out)?;
        } else {
            writeln!(out)?;
            self.comparison(report, out)?;
            let mut drawn = false;
            for r in report
                .results
                .iter()
                .filter(|r| r.summary.distinct_finals > 1)
            {
                let heading = format!("{}, final values:", r.strategy.name());
                writeln!(out, "\n{}", self.paint(&heading, Paint::Bold))?;
                self.finals_histogram(&r.histogram, report.workload.expected, out)?;
                drawn = true;
            }
            // Keep the notes apart from the last bars.
            if drawn && report.results.iter().any(|r| !r.notes.is_empty()) {
                writeln!(out)?;
            }
        }
        for result in &report.results {
            if let Some(e) = &result.explain {
                writeln!(out)?;
                self.explanation(result.strategy, e, out)?;
            }
        }
        for result in &report.results {
            for note in &result.notes {
                writeln!(out, "{} {note}", self.paint("note:", Paint::Warn))?;
            }
        }
        self.left_behind(&report.left_behind, out)?;
        self.interrupted(report.interrupted, out)
    }

    fn workload(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let w = &report.workload;
        let names: Vec<&str> = report.results.iter().map(|r| r.strategy.name()).collect();
        // Trials run after the planned ones, looking for a race, are said apart.
        let trials = match report.results.iter().find_map(|r| r.extra) {
            Some(e) => format!(
                "{} trials, then {} more looking for a race",
                thousands(w.trials.saturating_sub(e.trials)),
                thousands(e.trials)
            ),
            None => format!("{} trials", thousands(w.trials)),
        };
        writeln!(
            out,
            "{} {} {} x {} increments, {trials}",
            self.paint(
                &if names.is_empty() {
                    "racedemo:".to_string()
                } else {
                    format!("racedemo {}:", names.join(" vs "))
                },
                Paint::Bold
            ),
            w.workers.count,
            w.workers.kind.name(),
            thousands(w.iterations),
        )?;
        let mut window = match (w.window, w.jitter) {
            (0, _) => "none".to_string(),
            (n, false) => format!("{n} units of busy work between read and write"),
            (n, true) => format!("0..={n} units of busy work at random between read and write"),
        };
        if w.yield_now {
            window = if w.window == 0 {
                "yield the CPU between read and write".to_string()
            } else {
                format!("{window}, then yield the CPU")
            };
        }
        let start = if w.store.kind == StoreKind::Memory {
            format!("{} ({})", w.start.name(), w.start.meaning())
        } else {
            format!(
                "{} (every worker connected and armed, then released at once)",
                w.start.name()
            )
        };
        let m = &report.machine;
        let lengthened = w.lengthened.map(|l| l.header());
        let on_store = w.store.kind != StoreKind::Memory;
        let expected = if on_store {
            format!(
                "{} planned ({} x increments); a trial expects the increments the store \
                 acknowledged",
                thousands(w.expected),
                w.workers.kind.name()
            )
        } else {
            format!("{} (threads x increments)", thousands(w.expected))
        };
        let store = on_store.then(|| store_line(&w.store));
        let members = w.workers.members.as_ref().map(|m| m.join(", "));
        let rows = [("expected", expected), ("start", start)];
        let rows = rows
            .into_iter()
            .chain(store.map(|s| ("store", s)))
            .chain(members.map(|m| ("workers", m)))
            .chain([
                ("window", window),
                ("seed", w.seed.to_string()),
                (
                    "machine",
                    format!("{} logical CPUs, {} {}", m.logical_cpus, m.os, m.arch),
                ),
            ]);
        let rows = rows
            .chain(lengthened.map(|l| ("longer", l)))
            .collect::<Vec<_>>();
        // Two spaces after the longest label, so that wrapped lines hang under the values.
        let width = name_width(report).max(8) + 1;
        for (label, value) in rows {
            writeln!(out, "  {label:<width$} {value}")?;
        }
        for r in &report.results {
            writeln!(out, "  {:<width$} {}", r.strategy.name(), r.operation)?;
        }
        Ok(())
    }

    fn trials(&self, result: &StrategyResult, trials: u64, out: &mut dyn Write) -> io::Result<()> {
        if trials as usize > MAX_TABLE_ROWS {
            return writeln!(
                out,
                "{} trials: summarised below; --format json lists the first {}",
                thousands(trials),
                thousands(result.trials.len() as u64)
            );
        }
        let on_store = result.summary.ops.is_some();
        let heads = if on_store {
            format!("  {:>9}  {:>8}  {:>8}", "acked", "retries", "errors")
        } else {
            String::new()
        };
        let n = if on_store { 9 } else { 15 };
        writeln!(
            out,
            "{:>5}  {:>n$}  {:>n$}{heads}  {:>10}  {:>7}",
            "trial", "final", "lost", "elapsed", "overlap"
        )?;
        for row in &result.trials {
            let cells = row.ops.as_ref().map_or(String::new(), |o| {
                format!(
                    "  {:>9}  {:>8}  {:>8}",
                    thousands(o.acknowledged),
                    thousands(o.retries),
                    thousands(o.error_total())
                )
            });
            let lost = format!("{:>n$}", thousands(row.lost));
            let lost = if row.lost > 0 {
                self.paint(&lost, Paint::Bad)
            } else {
                self.paint(&lost, Paint::Good)
            };
            writeln!(
                out,
                "{:>5}  {:>n$}  {lost}{cells}  {:>10}  {:>7}",
                row.trial,
                thousands(row.final_value),
                duration(row.elapsed_ns),
                percent(row.overlap),
            )?;
        }
        Ok(())
    }

    fn summary(
        &self,
        result: &StrategyResult,
        trial_mode: TrialMode,
        report_workers: &str,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let s = &result.summary;
        writeln!(out, "{}", self.differed(s, &differed_line(s)))?;
        if s.rate.differed > 0 {
            writeln!(
                out,
                "lost updates: min {}, median {}, max {}; mean {} of expected",
                thousands(s.lost.min),
                thousands(s.lost.median),
                thousands(s.lost.max),
                percent(s.lost.mean_fraction),
            )?;
        }
        let f = &result.finals;
        if f.possible_min < f.possible_max {
            writeln!(
                out,
                "final values: observed {}; possible {}{}",
                range(f.observed_min, f.observed_max),
                range(f.possible_min, f.possible_max),
                if f.possible_min == 2 {
                    " (stale writes can undo all but 2 increments)"
                } else {
                    ""
                },
            )?;
        }
        match &s.ops {
            Some(o) => writeln!(
                out,
                "distinct final values: {} · {} acknowledged, {} per increment, {}/s · {} \
                 overlapped {} of each trial (min {})",
                thousands(s.distinct_finals),
                thousands(o.acknowledged),
                nanos(o.us_per_increment * 1e3),
                per_second(o.acknowledged_per_second),
                report_workers,
                percent(s.pace.overlap.mean),
                percent(s.pace.overlap.min),
            )?,
            None => writeln!(
                out,
                "distinct final values: {} · {} per increment · threads overlapped {} of each trial (min {})",
                thousands(s.distinct_finals),
                nanos(s.pace.ns_per_op),
                percent(s.pace.overlap.mean),
                percent(s.pace.overlap.min),
            )?,
        }
        // Always on a store: "errors: none" beside lost updates is the lesson of a weak level.
        if let Some(o) = s.ops.as_ref() {
            writeln!(
                out,
                "retries: {} · errors: {}",
                thousands(o.retries),
                error_list(o)
            )?;
        }
        speed_line(&s.pace, "differing", trial_mode, out)?;
        self.expectation(result, out)
    }

    fn comparison(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let width = name_width(report).max(8);
        let on_store = report.results.iter().any(|r| r.summary.ops.is_some());
        // On a store two more columns: narrower ones, so the table still fits 80 columns.
        // A long name (locked:semaphore) takes its room from the differed column's padding.
        let (d, l, p, v) = if on_store {
            (15, 9, 10, 6)
        } else {
            ((22 - width.saturating_sub(14)).max(15), 15, 12, 9)
        };
        let store_heads = if on_store {
            format!("  {:>8}  {:>8}", "errors", "retries")
        } else {
            String::new()
        };
        let lost_head = if on_store { "lost" } else { "median lost" };
        writeln!(
            out,
            "{:<width$}  {:>d$}  {:>l$}{store_heads}  {:>p$}  {:>v$}",
            "strategy",
            "differed",
            lost_head,
            "per incr.",
            if on_store { "vs uns." } else { "vs unsafe" }
        )?;
        for r in &report.results {
            let s = &r.summary;
            let differed = format!("{:>d$}", s.rate.of(s.trials));
            let (store_cells, per) = match &s.ops {
                Some(o) => (
                    format!(
                        "  {:>8}  {:>8}",
                        thousands(o.error_total()),
                        thousands(o.retries)
                    ),
                    nanos(o.us_per_increment * 1e3),
                ),
                None => (String::new(), nanos(s.pace.ns_per_op)),
            };
            writeln!(
                out,
                "{:<width$}  {}  {:>l$}{store_cells}  {:>p$}  {:>v$}",
                r.strategy.name(),
                self.differed(s, &differed),
                thousands(s.lost.median),
                per,
                times(r.vs_unsafe),
            )?;
        }
        writeln!(out)?;
        for r in &report.results {
            write!(out, "{:<width$}  ", r.strategy.name())?;
            writeln!(
                out,
                "{}",
                self.differed(&r.summary, &differed_line(&r.summary))
            )?;
        }
        for r in &report.results {
            self.expectation(r, out)?;
        }
        Ok(())
    }
}

/// The widest strategy name in the report, for the columns.
fn name_width(report: &Report) -> usize {
    report
        .results
        .iter()
        .map(|r| r.strategy.name().len())
        .max()
        .unwrap_or(0)
}

/// "sqlite /tmp/x.db: table racedemo_counter, ... (why racedemo chose it)".
fn store_line(store: &StoreInfo) -> String {
    let mut line = store.kind.name().to_string();
    if let Some(location) = &store.location {
        line.push_str(&format!(" {location}"));
    }
    if let Some(details) = &store.details {
        line.push_str(&format!(": {details}"));
    }
    if let Some(level) = store.isolation {
        line.push_str(&format!("; transactions at {level}"));
        if let Some(really) = level.runs_as(store.kind) {
            line.push_str(&format!(" ({really})"));
        }
    }
    if let Some(retry) = store.retry.filter(|&r| r > 0) {
        line.push_str(&format!("; failed attempts retried up to {retry} times"));
    }
    if let Some(chosen) = store.chosen {
        line.push_str(&format!(" (chosen: {chosen})"));
    }
    line
}

/// "busy 1,234, locked 5", or "none".
fn error_list(ops: &StoreOps) -> String {
    if ops.errors.is_empty() {
        return "none".to_string();
    }
    ops.errors
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Exporter, fixture};
    use crate::strategy::StrategyKind;

    /// At 80 columns, as in a pipe or CI log.
    fn render(report: &Report) -> String {
        render_at(report, 80)
    }

    fn render_at(report: &Report, width: usize) -> String {
        let mut out = Vec::new();
        Text {
            color: false,
            width,
        }
        .counter(report, &mut out)
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn single_strategy_report_is_exactly_this() {
        let report = fixture::report(&[(StrategyKind::Unsafe, &[1_500, 2_000, 1_200])]);
        let expected = "\
racedemo unsafe: 2 threads x 1,000 increments, 3 trials
  expected  2,000 (threads x increments)
  start     barrier (threads released together)
  window    none
  seed      42
  machine   2 logical CPUs, linux x86_64
  unsafe    load the counter (Relaxed), add 1, store it back (Relaxed): two
            separate instructions, like `x += 1`, so an update made between them
            is overwritten

trial            final             lost     elapsed  overlap
    1            1,500              500      1.0 ms      90%
    2            2,000                0      1.2 ms      90%
    3            1,200              800      1.5 ms      90%

final value  trials   share
1,200             1     33%  █████████████████████████████████████████
1,500             1     33%  █████████████████████████████████████████
2,000             1     33%  █████████████████████████████████████████  expected

differed from expected in 2 of 3 trials (67%; 95% CI 21%–94%)
lost updates: min 0, median 500, max 800; mean 22% of expected
final values: observed 1,200–2,000; possible 2–2,000 (stale writes can undo all
but 2 increments)
distinct final values: 3 · 625 ns per increment · threads overlapped 90% of each
trial (min 90%)
0.0 trials/s, 0.0 differing/s
";
        assert_eq!(render(&report), expected);
        assert!(expected.lines().all(|l| l.chars().count() <= 80));
    }

    #[test]
    fn comparison_shows_strategies_side_by_side() {
        let mut report = fixture::report(&[
            (StrategyKind::Unsafe, &[1_500, 2_000, 1_200]),
            (StrategyKind::Locked, &[2_000, 2_000, 2_000]),
        ]);
        report.results[1].vs_unsafe = Some(7.5);
        let text = render_at(&report, 200);
        assert!(
            text.starts_with("racedemo unsafe vs locked: 2 threads"),
            "{text}"
        );
        assert!(
            text.contains(
                "unsafe              2 of 3 (67%)              500        625 ns          -"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "locked               0 of 3 (0%)                0        625 ns       7.5x"
            ),
            "{text}"
        );
        assert!(text.contains("locked    differed from expected in 0 of 3 trials: the rate is below 63% at 95% confidence"), "{text}");
        assert!(
            text.contains("locked: expected correct, and it was\n"),
            "{text}"
        );
    }

    #[test]
    fn many_trials_are_summarised_not_listed() {
        let finals = [2_000u64; 25];
        let mut report = fixture::report(&[(StrategyKind::Atomic, &finals)]);
        report.workload.trials = 25;
        let text = render_at(&report, 200);
        assert!(
            text.contains("25 trials: summarised below; --format json lists the first 25\n"),
            "{text}"
        );
        assert!(!text.contains("overlap\n"), "{text}");
        assert!(text.contains(
            "differed from expected in 0 of 25 trials: the rate is below 11% at 95% confidence"
        ));
    }

    #[test]
    fn no_colour_codes_when_colour_is_off() {
        let report = fixture::report(&[(StrategyKind::Unsafe, &[1_500])]);
        assert!(!render(&report).contains('\u{1b}'));
    }
}
