//! Benchmark: rekube against kubectl and kpt on one local control plane, with the API server's own write
//! rate (the floor) as the baseline.
//!
//! `cargo run --release --example bench -- [--objects 100,1000,5000] [--runs 3] [--smoke] [--out FILE]`
//!
//! For each size and run, every tool gets a fresh copy of a `rekube::synth` repository under its own
//! name prefix (new Namespaces, CRD group and inventory), so each cold run is really cold; after a tool's
//! scenarios its Namespaces and CRDs are deleted and waited for, so the API server is back to its size.
//! Scenarios: the floor (raw concurrent server-side apply from this process); cold rebuild; no-op
//! re-apply (time, write requests from the apiserver's metrics, resourceVersion changes); diff after a 1%
//! change; drift; peak memory of every process (wait4 rusage). Tables of medians and ratios go to stdout
//! and, with `--out`, to a markdown file.
//!
//! `--smoke` (50 objects, 1 run) is what CI runs: it exits non-zero when any tool failed; the targets are
//! printed but not enforced.

#[path = "bench/cluster.rs"]
mod cluster;
#[path = "bench/procs.rs"]
mod procs;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/workload.rs"]
mod workload;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use kube::Client;
use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

use cluster::{Counters, Resolver};
use procs::{Exit, Steps};
use report::{
    COLD, DIFF, DRIFT, FLOOR, FLOOR_WAIT, KPT, KUBECTL, KUBECTL_C8, KUBECTL_WAIT, NOOP, REKUBE,
    REKUBE_C8, Results, Sample,
};
use workload::Workload;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// In-flight requests of the floor.
const FLOOR_IN_FLIGHT: usize = 64;
/// Limit on any one tool invocation (rekube's own per-object timeout is 5 minutes).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Limit on waiting for Deployments or for a run's objects to be deleted.
const WAIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
struct Options {
    sizes: Vec<usize>,
    runs: usize,
    smoke: bool,
    out: Option<PathBuf>,
    /// Above this many objects, kubectl and kpt are measured in the first run only (they are slow).
    peers_once_above: Option<usize>,
    rekube: Option<PathBuf>,
    kubectl: Option<PathBuf>,
    skip_kpt: bool,
}

const USAGE: &str = "usage: bench [--objects 100,1000,5000] [--runs 3] [--smoke] [--out FILE] \
[--peers-once-above N] [--rekube PATH] [--kubectl PATH] [--skip-kpt]";

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        sizes: vec![100, 1000, 5000],
        runs: 3,
        smoke: false,
        out: None,
        peers_once_above: None,
        rekube: None,
        kubectl: None,
        skip_kpt: false,
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
            "--smoke" => o.smoke = true,
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
        None => build_rekube().await?,
    };
    let kubectl = match &opts.kubectl {
        Some(p) => p.clone(),
        None => which("kubectl").ok_or("kubectl is not on PATH (it is the peer)")?,
    };
    let kpt = if opts.skip_kpt { None } else { which("kpt") };
    let work = tempfile::Builder::new()
        .prefix("rekube-bench-")
        .tempdir()?
        .keep();
    std::fs::create_dir_all(work.join("logs"))?;
    eprintln!("bench: work folder {}", work.display());

    eprintln!("bench: starting the local control plane");
    let cp = ControlPlane::start(ControlPlaneOptions::default()).await?;
    let client = cp.client()?;
    let mut b = Bench {
        resolver: Resolver::new(client.clone()),
        client,
        kubeconfig: cp.kubeconfig().to_path_buf(),
        rekube,
        kubectl,
        kpt,
        work: work.clone(),
        smoke: opts.smoke,
        results: Results::default(),
    };
    let header = b.environment(&opts).await;
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
                let kpt_next = b.kpt.is_some();
                b.tool(n, run, Tool::Kubectl, is_last && !kpt_next).await;
                if kpt_next {
                    b.tool(n, run, Tool::Kpt, is_last).await;
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
    md.push_str("\n#### Targets\n\n");
    md.push_str(&b.results.targets());
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

/// The tools, each with its own scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Floor,
    Rekube,
    Kubectl,
    Kpt,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Floor => "floor",
            Tool::Rekube => "rekube",
            Tool::Kubectl => "kubectl",
            Tool::Kpt => "kpt",
        }
    }
}

