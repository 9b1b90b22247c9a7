//! BENCHMARKS.md as one run writes it: the machine, the command, the targets' verdicts, how it measures,
//! every table, the offline plan figures. Nothing in it is edited by hand.

use std::fmt::Write as _;
use std::time::Duration;

use crate::offline::{self, Offline};
use crate::options::Options;
use crate::report::Results;
use crate::{FLOOR_IN_FLIGHT, charts, counts, flux, targets};

pub const COMMAND: &str = "cargo run --release --example bench -- --write BENCHMARKS.md";

/// The result tables (what `--out` writes and stdout shows).
pub fn results(r: &Results, opts: &Options) -> String {
    let mut out = r.render();
    out.push_str(&flux::render(r));
    if !opts.skip_charts {
        out.push_str("\n### Helm charts: rekube rebuild against `helm install --wait`\n\n");
        out.push_str(&charts::render(&r.charts));
    }
    out.push_str("\n### Requests per object (reads / dry-runs / writes, median)\n\n");
    out.push_str(REQUESTS_METHOD);
    out.push_str(&counts::render(r));
    out.push_str("\n### Targets\n\n");
    out.push_str(&targets::render(r, None));
    out.push_str(&notes(r, opts));
    out
}

fn notes(r: &Results, opts: &Options) -> String {
    let mut notes: Vec<String> = r.notes.clone();
    let sizes = r.sizes();
    let above = |limit: usize| -> Vec<String> {
        sizes
            .iter()
            .filter(|&&n| n > limit)
            .map(|n| n.to_string())
            .collect()
    };
    let (peers, fluxes) = (above(opts.peers_max), above(opts.flux_max));
    if !peers.is_empty() {
        notes.push(format!(
            "kubectl and kpt did not run at {} objects (`--peers-max {}`): their cold apply and no-op re-apply \
             send one request per object one at a time (at 5,000 objects kubectl's cold apply plus its wait took \
             6 minutes in an earlier run), longer than this run allows; only rekube, the floor{} ran there.",
            peers.join(", "),
            opts.peers_max,
            if fluxes.is_empty() { " and Flux's engine" } else { "" }
        ));
    }
    if !fluxes.is_empty() {
        notes.push(format!(
            "Flux's engine did not run at {} objects (`--flux-max {}`): its cold apply, no-op, drift and diff \
             each dry-run every object 4 at a time, longer than this run allows.",
            fluxes.join(", "),
            opts.flux_max
        ));
    }
    for f in &r.failures {
        notes.push(format!("FAILED: {f}"));
    }
    if notes.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nNotes:\n\n");
    for n in notes {
        let _ = writeln!(out, "- {n}");
    }
    out
}

const REQUESTS_METHOD: &str = "Counted by the API server itself: `apiserver_request_total` scraped from \
`/metrics` before and after each command, for the repository's resources (and the tools' inventories), \
main resources only (`status` subresources are the controllers'). reads: GET and LIST; dry-runs: \
POST/PUT/PATCH/APPLY/DELETE with `dryRun=All`; writes: the same verbs without it. WATCH is not counted. \
In brackets: reads of other resources during the command (drift lists every namespaced kind in the \
repository's Namespaces to find objects outside Git), leases, events, nodes and pods left out (the control \
plane's components poll them). \
The counts are exact for no-op, drift and diff (nothing else writes the repository's objects then); a \
cold rebuild's also include what the controllers create in each new Namespace (its `default` \
ServiceAccount and `kube-root-ca.crt` ConfigMap, 2 writes per Namespace, one Namespace per 20 apps), \
the same for every tool. Divided by the repository's objects.\n\n";

/// The whole BENCHMARKS.md.
pub fn document(
    machine: &str,
    r: &Results,
    offline: &Offline,
    opts: &Options,
    took: Duration,
) -> String {
    let mut out = String::from("# Benchmarks\n\n");
    let _ = write!(
        out,
        "Everything below comes from one run of one command, on one local control plane, tools side by side:\n\n\
         ```sh\n{COMMAND}\n```\n\n\
         It builds rekube, flux-apply (`tests/flux`) and Helm (`tests/helm`) pinned, starts the control plane, \
         runs every scenario and writes this file; this run took {:.0} minutes. Do not edit it by hand: rerun \
         the command. CI runs `cargo run --example bench -- --smoke` (50 objects, every tool and chart once; \
         it fails when a tool fails). `--help` lists the options (sizes, runs, which peer runs up to which size).\n\n",
        took.as_secs_f64() / 60.0
    );
    out.push_str("## Machine and versions\n\n");
    out.push_str(machine);
    out.push_str("## Targets\n\n");
    out.push_str("The targets of issue 17 (\"Performance at scale against real peers\"), each from this run's figures.\n\n");
    out.push_str(&targets::render(r, Some(offline)));
    out.push_str(&notes(r, opts));
    out.push_str("\n## How it measures\n\n");
    let _ = write!(out, "{}", method());
    out.push_str("\n## Results\n\n");
    let mut tables = r.render();
    tables.push_str(&flux::render(r));
    out.push_str(&tables);
    if !opts.skip_charts {
        out.push_str("\n### Helm charts: rekube rebuild against `helm install --wait`\n\n");
        out.push_str(CHARTS_METHOD);
        out.push_str(&charts::render(&r.charts));
    }
    out.push_str("\n### Requests per object (reads / dry-runs / writes, median)\n\n");
    out.push_str(REQUESTS_METHOD);
    out.push_str(&counts::render(r));
    out.push_str(&offline_section(offline));
    out
}

