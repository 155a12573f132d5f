//! Line charts (the learning curve) as SVG, readable on their own: title, axis labels, tick
//! numbers, a legend naming each line.
//!
//! Drawn with `plotters` (SVG backend only): SVG leaves the text to the viewer's fonts, so no
//! font files or font crates come in, where a PNG would need a TTF font to write words.

use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

/// Size of the picture, in SVG pixels.
const W: u32 = 960;
const H: u32 = 560;

/// One line of the chart, named in the legend.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: [u8; 3],
    pub points: &'a [(f64, f64)],
}

/// What a chart shows; labels should name the unit, e.g. "sessions so far (count)".
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// Decimals of the y tick numbers.
    pub y_decimals: usize,
    pub series: &'a [Series<'a>],
}

/// The chart as an SVG document. x runs from 0 (or below, if a point is) to just past the
/// largest x; y spans the points, padded by 5 % below and with room above for the legend.
pub fn svg(chart: &Chart) -> Result<String, PlotError> {
    let (mut x0, mut x1, mut y0, mut y1) = (0.0f64, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in chart.series.iter().flat_map(|s| s.points.iter()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if y0 > y1 {
        (x1, y0, y1) = (1.0, 0.0, 1.0);
    }
    // A little room right of the last point, so that its dot is not cut.
    let x1 = if x1 > x0 {
        x1 + 0.015 * (x1 - x0)
    } else {
        x0 + 1.0
    };
    let span = (y1 - y0).max(1e-3);
    // One legend line takes about 6 % of the plot's height.
    let legend = 0.06 * (chart.series.len() as f64 + 1.0);
    let (y0, y1) = (y0 - 0.05 * span, y1 + span * legend / (1.0 - legend));

    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(PlotError)?;
        let mut c = ChartBuilder::on(&root)
            .caption(chart.title, ("sans-serif", 28))
            .margin(20)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(PlotError)?;
        let y_tick = |v: &f64| format!("{v:.*}", chart.y_decimals);
        c.configure_mesh()
            .x_desc(chart.x_label)
            .y_desc(chart.y_label)
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 17))
            .x_labels(11)
            .y_labels(8)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&y_tick)
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(PlotError)?;
        for s in chart.series {
            let color = RGBColor(s.color[0], s.color[1], s.color[2]);
            c.draw_series(LineSeries::new(
                s.points.iter().copied(),
                color.stroke_width(3),
            ))
            .map_err(PlotError)?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(3)));
            c.draw_series(s.points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(PlotError)?;
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .margin(12)
            .label_font(("sans-serif", 19))
            .background_style(WHITE)
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(PlotError)?;
        root.present().map_err(PlotError)?;
    }
    Ok(out)
}

/// plotters failed to draw (the SVG backend writes to a string, so hardly ever).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct PlotError(#[source] DrawingAreaErrorKind<std::io::Error>);

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(series: &[Series]) -> String {
        svg(&Chart {
            title: "Learning curve & more",
            x_label: "sessions so far (count)",
            y_label: "nDCG@5 (0 to 1)",
            y_decimals: 2,
            series,
        })
        .unwrap()
    }

    /// The contents of the <text> elements.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("</text>")
            .filter_map(|s| s.rsplit_once('>'))
            .map(|(_, t)| t.trim())
            .collect()
    }

    #[test]
    fn writes_title_axis_labels_ticks_and_legend() {
        let a = [(0.0, 0.1), (10.0, 0.2), (20.0, 0.3)];
        let b = [(0.0, 0.1), (10.0, 0.1), (20.0, 0.1)];
        let out = chart(&[
            Series {
                name: "learned ranking",
                color: [200, 0, 0],
                points: &a,
            },
            Series {
                name: "visual similarity only",
                color: [0, 0, 200],
                points: &b,
            },
        ]);
        assert!(out.starts_with("<svg"), "{out}");
        // The text is in the file, escaped, each as a <text> element.
        let texts = texts(&out);
        let text = |s: &str| texts.contains(&s);
        for s in [
            "Learning curve &amp; more",
            "sessions so far (count)",
            "nDCG@5 (0 to 1)",
            "learned ranking",
            "visual similarity only",
            "0",
            "20",
            "0.10",
            "0.30",
        ] {
            assert!(text(s), "no text {s:?} in {out}");
        }
        // Each line in its colour (legend and points included).
        assert!(out.matches("#C80000").count() >= 3, "{out}");
        assert!(out.matches("#0000C8").count() >= 3, "{out}");
    }

    #[test]
    fn an_empty_chart_still_draws() {
        let out = chart(&[]);
        assert!(texts(&out).contains(&"sessions so far (count)"), "{out}");
    }
}
