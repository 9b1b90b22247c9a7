//! Benchmark: rekube against kubectl, kpt and Flux's apply engine (`flux-apply`, tests/flux) on one local
//! control plane, with the API server's own write rate (the floor) as the baseline.
//!
//! `cargo run --release --example bench -- [--objects 100,1000,5000] [--runs 3] [--smoke] [--out FILE]
//! [--skip-flux] [--flux PATH]`
//!
//! For each size and run, every tool gets a fresh copy of a `rekube::synth` repository under its own
//! name prefix (new Namespaces, CRD group and inventory), so each cold run is really cold; after a tool's
//! scenarios its Namespaces and CRDs are deleted and waited for, so the API server is back to its size.
//! Scenarios: the floor (raw concurrent server-side apply from this process); cold rebuild; no-op
//! re-apply (time, write requests from the apiserver's metrics, resourceVersion changes); diff after a 1%
//! change; drift; peak memory of every process (wait4 rusage). Tables of medians and ratios go to stdout
//! and, with `--out`, to a markdown file.
//!
//! `--serve` only starts the control plane and holds it until killed, printing its kubeconfig: for
//! profiling one tool by hand on the same cluster.
//!
//! `--smoke` (50 objects, 1 run) is what CI runs: it exits non-zero when any tool failed; the targets are
//! printed but not enforced.

#[path = "bench/cluster.rs"]
mod cluster;
#[path = "bench/flux.rs"]
mod flux;
#[path = "bench/load.rs"]
mod load;
#[path = "bench/procs.rs"]
mod procs;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/scenarios.rs"]
mod scenarios;
#[path = "bench/setup.rs"]
mod setup;
#[path = "bench/workload.rs"]
mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use kube::Client;
use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

use cluster::{Counters, Resolver};
use procs::Exit;
use report::{Results, Sample};
use scenarios::Tool;
use workload::Workload;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// In-flight requests of the floor.
const FLOOR_IN_FLIGHT: usize = 64;
/// Limit on any one tool invocation (rekube's own per-object timeout is 5 minutes).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// A step starts once processes outside the benchmark use less than this many cores...
const QUIET_CORES: f64 = 0.25;
/// ...or after this long anyway (the load is reported with the results).
const QUIET_PATIENCE: Duration = Duration::from_secs(180);
/// Limit on waiting for Deployments or for a run's objects to be deleted.
const WAIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
struct Options {
    sizes: Vec<usize>,
    runs: usize,
    smoke: bool,
    serve: bool,
    out: Option<PathBuf>,
    /// Above this many objects, kubectl and kpt are measured in the first run only (they are slow).
    peers_once_above: Option<usize>,
    rekube: Option<PathBuf>,
    kubectl: Option<PathBuf>,
    skip_kpt: bool,
    flux: Option<PathBuf>,
    skip_flux: bool,
}

