//! Samples, medians and ratios, rendered as the markdown that goes into BENCHMARKS.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::flux::FLUX;
use crate::metrics::Requests;

/// Scenarios, in table order.
pub const COLD: &str = "cold";
pub const NOOP: &str = "noop";
pub const DIFF: &str = "diff";
pub const DRIFT: &str = "drift";

/// Columns ("tools" and their variants).
pub const FLOOR: &str = "floor";
pub const FLOOR_WAIT: &str = "floor + wait";
pub const REKUBE: &str = "rekube";
pub const REKUBE_C8: &str = "rekube --concurrency 8";
pub const KUBECTL: &str = "kubectl";
pub const KUBECTL_WAIT: &str = "kubectl + wait";
pub const KUBECTL_C8: &str = "kubectl --concurrency 8";
pub const KPT: &str = "kpt";

/// One measurement.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub secs: f64,
    /// Peak resident memory of the tool (None for the in-process floor).
    pub rss_kib: Option<u64>,
    /// Requests the API server counted for the repository's resources during the step.
    pub requests: Option<Requests>,
    /// Objects whose resourceVersion changed during the step.
    pub rv_changed: Option<usize>,
    /// Cores that processes outside the benchmark used during the step, on average.
    pub foreign: Option<f64>,
    /// CPU seconds of the tool (user + system, with the children it waited for).
    pub cpu: Option<f64>,
    /// Which writes the API server counted (`APPLY secrets ×2, …`), when any.
    pub writes: Option<String>,
}

#[derive(Debug, Default)]
pub struct Results {
    samples: BTreeMap<(usize, &'static str, &'static str), Vec<Sample>>,
    /// Objects changed by the 1% change, per size.
    pub diff_changed: BTreeMap<usize, usize>,
    /// The chart scenarios (rekube rebuild against helm install --wait).
    pub charts: Vec<crate::charts::ChartSample>,
    pub notes: Vec<String>,
    pub failures: Vec<String>,
}

impl Results {
    pub fn add(&mut self, n: usize, scenario: &'static str, tool: &'static str, s: Sample) {
        self.samples.entry((n, scenario, tool)).or_default().push(s);
    }

    pub fn get(&self, n: usize, scenario: &str, tool: &str) -> &[Sample] {
        self.samples
            .iter()
            .find(|((k, s, t), _)| *k == n && *s == scenario && *t == tool)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }

    /// Median seconds.
    pub fn secs(&self, n: usize, scenario: &str, tool: &str) -> Option<f64> {
        median(self.get(n, scenario, tool).iter().map(|s| s.secs).collect())
    }

    pub fn runs(&self, n: usize, scenario: &str, tool: &str) -> usize {
        self.get(n, scenario, tool).len()
    }

    /// Median peak memory, MiB.
    pub fn rss_mib(&self, n: usize, scenario: &str, tool: &str) -> Option<f64> {
        median(
            self.get(n, scenario, tool)
                .iter()
                .filter_map(|s| s.rss_kib)
                .map(|k| k as f64 / 1024.0)
                .collect(),
        )
    }

    /// Largest peak memory over the runs, MiB.
    pub fn rss_max_mib(&self, n: usize, scenario: &str, tool: &str) -> Option<f64> {
        self.get(n, scenario, tool)
            .iter()
            .filter_map(|s| s.rss_kib)
            .max()
            .map(|k| k as f64 / 1024.0)
    }

    /// Median of a request count.
    pub fn req(&self, n: usize, scenario: &str, tool: &str, f: fn(Requests) -> u64) -> Option<f64> {
        median(
            self.get(n, scenario, tool)
                .iter()
                .filter_map(|s| s.requests)
                .map(|r| f(r) as f64)
                .collect(),
        )
    }

    pub fn rv(&self, n: usize, scenario: &str, tool: &str) -> Option<f64> {
        median(
            self.get(n, scenario, tool)
                .iter()
                .filter_map(|s| s.rv_changed)
                .map(|c| c as f64)
                .collect(),
        )
    }

