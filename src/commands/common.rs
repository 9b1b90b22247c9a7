//! What several commands share: loading the repository (printing the revision) and connecting to the
//! cluster (or starting a fresh one).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::cli::{ClusterArgs, Fresh, SourceArgs, TrustArgs, VerifyCommit};
use crate::cluster::{Cluster, ClusterOptions};
use crate::controlplane::{ControlPlane, ControlPlaneOptions};
use crate::graph::{Graph, GraphOptions};
use crate::helm::template::Lookup;
use crate::manifest::sops::{AgeKeys, KeySources, Sops};
use crate::manifest::{self, Diagnostic, HelmOptions, LoadOptions, Manifest, ScopeLookup};
use crate::report::{Evidence, Progress, ReportFormat};
use crate::source::verify::{TrustedKeys, Verify, VerifyMode};
use crate::source::{Identity, Source, SourceOptions};

use super::CommandError;

/// A repository that failed validation: the diagnostics are already printed, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{count} validation error(s): nothing was applied")]
pub struct Invalid {
    pub count: usize,
}

/// Reads and validates the repository offline, SOPS-encrypted objects decrypted, printing the revision
/// used (with its signer under `--verify-commit`) and any warnings to stderr. A kind of unknown scope
/// without a namespace is an error (see [`load_for_cluster`]).
///
/// # Errors
/// The source cannot be read or is not trusted ([`crate::source::SourceError`]), or the repository is
/// invalid ([`Invalid`], after printing every diagnostic; a file no key decrypts is one).
pub fn load(args: &SourceArgs) -> Result<Manifest, CommandError> {
    load_with(
        args,
        ScopeLookup::Offline,
        decrypting(&args.trust)?,
        helm_options(args),
        true,
    )
}

/// [`load`] without decrypting (`plan`, `explain`): encrypted objects keep their ciphertext.
///
/// # Errors
/// As [`load`].
pub fn load_sealed(args: &SourceArgs) -> Result<Manifest, CommandError> {
    load_with(
        args,
        ScopeLookup::Offline,
        Sops::Seal,
        helm_options(args),
        true,
    )
}

/// How charts render offline: `--kube-version`, `--helm-lookup` (with the default kubeconfig).
pub fn helm_options(args: &SourceArgs) -> HelmOptions {
    HelmOptions {
        kube_version: args.kube_version.clone(),
        lookup: args.helm_lookup.then(Lookup::default),
        ..HelmOptions::default()
    }
}

/// Decryption with the age keys of `--age-key-file` and sops's environment.
fn decrypting(args: &TrustArgs) -> Result<Sops, CommandError> {
    let keys = AgeKeys::discover(&KeySources::from_env(&args.age_key_files))?;
    Ok(Sops::Decrypt(Arc::new(keys)))
}

/// `--verify-commit` and its keys as source options.
///
/// # Errors
/// A key file that cannot be read.
pub fn verify_options(args: &TrustArgs) -> Result<Option<Verify>, CommandError> {
    let Some(mode) = args.verify_commit else {
        return Ok(None);
    };
    let mut keys = TrustedKeys::default();
    for file in &args.verify_keys {
        keys.add_file(file)?;
    }
    Ok(Some(Verify {
        mode: match mode {
            VerifyCommit::Head => VerifyMode::Head,
            VerifyCommit::Tag => VerifyMode::Tag,
            VerifyCommit::TagAndHead => VerifyMode::TagAndHead,
        },
        keys: Arc::new(keys),
    }))
}

/// [`load`] for cluster commands: objects of kinds of unknown scope are left for [`resolve_scopes`], right
/// after connecting; not with `--fresh`, whose new cluster serves only built-in kinds.
///
/// # Errors
/// As [`load`].
pub fn load_for_cluster(
    args: &SourceArgs,
    cluster: &ClusterArgs,
) -> Result<Manifest, CommandError> {
    // Charts render again for the target in [`for_cluster`]: `lookup` reads it only then.
    let helm = HelmOptions {
        lookup: None,
        ..helm_options(args)
    };
    load_with(
        args,
        scope_lookup(cluster),
        decrypting(&args.trust)?,
        helm,
        true,
    )
}

fn scope_lookup(cluster: &ClusterArgs) -> ScopeLookup {
    match cluster.fresh {
        Some(_) => ScopeLookup::Offline,
        None => ScopeLookup::Discovery,
    }
}

