//! The timeline and parallelism charts of the HTML report, as inline SVG (pure).
//!
//! Times are seconds from the start of the rebuild (preflight included), the recovery-time clock: an
//! object's bar starts where the preflight ends plus its start in the apply.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::RebuildReport;
use super::evidence::escape;
use crate::apply::Change;

/// Width of the object labels, of the plot, and the heights of a row and of a layer heading, in px.
const LABEL: f64 = 380.0;
const PLOT: f64 = 880.0;
const ROW: f64 = 16.0;
const HEADING: f64 = 24.0;
const AXIS: f64 = 26.0;

/// The end of the time axis: the recovery time, or the last object if later.
fn span(r: &RebuildReport) -> f64 {
    let offset = r.critical_path.preflight_seconds;
    r.changes
        .changes
        .iter()
        .map(|c| offset + c.finished.as_secs_f64())
        .fold(r.rto_seconds, f64::max)
        .max(0.001)
}

fn x(t: f64, total: f64) -> f64 {
    LABEL + t.max(0.0) / total * PLOT
}

/// A tick step giving at most ten ticks.
fn tick_step(total: f64) -> f64 {
    const STEPS: [f64; 15] = [
        0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| total / s <= 10.0)
        .unwrap_or(3600.0)
}

/// The layers in report order, then any other layer of the change set (pruned objects).
fn layer_order(r: &RebuildReport) -> Vec<String> {
    let mut order: Vec<String> = r.layers.iter().map(|l| l.layer.clone()).collect();
    let mut seen: BTreeSet<String> = order.iter().cloned().collect();
    for c in &r.changes.changes {
        if seen.insert(c.layer.clone()) {
            order.push(c.layer.clone());
        }
    }
    order
}

