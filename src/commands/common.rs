//! What several commands share: loading the repository (printing the revision) and connecting to the
//! cluster (or starting a fresh one).

use std::io::IsTerminal;

use crate::cli::{ClusterArgs, Fresh, SourceArgs};
use crate::cluster::{Cluster, ClusterOptions};
use crate::controlplane::{ControlPlane, ControlPlaneOptions};
use crate::graph::{Graph, GraphOptions};
use crate::helm::template::Lookup;
use crate::manifest::{self, HelmOptions, LoadOptions, Manifest};
use crate::report::Progress;
use crate::source::{Source, SourceOptions};

use super::CommandError;

/// A repository that failed validation: the diagnostics are already printed, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{count} validation error(s): nothing was applied")]
pub struct Invalid {
    pub count: usize,
}

/// Reads and validates the repository, printing the revision used and any warnings to stderr.
///
/// # Errors
/// The source cannot be read ([`crate::source::SourceError`]) or the repository is invalid ([`Invalid`],
/// after printing every diagnostic).
pub fn load(args: &SourceArgs) -> Result<Manifest, CommandError> {
    load_with(args, helm_options(args), true)
}

/// How charts render offline: `--kube-version`, `--helm-lookup` (with the default kubeconfig).
pub fn helm_options(args: &SourceArgs) -> HelmOptions {
    HelmOptions {
        kube_version: args.kube_version.clone(),
        lookup: args.helm_lookup.then(Lookup::default),
        ..HelmOptions::default()
    }
}

/// [`load`] with chart rendering options; `report` prints the revision and the warnings.
///
/// # Errors
/// See [`load`].
pub fn load_with(
    args: &SourceArgs,
    helm: HelmOptions,
    report: bool,
) -> Result<Manifest, CommandError> {
    let source = Source::new(&args.repository, args.reference.as_deref());
    let snapshot = source.snapshot(&SourceOptions::default())?;
    if report {
        eprintln!(
            "repository {} at {}",
            snapshot.revision.origin, snapshot.revision
        );
    }
    let options = LoadOptions {
        helm,
        ..LoadOptions::default()
    };
    match manifest::load(&snapshot, &options) {
        Ok(m) => {
            for w in m.warnings.iter().filter(|_| report) {
                eprintln!("warning: {w}");
            }
            Ok(m)
        }
        Err(diags) => {
            for w in &diags.warnings {
                eprintln!("warning: {w}");
            }
            for e in &diags.errors {
                eprintln!("error: {e}");
            }
            Err(Box::new(Invalid {
                count: diags.errors.len(),
            }))
        }
    }
}

/// A connected cluster, and the fresh control plane behind it when `--fresh local` started one.
pub struct Target {
    pub cluster: Cluster,
    pub fresh: Option<ControlPlane>,
}

impl Target {
    /// With `--fresh local` on a terminal, keeps the control plane up until Ctrl-C so people can look at
    /// it; elsewhere (CI, scripts) it is torn down at once.
    pub async fn finish(self) {
        if let Some(cp) = self.fresh {
            if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
                eprintln!(
                    "the local control plane keeps running: kubectl --kubeconfig {} get all -A\npress Ctrl-C to stop it",
                    cp.kubeconfig().display()
                );
                let _ = tokio::signal::ctrl_c().await;
            }
            drop(cp);
        }
    }
}

/// Connects with kubeconfig conventions, or starts a fresh local control plane.
///
/// # Errors
/// The cluster cannot be reached, or the fresh control plane cannot be built or started.
pub async fn connect(args: &ClusterArgs) -> Result<Target, CommandError> {
    let opts = ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        concurrency: usize::from(args.concurrency),
        ..ClusterOptions::default()
    };
    match args.fresh {
        None => Ok(Target {
            cluster: Cluster::connect(&opts).await?,
            fresh: None,
        }),
        Some(Fresh::Local) => {
            eprintln!("starting a fresh local control plane…");
            let cp = ControlPlane::start(ControlPlaneOptions::default()).await?;
            eprintln!(
                "fresh local control plane ready in {:.1}s at {} (kubeconfig {})",
                cp.ready_in().as_secs_f64(),
                cp.server_url(),
                cp.kubeconfig().display()
            );
            let client = cp.client()?;
            let cluster = Cluster::from_client(client, cp.server_url().to_string(), &opts).await?;
            Ok(Target {
                cluster,
                fresh: Some(cp),
            })
        }
        Some(Fresh::Kind) => Err(
            "--fresh kind needs `kind` on PATH and a container runtime; neither is supported on this build yet, use --fresh local"
                .into(),
        ),
    }
}

/// With Helm charts, renders them again for the target: its Kubernetes version and API versions
/// (unless `--kube-version`), and its kubeconfig for `--helm-lookup`; returns the manifest and its DAG.
/// Without charts, or when nothing differs from the offline rendering, returns them as they are.
///
/// # Errors
/// The cluster's version cannot be read, or the charts do not render for it.
pub async fn for_cluster(
    manifest: Manifest,
    dag: crate::apply::Dag,
    args: &SourceArgs,
    cluster: &ClusterArgs,
    target: &Target,
) -> Result<(Manifest, crate::apply::Dag), CommandError> {
    if manifest.releases.is_empty() {
        return Ok((manifest, dag));
    }
    let (version, api_versions) = target
        .cluster
        .resources()
        .capabilities()
        .await
        .map_err(|e| format!("cannot read the cluster's version for Helm: {e}"))?;
    let kubeconfig = match &target.fresh {
        Some(cp) => Some(cp.kubeconfig().to_path_buf()),
        None => cluster.kubeconfig.clone(),
    };
    let helm = HelmOptions {
        kube_version: Some(args.kube_version.clone().unwrap_or(version)),
        api_versions,
        lookup: args.helm_lookup.then(|| Lookup {
            kubeconfig,
            context: cluster.context.clone(),
        }),
        ..HelmOptions::default()
    };
    let manifest = load_with(args, helm, false)?;
    let graph = crate::graph::of_manifest(&manifest, &GraphOptions::default())?;
    Ok((manifest, crate::apply::Dag::from_graph(&graph)))
}

/// Builds the dependency graph and its scheduling view, printing external references (errors with
/// `--strict`).
///
/// # Errors
/// A cycle or an invalid ordering annotation; external references with `strict`.
pub fn dependencies(manifest: &Manifest, strict: bool) -> Result<crate::apply::Dag, CommandError> {
    let graph = crate::graph::of_manifest(manifest, &GraphOptions::default())?;
    report_externals(&graph, strict)?;
    Ok(crate::apply::Dag::from_graph(&graph))
}

/// Prints references to objects absent from the repository: warnings, or errors with `--strict`.
///
/// # Errors
/// [`Invalid`] when `strict` and there is any external reference.
pub fn report_externals(graph: &Graph, strict: bool) -> Result<(), CommandError> {
    let level = if strict { "error" } else { "warning" };
    let lines = crate::graph::external_summary(graph);
    for line in &lines {
        eprintln!("{level}: {line}");
    }
    if strict && !lines.is_empty() {
        return Err(Box::new(Invalid { count: lines.len() }));
    }
    Ok(())
}

/// Progress of an apply on stderr: redrawn in place on a terminal, a line per object otherwise.
pub fn progress(manifest: &Manifest) -> Progress<'_> {
    let layers: Vec<String> = manifest.layers.iter().map(|l| l.name.clone()).collect();
    let stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    Progress::new(&manifest.objects, &layers, terminal, stderr)
}