/// [`load`] with every choice explicit: where unknown scopes come from, decryption, chart rendering, and
/// whether the revision and warnings are printed (not when a cluster command renders charts again).
///
/// # Errors
/// As [`load`].
pub fn load_with(
    args: &SourceArgs,
    scope_lookup: ScopeLookup,
    sops: Sops,
    helm: HelmOptions,
    report: bool,
) -> Result<Manifest, CommandError> {
    let source = Source::new(&args.repository, args.reference.as_deref());
    let verify = verify_options(&args.trust)?;
    if verify.as_ref().is_some_and(|v| v.keys.is_empty()) {
        return Err("--verify-commit needs trusted keys: --verify-keys FILE".into());
    }
    let options = SourceOptions {
        verify,
        ..SourceOptions::default()
    };
    let snapshot = source.snapshot(&options)?;
    if report {
        eprintln!(
            "repository {} at {}",
            snapshot.revision.origin, snapshot.revision
        );
    }
    let options = LoadOptions {
        namespace: args.namespace.clone(),
        scope_lookup,
        strict: args.strict,
        sops,
        helm,
        ..LoadOptions::default()
    };
    match manifest::load(&snapshot, &options) {
        Ok(m) => {
            if report {
                print_warnings(&m.warnings);
            }
            Ok(m)
        }
        Err(diags) => Err(invalid(&diags)),
    }
}

/// Places the objects whose scope only the cluster's discovery can tell (see [`load_for_cluster`]).
/// Returns true when there were any: the dependency graph must then be built again.
///
/// # Errors
/// [`Invalid`], after printing each object of a kind the cluster does not serve either.
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

fn print_warnings(warnings: &[Diagnostic]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn invalid(diags: &manifest::Diagnostics) -> CommandError {
    print_warnings(&diags.warnings);
    for e in &diags.errors {
        eprintln!("error: {e}");
    }
    Box::new(Invalid {
        count: diags.errors.len(),
    })
}

/// The inventory's name (`--inventory`, else `rekube.yaml`, else derived from the repository) and the
/// repository's identity, its owner; printed on stderr with where the name came from.
pub fn inventory(flag: Option<&str>, manifest: &Manifest, args: &SourceArgs) -> (String, Identity) {
    let identity = Source::new(&args.repository, args.reference.as_deref()).identity();
    let (name, how) = crate::ops::prune::inventory_name(flag, manifest, &identity);
    eprintln!("inventory {name} ({how}), repository {}", identity.key);
    (name, identity)
}

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

/// Prepares the repository for the target: with Helm charts, renders them again for it (its Kubernetes
/// version and API versions unless `--kube-version`, its kubeconfig for `--helm-lookup`); then places the
/// objects whose scope only its discovery can tell ([`resolve_scopes`]). Returns the manifest and its
/// DAG, built again when either changed anything.
///
/// # Errors
/// The cluster's version cannot be read, the charts do not render for it, or a kind is served by neither
/// the repository nor the cluster.
pub async fn for_cluster(
    mut manifest: Manifest,
    mut dag: crate::apply::Dag,
    args: &SourceArgs,
    cluster: &ClusterArgs,
    target: &Target,
) -> Result<(Manifest, crate::apply::Dag), CommandError> {
    let rendered = !manifest.releases.is_empty();
    if rendered {
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
        let sops = decrypting(&args.trust)?;
        manifest = load_with(args, scope_lookup(cluster), sops, helm, false)?;
    }
    if resolve_scopes(target, &mut manifest).await? {
        dag = dependencies(&manifest, args.strict)?;
    } else if rendered {
        // Built quietly: external references were printed with the offline rendering.
        let graph = crate::graph::of_manifest(&manifest, &GraphOptions::default())?;
        dag = crate::apply::Dag::from_graph(&graph);
    }
    Ok((manifest, dag))
}

/// Builds the dependency graph and its scheduling view, printing external references (errors with
/// `--strict`). While objects wait for [`resolve_scopes`], the graph only validates (cycles, annotations):
/// external references are printed once it is built again.
///
/// # Errors
/// A cycle or an invalid ordering annotation; external references with `strict`.
pub fn dependencies(manifest: &Manifest, strict: bool) -> Result<crate::apply::Dag, CommandError> {
    let graph = crate::graph::of_manifest(manifest, &GraphOptions::default())?;
    if manifest.unresolved.is_empty() {
        report_externals(&graph, strict)?;
    }
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

/// The report format `--report FILE` asks for, checked before anything runs.
///
/// # Errors
/// An extension other than .html, .json and .xml.
pub fn report_format(path: Option<&Path>) -> Result<Option<ReportFormat>, CommandError> {
    Ok(path.map(ReportFormat::of_path).transpose()?)
}

/// Writes a DR report file (`json` is the command's JSON report) and says where.
///
/// # Errors
/// The file cannot be written.
pub fn write_report(
    path: &Path,
    format: ReportFormat,
    evidence: &Evidence,
    json: &str,
) -> Result<(), CommandError> {
    std::fs::write(path, format.render(evidence, json))
        .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// Now, for report files (RFC 3339, whole seconds).
pub fn now() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// Progress of an apply on stderr: redrawn in place on a terminal, a line per object otherwise.
pub fn progress(manifest: &Manifest) -> Progress<'_> {
    let layers: Vec<String> = manifest.layers.iter().map(|l| l.name.clone()).collect();
    let stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    Progress::new(&manifest.objects, &layers, terminal, stderr)
}
