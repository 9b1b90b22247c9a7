//! The DR report as JUnit XML (pure), for CI systems: one test case per object (its time from start to
//! ready; a failure when it failed or was blocked), one for the recovery time against the budget and
//! one for the drift check, with the commit, the cluster, the critical path and the simulated objects
//! as properties.

use std::fmt::Write as _;

use super::evidence::{DriftCheck, Evidence, escape};
use crate::apply::Action;

/// The JUnit document.
pub fn render(e: &Evidence) -> String {
    let r = e.rebuild;
    let mut cases = String::new();
    let mut failures = 0;
    let mut skipped = 0;
    for c in &r.changes.changes {
        let seconds = c.finished.saturating_sub(c.started).as_secs_f64();
        let _ = write!(
            cases,
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{seconds:.3}\"",
            escape(&format!("{}.{}", e.command, c.layer)),
            escape(&c.id.to_string()),
            escape(&c.source)
        );
        match c.action {
            Action::Failed | Action::Blocked => {
                failures += 1;
                let _ = writeln!(
                    cases,
                    ">\n      <failure type=\"{}\" message=\"{}\"/>\n    </testcase>",
                    c.action.as_str(),
                    escape(c.error.as_deref().unwrap_or(c.action.as_str()))
                );
            }
            _ => cases.push_str("/>\n"),
        }
    }
    let _ = write!(
        cases,
        "    <testcase classname=\"{}\" name=\"recovery time\" time=\"{:.3}\"",
        e.command, r.rto_seconds
    );
    if r.within_budget {
        cases.push_str("/>\n");
    } else {
        failures += 1;
        let _ = writeln!(
            cases,
            ">\n      <failure type=\"budget\" message=\"recovery time {:.2}s is over the budget of {:.0}s\"/>\n    </testcase>",
            r.rto_seconds,
            r.rto_budget_seconds.unwrap_or_default()
        );
    }
    match &e.drift {
        DriftCheck::NotRun(why) => {
            skipped += 1;
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"zero drift\">\n      <skipped message=\"{}\"/>\n    </testcase>",
                e.command,
                escape(why)
            );
        }
        DriftCheck::Done { report, seconds } => {
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"zero drift\" time=\"{seconds:.3}\"",
                e.command
            );
            if report.exit_code() == 0 {
                cases.push_str("/>\n");
            } else {
                failures += 1;
                let _ = writeln!(
                    cases,
                    ">\n      <failure type=\"drift\" message=\"drift right after the rebuild: {}\"/>\n    </testcase>",
                    escape(&report.summary())
                );
            }
        }
    }
    let tests = r.changes.changes.len() + 2;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let name = escape(&format!("rekube {}", e.command));
    let _ = writeln!(
        out,
        "<testsuites name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">",
        r.rto_seconds
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\" timestamp=\"{}\">",
        escape(&format!("{} {}", e.command, e.origin)),
        r.rto_seconds,
        escape(e.generated)
    );
    out.push_str("    <properties>\n");
    let mut property = |k: &str, v: &str| {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            escape(k),
            escape(v)
        );
    };
    property("verdict", if e.passed { "passed" } else { "failed" });
    property("origin", e.origin);
    property("revision", e.revision.unwrap_or_default());
    property("cluster", e.cluster);
    property("rto_seconds", &format!("{:.3}", r.rto_seconds));
    if let Some(b) = r.rto_budget_seconds {
        property("rto_budget_seconds", &format!("{b:.0}"));
    }
    for (i, s) in r.critical_path.steps.iter().enumerate() {
        property(
            &format!("critical_path.{i}"),
            &format!("{} {:.2}s→{:.2}s", s.id, s.started, s.finished),
        );
    }
    property("parallelism.max", &r.parallelism.max.to_string());
    for note in e.notes {
        property("simulation", note);
    }
    for s in &r.simulated {
        property(&format!("simulated:{}", s.id), &s.reason);
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    if !e.problems.is_empty() {
        let _ = writeln!(
            out,
            "    <system-err>{}</system-err>",
            escape(&e.problems.join("\n"))
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
