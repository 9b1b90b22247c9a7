//! Benchmark: `rekube rebuild` of each corpus chart (podinfo, ingress-nginx) against `helm install
//! --wait` of the same chart, on one local control plane, one run each; the ratio goes in BENCHMARKS.md.
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench_charts
//! ```
//!
//! Both install into a Namespace of their own, with the same values, under release names of their own
//! (`rk-…`, `hm-…`; ingress-nginx also gets an IngressClass name per tool, so the two installs do not
//! collide on cluster-scoped objects); both wait for every object to be
//! ready and run the chart's hooks. rekube's time is the whole process (load, render, apply, wait,
//! inventory); Helm's the whole `helm install --wait`. Uses `$REKUBE_HELM`, else builds the pinned Helm.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

type Error = Box<dyn std::error::Error + Send + Sync>;

const CHARTS: [&str; 2] = ["podinfo", "ingress-nginx"];

#[tokio::main]
async fn main() -> Result<(), Error> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rekube = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("rekube"))
        .filter(|p| p.is_file())
        .ok_or("build the rekube binary first: cargo build --release")?;
    let helm = helm(manifest)?;
    let corpus = manifest.join("../shared/corpus/charts");
    eprintln!("bench_charts: starting the local control plane");
    let cp = ControlPlane::start(ControlPlaneOptions::default()).await?;
    let kubeconfig = cp.kubeconfig().to_path_buf();
    let work = tempfile::tempdir()?;
    let mut rows = Vec::new();
    for chart in CHARTS {
        let source = corpus.join(chart);
        let ns = format!("rk-{chart}");
        let repo = work.path().join(format!("repo-{chart}"));
        std::fs::create_dir_all(repo.join("cluster"))?;
        std::fs::write(
            repo.join("cluster/namespace.yaml"),
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
        )?;
        copy_tree(&source, &repo.join("apps").join(chart))?;
        std::fs::write(repo.join("apps/values.yaml"), values(chart, "rk"))?;
        std::fs::write(
            repo.join("rekube.yaml"),
            format!(
                "layers:\n  - name: cluster\n  - name: apps\n    dependsOn: [cluster]\n    charts:\n      - release: rk-{chart}\n        chart: apps/{chart}\n        namespace: {ns}\n        valuesFiles: [apps/values.yaml]\n"
            ),
        )?;
        let cache = work.path().join(format!("cache-{chart}"));
        let started = Instant::now();
        let out = Command::new(&rekube)
            .arg("rebuild")
            .arg(&repo)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--inventory", chart])
            .env("REKUBE_HELM", &helm)
            .env("REKUBE_CACHE_DIR", &cache)
            .stdin(Stdio::null())
            .output()?;
        let rekube_time = started.elapsed();
        let log = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("rekube rebuild of {chart} failed:\n{log}").into());
        }
        let summary = log
            .lines()
            .rev()
            .find(|l| l.contains(" created"))
            .unwrap_or_default()
            .to_string();

        let helm_values = work.path().join(format!("helm-values-{chart}.yaml"));
        std::fs::write(&helm_values, values(chart, "hm"))?;
        let started = Instant::now();
        let out = Command::new(&helm)
            .args(["install", &format!("hm-{chart}")])
            .arg(&source)
            .args([
                "--namespace",
                &format!("hm-{chart}"),
                "--create-namespace",
                "--wait",
                "--timeout",
                "5m",
            ])
            .arg("--values")
            .arg(&helm_values)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .env("HELM_CACHE_HOME", work.path().join("helm-cache"))
            .env("HELM_CONFIG_HOME", work.path().join("helm-config"))
            .env("HELM_DATA_HOME", work.path().join("helm-data"))
            .stdin(Stdio::null())
            .output()?;
        let helm_time = started.elapsed();
        if !out.status.success() {
            return Err(format!(
                "helm install --wait of {chart} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        rows.push((chart, summary, rekube_time, helm_time));
    }
    println!("| chart | rekube rebuild | helm install --wait | helm / rekube | what rekube did |");
    println!("|---|---:|---:|---:|---|");
    for (chart, summary, r, h) in &rows {
        println!(
            "| {chart} | {} | {} | {:.1}x | {summary} |",
            secs(*r),
            secs(*h),
            h.as_secs_f64() / r.as_secs_f64()
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("\nload average at the end: {}", load.trim());
    drop(cp);
    Ok(())
}

/// Values both tools install with: ingress-nginx's IngressClass gets a name of each tool's own (the
/// release names differ too, `rk-…` and `hm-…`, so cluster-scoped objects named after them do not collide).
fn values(chart: &str, tool: &str) -> String {
    match chart {
        "ingress-nginx" => {
            format!("controller:\n  ingressClassResource:\n    name: nginx-{tool}\n")
        }
        _ => "{}\n".to_string(),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// `$REKUBE_HELM`, else the pinned Helm built by tests/helm/build.sh.
fn helm(manifest: &Path) -> Result<PathBuf, Error> {
    if let Some(h) = std::env::var_os("REKUBE_HELM").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    let out = Command::new("bash")
        .arg(manifest.join("tests/helm/build.sh"))
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err("tests/helm/build.sh failed".into());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(PathBuf::from(
        stdout.lines().last().unwrap_or_default().trim(),
    ))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
