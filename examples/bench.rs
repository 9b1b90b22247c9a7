//! Benchmark: rekube against kubectl, kpt, Flux's apply engine (`flux-apply`, tests/flux) and `helm
//! install --wait` on one local control plane, with the API server's own write rate (the floor) as the
//! baseline.
//!
//! `cargo run --release --example bench -- --write BENCHMARKS.md` regenerates BENCHMARKS.md completely
//! (machine, commands, offline plan figures, every table, the targets' verdicts); see `--help` for the
//! sizes, runs and which peers run up to which size.
//!
//! For each size and run, every tool gets a fresh copy of a `rekube::synth` repository under its own
//! name prefix (new Namespaces, CRD group and inventory), so each cold run is really cold; after a tool's
//! scenarios its Namespaces and CRDs are deleted and waited for, so the API server is back to its size.
//! Scenarios: the floor (raw concurrent server-side apply from this process); cold rebuild; no-op
//! re-apply (time, requests from the apiserver's metrics, resourceVersion changes); drift; diff after a
//! 1% change; peak memory and CPU time of every process (wait4 rusage); the corpus charts against
//! `helm install --wait`. Tables of medians and ratios go to stdout, with `--out` to a markdown file.
//!
//! `--serve` only starts the control plane and holds it until killed, printing its kubeconfig: for
//! profiling one tool by hand on the same cluster.
//!
//! `--smoke` (50 objects, 1 run, every tool and chart once) is what CI runs: it exits non-zero when any
//! tool failed; the targets are printed but not enforced.

#[path = "bench/charts.rs"]
mod charts;
#[path = "bench/cluster.rs"]
mod cluster;
#[path = "bench/counts.rs"]
mod counts;
#[path = "bench/doc.rs"]
mod doc;
#[path = "bench/flux.rs"]
mod flux;
#[path = "bench/load.rs"]
mod load;
#[path = "bench/metrics.rs"]
mod metrics;
#[path = "bench/offline.rs"]
mod offline;
#[path = "bench/options.rs"]
mod options;
#[path = "bench/procs.rs"]
mod procs;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/scenarios.rs"]
mod scenarios;
#[path = "bench/setup.rs"]
mod setup;
#[path = "bench/targets.rs"]
mod targets;
#[path = "bench/workload.rs"]
mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kube::Client;
use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

use cluster::Resolver;
use metrics::Counters;
use options::Options;
use procs::Exit;
use report::{Results, Sample};
use scenarios::Tool;
use workload::Workload;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// In-flight requests of the floor.
const FLOOR_IN_FLIGHT: usize = 64;
/// Limit on any one tool invocation (rekube's own per-object timeout is 5 minutes).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// A step starts once processes outside the benchmark use less than this many cores (or after
/// `--quiet-patience` anyway; the load is reported with the results).
const QUIET_CORES: f64 = 0.25;
/// Limit on waiting for Deployments or for a run's objects to be deleted.
const WAIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match options::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(opts).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Everything a scenario needs.
struct Bench {
    client: Client,
    resolver: Resolver,
    kubeconfig: PathBuf,
    rekube: PathBuf,
    kubectl: PathBuf,
    kpt: Option<PathBuf>,
    /// flux-apply (tests/flux), the Flux peer.
    flux: Option<PathBuf>,
    /// Helm, the peer of the chart scenarios.
    helm: Option<PathBuf>,
    /// Repositories, logs and rekube's cache folder (journals).
    work: PathBuf,
    /// Smoke run: deletions are not waited for (nothing is compared, and CI time counts).
    smoke: bool,
    quiet_patience: Duration,
    results: Results,
}

/// A peer that did not build: recorded as a failure once the run has started.
fn built(r: Result<PathBuf, Error>, what: &str, errors: &mut Vec<String>) -> Option<PathBuf> {
    r.map_err(|e| errors.push(format!("{what} did not build: {e}")))
        .ok()
}

