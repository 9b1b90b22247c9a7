//! The chart scenarios: `rekube rebuild` of a repository holding one corpus chart (podinfo,
//! ingress-nginx from `../shared/corpus/charts`) against `helm install --wait` of the same chart with the
//! same values, on the benchmark's control plane.
//!
//! Both install into a Namespace of their own under release names of their own (`rk-…`, `hm-…`, with the
//! run number; ingress-nginx also gets an IngressClass per tool and run, so installs do not collide on
//! cluster-scoped objects); both run the chart's hooks and wait for every object to be ready. rekube's
//! time is the whole process (load, `helm template` through the pinned Helm, inventory, apply, hooks,
//! waits); Helm's the whole `helm install --wait`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::report::{self, Sample};
use crate::{Bench, Error};

pub const CHARTS: [&str; 2] = ["podinfo", "ingress-nginx"];
const REKUBE: &str = "rekube";
const HELM: &str = "helm";

/// One chart install by one tool.
#[derive(Debug, Clone)]
pub struct ChartSample {
    pub chart: &'static str,
    pub tool: &'static str,
    pub sample: Sample,
    /// rekube's summary line (what it created).
    pub summary: String,
}

impl Bench {
    /// Every chart, `runs` times, rekube then Helm. A failure is recorded and the benchmark goes on.
    pub(crate) async fn charts(&mut self, runs: usize) {
        let Some(helm) = self.helm.clone() else {
            return;
        };
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/charts");
        for run in 1..=runs {
            for chart in CHARTS {
                eprintln!("bench: chart {chart}, run {run}/{runs}");
                if let Err(e) = self.chart(&helm, &corpus.join(chart), chart, run).await {
                    self.fail(format!("chart {chart}, run {run}: {e}"));
                }
            }
        }
    }

    async fn chart(
        &mut self,
        helm: &Path,
        source: &Path,
        chart: &'static str,
        run: usize,
    ) -> Result<(), Error> {
        let root = self.work.join(format!("chart-{chart}-{run}"));
        let (rk, hm) = (format!("rk-{chart}-{run}"), format!("hm-{chart}-{run}"));
        let repo = repository(&root, source, chart, &rk, &values(chart, &rk))?;
        let cache = self.work.join("cache");
        let envs: [(&str, &Path); 2] = [("REKUBE_HELM", helm), ("REKUBE_CACHE_DIR", &cache)];
        let mut args = vec!["rebuild".to_string(), repo.display().to_string()];
        args.extend(self.kubeconfig_arg());
        args.extend(["--inventory".to_string(), rk.clone()]);
        self.quiet().await;
        let exit = self
            .exec_env(&self.rekube, &args, &format!("{rk}-rebuild"), &envs)
            .await?;
        if exit.code != 0 {
            return Err(format!(
                "rekube rebuild exited {}; log {}:\n{}",
                exit.code,
                exit.log.display(),
                exit.tail()
            )
            .into());
        }
        let log = std::fs::read_to_string(&exit.log).unwrap_or_default();
        let summary = log
            .lines()
            .rev()
            .find(|l| l.contains(" created"))
            .unwrap_or_default()
            .trim()
            .to_string();
        self.results.charts.push(ChartSample {
            chart,
            tool: REKUBE,
            sample: sample(&exit),
            summary,
        });

        let helm_values = root.join("helm-values.yaml");
        std::fs::write(&helm_values, values(chart, &hm))?;
        let mut args: Vec<String> =
            vec!["install".into(), hm.clone(), source.display().to_string()];
        for a in ["--namespace", &hm, "--create-namespace", "--wait"] {
            args.push(a.to_string());
        }
        args.extend(["--timeout".into(), "5m".into(), "--values".into()]);
        args.push(helm_values.display().to_string());
        args.extend(self.kubeconfig_arg());
        let homes: Vec<(&str, PathBuf)> = ["HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"]
            .iter()
            .map(|k| (*k, self.work.join("helm").join(k.to_lowercase())))
            .collect();
        let envs: Vec<(&str, &Path)> = homes.iter().map(|(k, v)| (*k, v.as_path())).collect();
        self.quiet().await;
        let exit = self
            .exec_env(helm, &args, &format!("{hm}-install"), &envs)
            .await?;
        if exit.code != 0 {
            return Err(format!(
                "helm install --wait exited {}; log {}:\n{}",
                exit.code,
                exit.log.display(),
                exit.tail()
            )
            .into());
        }
        self.results.charts.push(ChartSample {
            chart,
            tool: HELM,
            sample: sample(&exit),
            summary: String::new(),
        });
        eprintln!(
            "bench:   {chart}: rekube {:.2}s, helm {:.2}s",
            self.results.charts[self.results.charts.len() - 2]
                .sample
                .secs,
            exit.elapsed.as_secs_f64()
        );
        Ok(())
    }
}