/// The timeline: one `rect.bar` per entry of the change set.
pub fn render(r: &RebuildReport) -> String {
    let total = span(r);
    let offset = r.critical_path.preflight_seconds;
    let critical: BTreeSet<String> = r
        .critical_path
        .steps
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    let groups: Vec<(String, Vec<&Change>)> = layer_order(r)
        .into_iter()
        .map(|l| {
            let of: Vec<&Change> = r.changes.changes.iter().filter(|c| c.layer == l).collect();
            (l, of)
        })
        .filter(|(_, of)| !of.is_empty())
        .collect();
    let rows: usize = groups.iter().map(|(_, of)| of.len()).sum();
    let height = AXIS + groups.len() as f64 * HEADING + rows as f64 * ROW + 8.0;
    let width = LABEL + PLOT + 20.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg id=\"timeline\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"timeline of {rows} objects\">"
    );
    let step = tick_step(total);
    let mut t = 0.0;
    while t <= total + 1e-9 {
        let px = x(t, total);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{px:.1}\" y2=\"{height:.1}\"/><text class=\"tick\" x=\"{px:.1}\" y=\"14\">{}</text>",
            AXIS - 6.0,
            tick_label(t, step)
        );
        t += step;
    }
    let rto = x(r.rto_seconds, total);
    let _ = writeln!(
        out,
        "<line class=\"rto\" x1=\"{rto:.1}\" y1=\"{:.1}\" x2=\"{rto:.1}\" y2=\"{height:.1}\"><title>recovery time {:.2}s</title></line>",
        AXIS - 6.0,
        r.rto_seconds
    );
    if offset > 0.0 {
        let _ = writeln!(
            out,
            "<rect class=\"preflight\" x=\"{LABEL:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>preflight {offset:.2}s</title></rect>",
            AXIS - 6.0,
            x(offset, total) - LABEL,
            height - AXIS + 6.0
        );
    }
    let mut y = AXIS;
    for (layer, changes) in &groups {
        let _ = writeln!(
            out,
            "<g class=\"layer\" data-layer=\"{0}\"><text class=\"layer-name\" x=\"4\" y=\"{1:.1}\">layer {0} · {2} object(s)</text>",
            escape(layer),
            y + 16.0,
            changes.len()
        );
        y += HEADING;
        for c in changes {
            bar(
                &mut out,
                c,
                y,
                offset,
                total,
                critical.contains(&c.id.to_string()),
            );
            y += ROW;
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

fn bar(out: &mut String, c: &Change, y: f64, offset: f64, total: f64, critical: bool) {
    let start = offset + c.started.as_secs_f64();
    let end = offset + c.finished.as_secs_f64().max(c.started.as_secs_f64());
    let left = x(start, total);
    let width = (x(end, total) - left).max(2.0);
    let id = c.id.to_string();
    let label: String = if id.chars().count() > 56 {
        let head: String = id.chars().take(55).collect();
        format!("{head}…")
    } else {
        id.clone()
    };
    let class = format!(
        "bar {}{}",
        c.action.as_str(),
        if critical { " critical" } else { "" }
    );
    let mut tip = format!(
        "{id}: {} {start:.2}s → {end:.2}s ({:.2}s)\n{}",
        c.action.as_str(),
        end - start,
        c.source
    );
    if let Some(e) = &c.error {
        tip.push_str(&format!("\n{e}"));
    }
    if critical {
        tip.push_str("\non the critical path");
    }
    let _ = writeln!(
        out,
        "<g class=\"row\" data-id=\"{0}\"><text class=\"label\" x=\"{1:.1}\" y=\"{2:.1}\">{3}</text><rect class=\"{4}\" data-id=\"{0}\" x=\"{5:.2}\" y=\"{6:.1}\" width=\"{7:.2}\" height=\"{8:.1}\" rx=\"2\"><title>{9}</title></rect></g>",
        escape(&id),
        LABEL - 8.0,
        y + ROW - 4.0,
        escape(&label),
        class,
        left,
        y + 3.0,
        width,
        ROW - 5.0,
        escape(&tip)
    );
}

fn tick_label(t: f64, step: f64) -> String {
    if step < 1.0 {
        format!("{t:.2}s")
    } else if step < 60.0 {
        format!("{t:.0}s")
    } else {
        format!("{:.0}m", t / 60.0)
    }
}

/// The legend under the timeline.
pub fn legend() -> String {
    let item = |class: &str, text: &str| {
        format!(
            "<span class=\"key\"><svg width=\"18\" height=\"10\"><rect class=\"swatch bar {class}\" width=\"18\" height=\"10\" rx=\"2\"/></svg> {text}</span>"
        )
    };
    format!(
        "<p class=\"legend\">{}{}{}{}{}</p>\n",
        item("created", "applied"),
        item("unchanged", "unchanged"),
        item("created critical", "critical path"),
        item("failed", "failed"),
        item("blocked", "blocked (never applied)")
    )
}

/// Objects in flight over time, as an area chart on the timeline's time axis.
pub fn parallelism(r: &RebuildReport) -> String {
    let p = &r.parallelism;
    let total = span(r);
    let offset = r.critical_path.preflight_seconds;
    let height = 90.0;
    let top = 10.0;
    let base = height - 18.0;
    // Buckets hold means; the scale is the peak, so a short burst reads as what it was.
    let max = (p.max as f64)
        .max(p.in_flight.iter().copied().fold(0.0, f64::max))
        .max(1.0);
    let mut points = format!("{:.1},{base:.1}", x(offset, total));
    for (i, v) in p.in_flight.iter().enumerate() {
        let y = base - v / max * (base - top);
        let from = x(offset + i as f64 * p.bucket_seconds, total);
        let to = x(offset + (i + 1) as f64 * p.bucket_seconds, total);
        let _ = write!(points, " {from:.1},{y:.1} {to:.1},{y:.1}");
    }
    let end = x(offset + p.in_flight.len() as f64 * p.bucket_seconds, total);
    let _ = write!(points, " {end:.1},{base:.1}");
    let width = LABEL + PLOT + 20.0;
    format!(
        "<svg id=\"parallelism-chart\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"objects in flight over time\">\
         <text class=\"axis-label\" x=\"{:.1}\" y=\"{:.1}\">peak {max:.0} in flight</text>\
         <line class=\"grid\" x1=\"{LABEL:.1}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\"/>\
         <polygon class=\"area\" points=\"{points}\"/></svg>\n",
        LABEL - 8.0,
        top + 8.0,
        LABEL + PLOT
    )
}
