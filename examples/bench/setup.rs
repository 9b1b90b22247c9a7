//! What the benchmark needs before it measures: the rekube binary, the tools on PATH, and the
//! description of the machine and versions that heads the results.

use std::path::{Path, PathBuf};

use crate::{Bench, Error, FLOOR_IN_FLIGHT, Options, procs};

pub async fn environment(b: &Bench, opts: &Options) -> String {
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
    let k8s = b
        .client
        .apiserver_version()
        .await
        .map_or_else(|e| format!("unknown ({e})"), |v| v.git_version);
    let kubectl_version = procs::first_line(&b.kubectl, &["version", "--client"]);
    let kpt_version = b.kpt.as_ref().map_or("not measured".into(), |k| {
        procs::first_line(k, &["version"])
    });
    let flux_version = b.flux.as_ref().map_or("not measured".into(), |f| {
        procs::first_line(f, &["version"])
    });
    let rekube_version = procs::first_line(&b.rekube, &["--version"]);
    let mut command = String::from(if cfg!(debug_assertions) {
        "cargo run --example bench --"
    } else {
        "cargo run --release --example bench --"
    });
    for a in std::env::args().skip(1) {
        command.push(' ');
        command.push_str(&a);
    }
    let helm_version = b.helm.as_ref().map_or("not measured".into(), |h| {
        procs::first_line(h, &["version", "--short"])
    });
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "- command: `{command}`\n\
         - machine: {nproc} cores (`nproc`), {cpu}, {mem} RAM; load average at the start {load}\n\
         - Kubernetes {k8s} (local control plane: etcd, kube-apiserver, controller manager, scheduler, kwok; 3 fake nodes)\n\
         - {rekube_version} ({profile} build); kubectl: {kubectl_version}; kpt {kpt_version}; {flux_version}; Helm {helm_version}\n\
         - sizes {sizes:?}: {runs} run(s) each up to {once_above} objects, 1 above (medians); kubectl and kpt up to \
         {peers_max} objects, Flux's engine up to {flux_max}; floor: {FLOOR_IN_FLIGHT} requests in flight\n\n",
        load = load.join(" "),
        profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        sizes = opts.sizes,
        runs = opts.runs,
        once_above = opts.once_above,
        peers_max = opts.peers_max,
        flux_max = opts.flux_max,
    )
}

/// Builds the rekube binary of this checkout with the same profile as this example (cargo does not
/// build a package's binaries for `cargo run --example`), and returns its path.
///
/// The examples are named too: cargo resolves features per invocation, and an examples build enables the
/// dev-dependencies' features, so building the binary alone would rebuild the library with other
/// features (minutes), and the next `cargo run --example bench` would rebuild it back.
pub async fn build_rekube() -> Result<PathBuf, Error> {
    cargo_build(&TARGETS, "rekube").await
}

/// What one `cargo build` builds for the benchmark.
pub const TARGETS: [&str; 6] = [
    "--bin",
    "rekube",
    "--example",
    "bench",
    "--example",
    "bench_plan",
];

/// `cargo build` of one target of this package with this example's profile; returns `built`, a path
/// under the profile's folder (target/<profile>).
pub async fn cargo_build(target: &[&str], built: &str) -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/bench → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target folder from this executable")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = tokio::process::Command::new(cargo);
    // `cargo run` gave this process its package's variables (OUT_DIR, CARGO_PKG_NAME, …); build
    // scripts of dependencies (ring's) rerun when those change, which would rebuild half the
    // dependency tree and the library (minutes) here and again at the next `cargo run`.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key == "OUT_DIR"
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&&*key)
        {
            cmd.env_remove(&*key);
        }
    }
    cmd.args(["build", "--quiet"])
        .args(target)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    eprintln!("bench: building {}", target.join(" "));
    let status = cmd.status().await?;
    if !status.success() {
        return Err(format!("cargo build {} failed: {status}", target.join(" ")).into());
    }
    let bin = profile_dir.join(built);
    if !bin.is_file() {
        return Err(format!("{} is missing after the build", bin.display()).into());
    }
    Ok(bin)
}

/// Runs a project build script of a Go tool (tests/flux/build.sh, tests/helm/build.sh: pinned, a no-op
/// when already built) and returns the binary it built: the script's last line of stdout.
pub async fn go_tool(script: &str) -> Result<PathBuf, Error> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    eprintln!("bench: building {}", script.display());
    let out = tokio::process::Command::new("bash")
        .arg(&script)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("running bash {}: {e}", script.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        return Err(format!(
            "bash {} failed ({}):\n{}",
            script.display(),
            out.status,
            lines[lines.len().saturating_sub(15)..].join("\n")
        )
        .into());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let bin = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    if !bin.is_file() {
        return Err(format!("bash {} printed no binary path ({bin:?})", script.display()).into());
    }
    Ok(bin)
}

/// Helm for the chart scenarios: `$REKUBE_HELM`, else the pinned Helm of tests/helm/build.sh.
pub async fn helm() -> Result<PathBuf, Error> {
    match std::env::var_os("REKUBE_HELM").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h)),
        None => go_tool("tests/helm/build.sh").await,
    }
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}