/// Runs every scenario; Ok(false) when a tool failed.
async fn run(opts: Options) -> Result<bool, Error> {
    let started = Instant::now();
    let rekube = match &opts.rekube {
        Some(p) => p.clone(),
        None => setup::build_rekube().await?,
    };
    let kubectl = match &opts.kubectl {
        Some(p) => p.clone(),
        None => setup::which("kubectl").ok_or("kubectl is not on PATH (it is the peer)")?,
    };
    let kpt = if opts.skip_kpt {
        None
    } else {
        setup::which("kpt")
    };
    // The Go peers are built by their pinned scripts; a failed build fails the run (and the smoke).
    let mut build_errors = Vec::new();
    let flux = match (&opts.flux, opts.skip_flux) {
        (_, true) => None,
        (Some(p), false) => Some(p.clone()),
        (None, false) => built(
            flux::build().await,
            "the Flux peer (tests/flux/build.sh)",
            &mut build_errors,
        ),
    };
    let helm = if opts.skip_charts {
        None
    } else {
        built(
            setup::helm().await,
            "Helm (tests/helm/build.sh)",
            &mut build_errors,
        )
    };
    let work = tempfile::Builder::new()
        .prefix("rekube-bench-")
        .tempdir()?
        .keep();
    std::fs::create_dir_all(work.join("logs"))?;
    eprintln!("bench: work folder {}", work.display());

    eprintln!("bench: starting the local control plane");
    let cp = ControlPlane::start(ControlPlaneOptions::default()).await?;
    if opts.serve {
        println!("{}", cp.kubeconfig().display());
        eprintln!("bench: control plane up; kubeconfig above; stop with Ctrl-C");
        tokio::signal::ctrl_c().await?;
        cp.stop()?;
        let _ = std::fs::remove_dir_all(&work);
        return Ok(true);
    }
    let client = cp.client()?;
    let mut b = Bench {
        resolver: Resolver::new(client.clone()),
        client,
        kubeconfig: cp.kubeconfig().to_path_buf(),
        rekube,
        kubectl,
        kpt,
        flux,
        helm,
        work: work.clone(),
        smoke: opts.smoke,
        quiet_patience: opts.quiet_patience,
        results: Results::default(),
    };
    for e in build_errors {
        b.fail(e);
    }
    let machine = setup::environment(&b, &opts).await;
    b.install_kpt_inventory().await;

    if b.helm.is_some() {
        b.charts(opts.runs).await;
    }
    b.sizes(&opts).await;
    if b.kpt.is_none() && !opts.skip_kpt {
        b.results
            .notes
            .push("kpt was not measured (not installed or its setup failed).".into());
    }
    let tables = format!("{machine}{}", doc::results(&b.results, &opts));
    println!("{tables}");
    if let Some(out) = &opts.out {
        std::fs::write(out, &tables).map_err(|e| format!("writing {}: {e}", out.display()))?;
        eprintln!("bench: wrote {}", out.display());
    }
    let ok = b.results.failures.is_empty();
    let rekube = b.rekube.clone();
    let results = std::mem::take(&mut b.results);
    drop(b);
    cp.stop()?;
    if let Some(path) = &opts.write {
        // The offline figures run with the control plane gone: nothing else on the CPUs of this run.
        let offline = offline::run(&work, &rekube).await;
        let text = doc::document(&machine, &results, &offline, &opts, started.elapsed());
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    if ok {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("bench: {} failure(s):", results.failures.len());
        for f in &results.failures {
            eprintln!("  - {f}");
        }
        eprintln!("bench: logs kept in {}", work.join("logs").display());
    }
    Ok(ok)
}

impl Bench {
    /// Every size and run: the floor, rekube, then the peers allowed at that size. The very last tool's
    /// objects are not deleted (the control plane goes away anyway).
    async fn sizes(&mut self, opts: &Options) {
        let last_size = opts.sizes.last().copied().unwrap_or(0);
        for &n in &opts.sizes {
            let runs = opts.runs_at(n);
            for run in 1..=runs {
                let mut tools = vec![Tool::Floor, Tool::Rekube];
                if n <= opts.peers_max {
                    tools.push(Tool::Kubectl);
                    if self.kpt.is_some() {
                        tools.push(Tool::Kpt);
                    }
                }
                if self.flux.is_some() && n <= opts.flux_max {
                    tools.push(Tool::Flux);
                }
                eprintln!("bench: {n} objects, run {run}/{runs}: {tools:?}");
                let count = tools.len();
                for (i, tool) in tools.into_iter().enumerate() {
                    let last = n == last_size && run == runs && i + 1 == count;
                    self.tool(n, run, tool, last).await;
                }
            }
        }
    }

    /// Runs a tool step with request counts and resourceVersion changes around it; fails unless the
    /// exit code is one of `ok`.
    async fn measured(
        &mut self,
        w: &Workload,
        program: &Path,
        args: &[String],
        step: &str,
        ok: &[i32],
    ) -> Result<(Sample, Exit), Error> {
        let rv_before = cluster::resource_versions(&self.client, &mut self.resolver, w).await?;
        let before = self.requests(w).await?;
        self.quiet().await;
        let mark = load::Mark::now();
        let exit = self
            .checked(program, args, &format!("{}-{step}", w.prefix), ok)
            .await?;
        let foreign = mark.foreign_cores(exit.cpu);
        let counted = self.requests(w).await?.since(&before);
        let rv_after = cluster::resource_versions(&self.client, &mut self.resolver, w).await?;
        let changed = cluster::changed(&rv_before, &rv_after);
        // What a step that should not write did write deserves a look: say which.
        if !changed.is_empty() && changed.len() <= 5 {
            eprintln!(
                "bench:   {step}: resourceVersion changed: {}",
                changed.join(", ")
            );
        }
        let requests = counted.summary();
        if requests.writes > 0 && requests.writes <= 20 {
            eprintln!("bench:   {step}: writes: {}", counted.writes());
        }
        let sample = Sample {
            secs: exit.elapsed.as_secs_f64(),
            rss_kib: Some(exit.max_rss_kib),
            requests: Some(requests),
            rv_changed: Some(changed.len()),
            foreign: Some(foreign),
            cpu: Some(exit.cpu.as_secs_f64()),
            writes: (requests.writes > 0).then(|| counted.writes()),
        };
        Ok((sample, exit))
    }

    async fn checked(
        &self,
        program: &Path,
        args: &[String],
        log: &str,
        ok: &[i32],
    ) -> Result<Exit, Error> {
        let exit = self.exec_args(program, args, log).await?;
        if !ok.contains(&exit.code) {
            return Err(format!(
                "{} {} exited {} (expected {ok:?}); log {}:\n{}",
                program.display(),
                args.join(" "),
                exit.code,
                exit.log.display(),
                exit.tail()
            )
            .into());
        }
        eprintln!(
            "bench:   {log}: {:.2}s, {} MiB",
            exit.elapsed.as_secs_f64(),
            exit.max_rss_kib / 1024
        );
        Ok(exit)
    }

    async fn exec(&self, program: &Path, args: &[&str], log: &str) -> Result<Exit, Error> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        self.exec_args(program, &args, log).await
    }

    async fn exec_args(&self, program: &Path, args: &[String], log: &str) -> Result<Exit, Error> {
        self.exec_env(program, args, log, &[]).await
    }

    /// Runs a tool with its log under logs/; rekube's journals go to a private cache folder, not the
    /// user's; `envs` come on top.
    async fn exec_env(
        &self,
        program: &Path,
        args: &[String],
        log: &str,
        envs: &[(&str, &Path)],
    ) -> Result<Exit, Error> {
        let program = program.to_path_buf();
        let args = args.to_vec();
        let log = self.work.join("logs").join(format!("{log}.log"));
        let cache = self.work.join("cache");
        let mut envs: Vec<(String, PathBuf)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_path_buf()))
            .collect();
        if !envs.iter().any(|(k, _)| k == "REKUBE_CACHE_DIR") {
            envs.push(("REKUBE_CACHE_DIR".into(), cache));
        }
        tokio::task::spawn_blocking(move || {
            let envs: Vec<(&str, &Path)> = envs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_path()))
                .collect();
            procs::run(&program, &args, &envs, &log, PROCESS_TIMEOUT)
        })
        .await?
    }

    async fn requests(&self, w: &Workload) -> Result<Counters, Error> {
        let mut resources = w.resources();
        // The inventories: rekube's ApplySet parent Secret (already in), kpt's ResourceGroup.
        resources.insert("resourcegroups".into());
        metrics::requests(&self.client, &resources).await
    }

    fn kubeconfig_arg(&self) -> [String; 2] {
        ["--kubeconfig".into(), self.kubeconfig.display().to_string()]
    }
}
