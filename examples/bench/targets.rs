//! The targets of "Performance at scale against real peers" (issue 17, item 4), each a verdict from one
//! run's figures; a miss comes with the measurement that shows where the time or memory goes.

use std::fmt::Write as _;

use crate::charts;
use crate::flux::FLUX;
use crate::offline::Offline;
use crate::report::{COLD, DIFF, DRIFT, FLOOR, FLOOR_WAIT, NOOP, REKUBE, Results, both, ratio, s};

const COMMANDS: [(&str, &str); 4] = [
    (COLD, "rebuild"),
    (NOOP, "apply (no-op)"),
    (DIFF, "diff"),
    (DRIFT, "drift"),
];

/// The largest size measured, and the size a target names if it was measured.
fn at(r: &Results, n: usize) -> Option<usize> {
    r.sizes().into_iter().find(|&k| k == n)
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "not measured",
    }
}

/// Where a command's time went: its CPU time against its wall time (the rest is waiting for the API
/// server and for readiness) and its requests per object.
fn where_time(r: &Results, n: usize, scenario: &str) -> String {
    let cpu = crate::report::median(
        r.get(n, scenario, REKUBE)
            .iter()
            .filter_map(|s| s.cpu)
            .collect(),
    );
    let wall = r.secs(n, scenario, REKUBE);
    let mut out = match both(cpu, wall) {
        Some((c, w)) => format!(
            "at {n} objects rekube used {c:.1} s of CPU in {w:.1} s ({:.0}% of one core; the rest is waiting for the API server{})",
            100.0 * c / w,
            if scenario == COLD {
                " and readiness"
            } else {
                ""
            }
        ),
        None => format!("at {n} objects: no CPU figure"),
    };
    let per = |tool: &str| crate::counts::per_object(r, n, scenario, tool);
    if let Some(p) = per(REKUBE) {
        let _ = write!(out, "; per object it sent {p} (reads / dry-runs / writes)");
    }
    if scenario == COLD
        && let Some(p) = per(FLOOR)
    {
        let _ = write!(out, ", the floor {p}");
    }
    out
}

/// Peak memory of every rekube command at `n`, MiB (the largest over runs).
fn peaks(r: &Results, n: usize) -> Vec<(&'static str, f64)> {
    COMMANDS
        .iter()
        .filter_map(|(sc, name)| r.rss_max_mib(n, sc, REKUBE).map(|m| (*name, m)))
        .collect()
}

/// The targets table.
pub fn render(r: &Results, offline: Option<&Offline>) -> String {
    let mut out = String::from("| target | figure | verdict |\n|---|---|---|\n");
    let mut row = |name: &str, figure: String, met: Option<bool>, why: Option<String>| {
        let why = match (met, why) {
            (Some(false), Some(w)) => format!(": {w}"),
            _ => String::new(),
        };
        let _ = writeln!(out, "| {name} | {figure} | {}{why} |", verdict(met));
    };

    // Cold rebuild within 1.1x of the floor plus its readiness wait, at every size.
    let mut figures = Vec::new();
    let (mut met, mut worst) = (Some(true), None::<(f64, usize)>);
    for n in r.sizes() {
        match both(r.secs(n, COLD, REKUBE), r.secs(n, COLD, FLOOR_WAIT)) {
            Some((ours, floor)) => {
                let x = ours / floor;
                figures.push(format!("{n}: {ours:.2} s vs {floor:.2} s = {x:.2}x"));
                if x > 1.1 {
                    met = Some(false);
                }
                if worst.is_none_or(|(w, _)| x > w) {
                    worst = Some((x, n));
                }
            }
            None => met = met.and(None),
        }
    }
    row(
        "cold rebuild within 1.1x of the floor + its readiness wait, every size",
        figures.join("; "),
        met,
        worst.map(|(_, n)| where_time(r, n, COLD)),
    );

    // No-op apply, diff and drift at 20,000 objects.
    let big = at(r, 20000);
    let noop = big.and_then(|n| r.secs(n, NOOP, REKUBE));
    let writes = big.and_then(|n| r.req(n, NOOP, REKUBE, |q| q.writes));
    let changed = big.and_then(|n| r.rv(n, NOOP, REKUBE));
    let which = big
        .and_then(|n| r.get(n, NOOP, REKUBE).iter().find_map(|s| s.writes.clone()))
        .map_or(String::new(), |w| format!(" ({w})"));
    row(
        "no-op apply of 20,000 objects < 5 s with zero writes",
        format!(
            "{}, {} write request(s){which}, {} object(s) of the repository changed",
            s(noop),
            crate::report::opt(writes, 0),
            crate::report::opt(changed, 0)
        ),
        noop.map(|t| t < 5.0 && writes == Some(0.0) && changed == Some(0.0)),
        big.map(|n| {
            let mut why = where_time(r, n, NOOP);
            if writes.is_some_and(|w| w > 0.0)
                && changed == Some(0.0)
                && which.contains("secrets")
                && !which.contains("configmaps")
            {
                why.push_str(
                    "; the writes are to Secrets while no object of the repository changed: the ApplySet \
                     parent Secret, whose lock annotations every apply takes and frees (the inventory lock)",
                );
            }
            why
        }),
    );
    for (scenario, name) in [(DIFF, "diff (after a 1% change)"), (DRIFT, "drift")] {
        let t = big.and_then(|n| r.secs(n, scenario, REKUBE));
        row(
            &format!("{name} of 20,000 objects < 6 s"),
            s(t),
            t.map(|t| t < 6.0),
            big.map(|n| where_time(r, n, scenario)),
        );
    }

    // Faster than Flux's engine and helm install --wait on every scenario.
    let (figure, met, why) = flux_row(r);
    row(
        "faster than Flux's engine (fluxcd/pkg/ssa): cold rebuild, no-op apply, drift, diff, every size it ran",
        figure,
        met,
        why,
    );
    let ratios = charts::ratios(&r.charts);
    let figure: Vec<String> = ratios
        .iter()
        .map(|(c, x)| {
            format!(
                "{c} helm / rekube {}",
                x.map_or("–".into(), |x| format!("{x:.2}x"))
            )
        })
        .collect();
    let met = ratios
        .iter()
        .try_fold(true, |acc, (_, x)| x.map(|x| acc && x > 1.0));
    let slow: Vec<&str> = ratios
        .iter()
        .filter(|(_, x)| x.is_some_and(|x| x <= 1.0))
        .map(|(c, _)| *c)
        .collect();
    row(
        "faster than `helm install --wait` on every chart scenario",
        figure.join("; "),
        met,
        Some(format!(
            "slower on {}: a chart of a few objects is decided by fixed costs (rekube's peak memory and CPU time per chart are in the chart table; rekube renders with `helm template` as a subprocess and writes its inventory before and after the apply, Helm renders in-process and writes one release Secret)",
            slow.join(", ")
        )),
    );

    // Memory.
    for (n, limit) in [(5000, 150.0), (20000, 400.0)] {
        let p = at(r, n).map(|n| peaks(r, n)).unwrap_or_default();
        let figure: Vec<String> = p.iter().map(|(c, m)| format!("{c} {m:.0}")).collect();
        let max = p
            .iter()
            .map(|(_, m)| *m)
            .fold(None, |a: Option<f64>, m| Some(a.map_or(m, |a| a.max(m))));
        let over: Vec<&str> = p
            .iter()
            .filter(|(_, m)| *m >= limit)
            .map(|(c, _)| *c)
            .collect();
        row(
            &format!("peak memory of every rekube command at {n} objects < {limit:.0} MiB"),
            if figure.is_empty() {
                "–".into()
            } else {
                format!("{} MiB", figure.join(", "))
            },
            max.map(|m| m < limit),
            Some(memory_growth(r, n, &over)),
        );
    }

    if let Some(o) = offline
        && let Some(t) = o.plan_secs
    {
        row(
            "`rekube plan` of a 10,000-object repository on disk, end to end < 0.5 s (item 6)",
            format!("{t:.2} s, peak {}", crate::report::opt(o.plan_mib, 0)) + " MiB",
            Some(t < 0.5),
            Some("see the offline section: the load dominates (bench_plan's `input` line against its `plan` line)".into()),
        );
    }
    out
}

