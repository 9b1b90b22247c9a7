//! Report: rendering only. Progress for people (a live status block on a terminal, plain lines
//! elsewhere) and the rebuild report (per-layer timings, slowest objects, recovery time).

mod progress;
mod rebuild;

pub use progress::Progress;
pub use rebuild::{LayerTiming, RebuildReport, SlowObject};

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
    fn abbreviate() {
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(super::abbreviate(&items, 3), "a, b, c");
        assert_eq!(super::abbreviate(&items, 2), "a, b, …");
        assert_eq!(super::abbreviate(&[], 2), "");
    }
}
