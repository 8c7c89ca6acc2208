//! `sweep --svg FILE`: the sweep as an SVG chart for slides, drawn with plotters. Two panels:
//! how often and how badly the racy strategy lost updates, and what each strategy cost.

use std::error::Error;
use std::path::Path;

use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use super::SweepReport;
use crate::format::thousands;
use crate::strategy::StrategyKind;

const SIZE: (u32, u32) = (1200, 520);
const FONT: &str = "sans-serif";

/// One colour per strategy, the same in both panels (the "tab10" palette, readable in print).
fn colour(kind: StrategyKind) -> RGBColor {
    let (r, g, b) = kind.about().rgb;
    RGBColor(r, g, b)
}

/// Writes the chart to `path`.
pub fn write(report: &SweepReport, path: &Path) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let name = report.parameter.name();
    let n = report.points.len();
    // Points evenly spaced, labelled with their values: a doubling sweep reads like a log axis,
    // a stepped one like a linear axis, with one drawing.
    let labels: Vec<String> = report.points.iter().map(|p| thousands(p.value)).collect();
    let label_at = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let xs = -0.3..(n as f64 - 0.7);
    let strategies = report.strategies();

    let mut chart = ChartBuilder::on(&left)
        .caption("Lost updates", (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(xs.clone(), 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&label_at)
        .x_desc(name)
        .y_desc("% of trials / % of increments")
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .draw()?;
    for &kind in strategies.iter().filter(|k| k.is_racy()) {
        let c = colour(kind);
        let series = |f: fn(&crate::stats::Summary) -> f64| -> Vec<(f64, f64)> {
            report
                .points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let r = p.results.iter().find(|r| r.strategy == kind)?;
                    Some((i as f64, 100.0 * f(&r.summary)))
                })
                .collect()
        };
        let differed = series(|s| s.rate.differed_rate);
        chart
            .draw_series(LineSeries::new(differed.clone(), c.stroke_width(3)))?
            .label(format!("{}: trials that lost updates", kind.name()))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
        chart.draw_series(differed.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        let lost = series(|s| s.lost.mean_fraction);
        let faded = c.mix(0.55);
        chart
            .draw_series(LineSeries::new(lost.clone(), faded.stroke_width(2)))?
            .label(format!("{}: mean share of increments lost", kind.name()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], faded.stroke_width(2))
            });
        chart.draw_series(
            lost.iter()
                .map(|&p| TriangleMarker::new(p, 5, faded.filled())),
        )?;
    }
    legend(&mut chart)?;

    let costs: Vec<f64> = report
        .points
        .iter()
        .flat_map(|p| p.results.iter().map(|r| r.summary.pace.ns_per_op))
        .filter(|&ns| ns > 0.0)
        .collect();
    let lo = costs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = costs.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if costs.is_empty() {
        (0.1, 10.0)
    } else {
        (lo / 1.5, hi * 1.5)
    };
    let mut chart = ChartBuilder::on(&right)
        .caption("Cost per increment", (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(xs, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&label_at)
        .x_desc(name)
        .y_desc("ns per increment (log scale)")
        .y_label_formatter(&|y| format!("{y}"))
        .draw()?;
    for &kind in &strategies {
        let c = colour(kind);
        let points: Vec<(f64, f64)> = report
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let r = p.results.iter().find(|r| r.strategy == kind)?;
                Some((i as f64, r.summary.pace.ns_per_op)).filter(|&(_, ns)| ns > 0.0)
            })
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(3)))?
            .label(kind.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
    }
    legend(&mut chart)?;
    root.present()?;
    Ok(())
}

/// The series' names, top left, over a light box.
fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Result<(), Box<dyn Error>>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sweep::fixture;

    #[test]
    fn svg_is_well_formed_and_holds_every_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.svg");
        write(&fixture::sweep(), &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        for wanted in [
            "Lost updates",
            "Cost per increment",
            "unsafe: trials that lost updates",
            "unsafe: mean share of increments lost",
            "locked",
            "threads",
            "1",
            "2",
            "4",
        ] {
            assert!(texts.contains(&wanted), "no {wanted:?} in {texts:?}");
        }
        // One polyline per series through all three points (the legend's samples have two):
        // differed and lost for unsafe, and a cost line for each strategy.
        let ours = ["#D62728", "#1F77B4"];
        let series = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .filter(|n| n.attribute("stroke").is_some_and(|s| ours.contains(&s)))
            .filter(|n| n.attribute("points").unwrap().split_whitespace().count() == 3)
            .count();
        assert_eq!(series, 4, "{svg}");
    }
}
