//! Bar charts drawn on the server as SVG: no script, no image request, the numbers in text
//! on the bars, and a second series outlined rather than filled so the two read apart without
//! colour. Each chart stands beside a table of the same numbers (the page's), which is what a
//! screen reader reads: the SVG is one image named by its title.

/// One series of bars: its legend and a value per category (none: nothing to draw).
pub struct Series<'a> {
    pub label: &'a str,
    pub values: Vec<Option<f64>>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn number(value: f64, percent: bool) -> String {
    if percent {
        format!("{:.0} %", value * 100.0)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Grouped bars, one group per category; `percent` draws values of 0 to 1 as percentages on
/// a fixed 100 % scale.
pub fn bars(title: &str, categories: &[String], series: &[Series<'_>], percent: bool) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 220.0;
    const TOP: f64 = 28.0;
    const BOTTOM: f64 = 24.0;
    const LEFT: f64 = 8.0;
    let plot = HEIGHT - TOP - BOTTOM;
    let max = if percent {
        1.0
    } else {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0_f64, |a, &b| a.max(b))
            .max(1.0)
    };
    let groups = categories.len().max(1) as f64;
    let group_width = (WIDTH - LEFT * 2.0) / groups;
    let bar_width = (group_width * 0.8 / series.len().max(1) as f64).min(48.0);
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    // The legend, top left.
    let mut x = LEFT;
    for (i, s) in series.iter().enumerate() {
        svg.push_str(&format!(
            r#"<rect class="bar-{i}" x="{x}" y="6" width="12" height="12"/><text x="{}" y="16" class="legend">{}</text>"#,
            x + 16.0,
            escape(s.label)
        ));
        x += 24.0 + s.label.chars().count() as f64 * 7.0;
    }
    let baseline = TOP + plot;
    svg.push_str(&format!(
        r#"<line class="axis" x1="{LEFT}" y1="{baseline}" x2="{}" y2="{baseline}"/>"#,
        WIDTH - LEFT
    ));
    for (g, category) in categories.iter().enumerate() {
        let group_x = LEFT + g as f64 * group_width;
        let first = group_x + (group_width - bar_width * series.len() as f64) / 2.0;
        for (i, s) in series.iter().enumerate() {
            let Some(value) = s.values.get(g).copied().flatten() else {
                continue;
            };
            let height = (value / max).clamp(0.0, 1.0) * plot;
            let bar_x = first + i as f64 * bar_width;
            if value == 0.0 {
                // Nothing to draw: the table says 0.
                continue;
            }
            svg.push_str(&format!(
                r#"<rect class="bar-{i}" x="{bar_x:.1}" y="{:.1}" width="{:.1}" height="{height:.1}"/><text class="value" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                baseline - height,
                (bar_width - 2.0).max(1.0),
                bar_x + bar_width / 2.0 - 1.0,
                baseline - height - 3.0,
                number(value, percent)
            ));
        }
        svg.push_str(&format!(
            r#"<text class="category" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            group_x + group_width / 2.0,
            HEIGHT - 6.0,
            escape(category)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_itself_escapes_text_and_skips_missing_values() {
        let svg = bars(
            "Requests <per> month",
            &["2026-03".into(), "2026-04".into()],
            &[
                Series {
                    label: "submitted",
                    values: vec![Some(4.0), None],
                },
                Series {
                    label: "urgent & more",
                    values: vec![Some(1.0), Some(0.0)],
                },
            ],
            false,
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title>Requests &lt;per&gt; month</title>"));
        assert!(svg.contains("urgent &amp; more"));
        assert_eq!(
            svg.matches("class=\"value\"").count(),
            2,
            "no bar for a missing value nor for a zero"
        );
        assert!(svg.contains(">4</text>"));
    }
}
