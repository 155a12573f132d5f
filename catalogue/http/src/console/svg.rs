//! Line charts drawn on the server as SVG: no script, no CDN, readable offline. Each point
//! carries its value (`data-value`, and a `<title>` for pointers and screen readers).

use super::esc;

/// One line: a name, a colour and a value per bucket (`None`: suppressed, a gap).
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub values: Vec<Option<u64>>,
}

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

/// A chart of `series` over `labels` (the buckets), with `title` as its accessible name.
pub fn line_chart(id: &str, title: &str, labels: &[String], series: &[Series]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            LEFT + (W - LEFT - 8.0) / 2.0
        } else {
            LEFT + i as f64 * (W - LEFT - 8.0) / (n - 1) as f64
        }
    };
    let y = |v: u64| TOP + (H - TOP - BOTTOM) * (1.0 - v as f64 / max);
    let mut out = format!(
        "<svg id=\"{}\" class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">\
         <title>{}</title>",
        esc(id),
        esc(title),
        esc(title)
    );
    // Axes and three grid lines with their values.
    for f in [0.0, 0.5, 1.0] {
        let v = (max * f).round() as u64;
        out += &format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{v}</text>",
            W - 8.0,
            LEFT - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    let step = n.div_ceil(8);
    for (i, l) in labels.iter().enumerate() {
        if i % step == 0 || i + 1 == n {
            out += &format!(
                "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                x(i),
                H - 8.0,
                esc(l.get(5..).unwrap_or(l))
            );
        }
    }
    for s in series {
        // Runs of published values become polylines; a suppressed bucket breaks the line.
        let mut run: Vec<String> = Vec::new();
        let mut lines = String::new();
        let mut points = String::new();
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    run.push(format!("{:.1},{:.1}", x(i), y(*v)));
                    points += &format!(
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\" \
                         data-series=\"{}\" data-bucket=\"{}\" data-value=\"{v}\">\
                         <title>{}: {} {v}</title></circle>",
                        x(i),
                        y(*v),
                        s.colour,
                        esc(s.name),
                        esc(&labels[i]),
                        esc(s.name),
                        esc(&labels[i])
                    );
                }
                None => {
                    if run.len() > 1 {
                        lines += &polyline(&run, s.colour);
                    }
                    run.clear();
                }
            }
        }
        if run.len() > 1 {
            lines += &polyline(&run, s.colour);
        }
        out += &lines;
        out += &points;
    }
    out += "</svg><p class=\"legend\">";
    for s in series {
        out += &format!(
            "<span><i style=\"background:{}\"></i>{}</span> ",
            s.colour,
            esc(s.name)
        );
    }
    out + "</p>"
}

fn polyline(points: &[String], colour: &str) -> String {
    format!(
        "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
        points.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_carry_values_and_gaps_break_lines() {
        let labels: Vec<String> = ["2026-11-02", "2026-11-09", "2026-11-16"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let svg = line_chart(
            "c",
            "Taps <per week>",
            &labels,
            &[Series {
                name: "taps",
                colour: "#06c",
                values: vec![Some(40), None, Some(55)],
            }],
        );
        assert!(svg.contains("data-value=\"40\"") && svg.contains("data-value=\"55\""));
        assert!(!svg.contains("<polyline"), "no line across a gap");
        assert!(svg.contains("Taps &lt;per week&gt;"));
    }
}
