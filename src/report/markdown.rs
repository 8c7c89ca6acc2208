//! `--format markdown`: GitHub-flavoured tables for CI job summaries
//! (`racedemo compare --format markdown >> "$GITHUB_STEP_SUMMARY"`).

use std::io::{self, Write};

use super::{
    CheckReport, ExecReport, Exporter, IsolationReport, Report, ScenarioReport, SweepReport,
};
use crate::format::{percent, thousands};
use crate::scenario::model::Model;
use crate::store::StoreKind;

pub struct Markdown;

impl Exporter for Markdown {
    fn sweep(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        let name = report.parameter.name();
        let values: Vec<String> = report.points.iter().map(|p| thousands(p.value)).collect();
        let on = report
            .points
            .first()
            .map(|p| p.workload.store.kind)
            .filter(|&k| k != StoreKind::Memory)
            .map_or(String::new(), |k| format!(" on {}", k.name()));
        writeln!(
            out,
            "### racedemo sweep {name}{on}: {}\n",
            values.join(", ")
        )?;
        table(
            out,
            &[
                (name, RIGHT),
                ("strategy", LEFT),
                ("differed", RIGHT),
                ("mean lost", RIGHT),
                ("ns per increment", RIGHT),
                ("vs unsafe", RIGHT),
            ],
            report.points.iter().flat_map(|p| {
                p.results.iter().map(|r| {
                    let s = &r.summary;
                    vec![
                        thousands(p.value),
                        format!("`{}`", r.strategy.name()),
                        s.rate.of(s.trials),
                        percent(s.lost.mean_fraction),
                        format!("{:.2}", s.pace.ns_per_op),
                        r.vs_unsafe.map_or("–".to_string(), |x| format!("{x:.1}×")),
                    ]
                })
            }),
        )
    }

    fn isolation(&self, report: &IsolationReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "### racedemo isolation: {} {} x {} increments, {} trials per run\n",
            report.workers.count,
            report.workers.kind.name(),
            thousands(report.iterations),
            thousands(report.trials)
        )?;
        for retried in [false, true] {
            if retried {
                writeln!(out, "\nWith `--retry {}`:\n", report.retry)?;
            } else {
                writeln!(out, "Without retry:\n")?;
            }
            let (header, rows) = report.matrix(retried);
            table(
                out,
                &header,
                rows.into_iter()
                    .map(|r| r.into_iter().map(|c| escape(&c)).collect()),
            )?;
        }
        if let Some(fault) = &report.fault {
            writeln!(out, "\n**Stopped early:** {}", escape(fault))?;
        }
        left_behind(&report.left_behind, out)
    }

    fn exec(&self, report: &ExecReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "### racedemo exec: {} runs of each command, {} at once\n",
            thousands(report.runs),
            report.parallel
        )?;
        for c in &report.commands {
            let rate = &c.differed;
            writeln!(
                out,
                "`{}`: differed in {} ({}), {}\n",
                escape(&c.command),
                rate.of(c.runs),
                rate.uncertainty(),
                verdict(c.expect.name(), c.expect_met)
            )?;
            table(
                out,
                &[("outcome", LEFT), ("runs", RIGHT), ("share", RIGHT)],
                c.outcomes.iter().map(|o| {
                    vec![
                        format!("`{}`", escape(&o.value)),
                        thousands(o.runs),
                        crate::format::percent(o.share),
                    ]
                }),
            )?;
            writeln!(out)?;
        }
        Ok(())
    }

    fn counter(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let w = &report.workload;
        // What was asked, so that a run a fault stopped before any result is still named.
        let names: Vec<&str> = if report.results.is_empty() {
            w.strategies.iter().map(|s| s.name()).collect()
        } else {
            report.results.iter().map(|r| r.strategy.name()).collect()
        };
        let on = match w.store.kind {
            StoreKind::Memory => String::new(),
            kind => format!(" on {}", kind.name()),
        };
        writeln!(
            out,
            "### racedemo {}{on}: {} {} × {} increments, {} trials\n",
            names.join(" vs "),
            w.workers.count,
            w.workers.kind.name(),
            thousands(w.iterations),
            thousands(w.trials)
        )?;
        let on_store = w.store.kind != StoreKind::Memory;
        let mut columns = vec![
            ("strategy", LEFT),
            ("differed", RIGHT),
            ("95% CI", RIGHT),
            ("median lost", RIGHT),
            ("lowest final (possible)", RIGHT),
            ("ns per increment", RIGHT),
            ("vs unsafe", RIGHT),
            ("expected", LEFT),
        ];
        if on_store {
            columns.extend([("errors", RIGHT), ("retries", RIGHT)]);
        }
        table(
            out,
            &columns,
            report.results.iter().map(|r| {
                let s = &r.summary;
                let store = s
                    .ops
                    .as_ref()
                    .map(|o| [thousands(o.error_total()), thousands(o.retries)]);
                vec![
                    format!("`{}`", r.strategy.name()),
                    s.rate.of(s.trials),
                    s.rate.uncertainty(),
                    thousands(s.lost.median),
                    format!(
                        "{} ({})",
                        thousands(r.finals.observed_min),
                        thousands(r.finals.possible_min)
                    ),
                    format!("{:.2}", s.pace.ns_per_op),
                    r.vs_unsafe.map_or("–".to_string(), |x| format!("{x:.1}×")),
                    verdict(r.expect.name(), r.expect_met),
                ]
                .into_iter()
                .chain(store.into_iter().flatten())
                .collect()
            }),
        )?;
        left_behind(&report.left_behind, out)
    }

    fn scenario(&self, report: &ScenarioReport, out: &mut dyn Write) -> io::Result<()> {
        let info = &report.scenario;
        writeln!(
            out,
            "### racedemo scenario `{}`: {}\n\n{} trials. {}\n",
            info.name,
            escape(&info.title),
            thousands(info.trials),
            verdict(report.expect.name(), report.expect_met)
        )?;
        // The models' columns only where one was computed, as in text.
        let modelled = report.models.iter().any(|m| m.computed);
        let mut columns = vec![
            ("outcome", LEFT),
            ("count", RIGHT),
            ("share", RIGHT),
            ("grade", LEFT),
        ];
        if modelled {
            columns.extend([("SC", LEFT), ("x86-TSO", LEFT), ("RC11", LEFT)]);
        }
        columns.push(("means", LEFT));
        table(
            out,
            &columns,
            report.outcomes.iter().map(|o| {
                let mut row = vec![
                    format!("`{}`", o.outcome),
                    thousands(o.count),
                    percent(o.share),
                    o.grade.name().to_string(),
                ];
                if modelled {
                    row.extend(Model::ALL.map(|m| {
                        match o.allowed.get(m) {
                            Some(true) => "yes",
                            Some(false) => "no",
                            None => "–",
                        }
                        .to_string()
                    }));
                }
                row.push(escape(o.means.as_deref().unwrap_or("")));
                row
            }),
        )?;
        if let Some(c) = &report.condition {
            let line = c.line(report.summary.trials);
            writeln!(out, "\n**Condition:** {}", escape(&line))?;
        }
        for c in &report.contradictions {
            writeln!(out, "\n**Grades contradict the models:** {}", escape(c))?;
        }
        if let Some(p) = &report.python {
            writeln!(
                out,
                "\n**In Python** ({}, {} runs of `scenario show {} --as python`): the race showed \
                 in {} of {} runs ({}; 95% CI {}).\n",
                escape(&p.interpreter),
                thousands(p.runs),
                info.name,
                thousands(p.rate.differed),
                thousands(p.runs),
                percent(p.rate.differed_rate),
                p.rate.uncertainty()
            )?;
            table(
                out,
                &[
                    ("outcome", LEFT),
                    ("runs", RIGHT),
                    ("share", RIGHT),
                    ("grade", LEFT),
                ],
                p.outcomes.iter().map(|o| {
                    vec![
                        format!("`{}`", o.outcome),
                        thousands(o.runs),
                        percent(o.share),
                        o.grade.map_or("no outcome", |g| g.name()).to_string(),
                    ]
                }),
            )?;
        }
        Ok(())
    }

    fn check(&self, report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "### racedemo scenario check: {} passed, {} failed\n",
            report.passed, report.failed
        )?;
        table(
            out,
            &[
                ("", LEFT),
                ("scenario", LEFT),
                ("expect", LEFT),
                ("trials", RIGHT),
                ("verdict", LEFT),
            ],
            report.scenarios.iter().map(|s| {
                vec![
                    if s.passed { "✅" } else { "❌" }.to_string(),
                    format!("`{}`", s.name),
                    s.expect.name().to_string(),
                    thousands(s.trials),
                    escape(&s.verdict),
                ]
            }),
        )
    }
}