    pub fn sizes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.samples.keys().map(|k| k.0).collect();
        v.dedup();
        v
    }

    /// The result tables, with `runs` noted in the headings.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let sizes = self.sizes();
        let t = |n: usize, s: &str, c: &str| self.cell(n, s, c);
        let x = |n: usize, s: &str, peer: &str, ours: &str| {
            ratio(self.secs(n, s, peer), self.secs(n, s, ours))
        };

        out.push_str("### Cold rebuild (seconds, median)\n\n");
        out.push_str("rekube and kpt wait for readiness (Deployments Available); kubectl and the floor do not, ");
        out.push_str("so \"+ wait\" adds the wait for every Deployment to be Available. Ratios are peer time / rekube ");
        out.push_str(
            "time (above 1: rekube is faster); \"of floor\" is rekube time / floor time.\n\n",
        );
        out.push_str("| objects | floor | floor + wait | **rekube** | kubectl | kubectl + wait | kpt | rekube of floor | rekube of floor + wait | vs kubectl | vs kubectl + wait | vs kpt |\n");
        out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for &n in &sizes {
            let _ = writeln!(
                out,
                "| {n} | {} | {} | **{}** | {} | {} | {} | {} | {} | {} | {} | {} |",
                t(n, COLD, FLOOR),
                t(n, COLD, FLOOR_WAIT),
                t(n, COLD, REKUBE),
                t(n, COLD, KUBECTL),
                t(n, COLD, KUBECTL_WAIT),
                t(n, COLD, KPT),
                ratio(self.secs(n, COLD, REKUBE), self.secs(n, COLD, FLOOR)),
                ratio(self.secs(n, COLD, REKUBE), self.secs(n, COLD, FLOOR_WAIT)),
                x(n, COLD, KUBECTL, REKUBE),
                x(n, COLD, KUBECTL_WAIT, REKUBE),
                x(n, COLD, KPT, REKUBE),
            );
        }

        out.push_str(
            "\n### No-op re-apply of the unchanged repository (seconds, median; writes)\n\n",
        );
        out.push_str("writes: non-dry-run POST/PUT/PATCH/APPLY/DELETE the API server counted for the repository's ");
        out.push_str("resources (and the inventories) during the command, from `apiserver_request_total`; dry-run: ");
        out.push_str(
            "the same verbs with `dryRun=All`; changed: objects whose resourceVersion moved.\n\n",
        );
        out.push_str("| objects | **rekube apply** | writes / dry-run / reads | changed | kubectl apply --server-side | writes / dry-run / reads | changed | kpt live apply | writes / dry-run / reads | changed | vs kubectl | vs kpt |\n");
        out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for &n in &sizes {
            let _ = writeln!(
                out,
                "| {n} | **{}** | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                t(n, NOOP, REKUBE),
                self.requests_cell(n, NOOP, REKUBE),
                opt(self.rv(n, NOOP, REKUBE), 0),
                t(n, NOOP, KUBECTL),
                self.requests_cell(n, NOOP, KUBECTL),
                opt(self.rv(n, NOOP, KUBECTL), 0),
                t(n, NOOP, KPT),
                self.requests_cell(n, NOOP, KPT),
                opt(self.rv(n, NOOP, KPT), 0),
                x(n, NOOP, KUBECTL, REKUBE),
                x(n, NOOP, KPT, REKUBE),
            );
        }

        out.push_str("\n### Diff after a 1% change (seconds, median)\n\n");
        out.push_str("rekube's default concurrency is 32 requests, kubectl diff's is 1.\n\n");
        out.push_str("| objects | changed | **rekube diff** | rekube --concurrency 8 | kubectl diff --server-side | kubectl diff --concurrency 8 | vs kubectl | vs kubectl --concurrency 8 (both at 8) |\n");
        out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for &n in &sizes {
            let _ = writeln!(
                out,
                "| {n} | {} | **{}** | {} | {} | {} | {} | {} |",
                self.diff_changed
                    .get(&n)
                    .map_or("–".into(), |c| c.to_string()),
                t(n, DIFF, REKUBE),
                t(n, DIFF, REKUBE_C8),
                t(n, DIFF, KUBECTL),
                t(n, DIFF, KUBECTL_C8),
                x(n, DIFF, KUBECTL, REKUBE),
                x(n, DIFF, KUBECTL_C8, REKUBE_C8),
            );
        }

        out.push_str("\n### Drift check of the whole repository (seconds, median)\n\n");
        out.push_str("Flux's engine has no drift command of its own: kustomize-controller detects drift with the same ");
        out.push_str("per-object server-side dry-run as its diff, so flux-apply's drift is `flux-apply diff` of the ");
        out.push_str("unchanged repository (every object dry-run applied and compared).\n\n");
        out.push_str("| objects | **rekube drift** | writes / dry-run / reads | flux-apply diff (unchanged) | writes / dry-run / reads | vs flux |\n|---:|---:|---:|---:|---:|---:|\n");
        for &n in &sizes {
            let _ = writeln!(
                out,
                "| {n} | **{}** | {} | {} | {} | {} |",
                t(n, DRIFT, REKUBE),
                self.requests_cell(n, DRIFT, REKUBE),
                t(n, DRIFT, FLUX),
                self.requests_cell(n, DRIFT, FLUX),
                x(n, DRIFT, FLUX, REKUBE),
            );
        }

        out.push_str("\n### Peak resident memory (MiB, median; max over runs in brackets)\n\n");
        out.push_str("| objects | rekube rebuild | rekube apply (no-op) | rekube diff | rekube drift | kubectl apply | kubectl diff | kpt live apply |\n");
        out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for &n in &sizes {
            let m = |s: &str, c: &str| self.mem_cell(n, s, c);
            let _ = writeln!(
                out,
                "| {n} | {} | {} | {} | {} | {} | {} | {} |",
                m(COLD, REKUBE),
                m(NOOP, REKUBE),
                m(DIFF, REKUBE),
                m(DRIFT, REKUBE),
                m(COLD, KUBECTL),
                m(DIFF, KUBECTL),
                m(COLD, KPT),
            );
        }

        out.push_str("\n### Machine noise\n\n");
        out.push_str("Cores used by processes outside the benchmark (its control plane and the tool under test excluded) during the measured steps: each step waits for less than 0.25 before it starts.\n\n");
        out.push_str("| objects | median | max | steps above 0.25 |\n|---:|---:|---:|---|\n");
        for &n in &sizes {
            let mut all: Vec<(f64, String)> = self
                .samples
                .iter()
                .filter(|((k, _, _), _)| *k == n)
                .flat_map(|((_, sc, t), v)| {
                    v.iter()
                        .filter_map(move |s| s.foreign.map(|f| (f, format!("{sc} {t}"))))
                })
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            let noisy: Vec<String> = all
                .iter()
                .filter(|(f, _)| *f > 0.25)
                .map(|(f, what)| format!("{what} ({f:.2})"))
                .collect();
            let _ = writeln!(
                out,
                "| {n} | {} | {} | {} |",
                opt(median(all.iter().map(|a| a.0).collect()), 2),
                opt(all.last().map(|a| a.0), 2),
                if noisy.is_empty() {
                    "none".to_string()
                } else {
                    noisy.join(", ")
                }
            );
        }

        out
    }

    pub fn cell(&self, n: usize, scenario: &str, tool: &str) -> String {
        match self.secs(n, scenario, tool) {
            None => "–".into(),
            Some(v) => {
                let runs = self.runs(n, scenario, tool);
                format!("{v:.2}{}", if runs == 1 { " (1 run)" } else { "" })
            }
        }
    }

    pub fn requests_cell(&self, n: usize, scenario: &str, tool: &str) -> String {
        let w = self.req(n, scenario, tool, |r| r.writes);
        let d = self.req(n, scenario, tool, |r| r.dry_runs);
        let r = self.req(n, scenario, tool, |r| r.reads);
        match (w, d, r) {
            (Some(w), Some(d), Some(r)) => format!("{w:.0} / {d:.0} / {r:.0}"),
            _ => "–".into(),
        }
    }

    pub fn mem_cell(&self, n: usize, scenario: &str, tool: &str) -> String {
        match (
            self.rss_mib(n, scenario, tool),
            self.rss_max_mib(n, scenario, tool),
        ) {
            (Some(m), Some(x)) => format!("{m:.0} [{x:.0}]"),
            _ => "–".into(),
        }
    }
}

pub fn both(a: Option<f64>, b: Option<f64>) -> Option<(f64, f64)> {
    Some((a?, b?))
}

pub fn s(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2} s"))
}

pub fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.decimals$}"))
}

/// `a / b` as "N.Nx".
pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match both(a, b) {
        Some((a, b)) if b > 0.0 => format!("{:.1}x", a / b),
        _ => "–".into(),
    }
}

/// The median; the mean of the middle two for an even count.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}
