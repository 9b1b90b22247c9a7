//! The human rendering of a drift report: one block per finding, then a verdict line.

use std::fmt::Write;

use super::{DriftReport, Finding};
use crate::diff::Attribution;

/// The report as text (for a terminal or a CI log). Secret values are already masked in the diffs.
pub fn render_text(r: &DriftReport) -> String {
    let mut out = String::new();
    let commit = r.revision.as_deref().unwrap_or("(not a Git repository)");
    let dirty = if r.dirty {
        " with uncommitted changes"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "drift of {} against {} at {commit}{dirty} (inventory {})",
        r.server, r.origin, r.inventory
    );
    for f in &r.findings {
        render_finding(&mut out, f, r.fail_on.contains(&f.class));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let in_sync = r.in_sync.len();
    if r.findings.is_empty() {
        let _ = writeln!(
            out,
            "in sync: {in_sync} of {} object(s) match Git ({:.2}s)",
            r.checked, r.seconds
        );
    } else {
        let verdict = if r.exit_code() == 0 {
            "drift (not failing)"
        } else {
            "DRIFT"
        };
        let _ = writeln!(
            out,
            "{verdict}: {}; {in_sync} of {} object(s) in sync ({:.2}s)",
            r.summary(),
            r.checked,
            r.seconds
        );
    }
    out
}

fn render_finding(out: &mut String, f: &Finding, failing: bool) {
    let mut head = format!("{:<13} {}", f.class.as_str(), f.id);
    if let Some(s) = &f.source {
        let _ = write!(head, " ({s})");
    }
    if let Some(m) = &f.message {
        let _ = write!(head, ": {m}");
    }
    if let Some(by) = &f.created_by {
        let _ = write!(head, "; created by {}", attribution(by));
    }
    if !failing {
        head.push_str(" [reported only]");
    }
    let _ = writeln!(out, "{head}");
    for field in &f.fields {
        let who = match &field.changed_by {
            Some(a) => format!("changed by {}", attribution(a)),
            None => "absent from the live object (removed, or never applied)".into(),
        };
        let _ = writeln!(out, "    {}: {who}", field.path);
    }
    if let Some(d) = &f.diff {
        for line in d.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// `kubectl-edit (Update) at 2026-01-02T03:04:05Z`, with the subresource when there is one.
pub(super) fn attribution(a: &Attribution) -> String {
    let mut s = a.manager.clone();
    match (&a.subresource, a.operation.is_empty()) {
        (Some(sub), _) => {
            let _ = write!(s, " ({}, subresource {sub})", a.operation);
        }
        (None, false) => {
            let _ = write!(s, " ({})", a.operation);
        }
        (None, true) => {}
    }
    if let Some(t) = &a.time {
        let _ = write!(s, " at {t}");
    }
    s
}
