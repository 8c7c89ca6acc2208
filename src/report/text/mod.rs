//! `--format text`: the report for people, with colour where the caller allows it.

use std::io::{self, Write};

use colored::Colorize;

mod chart;
mod counter;
mod exec;
mod explain;
mod isolation;
mod python;
mod scenario;
mod sweep;

use super::{
    CheckReport, ExecReport, Exporter, IsolationReport, Report, ScenarioReport, StrategyResult,
    SweepReport, TrialMode,
};
use crate::expect::Expect;
use crate::format::{nanos, per_second, percent, thousands, wrap_lines};
use crate::stats::{Pace, Summary};

pub struct Text {
    pub color: bool,
    /// The terminal's width in columns (80 when it has none): what the bars scale to.
    pub width: usize,
}

// Every report is drawn whole, then its long lines are wrapped at word boundaries to the
// terminal's width, so that no exporter has to.
impl Exporter for Text {
    fn scenario(&self, report: &ScenarioReport, out: &mut dyn Write) -> io::Result<()> {
        self.wrapped(out, |buf| self.scenario_report(report, buf))
    }

    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        self.wrapped(out, |buf| self.check_report(report, buf))
    }

    fn sweep(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        self.wrapped(out, |buf| self.sweep_report(report, buf))
    }

    fn counter(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        self.wrapped(out, |buf| self.counter_report(report, buf))
    }

    fn isolation(&self, report: &IsolationReport, out: &mut dyn Write) -> io::Result<()> {
        self.wrapped(out, |buf| self.isolation_report(report, buf))
    }

    fn exec(&self, report: &ExecReport, out: &mut dyn Write) -> io::Result<()> {
        self.wrapped(out, |buf| self.exec_report(report, buf))
    }
}

impl Text {
    /// What the run could not remove from its store, each with the command that removes it.
    fn left_behind(&self, notes: &[String], out: &mut dyn Write) -> io::Result<()> {
        for note in notes {
            writeln!(out, "{} {note}", self.paint("left behind:", Paint::Warn))?;
        }
        Ok(())
    }

    fn wrapped(
        &self,
        out: &mut dyn Write,
        draw: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut buf = Vec::new();
        draw(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        out.write_all(wrap_lines(&text, self.width).as_bytes())
    }
}

#[derive(Clone, Copy)]
enum Paint {
    Bad,
    Good,
    Warn,
    Bold,
}

impl Text {
    fn paint(&self, text: &str, paint: Paint) -> String {
        if !self.color {
            return text.to_string();
        }
        match paint {
            Paint::Bad => text.red().bold().to_string(),
            Paint::Good => text.green().to_string(),
            Paint::Warn => text.yellow().to_string(),
            Paint::Bold => text.bold().to_string(),
        }
    }

    /// Red when trials differed, green when none did.
    fn differed(&self, summary: &Summary, text: &str) -> String {
        self.by_count(summary.rate.differed, text)
    }

    fn interrupted(&self, interrupted: bool, out: &mut dyn Write) -> io::Result<()> {
        if interrupted {
            let line = "interrupted: these results cover only the trials that completed";
            writeln!(out, "{}", self.paint(line, Paint::Bad))?;
        }
        Ok(())
    }

    /// Red when `bad` is not zero, green when it is.
    fn by_count(&self, bad: u64, text: &str) -> String {
        let paint = if bad > 0 { Paint::Bad } else { Paint::Good };
        self.paint(text, paint)
    }

    fn expectation(&self, r: &StrategyResult, out: &mut dyn Write) -> io::Result<()> {
        self.expect_line(r.strategy.name(), r.expect, r.expect_met, out)
    }

    /// "WHAT: expected correct, and it was", or "... and it was NOT"; nothing for `any`.
    fn expect_line(
        &self,
        what: &str,
        expect: Expect,
        met: bool,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let line = format!(
            "{what}: expected {}, and it was{}",
            expect.name(),
            if met { "" } else { " NOT" }
        );
        match (expect, met) {
            (Expect::Any, true) => Ok(()),
            (_, true) => writeln!(out, "{}", self.paint(&line, Paint::Good)),
            (_, false) => writeln!(out, "{}", self.paint(&line, Paint::Bad)),
        }
    }
}

/// "differed from expected in 19 of 20 trials (95%; 95% CI 76%–99%)", or the honest bound
/// when nothing differed.
fn differed_line(s: &Summary) -> String {
    rate_line(
        "differed from expected",
        s.rate.differed,
        s.trials,
        s.rate.differed_rate,
        s.rate.differed_ci95,
        s.rate.differed_upper95,
    )
}

/// "WHAT in K of N trials (rate; 95% CI lo–hi)", or "WHAT in 0 of N trials: the rate is below
/// B at 95% confidence".
fn rate_line(
    what: &str,
    hits: u64,
    trials: u64,
    rate: f64,
    [lo, hi]: [f64; 2],
    none_bound: Option<f64>,
) -> String {
    match none_bound {
        Some(bound) => format!(
            "{what} in 0 of {} trials: the rate is below {} at 95% confidence",
            thousands(trials),
            percent(bound)
        ),
        None => format!(
            "{what} in {} of {} trials ({}; 95% CI {}–{})",
            thousands(hits),
            thousands(trials),
            percent(rate),
            percent(lo),
            percent(hi)
        ),
    }
}

/// "3.46 M trials/s, 0.52 M differing/s", and how the trials ran when they ran in batches.
fn speed_line(
    pace: &Pace,
    differing: &str,
    mode: TrialMode,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "{} trials/s, {} {differing}/s{}",
        per_second(pace.trials_per_second),
        per_second(pace.differed_per_second),
        mode_note(mode),
    )
}

/// "7.5x" over unsafe, or "-" where unsafe did not run beside it.
fn times(vs_unsafe: Option<f64>) -> String {
    vs_unsafe.map_or("-".to_string(), |x| format!("{x:.1}x"))
}

/// "3,000–4,000", or "4,000" when both ends are one value.
fn range(low: u64, high: u64) -> String {
    if low == high {
        thousands(low)
    } else {
        format!("{}–{}", thousands(low), thousands(high))
    }
}

/// How the trials ran, when it is not the plain way.
fn mode_note(mode: TrialMode) -> &'static str {
    match mode {
        TrialMode::Single => "",
        TrialMode::Batch => " (tiny trials, run in lockstep batches on long-lived threads)",
    }
}
