//! `--format csv`: one row per strategy, per outcome or per scenario, for spreadsheets and
//! scripts that would rather not parse JSON. Columns are named like the JSON fields.

use std::io::{self, Write};

use serde::Serialize;

use super::{
    CheckReport, ExecReport, Exporter, IsolationReport, Report, ScenarioReport, SweepReport,
};

pub struct Csv;

#[derive(Serialize, Default)]
struct StrategyRow<'a> {
    strategy: &'a str,
    threads: usize,
    iterations: u64,
    expected: u64,
    trials: u64,
    differed: u64,
    differed_rate: f64,
    differed_ci95_low: f64,
    differed_ci95_high: f64,
    /// With no trial differing: the exact one-sided bound, as the other formats print.
    differed_upper95: Option<f64>,
    lost_min: u64,
    lost_median: u64,
    lost_max: u64,
    lost_mean_fraction: f64,
    observed_min: u64,
    possible_min: u64,
    distinct_finals: u64,
    ns_per_op: f64,
    overlap_mean: f64,
    trials_per_second: f64,
    differed_per_second: f64,
    vs_unsafe: Option<f64>,
    expect: &'static str,
    expect_met: bool,
    store: &'static str,
    workers: &'static str,
    /// On a store (empty in memory): acknowledged increments, retries, failed attempts.
    acknowledged: Option<u64>,
    retries: Option<u64>,
    errors: Option<u64>,
}

/// `exec`: one row per command and outcome.
#[derive(Serialize, Default)]
struct ExecRow<'a> {
    command: &'a str,
    /// With --vary, the setting (`cpus=1`); empty without.
    setting: &'a str,
    outcome: &'a str,
    runs: u64,
    share: f64,
    /// One of --correct's values: true, false, or empty without --correct.
    correct: Option<bool>,
    command_runs: u64,
    differed: u64,
    differed_rate: f64,
}

#[derive(Serialize, Default)]
struct OutcomeRow<'a> {
    scenario: &'a str,
    outcome: &'a str,
    count: u64,
    share: f64,
    grade: &'static str,
    invariant_held: bool,
    means: &'a str,
    /// Allowed by each model: true, false, or empty where not computed.
    sc: Option<bool>,
    tso: Option<bool>,
    rc11: Option<bool>,
}

#[derive(Serialize, Default)]
struct CheckRow<'a> {
    scenario: &'a str,
    expect: &'static str,
    expect_met: bool,
    trials: u64,
    differed: u64,
    forbidden: u64,
    deadlocks: u64,
    stuck: u64,
    verdict: &'a str,
    /// Expectation met and no contradiction with the models.
    passed: bool,
}

#[derive(Serialize, Default)]
struct SweepRow {
    parameter: &'static str,
    value: u64,
    strategy: &'static str,
    threads: usize,
    iterations: u64,
    window: u32,
    trials: u64,
    differed: u64,
    differed_rate: f64,
    lost_mean_fraction: f64,
    ns_per_op: f64,
    vs_unsafe: Option<f64>,
    trials_per_second: f64,
    store: &'static str,
    workers: &'static str,
    acknowledged: Option<u64>,
    retries: Option<u64>,
    errors: Option<u64>,
}

impl Exporter for Csv {
    fn sweep(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        rows(
            report.points.iter().flat_map(|p| {
                p.results.iter().map(|r| SweepRow {
                    parameter: report.parameter.name(),
                    value: p.value,
                    strategy: r.strategy.name(),
                    threads: p.workload.threads,
                    iterations: p.workload.iterations,
                    window: p.workload.window,
                    trials: r.summary.trials,
                    differed: r.summary.rate.differed,
                    differed_rate: r.summary.rate.differed_rate,
                    lost_mean_fraction: r.summary.lost.mean_fraction,
                    ns_per_op: r.summary.pace.ns_per_op,
                    vs_unsafe: r.vs_unsafe,
                    trials_per_second: r.summary.pace.trials_per_second,
                    store: p.workload.store.kind.name(),
                    workers: p.workload.workers.kind.name(),
                    acknowledged: r.summary.ops.as_ref().map(|o| o.acknowledged),
                    retries: r.summary.ops.as_ref().map(|o| o.retries),
                    errors: r.summary.ops.as_ref().map(|o| o.error_total()),
                })
            }),
            out,
        )
    }

    fn isolation(&self, report: &IsolationReport, out: &mut dyn Write) -> io::Result<()> {
        rows(
            report.cells.iter().flat_map(|c| {
                c.runs.iter().map(move |l| IsolationRow {
                    store: c.store.name(),
                    level: c.level.name(),
                    retry: l.retry,
                    trials: l.trials,
                    differed: l.differed,
                    lost_fraction: l.lost_fraction,
                    aborted_fraction: l.aborted_fraction,
                    retries_per_success: l.retries_per_success,
                    given_up: l.given_up,
                    acknowledged_per_second: l.acknowledged_per_second,
                    replay: c.verdict(),
                })
            }),
            out,
        )
    }

    fn exec(&self, report: &ExecReport, out: &mut dyn Write) -> io::Result<()> {
        rows(
            report.commands.iter().flat_map(|c| {
                c.outcomes.iter().map(move |o| ExecRow {
                    command: &c.command,
                    setting: c.setting.as_deref().unwrap_or(""),
                    outcome: &o.value,
                    runs: o.runs,
                    share: o.share,
                    correct: o.correct,
                    command_runs: c.runs,
                    differed: c.differed.differed,
                    differed_rate: c.differed.differed_rate,
                })
            }),
            out,
        )
    }