fn sample(exit: &crate::procs::Exit) -> Sample {
    Sample {
        secs: exit.elapsed.as_secs_f64(),
        rss_kib: Some(exit.max_rss_kib),
        cpu: Some(exit.cpu.as_secs_f64()),
        ..Sample::default()
    }
}

/// A rekube repository: the Namespace in `cluster/`, the chart and its values in `apps/`.
fn repository(
    root: &Path,
    source: &Path,
    chart: &str,
    release: &str,
    values: &str,
) -> Result<PathBuf, Error> {
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join("cluster"))?;
    std::fs::write(
        repo.join("cluster/namespace.yaml"),
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {release}\n"),
    )?;
    copy_tree(source, &repo.join("apps").join(chart))?;
    std::fs::write(repo.join("apps/values.yaml"), values)?;
    std::fs::write(
        repo.join("rekube.yaml"),
        format!(
            "layers:\n  - name: cluster\n  - name: apps\n    dependsOn: [cluster]\n    charts:\n      - release: {release}\n        chart: apps/{chart}\n        namespace: {release}\n        valuesFiles: [apps/values.yaml]\n"
        ),
    )?;
    Ok(repo)
}

/// Values both tools install with: ingress-nginx's IngressClass is named after the release (release
/// names differ per tool and run, so cluster-scoped objects named after them do not collide).
fn values(chart: &str, release: &str) -> String {
    match chart {
        "ingress-nginx" => {
            format!("controller:\n  ingressClassResource:\n    name: nginx-{release}\n")
        }
        _ => "{}\n".to_string(),
    }
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

/// Median seconds, median peak MiB and the per-run seconds of one chart and tool.
fn medians(samples: &[ChartSample], chart: &str, tool: &str) -> Option<(f64, f64, Vec<f64>)> {
    let runs: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.chart == chart && s.tool == tool)
        .map(|s| &s.sample)
        .collect();
    let secs: Vec<f64> = runs.iter().map(|s| s.secs).collect();
    let mib = runs
        .iter()
        .filter_map(|s| s.rss_kib)
        .map(|k| k as f64 / 1024.0)
        .collect();
    Some((report::median(secs.clone())?, report::median(mib)?, secs))
}

/// helm / rekube per chart (median seconds), None when a chart was not measured by both.
pub fn ratios(samples: &[ChartSample]) -> Vec<(&'static str, Option<f64>)> {
    CHARTS
        .iter()
        .map(|&chart| {
            let r = medians(samples, chart, REKUBE).map(|m| m.0);
            let h = medians(samples, chart, HELM).map(|m| m.0);
            (chart, report::both(h, r).map(|(h, r)| h / r))
        })
        .collect()
}

/// The chart table: rekube rebuild against helm install --wait, side by side, with the ratio.
pub fn render(samples: &[ChartSample]) -> String {
    let mut out = String::from(
        "| chart | **rekube rebuild** (runs) | helm install --wait (runs) | helm / rekube | peak MiB rekube / helm | what rekube did |\n|---|---:|---:|---:|---:|---|\n",
    );
    for chart in CHARTS {
        let (Some(r), Some(h)) = (
            medians(samples, chart, REKUBE),
            medians(samples, chart, HELM),
        ) else {
            let _ = writeln!(out, "| {chart} | – | – | – | – | not measured |");
            continue;
        };
        let list = |v: &[f64]| {
            v.iter()
                .map(|s| format!("{s:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let summary = samples
            .iter()
            .find(|s| s.chart == chart && s.tool == REKUBE)
            .map_or("", |s| s.summary.as_str());
        let _ = writeln!(
            out,
            "| {chart} | **{:.2} s** ({}) | {:.2} s ({}) | {} | {:.0} / {:.0} | {summary} |",
            r.0,
            list(&r.2),
            h.0,
            list(&h.2),
            report::ratio(Some(h.0), Some(r.0)),
            r.1,
            h.1,
        );
    }
    out
}
