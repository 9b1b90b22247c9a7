//! The target cluster of a command: connecting with kubeconfig conventions or starting a fresh local
//! control plane, then preparing the repository for it (charts rendered for its version, scopes its
//! discovery tells).

use std::io::IsTerminal;

use crate::cli::{ClusterArgs, Fresh, SourceArgs};
use crate::cluster::{Cluster, ClusterOptions};
use crate::controlplane::{ControlPlane, ControlPlaneOptions};
use crate::helm::template::Lookup;
use crate::manifest::clusters::{ClusterChoice, Role};
use crate::manifest::{ForCluster, HelmOptions, Manifest};

use super::CommandError;
use super::common::{
    self, decrypting, dependencies, invalid, load_with, print_warnings, scope_lookup,
};

/// A connected cluster, and the fresh control plane behind it when `--fresh local` started one.
pub struct Target {
    pub cluster: Cluster,
    pub fresh: Option<ControlPlane>,
    /// rekube's simulated local control plane (`--fresh local` or `rekube local up`).
    pub simulated: bool,
}

/// Said once when the target cluster is simulated.
pub const SIMULATED_NOTE: &str = "simulated cluster (rekube's local control plane): pods and volumes are simulated, admission webhooks are not called, aggregated APIs are judged by their Service's ready endpoints";

impl Target {
    /// Prepares a simulated target for the repository (the VolumeSnapshot CRDs when it uses snapshots),
    /// printing what was done; nothing on a real cluster.
    ///
    /// # Errors
    /// What the simulation had to install could not be installed.
    pub async fn prepare(
        &self,
        manifest: &Manifest,
        timeout: std::time::Duration,
    ) -> Result<(), CommandError> {
        if self.simulated {
            for note in crate::ops::simulation::prepare(&self.cluster, manifest, timeout).await? {
                eprintln!("simulated cluster: {note}");
            }
        }
        Ok(())
    }
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
        None => {
            let cluster = Cluster::connect(&opts).await?;
            let simulated = crate::ops::simulation::is_simulated(&cluster).await;
            if simulated {
                eprintln!("{SIMULATED_NOTE}");
            }
            Ok(Target {
                cluster,
                fresh: None,
                simulated,
            })
        }
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
            eprintln!("{SIMULATED_NOTE}");
            Ok(Target {
                cluster,
                fresh: Some(cp),
                simulated: true,
            })
        }
    }
}

/// How charts render for the target: its Kubernetes version (unless `--kube-version`) and API versions,
/// its kubeconfig for `--helm-lookup`.
///
/// # Errors
/// The cluster's version cannot be read.
async fn helm_for(
    args: &SourceArgs,
    cluster: &ClusterArgs,
    target: &Target,
) -> Result<HelmOptions, CommandError> {
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
    Ok(HelmOptions {
        kube_version: Some(args.kube_version.clone().unwrap_or(version)),
        api_versions,
        lookup: args.helm_lookup.then(|| Lookup {
            kubeconfig,
            context: cluster.context.clone(),
        }),
        ..HelmOptions::default()
    })
}

/// Places the objects whose scope only the cluster's discovery can tell (see
/// [`load_for_cluster`](super::common::load_for_cluster)).
/// Returns true when there were any: the dependency graph must then be built again.
///
/// # Errors
/// [`Invalid`](super::common::Invalid), after printing each object of a kind the cluster does not
/// serve either.
pub async fn resolve_scopes(
    target: &Target,
    manifest: &mut Manifest,
) -> Result<bool, CommandError> {
    if manifest.unresolved.is_empty() {
        return Ok(false);
    }
    let kinds = manifest.unresolved_kinds();
    let scopes = crate::cluster::discover_scopes(&target.cluster, &kinds).await;
    match manifest.resolve_scopes(&scopes) {
        Ok(warnings) => {
            print_warnings(&warnings);
            Ok(true)
        }
        Err(diags) => Err(invalid(&diags)),
    }
}

