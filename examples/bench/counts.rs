//! Requests per object per command: reads, dry-runs and writes the API server counted
//! (`apiserver_request_total`) for the repository's resources while the command ran, divided by the
//! repository's objects. Counts do not move with machine noise, so a regression shows as a number.

use std::fmt::Write as _;

use crate::flux::FLUX;
use crate::report::{COLD, DIFF, DRIFT, FLOOR, KPT, KUBECTL, NOOP, REKUBE, Results};

/// (scenario, tool, the command as a user types it), in table order.
const ROWS: [(&str, &str, &str); 12] = [
    (COLD, FLOOR, "floor (concurrent server-side apply, no wait)"),
    (COLD, REKUBE, "rekube rebuild"),
    (NOOP, REKUBE, "rekube apply (no-op)"),
    (DRIFT, REKUBE, "rekube drift"),
    (DIFF, REKUBE, "rekube diff (1% changed)"),
    (COLD, FLUX, "flux-apply (cold, staged + WaitForSet)"),
    (NOOP, FLUX, "flux-apply (no-op)"),
    (DRIFT, FLUX, "flux-apply diff (unchanged: drift)"),
    (DIFF, FLUX, "flux-apply diff (1% changed)"),
    (COLD, KUBECTL, "kubectl apply --server-side (cold)"),
    (NOOP, KUBECTL, "kubectl apply --server-side (no-op)"),
    (DIFF, KUBECTL, "kubectl diff --server-side (1% changed)"),
];

/// "r / d / w" per object (medians over runs), two decimals.
pub fn per_object(r: &Results, n: usize, scenario: &str, tool: &str) -> Option<String> {
    let reads = r.req(n, scenario, tool, |q| q.reads)?;
    let dry = r.req(n, scenario, tool, |q| q.dry_runs)?;
    let writes = r.req(n, scenario, tool, |q| q.writes)?;
    let other = r.req(n, scenario, tool, |q| q.other_reads).unwrap_or(0.0);
    let n = n as f64;
    let other = if other > 0.0 {
        format!(" (+{:.2})", other / n)
    } else {
        String::new()
    };
    Some(format!(
        "{:.2}{other} / {:.2} / {:.2}",
        reads / n,
        dry / n,
        writes / n
    ))
}

/// The table: one row per command, one column per size.
pub fn render(r: &Results) -> String {
    let sizes = r.sizes();
    let mut out = String::from("| command |");
    for n in &sizes {
        let _ = write!(out, " {n} objects |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(sizes.len()));
    out.push('\n');
    let mut rows = ROWS.to_vec();
    rows.push((COLD, KPT, "kpt live apply (cold)"));
    rows.push((NOOP, KPT, "kpt live apply (no-op)"));
    for (scenario, tool, name) in rows {
        let cells: Vec<String> = sizes
            .iter()
            .map(|&n| per_object(r, n, scenario, tool).unwrap_or_else(|| "–".into()))
            .collect();
        if cells.iter().all(|c| c == "–") {
            continue;
        }
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    out
}