/// How the peak grows with the repository: MiB per 1,000 objects between the two largest sizes up to
/// `n`, per command over the limit.
fn memory_growth(r: &Results, n: usize, over: &[&str]) -> String {
    let smaller = r.sizes().into_iter().filter(|&k| k < n).max();
    let mut parts = Vec::new();
    for (sc, name) in COMMANDS {
        if !over.contains(&name) {
            continue;
        }
        let (Some(k), Some(big)) = (smaller, r.rss_max_mib(n, sc, REKUBE)) else {
            continue;
        };
        if let Some(small) = r.rss_max_mib(k, sc, REKUBE) {
            let per = (big - small) / ((n - k) as f64 / 1000.0);
            parts.push(format!(
                "{name} {small:.0} MiB at {k} → {big:.0} MiB at {n}: {per:.1} MiB per 1,000 objects, the live objects held at the peak"
            ));
        }
    }
    if parts.is_empty() {
        format!("{} over the limit", over.join(", "))
    } else {
        parts.join("; ")
    }
}

/// Flux's row: every scenario at every size both ran, flux time / rekube time.
fn flux_row(r: &Results) -> (String, Option<bool>, Option<String>) {
    let mut figures = Vec::new();
    let mut slower = Vec::new();
    let mut not_run = Vec::new();
    for n in r.sizes() {
        if r.secs(n, COLD, FLUX).is_none() {
            not_run.push(n.to_string());
            continue;
        }
        for (scenario, label) in [
            (COLD, "cold"),
            (NOOP, "no-op"),
            (DRIFT, "drift"),
            (DIFF, "diff"),
        ] {
            let (ours, flux) = (r.secs(n, scenario, REKUBE), r.secs(n, scenario, FLUX));
            if let Some((o, f)) = both(ours, flux) {
                figures.push(format!("{n} {label} {}", ratio(Some(f), Some(o))));
                if o >= f {
                    slower.push(format!("{n} {label}"));
                }
            }
        }
    }
    let mut figure = if figures.is_empty() {
        "–".to_string()
    } else {
        format!("flux / rekube: {}", figures.join(", "))
    };
    if !not_run.is_empty() {
        let _ = write!(
            figure,
            " (not run at {}: longer than the run allows, `--flux-max`)",
            not_run.join(", ")
        );
    }
    let met = if figures.is_empty() {
        None
    } else {
        Some(slower.is_empty())
    };
    let why = slower
        .first()
        .and_then(|w| w.split_once(' '))
        .and_then(|(n, label)| {
            let n: usize = n.parse().ok()?;
            let sc = [
                (COLD, "cold"),
                (NOOP, "no-op"),
                (DRIFT, "drift"),
                (DIFF, "diff"),
            ]
            .iter()
            .find(|(_, l)| *l == label)?
            .0;
            Some(format!(
                "slower on {}; {}",
                slower.join(", "),
                where_time(r, n, sc)
            ))
        });
    (figure, met, why)
}
