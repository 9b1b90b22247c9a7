//! Each tool's scenarios on a fresh workload: the floor, rekube, kubectl and kpt (Flux in flux.rs).

use std::time::Duration;

use crate::procs::Steps;
use crate::report::{
    COLD, DIFF, DRIFT, FLOOR, FLOOR_WAIT, KPT, KUBECTL, KUBECTL_C8, KUBECTL_WAIT, NOOP, REKUBE,
    REKUBE_C8, Sample,
};
use crate::workload::{self, Workload};
use crate::{Bench, Error, FLOOR_IN_FLIGHT, QUIET_CORES, WAIT_TIMEOUT, cluster, load};

/// The tools, each with its own scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Floor,
    Rekube,
    Kubectl,
    Kpt,
    Flux,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Floor => "floor",
            Tool::Rekube => "rekube",
            Tool::Kubectl => "kubectl",
            Tool::Kpt => "kpt",
            Tool::Flux => "flux",
        }
    }
}

impl Bench {
    /// One tool's scenarios on a fresh workload, then deleting it (unless it is the very last one: the
    /// control plane goes away anyway). A failure is recorded and the benchmark goes on.
    pub(crate) async fn tool(&mut self, n: usize, run: usize, tool: Tool, last: bool) {
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
            Tool::Flux => self.flux(&mut w).await,
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

    /// Before a measured step: wait until other processes leave the CPUs alone (not in smoke runs).
    pub(crate) async fn quiet(&self) {
        if !self.smoke {
            load::wait_quiet(QUIET_CORES, self.quiet_patience).await;
        }
    }

    pub(crate) fn fail(&mut self, message: String) {
        eprintln!("bench: FAILED {message}");
        self.results.failures.push(message);
    }

    async fn floor(&mut self, w: &Workload) -> Result<(), Error> {
        let n = w.repo.objects.len();
        let before = self.requests(w).await?;
        self.quiet().await;
        let mark = load::Mark::now();
        let secs = cluster::floor(&self.client, &mut self.resolver, w, FLOOR_IN_FLIGHT).await?;
        let foreign = mark.foreign_cores(Duration::ZERO);
        let requests = self.requests(w).await?.since(&before).summary();
        let wait = cluster::wait_available(&self.client, w, WAIT_TIMEOUT).await?;
        let mut s = Sample {
            secs: secs.as_secs_f64(),
            requests: Some(requests),
            foreign: Some(foreign),
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
        self.quiet().await;
        let mark = load::Mark::now();
        let mut total = Steps::default();
        for (i, step) in steps.iter().enumerate() {
            let exit = self
                .checked(&kubectl, step, &format!("{}-cold-{i}", w.prefix), &[0])
                .await?;
            total.add(&exit);
        }
        let foreign = mark.foreign_cores(total.cpu);
        let requests = self.requests(w).await?.since(&before).summary();
        let mut s = Sample {
            secs: total.elapsed.as_secs_f64(),
            rss_kib: Some(total.max_rss_kib),
            requests: Some(requests),
            rv_changed: None,
            foreign: Some(foreign),
            cpu: Some(total.cpu.as_secs_f64()),
            writes: None,
        };
        self.results.add(n, COLD, KUBECTL, s.clone());
        let wait = args(&[
            "wait",
            "--for=condition=Available",
            "--timeout=15m",
            "deployment",
            "-A",
            "-l",
            &format!("{}={}", workload::RUN_LABEL, w.prefix),
        ]);
        let exit = self
            .checked(&kubectl, &wait, &format!("{}-wait", w.prefix), &[0])
            .await?;
        s.secs += exit.elapsed.as_secs_f64();
        s.rss_kib = s.rss_kib.max(Some(exit.max_rss_kib));
        s.foreign = Some(mark.foreign_cores(total.cpu + exit.cpu));
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

    /// kpt's inventory kind (ResourceGroup); kpt is not measured when this fails.
    pub(crate) async fn install_kpt_inventory(&mut self) {
        let Some(kpt) = self.kpt.clone() else {
            return;
        };
        let kc = self.kubeconfig_arg();
        let args = ["live", "install-resource-group", &kc[0], &kc[1]];
        match self.exec(&kpt, &args, "kpt-install-rg").await {
            Ok(exit) if exit.code == 0 => {}
            Ok(exit) => {
                self.fail(format!(
                    "kpt live install-resource-group: exit {}:\n{}",
                    exit.code,
                    exit.tail()
                ));
                self.kpt = None;
            }
            Err(e) => {
                self.fail(format!("kpt live install-resource-group: {e}"));
                self.kpt = None;
            }
        }
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
}