const USAGE: &str = "usage: bench [--objects 100,1000,5000] [--runs 3] [--smoke] [--serve] [--out FILE] \
[--peers-once-above N] [--rekube PATH] [--kubectl PATH] [--skip-kpt] [--flux PATH] [--skip-flux]";

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        sizes: vec![100, 1000, 5000],
        runs: 3,
        smoke: false,
        serve: false,
        out: None,
        peers_once_above: None,
        rekube: None,
        kubectl: None,
        skip_kpt: false,
        flux: None,
        skip_flux: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value; {USAGE}"));
        match arg.as_str() {
            "--objects" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<usize>()
                            .map_err(|e| format!("--objects {s}: {e}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => o.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--out" => o.out = Some(PathBuf::from(value()?)),
            "--peers-once-above" => {
                o.peers_once_above = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--peers-once-above: {e}"))?,
                )
            }
            "--rekube" => o.rekube = Some(PathBuf::from(value()?)),
            "--kubectl" => o.kubectl = Some(PathBuf::from(value()?)),
            "--skip-kpt" => o.skip_kpt = true,
            "--flux" => o.flux = Some(PathBuf::from(value()?)),
            "--skip-flux" => o.skip_flux = true,
            "--smoke" => o.smoke = true,
            "--serve" => o.serve = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            _ => return Err(format!("unexpected argument {arg}; {USAGE}")),
        }
    }
    if o.smoke {
        o.sizes = vec![50];
        o.runs = 1;
    }
    if o.runs == 0 || o.sizes.is_empty() || o.sizes.contains(&0) {
        return Err("--runs and every size in --objects must be at least 1".into());
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match parse_args() {
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
    /// Repositories, logs and rekube's cache folder (journals).
    work: PathBuf,
    /// Smoke run: deletions are not waited for (nothing is compared, and CI time counts).
    smoke: bool,
    results: Results,
}

/// Runs every scenario; Ok(false) when a tool failed.
async fn run(opts: Options) -> Result<bool, Error> {
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
    // The Flux peer is built by tests/flux/build.sh; a failed build fails the run (and the smoke).
    let (flux, flux_error) = match (&opts.flux, opts.skip_flux) {
        (_, true) => (None, None),
        (Some(p), false) => (Some(p.clone()), None),
        (None, false) => match flux::build().await {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        },
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
        work: work.clone(),
        smoke: opts.smoke,
        results: Results::default(),
    };
    if let Some(e) = flux_error {
        b.fail(format!(
            "the Flux peer (flux-apply, tests/flux/build.sh) did not build: {e}"
        ));
    }
    let header = setup::environment(&b, &opts).await;
    if let Some(kpt) = b.kpt.clone() {
        let kc = b.kubeconfig_arg();
        let exit = b
            .exec(
                &kpt,
                &["live", "install-resource-group", &kc[0], &kc[1]],
                "kpt-install-rg",
            )
            .await?;
        if exit.code != 0 {
            b.fail(format!(
                "kpt live install-resource-group: exit {}:\n{}",
                exit.code,
                exit.tail()
            ));
            b.kpt = None;
        }
    }

    let last = (*opts.sizes.last().unwrap_or(&0), opts.runs);
    for &n in &opts.sizes {
        for run in 1..=opts.runs {
            let peers = run == 1 || opts.peers_once_above.is_none_or(|limit| n <= limit);
            eprintln!("bench: {n} objects, run {run}/{}", opts.runs);
            let is_last = (n, run) == last;
            b.tool(n, run, Tool::Floor, false).await;
            b.tool(n, run, Tool::Rekube, is_last && !peers).await;
            if peers {
                let (kpt_next, flux_next) = (b.kpt.is_some(), b.flux.is_some());
                b.tool(n, run, Tool::Kubectl, is_last && !kpt_next && !flux_next)
                    .await;
                if kpt_next {
                    b.tool(n, run, Tool::Kpt, is_last && !flux_next).await;
                }
                if flux_next {
                    b.tool(n, run, Tool::Flux, is_last).await;
                }
            }
        }
    }
    if b.kpt.is_none() && !opts.skip_kpt {
        b.results
            .notes
            .push("kpt was not measured (not installed or its setup failed).".into());
    }

    let mut md = header;
    md.push_str(&b.results.render());
    md.push_str(&flux::render(&b.results));
    md.push_str("\n#### Targets\n\n");
    md.push_str(&b.results.targets());
    md.push_str(&flux::target_row(&b.results));
    if !b.results.notes.is_empty() {
        md.push_str("\nNotes:\n");
        for n in &b.results.notes {
            md.push_str(&format!("- {n}\n"));
        }
    }
    println!("{md}");
    if let Some(out) = &opts.out {
        std::fs::write(out, &md).map_err(|e| format!("writing {}: {e}", out.display()))?;
        eprintln!("bench: wrote {}", out.display());
    }
    let ok = b.results.failures.is_empty();
    if ok {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("bench: {} failure(s):", b.results.failures.len());
        for f in &b.results.failures {
            eprintln!("  - {f}");
        }
        eprintln!("bench: logs kept in {}", work.join("logs").display());
    }
    drop(b);
    cp.stop()?;
    Ok(ok)
}

impl Bench {
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
        let program = program.to_path_buf();
        let args = args.to_vec();
        let log = self.work.join("logs").join(format!("{log}.log"));
        let cache = self.work.join("cache");
        tokio::task::spawn_blocking(move || {
            // rekube's journals go to a private cache folder, not the user's.
            procs::run(
                &program,
                &args,
                &[("REKUBE_CACHE_DIR", &cache)],
                &log,
                PROCESS_TIMEOUT,
            )
        })
        .await?
    }

    async fn requests(&self, w: &Workload) -> Result<Counters, Error> {
        let mut resources = w.resources();
        // The inventories: rekube's ApplySet parent Secret (already in), kpt's ResourceGroup.
        resources.insert("resourcegroups".into());
        cluster::requests(&self.client, &resources).await
    }

    fn kubeconfig_arg(&self) -> [String; 2] {
        ["--kubeconfig".into(), self.kubeconfig.display().to_string()]
    }
}
