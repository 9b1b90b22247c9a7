//! The comparison of clusters as text (a table object × cluster) and as JUnit suites.

use std::fmt::Write;

use super::super::junit::{case_attributes as attributes, escape};
use super::super::text::attribution;
use super::{Group, Row};

/// One block per group: a table of the objects on which its clusters differ (a column per cluster,
/// each cell the object's state there), the differing fields under each row, then a verdict line.
pub fn render_text(groups: &[Group]) -> String {
    let mut out = String::new();
    for g in groups {
        let _ = writeln!(
            out,
            "# clusters of role {} compared: {}",
            g.role,
            g.clusters.join(", ")
        );
        if !g.not_compared.is_empty() {
            let _ = writeln!(
                out,
                "not compared (drift failed): {}",
                g.not_compared.join(", ")
            );
        }
        if g.differing.is_empty() {
            let _ = writeln!(
                out,
                "alike: {} object(s) compared, none differs",
                g.compared
            );
            continue;
        }
        table(&mut out, g);
        let _ = writeln!(
            out,
            "CLUSTERS DIFFER: {} of {} object(s) differ between clusters of role {}",
            g.differing.len(),
            g.compared,
            g.role
        );
    }
    out
}

fn table(out: &mut String, g: &Group) {
    let object_width = g
        .differing
        .iter()
        .map(|r| r.id.to_string().len())
        .chain(["OBJECT".len()])
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = g
        .clusters
        .iter()
        .map(|c| c.len().max("unverifiable".len()))
        .collect();
    let mut head = format!("{:<object_width$}", "OBJECT");
    for (c, w) in g.clusters.iter().zip(&widths) {
        let _ = write!(head, "  {c:<w$}");
    }
    let _ = writeln!(out, "{}", head.trim_end());
    for r in &g.differing {
        let mut line = format!("{:<object_width$}", r.id.to_string());
        for (c, w) in g.clusters.iter().zip(&widths) {
            let state = r.states.get(c).map_or("", |s| s.as_str());
            let _ = write!(line, "  {state:<w$}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
        for f in &r.fields {
            let _ = writeln!(out, "    {}: {}", f.path, who(f));
        }
    }
}

/// `live content differs; set in us by kubectl-patch (Update) at …`.
fn who(f: &super::Differing) -> String {
    if f.changed_by.is_empty() {
        return "live content differs".into();
    }
    let by: Vec<String> = f
        .changed_by
        .iter()
        .map(|(c, a)| format!("in {c} by {}", attribution(a)))
        .collect();
    format!("live content differs; set {}", by.join(", "))
}

/// One `<testsuite>` per group, named `clusters of role ROLE`: a test case per object compared, a
/// `<failure>` where the clusters differ. Suites only, to go inside the clusters' `<testsuites>`.
pub fn render_junit(groups: &[Group]) -> String {
    let mut out = String::new();
    for g in groups {
        let tests = g.compared;
        let failures = g.differing.len();
        let _ = writeln!(
            out,
            "  <testsuite name=\"clusters of role {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
            escape(&g.role)
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"clusters\" value=\"{}\"/>\n    </properties>",
            escape(&g.clusters.join(","))
        );
        for r in &g.differing {
            let message = headline(r);
            let _ = writeln!(
                out,
                "    <testcase {}>\n      <failure type=\"clusters-differ\" message=\"{}\">{}</failure>\n    </testcase>",
                attributes(&r.id, r.source.as_deref()),
                escape(&message),
                escape(&details(r))
            );
        }
        for (id, source) in &g.alike {
            let _ = writeln!(out, "    <testcase {}/>", attributes(id, source.as_deref()));
        }
        if !g.not_compared.is_empty() {
            let _ = writeln!(
                out,
                "    <system-err>{}</system-err>",
                escape(&format!(
                    "not compared (drift failed): {}",
                    g.not_compared.join(", ")
                ))
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out
}

/// `ConfigMap/web/settings differs between clusters: eu in sync, us modified; data.mode`.
fn headline(r: &Row) -> String {
    let states: Vec<String> = r
        .states
        .iter()
        .map(|(c, s)| format!("{c} {}", s.as_str()))
        .collect();
    let mut s = format!("{} differs between clusters: {}", r.id, states.join(", "));
    if !r.fields.is_empty() {
        let fields: Vec<String> = r.fields.iter().map(|f| f.path.to_string()).collect();
        let _ = write!(s, "; {}", fields.join(", "));
    }
    s
}

fn details(r: &Row) -> String {
    let mut s = String::new();
    if let Some(src) = &r.source {
        let _ = writeln!(s, "declared at {src}");
    }
    for f in &r.fields {
        let _ = writeln!(s, "{}: {}", f.path, who(f));
    }
    s
}
