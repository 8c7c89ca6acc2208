//! Text rendering of `sweep`: the chart (a panel per measure) and the table under it.

use std::io::{self, Write};

use super::chart::Bar;
use super::{Paint, Text, nanos, thousands, times};
use crate::format::percent;
use crate::report::SweepReport;

impl Text {
    pub(super) fn sweep_report(&self, r: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        let name = r.parameter.name();
        let values: Vec<String> = r.points.iter().map(|p| thousands(p.value)).collect();
        let strategies = r.strategies();
        let names: Vec<&str> = strategies.iter().map(|s| s.name()).collect();
        let head = format!("racedemo sweep {name}:");
        writeln!(
            out,
            "{} {} · {} · {} logical CPUs",
            self.paint(&head, Paint::Bold),
            values.join(", "),
            names.join(", "),
            r.machine.logical_cpus
        )?;
        if let Some(p) = r.points.first() {
            let w = &p.workload;
            let workers = w.workers.kind.name();
            let fixed = [
                ("store", w.store.kind.name().to_string()),
                (workers, thousands(w.workers.count as u64)),
                ("iterations", thousands(w.iterations)),
                ("window", thousands(u64::from(w.window))),
            ];
            let fixed: Vec<String> = fixed
                .into_iter()
                .filter(|(n, v)| *n != name && !(*n == "store" && v == "memory"))
                .map(|(n, v)| format!("{n} {v}"))
                .collect();
            writeln!(
                out,
                "  {} · {} trials per point and strategy · seed {}",
                fixed.join(" · "),
                thousands(w.trials),
                w.seed
            )?;
        }
        let label = |i: usize, p: &crate::report::SweepPoint| {
            if i == 0 {
                format!("{:>w$}", thousands(p.value), w = name.len())
            } else {
                format!("{:>w$}", "", w = name.len())
            }
        };
        for kind in strategies.iter().filter(|k| k.is_racy()) {
            let share = |f: &dyn Fn(&crate::stats::Summary) -> f64| -> Vec<Bar> {
                r.points
                    .iter()
                    .filter_map(|p| {
                        let s = &p.results.iter().find(|x| x.strategy == *kind)?.summary;
                        let v = f(s);
                        Some(Bar {
                            label: label(0, p),
                            value: v,
                            text: percent(v),
                            paint: if v > 0.0 { Paint::Bad } else { Paint::Good },
                        })
                    })
                    .collect()
            };
            writeln!(out)?;
            let title = format!("{}: trials that lost updates", kind.name());
            self.panel(&title, &share(&|s| s.rate.differed_rate), 1.0, out)?;
            writeln!(out)?;
            let title = format!("{}: mean share of increments lost", kind.name());
            self.panel(&title, &share(&|s| s.lost.mean_fraction), 1.0, out)?;
        }
        let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
        let costs: Vec<Bar> = r
            .points
            .iter()
            .flat_map(|p| {
                p.results.iter().enumerate().map(move |(i, x)| Bar {
                    label: format!("{}  {:<width$}", label(i, p), x.strategy.name()),
                    value: x.summary.pace.ns_per_op,
                    text: nanos(x.summary.pace.ns_per_op),
                    paint: if x.strategy.is_racy() {
                        Paint::Bad
                    } else {
                        Paint::Good
                    },
                })
            })
            .collect();
        let max = costs.iter().map(|b| b.value).fold(0.0, f64::max);
        writeln!(out)?;
        self.panel("ns per increment", &costs, max, out)?;
        writeln!(out)?;
        self.sweep_table(r, out)?;
        self.interrupted(r.interrupted, out)
    }

    fn sweep_table(&self, r: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        let name = r.parameter.name();
        let w = name.len().max(5);
        // As wide as the longest strategy name (`optimistic`, `locked:semaphore`), so the
        // columns after it line up.
        let sw = r
            .points
            .iter()
            .flat_map(|p| &p.results)
            .map(|x| x.strategy.name().len())
            .max()
            .unwrap_or(0)
            .max(8);
        writeln!(
            out,
            "{name:>w$}  {:<sw$}  {:>20}  {:>9}  {:>10}  {:>9}",
            "strategy", "differed", "mean lost", "per incr.", "vs unsafe"
        )?;
        for p in &r.points {
            for x in &p.results {
                let s = &x.summary;
                let differed = format!("{:>20}", s.rate.of(s.trials));
                writeln!(
                    out,
                    "{:>w$}  {:<sw$}  {}  {:>9}  {:>10}  {:>9}",
                    thousands(p.value),
                    x.strategy.name(),
                    self.differed(s, &differed),
                    percent(s.lost.mean_fraction),
                    nanos(s.pace.ns_per_op),
                    times(x.vs_unsafe),
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sweep::fixture;

    #[test]
    fn sweep_chart_and_table_are_exactly_this() {
        let mut out = Vec::new();
        Text {
            color: false,
            width: 72,
        }
        .sweep_report(&fixture::sweep(), &mut out)
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "\
racedemo sweep threads: 1, 2, 4 · unsafe, locked · 2 logical CPUs
  iterations 1,000 · window 0 · 3 trials per point and strategy · seed 42

unsafe: trials that lost updates
      1                                                               0%
      2  ██████████████████████████████████████                      67%
      4  █████████████████████████████████████████████████████████  100%

unsafe: mean share of increments lost
      1                                                               0%
      2  ████████████▋                                               22%
      4  ███████████████████████████████▉                            55%

ns per increment
      1  unsafe  ▍                                               1.50 ns
         locked  ███████████▎                                   40.00 ns
      2  unsafe  ▉                                               3.00 ns
         locked  ██████████████████████▌                        80.00 ns
      4  unsafe  █▊                                              6.00 ns
         locked  █████████████████████████████████████████████    160 ns

threads  strategy              differed  mean lost   per incr.  vs unsafe
      1  unsafe             0 of 3 (0%)         0%     1.50 ns       1.0x
      1  locked             0 of 3 (0%)         0%    40.00 ns      26.7x
      2  unsafe            2 of 3 (67%)        22%     3.00 ns       1.0x
      2  locked             0 of 3 (0%)         0%    80.00 ns      26.7x
      4  unsafe           3 of 3 (100%)        55%     6.00 ns       1.0x
      4  locked             0 of 3 (0%)         0%      160 ns      26.7x
";
        assert_eq!(text, expected);
        // The chart fits the width it was given; the table is as wide as its columns.
        let chart = text.lines().filter(|l| l.contains('█'));
        assert!(chart.into_iter().all(|l| l.chars().count() <= 72), "{text}");
    }
}