/// A repository ready for a cluster command: the cluster connected, the repository loaded for it (charts
/// rendered for it, scopes its discovery tells) and its inventory named ([`prepare`]).
pub struct Prepared {
    pub manifest: Manifest,
    /// Empty unless asked for (`ordered`).
    pub dag: crate::apply::Dag,
    pub inventory: String,
    /// The repository, recorded as the inventory's owner.
    pub owner: crate::source::Identity,
    pub target: Target,
}

/// The start every cluster command shares: connect, load the repository for the cluster (charts rendered
/// for it, scopes its discovery tells), name the inventory (`--inventory`, else rekube.yaml's, else the
/// repository's); `ordered` builds the DAG (apply, rebuild), which diff and drift do not need. Invalid
/// input is reported first whatever the cluster: when it cannot be reached, and before a `--fresh`
/// control plane is built (charts then render twice: offline, then for it).
///
/// # Errors
/// As [`common::load_for_cluster`], [`connect`] and [`resolve_scopes`].
pub async fn prepare(
    source: &SourceArgs,
    cluster: &ClusterArgs,
    inventory: Option<&str>,
    ordered: bool,
) -> Result<Prepared, CommandError> {
    let offline = if cluster.fresh.is_some() {
        Some(common::load_for_cluster(source, cluster)?)
    } else {
        None
    };
    let target = match connect(cluster).await {
        Ok(target) => target,
        Err(e) => {
            if offline.is_none() {
                common::load_for_cluster(source, cluster)?;
            }
            return Err(e);
        }
    };
    let mut manifest = match offline {
        Some(m) if m.releases.is_empty() => m,
        loaded => {
            // Rendered once, for this cluster: `lookup` reads it only then.
            let helm = helm_for(source, cluster, &target).await?;
            let sops = decrypting(&source.trust)?;
            load_with(source, scope_lookup(cluster), sops, helm, loaded.is_none())?
        }
    };
    let (inventory, owner) = common::inventory(inventory, &manifest, source);
    let promoted = promoted_source(source, &manifest, &inventory, &target).await?;
    let source = match &promoted {
        Some(promoted) => {
            let helm = helm_for(promoted, cluster, &target).await?;
            let sops = decrypting(&promoted.trust)?;
            manifest = load_with(promoted, scope_lookup(cluster), sops, helm, false)?;
            promoted
        }
        None => source,
    };
    resolve_scopes(&target, &mut manifest).await?;
    let dag = if ordered {
        dependencies(&manifest, source.strict)?
    } else {
        crate::apply::Dag::default()
    };
    Ok(Prepared {
        manifest,
        dag,
        inventory,
        owner,
        target,
    })
}

/// A standby that `rekube promote` promoted (its inventory's parent records it) is loaded promoted: the
/// source for that, said on stderr; `None` for any other cluster.
///
/// # Errors
/// The inventory's parent cannot be read, or is not rekube's.
async fn promoted_source(
    source: &SourceArgs,
    manifest: &Manifest,
    inventory: &str,
    target: &Target,
) -> Result<Option<SourceArgs>, CommandError> {
    let Some(ForCluster {
        spec,
        promoted: false,
    }) = &manifest.cluster
    else {
        return Ok(None);
    };
    if spec.role == Role::Primary || target.fresh.is_some() {
        return Ok(None);
    }
    let set = crate::inventory::ApplySet::new(inventory)?;
    let Some(at) = crate::inventory::promoted(&target.cluster, &set).await? else {
        return Ok(None);
    };
    eprintln!(
        "cluster {}: promoted at {at} (rekube promote): applied as a primary, the whole repository and nothing held",
        spec.name
    );
    let mut promoted = source.clone();
    promoted.cluster = Some(ClusterChoice {
        name: spec.name.clone(),
        promoted: true,
    });
    Ok(Some(promoted))
}
