//! The evidence of one DR test, as the HTML page and the JUnit file show it: a rebuild, and for a drill
//! its verdict, the fresh cluster and the drift check. The commands fill it from their reports; the
//! renderers only read it.

use crate::drift::DriftReport;

use super::RebuildReport;

/// The drift check of a drill.
#[derive(Debug, Clone, Copy)]
pub enum DriftCheck<'a> {
    /// Not run, and why ("the rebuild failed", "a rebuild does not check drift").
    NotRun(&'a str),
    Done {
        report: &'a DriftReport,
        seconds: f64,
    },
}

impl<'a> DriftCheck<'a> {
    /// The check of a drill's report: done when it ran (in `seconds`, when known), else not run for
    /// `why`.
    pub fn of(report: Option<&'a DriftReport>, seconds: Option<f64>, why: &'a str) -> Self {
        match report {
            Some(report) => DriftCheck::Done {
                report,
                seconds: seconds.unwrap_or_default(),
            },
            None => DriftCheck::NotRun(why),
        }
    }
}

/// One DR test, for people and for CI.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    /// `drill` or `rebuild`.
    pub command: &'a str,
    pub passed: bool,
    /// The repository (folder or URL) and the commit rebuilt.
    pub origin: &'a str,
    pub revision: Option<&'a str>,
    /// The cluster rebuilt into (a drill's throwaway control plane is named as such by the caller).
    pub cluster: &'a str,
    /// Why it failed, one line each.
    pub problems: Vec<String>,
    /// What the simulated cluster was given (the VolumeSnapshot CRDs…).
    pub notes: &'a [String],
    pub rebuild: &'a RebuildReport,
    pub drift: DriftCheck<'a>,
    /// When the report was made (RFC 3339), given by the caller so rendering stays pure.
    pub generated: &'a str,
}

impl RebuildReport {
    /// Why the rebuild failed, one line each: objects that failed, objects blocked, the budget.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .blocked_by
            .iter()
            .map(|b| {
                let mut line = format!("{} failed: {} ({})", b.failed, b.error, b.source);
                if !b.blocked.is_empty() {
                    let ids: Vec<String> = b.blocked.iter().map(ToString::to_string).collect();
                    line.push_str(&format!(
                        "; it blocked {} object(s): {}",
                        ids.len(),
                        super::abbreviate(&ids, 5)
                    ));
                }
                line
            })
            .collect();
        if !self.within_budget {
            out.push(format!(
                "recovery time {:.2}s is over the budget of {:.0}s",
                self.rto_seconds,
                self.rto_budget_seconds.unwrap_or_default()
            ));
        }
        out
    }
}

/// `text` escaped for HTML and XML text and attribute values; control characters other than
/// whitespace are dropped (XML 1.0 cannot carry them).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_covers_markup_and_drops_control_characters() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
