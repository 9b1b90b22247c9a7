//! JUnit XML, the format every CI system shows as test results: one test case per object (every
//! object of Git, every orphan, every unmanaged object), a `<failure>` for drift of a failing class, an
//! `<error>` for an object that could not be verified.

use std::fmt::Write;

use super::text::attribution;
use super::{Class, DriftReport, Finding};
use crate::object::ObjectId;

/// The report as a JUnit XML document (one suite).
pub fn render_junit(r: &DriftReport) -> String {
    let failures = r
        .failing()
        .filter(|f| f.class != Class::Unverifiable)
        .count();
    let errors = r
        .failing()
        .filter(|f| f.class == Class::Unverifiable)
        .count();
    let tests = r.in_sync.len() + r.findings.len();
    let commit = r.revision.as_deref().unwrap_or("");
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rekube drift\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
        r.seconds
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{:.3}\">",
        escape(&format!("drift {} ({})", r.inventory, r.server)),
        r.seconds
    );
    out.push_str("    <properties>\n");
    for (k, v) in [
        ("origin", r.origin.as_str()),
        ("revision", commit),
        ("server", r.server.as_str()),
        ("inventory", r.inventory.as_str()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{k}\" value=\"{}\"/>",
            escape(v)
        );
    }
    out.push_str("    </properties>\n");
    for s in &r.in_sync {
        let _ = writeln!(
            out,
            "    <testcase {}/>",
            case_attributes(&s.id, Some(&s.source))
        );
    }
    for f in &r.findings {
        finding(&mut out, f, r.fail_on.contains(&f.class));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "    <system-err>{}</system-err>", escape(w));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn finding(out: &mut String, f: &Finding, failing: bool) {
    let _ = writeln!(
        out,
        "    <testcase {}>",
        case_attributes(&f.id, f.source.as_deref())
    );
    let message = headline(f);
    let body = details(f);
    let element = if f.class == Class::Unverifiable {
        "error"
    } else {
        "failure"
    };
    if failing {
        let _ = writeln!(
            out,
            "      <{element} type=\"{}\" message=\"{}\">{}</{element}>",
            f.class,
            escape(&message),
            escape(&body)
        );
    } else {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            escape(&format!("{message} (reported only)\n{body}"))
        );
    }
    out.push_str("    </testcase>\n");
}

/// `classname` is the group-kind, `name` the object, `file`/`line` where Git declares it.
pub(super) fn case_attributes(id: &ObjectId, source: Option<&str>) -> String {
    let mut a = format!(
        "classname=\"{}\" name=\"{}\"",
        escape(&id.group_kind()),
        escape(&id.to_string())
    );
    if let Some((file, line)) = source
        .and_then(|s| s.rsplit_once(':'))
        .filter(|(_, l)| l.parse::<u32>().is_ok())
    {
        let _ = write!(a, " file=\"{}\" line=\"{line}\"", escape(file));
    }
    a
}

fn headline(f: &Finding) -> String {
    let mut s = format!("{} {}", f.class, f.id);
    if let Some(m) = &f.message {
        let _ = write!(s, ": {m}");
    }
    if !f.fields.is_empty() {
        let fields: Vec<String> = f
            .fields
            .iter()
            .map(|x| match &x.changed_by {
                Some(a) => format!("{} by {}", x.path, a.manager),
                None => x.path.to_string(),
            })
            .collect();
        let _ = write!(s, ": {}", fields.join(", "));
    }
    s
}

fn details(f: &Finding) -> String {
    let mut s = String::new();
    if let Some(src) = &f.source {
        let _ = writeln!(s, "declared at {src}");
    }
    if let Some(by) = &f.created_by {
        let _ = writeln!(s, "created by {}", attribution(by));
    }
    for x in &f.fields {
        match &x.changed_by {
            Some(a) => {
                let _ = writeln!(s, "{}: changed by {}", x.path, attribution(a));
            }
            None => {
                let _ = writeln!(s, "{}: absent from the live object", x.path);
            }
        }
    }
    if let Some(d) = &f.diff {
        s.push_str(d);
    }
    s
}

/// XML-escapes text for attributes and element content; drops characters XML 1.0 cannot carry.
pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