impl Bench {
    /// One tool's scenarios on a fresh workload, then deleting it (unless it is the very last one: the
    /// control plane goes away anyway). A failure is recorded and the benchmark goes on.
    async fn tool(&mut self, n: usize, run: usize, tool: Tool, last: bool) {
        let prefix = format!("b{run}-{}-{n}", tool.name());
        let mut w = match Workload::new(n, &prefix, &self.work) {
            Ok(w) => w,
            Err(e) => return self.fail(format!("{prefix}: generating: {e}")),
        };
        let started = std::time::Instant::now();
        let result = match tool {
            Tool::Floor => self.floor(&w).await,
            Tool::Rekube => self.rekube(&mut w).await,
            Tool::Kubectl => self.kubectl(&mut w).await,
            Tool::Kpt => self.kpt(&w).await,
        };
        if let Err(e) = result {
            self.fail(format!("{prefix}: {e}"));
        }
        let scenarios = started.elapsed();
        if !last {
            let wait = if self.smoke { None } else { Some(WAIT_TIMEOUT) };
            match cluster::delete(&self.client, &w, wait).await {
                Ok(d) => eprintln!(
                    "bench: {prefix}: scenarios {:.1}s, deleted in {:.1}s",
                    scenarios.as_secs_f64(),
                    d.as_secs_f64()
                ),
                Err(e) => self.fail(format!("{prefix}: cleaning up: {e}")),
            }
        }
    }

    fn fail(&mut self, message: String) {
        eprintln!("bench: FAILED {message}");
        self.results.failures.push(message);
    }

    async fn floor(&mut self, w: &Workload) -> Result<(), Error> {
        let n = w.repo.objects.len();
        let before = self.requests(w).await?;
        let secs = cluster::floor(&self.client, &mut self.resolver, w, FLOOR_IN_FLIGHT).await?;
        let requests = self.requests(w).await?.since(&before).summary();
        let wait = cluster::wait_available(&self.client, w, WAIT_TIMEOUT).await?;
        let mut s = Sample {
            secs: secs.as_secs_f64(),
            requests: Some(requests),
            ..Sample::default()
        };
        self.results.add(n, COLD, FLOOR, s.clone());
        s.secs += wait.as_secs_f64();
        self.results.add(n, COLD, FLOOR_WAIT, s);
        Ok(())
    }