/// "correct ✅" or "race ❌".
/// What the run could not remove from its store, each with the command that removes it.
fn left_behind(notes: &[String], out: &mut dyn Write) -> io::Result<()> {
    for note in notes {
        writeln!(out, "\n**Left behind:** {}", escape(note))?;
    }
    Ok(())
}

fn verdict(expect: &str, met: bool) -> String {
    format!("{expect} {}", if met { "✅" } else { "❌" })
}

const LEFT: bool = false;
const RIGHT: bool = true;

/// A header row, the alignment row (numbers to the right) and one row per item.
pub(super) fn table(
    out: &mut dyn Write,
    columns: &[(&str, bool)],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> io::Result<()> {
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    let align: Vec<&str> = columns
        .iter()
        .map(|&(_, right)| if right { "---:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", align.join("|"))?;
    for row in rows {
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    Ok(())
}

/// A pipe would end the cell early.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::strategy::StrategyKind;

    #[test]
    fn counter_report_is_this_table() {
        let mut report = fixture::report(&[
            (StrategyKind::Unsafe, &[1_500, 2_000, 1_200]),
            (StrategyKind::Locked, &[2_000, 2_000, 2_000]),
        ]);
        report.results[1].vs_unsafe = Some(7.5);
        let mut out = Vec::new();
        Markdown.counter(&report, &mut out).unwrap();
        let expected = "\
### racedemo unsafe vs locked: 2 threads × 1,000 increments, 3 trials

| strategy | differed | 95% CI | median lost | lowest final (possible) | ns per increment | vs unsafe | expected |
|---|---:|---:|---:|---:|---:|---:|---|
| `unsafe` | 2 of 3 (67%) | 21%–94% | 500 | 1,200 (2) | 625.00 | – | any ✅ |
| `locked` | 0 of 3 (0%) | < 63% (one-sided) | 0 | 2,000 (2,000) | 625.00 | 7.5× | correct ✅ |
";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn pipes_in_cells_are_escaped() {
        assert_eq!(escape("a | b"), "a \\| b");
    }
}
