//! The DR report as one self-contained HTML page (pure): inline CSS, inline SVG, a few lines of inline
//! JavaScript, nothing fetched. The verdict, the recovery time against its budget, the commit and the
//! cluster; a timeline with one bar per object from its start to its readiness, grouped by layer, the
//! critical path highlighted; the parallelism reached; the slowest objects; the simulated objects; the
//! drift check; and on failure what blocked what.

use std::fmt::Write as _;

use super::evidence::{DriftCheck, Evidence, escape};
use super::timeline;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The page.
pub fn render(e: &Evidence) -> String {
    let r = e.rebuild;
    let verdict = if e.passed { "PASSED" } else { "FAILED" };
    let title = format!("rekube {} {verdict}: {}", e.command, e.origin);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let class = if e.passed { "pass" } else { "fail" };
    let _ = writeln!(
        out,
        "<header class=\"{class}\"><h1><span class=\"verdict\" id=\"verdict\">{} {verdict}</span> {}</h1></header>",
        escape(&e.command.to_uppercase()),
        escape(e.origin)
    );
    summary(&mut out, e);
    if !e.problems.is_empty() {
        out.push_str("<section id=\"problems\"><h2>Problems</h2><ul>\n");
        for p in &e.problems {
            let _ = writeln!(out, "<li>{}</li>", escape(p));
        }
        out.push_str("</ul></section>\n");
    }
    if r.blocked_by.iter().any(|b| !b.blocked.is_empty()) {
        out.push_str("<section id=\"blocked\"><h2>What blocked what</h2>\n<table><thead><tr><th>failed</th><th>why</th><th>not applied because of it</th></tr></thead><tbody>\n");
        for b in &r.blocked_by {
            let blocked: Vec<String> = b.blocked.iter().map(|id| escape(&id.to_string())).collect();
            let _ = writeln!(
                out,
                "<tr><td class=\"id\">{}<div class=\"src\">{}</div></td><td>{}</td><td class=\"id\">{}</td></tr>",
                escape(&b.failed.to_string()),
                escape(&b.source),
                escape(&b.error),
                if blocked.is_empty() {
                    "nothing".to_owned()
                } else {
                    blocked.join("<br>")
                }
            );
        }
        out.push_str("</tbody></table></section>\n");
    }
    out.push_str("<section id=\"timeline-section\"><h2>Timeline</h2>\n<p class=\"hint\">One bar per object, from its start to its readiness, grouped by layer; the critical path (the chain of dependencies that set the recovery time) is highlighted. <label>Filter <input id=\"filter\" type=\"search\" placeholder=\"Kind/namespace/name\"></label></p>\n");
    out.push_str(&timeline::render(r));
    out.push_str(&timeline::legend());
    out.push_str("</section>\n");
    out.push_str("<section id=\"parallelism\"><h2>Parallelism</h2>\n");
    let _ = writeln!(
        out,
        "<p>Up to <b>{}</b> object(s) in flight at once, {:.1} on average.</p>",
        r.parallelism.max, r.parallelism.mean
    );
    out.push_str(&timeline::parallelism(r));
    out.push_str("</section>\n");
    critical(&mut out, e);
    slowest(&mut out, e);
    simulated(&mut out, e);
    drift(&mut out, e);
    layers(&mut out, e);
    let _ = write!(
        out,
        "<footer>Made by rekube at {}.</footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        escape(e.generated)
    );
    out
}

