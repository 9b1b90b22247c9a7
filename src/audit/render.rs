//! The audit as text (one line per finding, compiler style) and as JUnit XML (one test case per rule
//! applied to an object). JSON is the report's serde form.

use std::fmt::Write as _;

use super::{AuditReport, Finding};

/// `path:line: Kind/ns/name: severity rule: message`, then suppressed findings and the summary.
pub fn render_text(r: &AuditReport) -> String {
    let mut out = String::new();
    let at = |f: &Finding| f.source.clone().unwrap_or_else(|| "live".into());
    for f in &r.findings {
        let _ = writeln!(
            out,
            "{}: {}: {} {}: {}",
            at(f),
            f.object,
            f.severity,
            f.rule,
            f.message
        );
    }
    for s in &r.suppressed {
        let f = &s.finding;
        let _ = writeln!(
            out,
            "{}: {}: suppressed {}: {}",
            at(f),
            f.object,
            f.rule,
            s.reason
        );
    }
    let _ = writeln!(out, "audit: {}", r.summary());
    out
}

/// One suite; a test case per (rule, object) checked: a `<failure>` per finding (its severity as the
/// type), `<skipped>` when the object suppresses the rule.
pub fn render_junit(r: &AuditReport) -> String {
    let failures = r.findings.len();
    let skipped = r.suppressed.len();
    let tests = r.checked.len();
    let mut cases = String::new();
    for c in &r.checked {
        let _ = write!(
            cases,
            "    <testcase classname=\"audit.{}\" name=\"{}\"",
            escape(c.rule),
            escape(&c.object)
        );
        if let Some((file, line)) = c.source.as_deref().and_then(|s| s.rsplit_once(':')) {
            let _ = write!(cases, " file=\"{}\" line=\"{line}\"", escape(file));
        }
        let mut body = String::new();
        for f in r
            .findings
            .iter()
            .filter(|f| f.rule == c.rule && f.id == c.id)
        {
            let _ = writeln!(
                body,
                "      <failure type=\"{}\" message=\"{}\"/>",
                f.severity,
                escape(&f.message)
            );
        }
        for s in r
            .suppressed
            .iter()
            .filter(|s| s.finding.rule == c.rule && s.finding.id == c.id)
        {
            let _ = writeln!(
                body,
                "      <skipped message=\"{}\"/>",
                escape(&format!("suppressed: {}", s.reason))
            );
        }
        if body.is_empty() {
            cases.push_str("/>\n");
        } else {
            let _ = write!(cases, ">\n{body}    </testcase>\n");
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rekube audit\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        escape(&format!("audit {}", r.origin))
    );
    out.push_str("    <properties>\n");
    let server = r.server.as_deref().unwrap_or_default();
    for (k, v) in [
        ("origin", r.origin.as_str()),
        ("revision", r.revision.as_deref().unwrap_or_default()),
        ("server", server),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{k}\" value=\"{}\"/>",
            escape(v)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn escape(s: &str) -> String {
    crate::report::escape(s)
}
