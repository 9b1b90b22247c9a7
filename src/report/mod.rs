//! Report: rendering only. Progress for people (a live status block on a terminal, plain lines
//! elsewhere), the rebuild report (per-layer timings, slowest objects, recovery time, the critical path
//! and the parallelism reached, the simulated objects), and the DR report files of `rebuild` and
//! `drill --report FILE`: a self-contained HTML page, JUnit XML or JSON, chosen by the extension.

pub mod critical;
mod evidence;
pub mod html;
pub mod junit;
mod progress;
mod rebuild;
mod timeline;

pub use critical::{BlockedBy, CriticalPath, Parallelism, Step};
pub use evidence::{DriftCheck, Evidence, escape};
pub use progress::Progress;
pub use rebuild::{LayerTiming, RebuildReport, Simulated, SlowObject};

/// The format of a report file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// `.html`/`.htm`: one self-contained page for people.
    Html,
    /// `.json`: the command's JSON report.
    Json,
    /// `.xml`: JUnit XML for CI systems.
    Junit,
}

impl ReportFormat {
    /// The format a file name asks for.
    ///
    /// # Errors
    /// Any other extension, with the ones known.
    pub fn of_path(path: &std::path::Path) -> Result<ReportFormat, String> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("html" | "htm") => Ok(ReportFormat::Html),
            Some("json") => Ok(ReportFormat::Json),
            Some("xml") => Ok(ReportFormat::Junit),
            _ => Err(format!(
                "--report {}: the file name must end in .html (a page for people), .json or .xml (JUnit)",
                path.display()
            )),
        }
    }

    /// The file's content: `json` is the command's own JSON report (the same data).
    pub fn render(self, evidence: &Evidence, json: &str) -> String {
        match self {
            ReportFormat::Html => html::render(evidence),
            ReportFormat::Junit => junit::render(evidence),
            ReportFormat::Json => format!("{json}\n"),
        }
    }
}

/// The first `max` items joined by `, `, and `…` when some were left out: lists in one-line messages.
pub fn abbreviate(items: &[String], max: usize) -> String {
    let mut shown = items
        .iter()
        .take(max)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        shown.push_str(", …");
    }
    shown
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_formats_come_from_the_extension() {
        use super::ReportFormat;
        let of = |p: &str| ReportFormat::of_path(std::path::Path::new(p));
        assert_eq!(of("dr.HTML"), Ok(ReportFormat::Html));
        assert_eq!(of("out/dr.json"), Ok(ReportFormat::Json));
        assert_eq!(of("junit.xml"), Ok(ReportFormat::Junit));
        assert!(of("report.txt").unwrap_err().contains(".html"));
        assert!(of("report").is_err());
    }

    #[test]
    fn abbreviate() {
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(super::abbreviate(&items, 3), "a, b, c");
        assert_eq!(super::abbreviate(&items, 2), "a, b, …");
        assert_eq!(super::abbreviate(&[], 2), "");
    }
}