fn method() -> String {
    format!(
        "Every tool and run gets a fresh copy of a `rekube::synth` repository (4 CRDs, 1 Namespace per 20 apps, \
each app a ConfigMap, Secret, ServiceAccount, Service, Deployment referencing them, and a custom resource) \
under its own name prefix (new Namespaces, CRD group, inventory), so each cold run is really cold; its \
objects are deleted and awaited before the next tool starts. Wall time is from spawn to exit of the tool's \
process; peak memory is the process's peak resident set (`wait4` rusage, VmHWM, children it waited for \
included); CPU time is user + system of the same.\n\n\
- **floor**: a raw concurrent server-side apply of the same objects from the benchmark process \
({FLOOR_IN_FLIGHT} in flight, CRDs first, no ordering, no waiting); **floor + wait** adds the wait for every \
Deployment to be Available. rekube's cold rebuild waits for readiness itself, so it is compared with floor + wait.\n\
- **rekube**: `rekube rebuild` (cold), `rekube apply` (no-op), `rekube drift` (unchanged repository), `rekube diff` \
after annotating 1% of the app objects.\n\
- **Flux's engine**: flux-apply (`tests/flux`, `github.com/fluxcd/pkg/ssa` v0.78.0) drives the engine as \
kustomize-controller does: `ApplyAllStaged` then `WaitForSet`; its diff is `ResourceManager.Diff` per object; \
its drift is that diff of the unchanged repository (kustomize-controller detects drift with the same dry-run).\n\
- **kubectl** as users run it: CRDs first, `kubectl wait --for=condition=Established`, then `kubectl apply \
--server-side -R`; \"kubectl + wait\" adds `kubectl wait --for=condition=Available deployment`. **kpt**: `kpt \
live apply` (waits for reconciliation itself).\n\
- **Helm**: `helm install --wait` of the corpus charts against `rekube rebuild` of a repository holding the chart.\n\n\
Before each measured step the benchmark waits (up to `--quiet-patience`) for processes outside it to use \
less than a quarter core; the machine-noise table says how much they used anyway. Ratios are peer time / \
rekube time (above 1: rekube is faster); \"of floor\" is rekube time / floor time.\n"
    )
}

const CHARTS_METHOD: &str = "Each chart of `../shared/corpus/charts` installed by each tool into a Namespace of \
its own, under a release name of its own, with the same values; both run the chart's hooks and wait for every \
object to be ready. rekube's time is the whole process (load, `helm template` through the pinned Helm, \
inventory, apply, hooks, waits); Helm's the whole `helm install --wait`.\n\n";

fn offline_section(o: &Offline) -> String {
    let mut out = format!(
        "\n## Offline: plan of {} objects (no cluster)\n\n",
        offline::OBJECTS
    );
    let _ = write!(
        out,
        "`rekube plan DIR` end to end (load, validate, order, render) of a generated {}-object repository \
         on disk (`cargo run --release --example generate -- --objects {} --out DIR`), {} runs after the \
         cluster runs, with the control plane stopped:\n\n",
        offline::OBJECTS,
        offline::OBJECTS,
        o.plan_runs.len()
    );
    let runs: Vec<String> = o.plan_runs.iter().map(|s| format!("{s:.2}")).collect();
    let _ = writeln!(
        out,
        "| objects | rekube plan (median, runs) | peak MiB |\n|---:|---:|---:|\n| {} | {} ({}) | {} |",
        offline::OBJECTS,
        crate::report::opt(o.plan_secs, 2),
        runs.join(", "),
        crate::report::opt(o.plan_mib, 0)
    );
    for (command, output) in &o.bench_plan {
        let _ = write!(
            out,
            "\n```sh\n{command}\n```\n\n```text\n{}\n```\n",
            output.trim_end()
        );
    }
    for e in &o.errors {
        let _ = writeln!(out, "\n- FAILED: {e}");
    }
    out
}