    fn counter(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let w = &report.workload;
        rows(
            report.results.iter().map(|r| {
                let s = &r.summary;
                StrategyRow {
                    strategy: r.strategy.name(),
                    threads: w.threads,
                    iterations: w.iterations,
                    expected: w.expected,
                    trials: s.trials,
                    differed: s.rate.differed,
                    differed_rate: s.rate.differed_rate,
                    differed_ci95_low: s.rate.differed_ci95[0],
                    differed_ci95_high: s.rate.differed_ci95[1],
                    differed_upper95: s.rate.differed_upper95,
                    lost_min: s.lost.min,
                    lost_median: s.lost.median,
                    lost_max: s.lost.max,
                    lost_mean_fraction: s.lost.mean_fraction,
                    observed_min: r.finals.observed_min,
                    possible_min: r.finals.possible_min,
                    distinct_finals: s.distinct_finals,
                    ns_per_op: s.pace.ns_per_op,
                    overlap_mean: s.pace.overlap.mean,
                    trials_per_second: s.pace.trials_per_second,
                    differed_per_second: s.pace.differed_per_second,
                    vs_unsafe: r.vs_unsafe,
                    expect: r.expect.name(),
                    expect_met: r.expect_met,
                    store: w.store.kind.name(),
                    workers: w.workers.kind.name(),
                    acknowledged: s.ops.as_ref().map(|o| o.acknowledged),
                    retries: s.ops.as_ref().map(|o| o.retries),
                    errors: s.ops.as_ref().map(|o| o.error_total()),
                }
            }),
            out,
        )
    }

    fn scenario(&self, report: &ScenarioReport, out: &mut dyn Write) -> io::Result<()> {
        rows(
            report.outcomes.iter().map(|o| OutcomeRow {
                scenario: &report.scenario.name,
                outcome: &o.outcome,
                count: o.count,
                share: o.share,
                grade: o.grade.name(),
                invariant_held: o.invariant_held,
                means: o.means.as_deref().unwrap_or(""),
                sc: o.allowed.sc,
                tso: o.allowed.tso,
                rc11: o.allowed.rc11,
            }),
            out,
        )
    }

    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        rows(
            report.scenarios.iter().map(|s| CheckRow {
                scenario: &s.name,
                expect: s.expect.name(),
                expect_met: s.expect_met,
                trials: s.trials,
                differed: s.differed,
                forbidden: s.forbidden,
                deadlocks: s.deadlocks,
                stuck: s.stuck,
                verdict: &s.verdict,
                passed: s.passed,
            }),
            out,
        )
    }
}

/// A header from the row type's field names, then one record per row.
/// One row of `isolation --format csv`: one store, level and retry setting.
#[derive(Serialize, Default)]
struct IsolationRow {
    store: &'static str,
    level: &'static str,
    retry: u64,
    trials: u64,
    differed: u64,
    lost_fraction: f64,
    aborted_fraction: f64,
    retries_per_success: f64,
    given_up: u64,
    acknowledged_per_second: f64,
    replay: String,
}

pub(super) fn rows<R: Serialize + Default>(
    rows: impl IntoIterator<Item = R>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(&mut *out);
    let mut any = false;
    for row in rows {
        writer.serialize(row).map_err(io::Error::other)?;
        any = true;
    }
    writer.flush()?;
    drop(writer);
    if !any {
        // No rows (a fault before the first result): the header still says what the columns
        // are, so that a script reading it sees an empty table, not nothing.
        let mut buf = csv::Writer::from_writer(Vec::new());
        buf.serialize(R::default()).map_err(io::Error::other)?;
        let bytes = buf
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        out.write_all(header)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::strategy::StrategyKind;

    #[test]
    fn a_sweep_is_one_row_per_point_and_strategy() {
        let mut out = Vec::new();
        Csv.sweep(&crate::report::sweep::fixture::sweep(), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "parameter,value,strategy,threads,iterations,window,trials,differed,differed_rate,\
             lost_mean_fraction,ns_per_op,vs_unsafe,trials_per_second,store,workers,\
             acknowledged,retries,errors"
        );
        assert_eq!(lines.len(), 7, "{text}");
        assert!(
            lines[3].starts_with("threads,2,unsafe,2,1000,0,3,2,0.6666666666666666,"),
            "{text}"
        );
        assert!(
            lines[4].starts_with("threads,2,locked,2,1000,0,3,0,0.0,0.0,80.0,26.7,"),
            "{text}"
        );
    }

    #[test]
    fn one_row_per_strategy_under_a_header() {
        let report = fixture::report(&[
            (StrategyKind::Unsafe, &[1_500, 2_000, 1_200]),
            (StrategyKind::Atomic, &[2_000, 2_000, 2_000]),
        ]);
        let mut out = Vec::new();
        Csv.counter(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("strategy,threads,iterations,expected,trials,differed,"));
        assert!(
            lines[1].starts_with("unsafe,2,1000,2000,3,2,0.6666666666666666,"),
            "{}",
            lines[1]
        );
        // In memory the store's columns are empty.
        assert!(
            lines[1].ends_with(",,any,true,memory,threads,,,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("atomic,2,1000,2000,3,0,0.0,"),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].ends_with(",,correct,true,memory,threads,,,"),
            "{}",
            lines[2]
        );
    }
}