fn summary(out: &mut String, e: &Evidence) {
    let r = e.rebuild;
    let budget = match r.rto_budget_seconds {
        Some(b) => {
            let word = if r.within_budget { "within" } else { "over" };
            let share = if b > 0.0 {
                (r.rto_seconds / b * 100.0).min(100.0)
            } else {
                100.0
            };
            format!(
                "{word} the budget of {}<div class=\"meter\"><div class=\"{}\" style=\"width:{share:.1}%\"></div></div>",
                duration(b),
                if r.within_budget { "ok" } else { "over" }
            )
        }
        None => "no budget set (--rto-budget)".to_owned(),
    };
    let counts: Vec<String> = r.counts.iter().map(|(a, n)| format!("{n} {a}")).collect();
    out.push_str("<section id=\"summary\"><dl class=\"grid\">\n");
    let rows = [
        (
            "Recovery time (RTO)",
            format!(
                "<span class=\"big\" id=\"rto\">{:.2}s</span> {budget}",
                r.rto_seconds
            ),
        ),
        (
            "Commit",
            format!(
                "<code>{}</code>",
                escape(e.revision.unwrap_or("(not a Git repository)"))
            ),
        ),
        ("Repository", escape(e.origin)),
        ("Cluster", escape(e.cluster)),
        ("Objects", escape(&counts.join(", "))),
        (
            "Critical path",
            format!("{} step(s)", r.critical_path.steps.len()),
        ),
        ("Simulated", format!("{} object(s)", r.simulated.len())),
        ("Drift check", escape(&drift_summary(&e.drift))),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl></section>\n");
}

fn drift_summary(d: &DriftCheck) -> String {
    match d {
        DriftCheck::NotRun(why) => format!("not run: {why}"),
        DriftCheck::Done { report, .. } => format!(
            "{} ({} of {} object(s) in sync)",
            report.summary(),
            report.in_sync.len(),
            report.checked
        ),
    }
}

fn critical(out: &mut String, e: &Evidence) {
    let path = &e.rebuild.critical_path;
    out.push_str("<section id=\"critical\"><h2>Critical path</h2>\n");
    if path.steps.is_empty() {
        out.push_str("<p>No object ran.</p></section>\n");
        return;
    }
    out.push_str("<table><thead><tr><th>started</th><th>ready</th><th>took</th><th>waited</th><th>object</th><th>declared at</th></tr></thead><tbody>\n");
    let _ = writeln!(
        out,
        "<tr><td>0.00s</td><td>{:.2}s</td><td>{:.2}s</td><td></td><td colspan=\"2\">preflight (load, connect, check)</td></tr>",
        path.preflight_seconds, path.preflight_seconds
    );
    for s in &path.steps {
        let _ = writeln!(
            out,
            "<tr><td>{:.2}s</td><td>{:.2}s</td><td>{:.2}s</td><td>{:.2}s</td><td class=\"id\">{}</td><td class=\"src\">{}</td></tr>",
            s.started,
            s.finished,
            s.seconds,
            s.waited,
            escape(&s.id.to_string()),
            escape(&s.source)
        );
    }
    if path.after_seconds > 0.0 {
        let _ = writeln!(
            out,
            "<tr><td></td><td></td><td>{:.2}s</td><td></td><td colspan=\"2\">prune and inventory record</td></tr>",
            path.after_seconds
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn slowest(out: &mut String, e: &Evidence) {
    out.push_str("<section id=\"slowest\"><h2>Slowest objects</h2>\n<table><thead><tr><th>took</th><th>object</th><th>declared at</th></tr></thead><tbody>\n");
    for s in &e.rebuild.slowest {
        let _ = writeln!(
            out,
            "<tr><td>{:.2}s</td><td class=\"id\">{}</td><td class=\"src\">{}</td></tr>",
            s.seconds,
            escape(&s.id.to_string()),
            escape(&s.source)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn simulated(out: &mut String, e: &Evidence) {
    out.push_str("<section id=\"simulated\"><h2>Simulated objects</h2>\n");
    for note in e.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    if e.rebuild.simulated.is_empty() {
        out.push_str(
            "<p>None: every object's readiness was observed as on a real cluster.</p></section>\n",
        );
        return;
    }
    out.push_str("<p class=\"hint\">The cluster was simulated (pods and volumes do not exist): the readiness of these objects was judged indirectly.</p>\n<table><thead><tr><th>object</th><th>why</th><th>declared at</th></tr></thead><tbody>\n");
    for s in &e.rebuild.simulated {
        let _ = writeln!(
            out,
            "<tr class=\"simulated\"><td class=\"id\">{}</td><td>{}</td><td class=\"src\">{}</td></tr>",
            escape(&s.id.to_string()),
            escape(&s.reason),
            escape(&s.source)
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn drift(out: &mut String, e: &Evidence) {
    out.push_str("<section id=\"drift\"><h2>Drift check</h2>\n");
    match &e.drift {
        DriftCheck::NotRun(why) => {
            let _ = writeln!(out, "<p>Not run: {}.</p>", escape(why));
        }
        DriftCheck::Done { report, seconds } => {
            let _ = writeln!(
                out,
                "<p>{} — {} of {} object(s) in sync, checked in {seconds:.2}s.</p>",
                escape(&report.summary()),
                report.in_sync.len(),
                report.checked
            );
            if !report.findings.is_empty() {
                out.push_str("<table><thead><tr><th>class</th><th>object</th><th>what</th></tr></thead><tbody>\n");
                for f in &report.findings {
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td class=\"id\">{}</td><td>{}</td></tr>",
                        f.class,
                        escape(&f.id.to_string()),
                        escape(f.message.as_deref().unwrap_or_default())
                    );
                }
                out.push_str("</tbody></table>\n");
            }
        }
    }
    out.push_str("</section>\n");
}

fn layers(out: &mut String, e: &Evidence) {
    out.push_str("<section id=\"layers\"><h2>Layers</h2>\n<table><thead><tr><th>layer</th><th>objects</th><th>started</th><th>ready</th><th>took</th></tr></thead><tbody>\n");
    for l in &e.rebuild.layers {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.2}s</td><td>{:.2}s</td><td>{:.2}s</td></tr>",
            escape(&l.layer),
            l.objects,
            l.started,
            l.finished,
            l.seconds
        );
    }
    out.push_str("</tbody></table></section>\n");
}

/// `90s`, `5m`, `1h30m`, as budgets are written.
fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
