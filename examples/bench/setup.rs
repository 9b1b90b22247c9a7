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
    let mut peers = String::new();
    if let Some(limit) = opts.peers_once_above {
        peers =
            format!(" kubectl, kpt and flux measured in the first run only above {limit} objects.");
    }
    format!(
        "### Run: `{command}`\n\n\
         - machine: {nproc} cores (`nproc`), {cpu}, {mem} RAM\n\
         - Kubernetes {k8s} (local control plane: etcd, kube-apiserver, controller manager, scheduler, kwok; 3 fake nodes)\n\
         - {rekube_version} ({profile} build); kubectl: {kubectl_version}; kpt {kpt_version}; {flux_version}\n\
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

/// Builds the rekube binary of this checkout with the same profile as this example (cargo does not
/// build a package's binaries for `cargo run --example`), and returns its path.
pub async fn build_rekube() -> Result<PathBuf, Error> {
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

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}