    async fn rekube(&mut self, w: &mut Workload) -> Result<(), Error> {
        let n = w.repo.objects.len();
        let rekube = self.rekube.clone();
        let dir = w.dir.display().to_string();
        let cmd = |verb: &str, extra: &[&str]| {
            let mut v = vec![verb.to_string(), dir.clone()];
            v.extend(self.kubeconfig_arg());
            v.extend(["--inventory".to_string(), w.prefix.clone()]);
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        let (rebuild, apply, drift) = (cmd("rebuild", &[]), cmd("apply", &[]), cmd("drift", &[]));
        let (diff, diff8) = (cmd("diff", &[]), cmd("diff", &["--concurrency", "8"]));

        let (s, _) = self.measured(w, &rekube, &rebuild, "rebuild", &[0]).await?;
        self.results.add(n, COLD, REKUBE, s);
        // The no-op is measured on a settled cluster (rebuild waited already; this is a check).
        cluster::wait_available(&self.client, w, WAIT_TIMEOUT).await?;
        let (s, _) = self
            .measured(w, &rekube, &apply, "apply-noop", &[0])
            .await?;
        self.results.add(n, NOOP, REKUBE, s);

        // Exit 2 with this message: the command is not in this build yet (being written).
        let (s, exit) = self.measured(w, &rekube, &drift, "drift", &[0, 2]).await?;
        if exit.code == 0 {
            self.results.add(n, DRIFT, REKUBE, s);
        } else if exit.tail().contains("not available in this build") {
            let note = "`rekube drift` is not available in this build: not measured.".to_string();
            if !self.results.notes.contains(&note) {
                self.results.notes.push(note);
            }
        } else {
            return Err(format!(
                "rekube drift exited 2; log {}:\n{}",
                exit.log.display(),
                exit.tail()
            )
            .into());
        }

        let changed = w.change_one_percent()?;
        self.results.diff_changed.insert(n, changed);
        // Exit 1: differences found, as kubectl diff.
        let (s, _) = self.measured(w, &rekube, &diff, "diff", &[1]).await?;
        self.results.add(n, DIFF, REKUBE, s);
        let (s, _) = self.measured(w, &rekube, &diff8, "diff-c8", &[1]).await?;
        self.results.add(n, DIFF, REKUBE_C8, s);
        Ok(())
    }

    async fn kubectl(&mut self, w: &mut Workload) -> Result<(), Error> {
        let n = w.repo.objects.len();
        let kubectl = self.kubectl.clone();
        let kc = self.kubeconfig_arg();
        let cluster_dir = w.dir.join("cluster").display().to_string();
        let apps_dir = w.dir.join("apps").display().to_string();
        let args = |a: &[&str]| -> Vec<String> {
            kc.iter()
                .cloned()
                .chain(a.iter().map(|s| s.to_string()))
                .collect()
        };
        // As users do: the cluster layer (CRDs, Namespaces), wait for the CRDs, then the rest.
        let mut wait_crds = args(&["wait", "--for=condition=Established", "--timeout=120s"]);
        wait_crds.extend(w.crds().iter().map(|c| format!("crd/{c}")));
        let steps = [
            args(&["apply", "--server-side", "-f", &cluster_dir]),
            wait_crds,
            args(&["apply", "--server-side", "-R", "-f", &apps_dir]),
        ];
        let before = self.requests(w).await?;
        let mut total = Steps::default();
        for (i, step) in steps.iter().enumerate() {
            let exit = self
                .checked(&kubectl, step, &format!("{}-cold-{i}", w.prefix), &[0])
                .await?;
            total.add(&exit);
        }
        let requests = self.requests(w).await?.since(&before).summary();
        let mut s = Sample {
            secs: total.elapsed.as_secs_f64(),
            rss_kib: Some(total.max_rss_kib),
            requests: Some(requests),
            rv_changed: None,
        };
        self.results.add(n, COLD, KUBECTL, s.clone());
        let wait = args(&[
            "wait",
            "--for=condition=Available",
            "--timeout=15m",
            "deployment",
            "--all",
            "-A",
        ]);
        let exit = self
            .checked(&kubectl, &wait, &format!("{}-wait", w.prefix), &[0])
            .await?;
        s.secs += exit.elapsed.as_secs_f64();
        s.rss_kib = s.rss_kib.max(Some(exit.max_rss_kib));
        self.results.add(n, COLD, KUBECTL_WAIT, s);

        cluster::wait_available(&self.client, w, WAIT_TIMEOUT).await?;
        let both = ["-f", cluster_dir.as_str(), "-f", apps_dir.as_str()];
        let mut noop = args(&["apply", "--server-side", "-R"]);
        noop.extend(both.iter().map(|s| s.to_string()));
        let (s, _) = self
            .measured(w, &kubectl, &noop, "apply-noop", &[0])
            .await?;
        self.results.add(n, NOOP, KUBECTL, s);

        let changed = w.change_one_percent()?;
        self.results.diff_changed.entry(n).or_insert(changed);
        let mut diff = args(&["diff", "--server-side", "-R"]);
        diff.extend(both.iter().map(|s| s.to_string()));
        let (s, _) = self.measured(w, &kubectl, &diff, "diff", &[1]).await?;
        self.results.add(n, DIFF, KUBECTL, s);
        diff.extend(["--concurrency".to_string(), "8".to_string()]);
        let (s, _) = self.measured(w, &kubectl, &diff, "diff-c8", &[1]).await?;
        self.results.add(n, DIFF, KUBECTL_C8, s);
        Ok(())
    }

    async fn kpt(&mut self, w: &Workload) -> Result<(), Error> {
        let n = w.repo.objects.len();
        let Some(kpt) = self.kpt.clone() else {
            return Ok(());
        };
        w.prepare_for_kpt()?;
        let kc = self.kubeconfig_arg();
        let dir = w.dir.display().to_string();
        let mut init: Vec<String> = ["live", "init", &dir, "--namespace", "default", "--name"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        init.extend([w.prefix.clone(), "--inventory-id".into(), w.prefix.clone()]);
        self.checked(&kpt, &init, &format!("{}-init", w.prefix), &[0])
            .await?;
        // kpt waits for every object to reconcile by default; the timeout only bounds it.
        let mut apply: Vec<String> = vec!["live".into(), "apply".into(), dir];
        apply.extend(kc);
        apply.push("--reconcile-timeout=15m".into());
        let (s, _) = self.measured(w, &kpt, &apply, "apply", &[0]).await?;
        self.results.add(n, COLD, KPT, s);
        cluster::wait_available(&self.client, w, WAIT_TIMEOUT).await?;
        let (s, _) = self.measured(w, &kpt, &apply, "apply-noop", &[0]).await?;
        self.results.add(n, NOOP, KPT, s);
        Ok(())
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
        let exit = self
            .checked(program, args, &format!("{}-{step}", w.prefix), ok)
            .await?;
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

    /// The machine, versions and command, as the heading of the results.
    async fn environment(&self, opts: &Options) -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let mem = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
            .map_or("unknown".into(), |kb| {
                format!("{:.1} GiB", kb as f64 / 1048576.0)
            });
        let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
        let k8s = self
            .client
            .apiserver_version()
            .await
            .map_or_else(|e| format!("unknown ({e})"), |v| v.git_version);
        let kubectl_version = procs::first_line(&self.kubectl, &["version", "--client"]);
        let kpt_version = self.kpt.as_ref().map_or("not measured".into(), |k| {
            procs::first_line(k, &["version"])
        });
        let rekube_version = procs::first_line(&self.rekube, &["--version"]);
        let mut command = String::from(if cfg!(debug_assertions) {
            "cargo run --example bench --"
        } else {
            "cargo run --release --example bench --"
        });
        for a in std::env::args().skip(1) {
            command.push(' ');
            command.push_str(&a);
        }
        let mut peers = String::new();
        if let Some(limit) = opts.peers_once_above {
            peers =
                format!(" kubectl and kpt measured in the first run only above {limit} objects.");
        }
        format!(
            "### Run: `{command}`\n\n\
             - machine: {nproc} cores (`nproc`), {cpu}, {mem} RAM\n\
             - Kubernetes {k8s} (local control plane: etcd, kube-apiserver, controller manager, scheduler, kwok; 3 fake nodes)\n\
             - {rekube_version} ({profile} build); kubectl: {kubectl_version}; kpt {kpt_version}\n\
             - sizes {sizes:?}, {runs} run(s) each, medians;{peers} floor: {FLOOR_IN_FLIGHT} requests in flight\n\n",
            profile = if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            sizes = opts.sizes,
            runs = opts.runs,
        )
    }
}

/// Builds the rekube binary of this checkout with the same profile as this example (cargo does not
/// build a package's binaries for `cargo run --example`), and returns its path.
async fn build_rekube() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/bench → target/<profile>/rekube
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target folder from this executable")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = tokio::process::Command::new(cargo);
    cmd.args(["build", "--quiet", "--bin", "rekube"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    eprintln!("bench: building the rekube binary");
    let status = cmd.status().await?;
    if !status.success() {
        return Err(format!("cargo build --bin rekube failed: {status}").into());
    }
    let bin = profile_dir.join("rekube");
    if !bin.is_file() {
        return Err(format!("{} is missing after the build", bin.display()).into());
    }
    Ok(bin)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}
