//! Bars drawn with block characters: the histograms of final values and scenario outcomes.

use std::io::{self, Write};

use super::{Paint, Text, thousands};
use crate::format::percent;
use crate::histogram::Bin;

/// Partial cells, in eighths: a bar's length is exact to an eighth of a character.
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// Bars never grow wider than this, however wide the terminal: past it they only get harder
/// to compare by eye.
const MAX_BAR: usize = 60;
/// Nor narrower than this, however narrow the terminal.
const MIN_BAR: usize = 8;

/// `value / max` of `width` cells, in eighths. Any value above zero shows at least an eighth,
/// so that one trial in a million is still visible.
pub fn bar(value: f64, max: f64, width: usize) -> String {
    if value <= 0.0 || max <= 0.0 {
        return String::new();
    }
    let eighths = ((value / max).min(1.0) * (width * 8) as f64)
        .round()
        .max(1.0) as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(EIGHTHS[eighths % 8]);
    }
    s
}

/// One row of a histogram.
pub struct Row {
    pub label: String,
    pub count: u64,
    pub paint: Paint,
    /// Printed after the bar in the bar's colour (a grade).
    pub after: String,
    /// And after that, plain (what the outcome means).
    pub note: String,
}

/// One bar of a chart panel.
pub struct Bar {
    /// Left of the bar: the swept value, or a strategy under it.
    pub label: String,
    pub value: f64,
    /// Right of the bar: the value as people read it.
    pub text: String,
    pub paint: Paint,
}

impl Text {
    /// A titled panel of horizontal bars, scaled so that `full` fills the width (a share scales
    /// to 1, so that a half-length bar means half, not "half of the largest").
    pub(super) fn panel(
        &self,
        title: &str,
        bars: &[Bar],
        full: f64,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        writeln!(out, "{}", self.paint(title, Paint::Bold))?;
        let label_width = bars
            .iter()
            .map(|b| b.label.chars().count())
            .max()
            .unwrap_or(0);
        let text_width = bars
            .iter()
            .map(|b| b.text.chars().count())
            .max()
            .unwrap_or(0);
        let bar_width = self
            .width
            .saturating_sub(label_width + 2 + 2 + text_width)
            .clamp(MIN_BAR, MAX_BAR);
        for b in bars {
            let drawn = bar(b.value, full, bar_width);
            let pad = " ".repeat(bar_width - drawn.chars().count());
            writeln!(
                out,
                "{:<label_width$}  {}{pad}  {:>text_width$}",
                b.label,
                self.paint(&drawn, b.paint),
                b.text
            )?;
        }
        Ok(())
    }

    /// A histogram table: label, count, share, bar and what follows it, the bars scaled to the
    /// largest count and to the terminal's width.
    pub(super) fn histogram(
        &self,
        heading: [&str; 2],
        rows: &[Row],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.histogram_headed([heading[0], heading[1], ""], rows, out)
    }

    /// [`Text::histogram`] with a heading over what follows the bars as well.
    pub(super) fn histogram_headed(
        &self,
        heading: [&str; 3],
        rows: &[Row],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let total: u64 = rows.iter().map(|r| r.count).sum();
        let max = rows.iter().map(|r| r.count).max().unwrap_or(0);
        let label_width = rows
            .iter()
            .map(|r| r.label.chars().count())
            .chain([heading[0].chars().count()])
            .max()
            .unwrap_or(0);
        let counts: Vec<String> = rows.iter().map(|r| thousands(r.count)).collect();
        let count_width = counts
            .iter()
            .map(String::len)
            .chain([heading[1].len()])
            .max()
            .unwrap_or(0);
        // label, count, a 6-wide share, the bar, each two spaces apart; what follows the bar
        // may wrap rather than squeeze the bars to nothing.
        let after = rows
            .iter()
            .map(|r| r.after.chars().count())
            .max()
            .unwrap_or(0);
        // Headed columns after the bars are a table: they must fit.
        let after = if heading[2].is_empty() {
            after.min(12)
        } else {
            after
        };
        let fixed = label_width + 2 + count_width + 2 + 6 + 2 + after + 2;
        let bar_width = self.width.saturating_sub(fixed).clamp(MIN_BAR, MAX_BAR);
        let head = format!(
            "{:<label_width$}  {:>count_width$}  {:>6}  {:bar_width$}  {}",
            heading[0], heading[1], "share", "", heading[2]
        );
        writeln!(out, "{}", head.trim_end())?;
        for (row, count) in rows.iter().zip(&counts) {
            let drawn = bar(row.count as f64, max as f64, bar_width);
            // Padded outside the colour codes, so that the codes do not count as width.
            let pad = " ".repeat(bar_width - drawn.chars().count());
            let bar = format!("{}{pad}", self.paint(&drawn, row.paint));
            let after = if row.after.is_empty() {
                String::new()
            } else {
                self.paint(&row.after, row.paint)
            };
            let line = format!(
                "{:<label_width$}  {count:>count_width$}  {:>6}  {}  {after}{}",
                row.label,
                percent(if total == 0 {
                    0.0
                } else {
                    row.count as f64 / total as f64
                }),
                bar,
                row.note,
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// The histogram of a counter's final values; nothing when every trial ended the same.
    pub(super) fn finals_histogram(
        &self,
        bins: &[Bin],
        expected: u64,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if bins.iter().filter(|b| b.count > 0).count() < 2 {
            return Ok(());
        }
        let rows: Vec<Row> = bins
            .iter()
            .map(|b| {
                let correct = b.low == expected && b.high == expected;
                Row {
                    label: super::range(b.low, b.high),
                    count: b.count,
                    paint: if correct { Paint::Good } else { Paint::Bad },
                    after: if correct { "expected" } else { "" }.to_string(),
                    note: String::new(),
                }
            })
            .collect();
        self.histogram(["final value", "trials"], &rows, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_exact_to_an_eighth_and_never_hide_a_rare_value() {
        assert_eq!(bar(10.0, 10.0, 4), "████");
        assert_eq!(bar(5.0, 10.0, 4), "██");
        assert_eq!(bar(1.0, 16.0, 4), "▎");
        assert_eq!(bar(3.0, 16.0, 4), "▊");
        assert_eq!(bar(1.0, 1_000_000.0, 4), "▏");
        assert_eq!(bar(0.0, 10.0, 4), "");
    }

    #[test]
    fn histogram_is_exactly_this_and_fits_the_width() {
        let bins = [
            Bin {
                low: 1_000,
                high: 1_099,
                count: 3,
            },
            Bin {
                low: 1_100,
                high: 1_199,
                count: 0,
            },
            Bin {
                low: 1_200,
                high: 1_299,
                count: 12,
            },
            Bin {
                low: 2_000,
                high: 2_000,
                count: 1,
            },
        ];
        let mut out = Vec::new();
        Text {
            color: false,
            width: 60,
        }
        .finals_histogram(&bins, 2_000, &mut out)
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "\
final value  trials   share
1,000–1,099       3     19%  █████▎
1,100–1,199       0      0%
1,200–1,299      12     75%  █████████████████████
2,000             1    6.2%  █▊                     expected
";
        assert_eq!(text, expected);
        assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
    }

    #[test]
    fn one_distinct_value_draws_no_histogram() {
        let mut out = Vec::new();
        let bins = [Bin {
            low: 2_000,
            high: 2_000,
            count: 20,
        }];
        Text {
            color: false,
            width: 80,
        }
        .finals_histogram(&bins, 2_000, &mut out)
        .unwrap();
        assert!(out.is_empty());
    }
}
