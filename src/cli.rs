//! Command-line arguments. Parsing only: every command turns its arguments into options and calls the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// rekube rebuilds and keeps Kubernetes clusters from Git.
///
/// rekube.yaml at the repository root may declare `layers:`, `health:` (readiness of custom resources
/// as CEL expressions, in the shape of Flux's healthCheckExprs) and `ignore:` (fields other controllers
/// own, by JSON pointer or field manager, in the shape of Argo CD's ignoreDifferences). See the README.
///
/// Exit codes: 0 success / in sync, 1 differences or drift, 2 error (invalid input, failed apply).
#[derive(Debug, Parser)]
#[command(name = "rekube", version, propagate_version = true)]
pub struct Cli {
    /// Log filter (tracing syntax), e.g. `rekube=debug`. Also read from REKUBE_LOG.
    #[arg(long, global = true, env = "REKUBE_LOG", default_value = "warn")]
    pub log: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load, validate and order the repository offline; print layers, waves, reasons and the plan digest.
    Plan(PlanArgs),
    /// Compare the repository with the cluster through server-side dry-run.
    ///
    /// Fields other controllers own (`ignore:` in rekube.yaml, the annotation rekube.dev/ignore-fields,
    /// the replicas of an object a HorizontalPodAutoscaler in the repository scales) are not compared.
    Diff(DiffArgs),
    /// Apply the repository along the dependency DAG, waiting for readiness, then prune.
    ///
    /// Readiness is kstatus's, or the CEL rule of the kind: `health:` in rekube.yaml, else built-in
    /// rules for cert-manager, Argo Rollouts, Flux, Prometheus Operator and Crossplane. Why an object is
    /// not ready yet is printed while it is awaited. Ignored fields never cause a write and a write keeps
    /// their live values.
    Apply(ApplyArgs),
    /// Apply into an empty cluster with preflight, progress, per-layer timings and the recovery time.
    Rebuild(RebuildArgs),
    /// Report drift between the cluster and the repository (modified, missing, orphaned, unmanaged).
    ///
    /// Changes to ignored fields (`ignore:` in rekube.yaml, rekube.dev/ignore-fields, an autoscaler's
    /// replicas) are not drift.
    Drift(DriftArgs),
    /// Show where an object is declared, what it depends on, and its status.
    ///
    /// Also names the rule that judges its readiness (a health rule with its rekube.yaml line, a
    /// built-in kind rule, or the generic conditions) with the last evaluation of each CEL expression,
    /// and the fields ignored in it and why.
    Explain(ExplainArgs),
    /// DR rehearsal: rebuild into a fresh cluster, prove zero drift, report the recovery time, tear down.
    Drill(DrillArgs),
    /// Follow a branch in-cluster: apply new commits, heal or report drift, with leader election and /metrics.
    ///
    /// A heal never fights another controller: ignored fields (an autoscaler's replicas included) are
    /// not drift, and a heal writes them back as they are live.
    Reconcile(ReconcileArgs),
    /// Pin every remote Helm chart of rekube.yaml by digest in rekube.lock (pulls each once).
    Lock(LockArgs),
    /// Write what a live cluster declares as a repository that `rekube rebuild` restores.
    ///
    /// Secrets are left out unless --include-secrets, and then written SOPS-encrypted for age
    /// recipients; plain text only with --allow-plain-secrets.
    Export(ExportArgs),
    /// Write a rekube.yaml from the folders found (layers, namespaces, charts, overlays) for you to edit.
    Init(InitArgs),
    /// Persistent local clusters to try rekube on: `local up [NAME]`, `local down NAME`, `local list`.
    Local(LocalArgs),
    /// HA posture audit, offline: what keeps each workload up through a node or zone loss and lets it be
    /// rebuilt identically.
    ///
    /// Rules: single-replica, no-disruption-budget, budget-blocks-eviction, no-spread,
    /// no-readiness-probe, no-resource-requests, image-not-pinned, no-snapshot-class; with --live also
    /// apiserver-endpoints and nodes-one-zone. Each finding names the rule, the object and its file:line.
    /// An object suppresses a rule with a reason: annotation `rekube.dev/audit-ignore: RULE=reason[,
    /// RULE=reason]` (no reason, or an unknown rule, is an error). Exit 0 clean, 1 findings, 2 bad input.
    Audit(AuditArgs),
}

/// `rekube lock`.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Repository folder holding rekube.yaml; rekube.lock is written beside it.
    #[arg(default_value = ".")]
    pub repository: PathBuf,
}

#[derive(Debug, Args)]
pub struct LocalArgs {
    #[command(subcommand)]
    pub command: LocalCommand,
}

#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// Start a local control plane that keeps running, and add the context rekube-NAME to the kubeconfig.
    ///
    /// The same simulated control plane as `drill --fresh local` (etcd, kube-apiserver, controller
    /// manager, scheduler, kwok Nodes; pods and volumes simulated, admission webhooks not called).
    /// The context goes into the first file of KUBECONFIG, else ~/.kube/config; the current context
    /// is not changed.
    Up(LocalUpArgs),
    /// Stop a local control plane and remove its context from the kubeconfig.
    Down(LocalDownArgs),
    /// List the local control planes.
    List,
    /// Run a local control plane in the foreground (what `local up` starts, detached).
    #[command(hide = true)]
    Serve(LocalServeArgs),
}

#[derive(Debug, Args)]
pub struct LocalUpArgs {
    /// Name of the cluster (a DNS label); the kubeconfig context is rekube-NAME.
    #[arg(default_value = "default")]
    pub name: String,

    /// Number of simulated (kwok) Nodes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub nodes: u16,

    /// The apiserver's port on 127.0.0.1 (default: a free port).
    #[arg(long)]
    pub port: Option<u16>,

    /// How long the control plane may take to become ready, once its binaries are built.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct LocalDownArgs {
    /// Name of the cluster.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct LocalServeArgs {
    pub name: String,
    #[arg(long, default_value_t = 3)]
    pub nodes: u16,
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub start_timeout: std::time::Duration,
    /// Folder of the control plane binaries.
    #[arg(long)]
    pub assets: Option<PathBuf>,
}

/// Where the repository comes from.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Repository: a local folder or a Git URL (https, ssh, file://).
    pub repository: String,

    /// Branch, tag or commit to read (Git sources; for a local work tree, read that commit instead of the disk).
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,

    /// Treat references to objects absent from the repository, and top-level folders that the default
    /// layers (cluster/, tools/, apps/ without rekube.yaml) leave out, as errors, not warnings.
    #[arg(long)]
    pub strict: bool,

    /// Kubernetes version Helm charts are rendered for (.Capabilities.KubeVersion). Default: the
    /// target cluster's version for cluster commands, 1.34.4 (the local control plane's) offline.
    #[arg(long, value_name = "VERSION", value_parser = parse_kube_version)]
    pub kube_version: Option<String>,

    /// Let Helm's `lookup` read the target cluster while rendering charts (by default it finds nothing,
    /// so that what Git renders does not depend on what the cluster holds).
    #[arg(long)]
    pub helm_lookup: bool,
    /// Namespace of namespaced objects that have none and whose layer declares none (kubectl's rule: an
    /// object's own namespace wins, then its layer's `namespace:`, then this). Not created: it must be in
    /// the repository or exist in the cluster.
    #[arg(long, short = 'n', value_name = "NAMESPACE", value_parser = parse_namespace)]
    pub namespace: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,
}

/// Secrets and signatures: SOPS keys and `--verify-commit`.
#[derive(Debug, Clone, Default, Args)]
pub struct TrustArgs {
    /// age key file for SOPS-encrypted objects (repeatable). SOPS_AGE_KEY_FILE, SOPS_AGE_KEY and sops's
    /// default key file (~/.config/sops/age/keys.txt) are read too. `plan` never decrypts.
    #[arg(long = "age-key-file", value_name = "FILE")]
    pub age_key_files: Vec<PathBuf>,

    /// Refuse a commit not signed by a trusted key (--verify-keys): head (the commit read), tag (the
    /// annotated tag --ref names), tag-and-head (both). The signer is printed with the commit.
    #[arg(long, value_enum, value_name = "MODE")]
    pub verify_commit: Option<VerifyCommit>,

    /// Trusted public keys (repeatable): SSH allowed-signers or authorized_keys files, or ASCII-armoured
    /// OpenPGP public keys.
    #[arg(long = "verify-keys", value_name = "FILE")]
    pub verify_keys: Vec<PathBuf>,
}

/// `--verify-commit` modes, as Flux's `spec.verify.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyCommit {
    /// The commit that is read must be signed.
    Head,
    /// The annotated tag named by --ref must be signed.
    Tag,
    /// Both the tag and the commit it points to must be signed.
    TagAndHead,
}

/// How to reach the cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,

    /// Start a fresh throwaway cluster instead of using the kubeconfig.
    #[arg(long, value_enum)]
    pub fresh: Option<Fresh>,

    /// Maximum number of concurrent API requests.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
}

/// The kind of fresh cluster. Only one today: a kind cluster needs a container runtime, which rekube
/// cannot test, so it is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Fresh {
    /// A local control plane built from upstream Go modules (etcd, kube-apiserver, controllers, kwok),
    /// in simulated mode: pods and volumes are simulated, admission webhooks are not called.
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportOutput {
    Text,
    Json,
    Junit,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Also audit the live control plane of the cluster (--kubeconfig/--context): fewer than three API
    /// server endpoints, Nodes all in one zone.
    #[arg(long)]
    pub live: bool,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportOutput::Text)]
    pub output: ReportOutput,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = PlanOutput::Text)]
    pub output: PlanOutput,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Show Secret values instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,

    /// Inventory (ApplySet) name: its part-of label is expected on every object [default: `inventory:`
    /// in rekube.yaml, else derived from the repository's remote URL and folder, or the folder's name].
    #[arg(long, env = "REKUBE_INVENTORY")]
    pub inventory: Option<String>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportOutput::Text)]
    pub output: ReportOutput,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyOpts {
    /// Delete and re-create objects whose change touches an immutable field.
    #[arg(long)]
    pub recreate: bool,

    /// How long each object may take to be written and to become ready (e.g. 5m, 90s; at most a
    /// year). A frozen API server fails the objects within it instead of hanging the run.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,

    /// Do not prune objects that are no longer in the repository.
    #[arg(long)]
    pub no_prune: bool,

    /// Allow pruning Namespaces, PVCs, PVs and CRDs.
    #[arg(long)]
    pub prune_protected: bool,

    /// Refuse to prune more than this share of the inventory (e.g. 25%, 100%).
    #[arg(long, default_value = "25%", value_parser = parse_percent)]
    pub max_prune: u8,

    /// Inventory (ApplySet) name: one per repository applied to a cluster [default: `inventory:` in
    /// rekube.yaml, else derived from the repository's remote URL and folder, or the folder's name].
    #[arg(long, env = "REKUBE_INVENTORY")]
    pub inventory: Option<String>,

    /// Take the inventory over from the repository that owns it (its objects that this repository does
    /// not hold are then pruned, within --max-prune), and objects of this repository that another
    /// inventory holds (that one then no longer prunes them).
    #[arg(long)]
    pub take_over_inventory: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub apply: ApplyOpts,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub apply: ApplyOpts,

    /// Rebuild into a cluster that already holds objects of the repository.
    #[arg(long)]
    pub adopt: bool,

    /// Continue an interrupted rebuild from its journal.
    #[arg(long)]
    pub resume: bool,

    /// Fail (exit 1) when the recovery time exceeds this budget (e.g. 10m).
    #[arg(long, value_parser = parse_duration)]
    pub rto_budget: Option<std::time::Duration>,

    /// Write the DR report to this file: .html (one self-contained page: verdict, timeline, critical
    /// path), .json, or .xml (JUnit).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Inventory (ApplySet) name: one per repository applied to a cluster [default: `inventory:` in
    /// rekube.yaml, else derived from the repository's remote URL and folder, or the folder's name].
    #[arg(long, env = "REKUBE_INVENTORY")]
    pub inventory: Option<String>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportOutput::Text)]
    pub output: ReportOutput,

    /// Drift classes that fail the check (exit 1; 2 for unverifiable); the others are only reported.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "modified,missing,orphaned,unmanaged,unverifiable"
    )]
    pub fail_on: Vec<DriftClass>,
}

/// A class of drift, for `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftClass {
    /// The live object differs from what applying Git would make of it.
    Modified,
    /// In Git, not in the cluster.
    Missing,
    /// In the inventory, no longer in Git.
    Orphaned,
    /// In a namespace rekube manages, neither in Git nor owned by another object.
    Unmanaged,
    /// The server-side dry-run failed: it cannot be verified.
    Unverifiable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DrillOutput {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// The throwaway cluster to rebuild into.
    #[arg(long, value_enum, default_value_t = Fresh::Local)]
    pub fresh: Fresh,

    /// Fail when the recovery time exceeds this budget (e.g. 10m).
    #[arg(long, value_parser = parse_duration)]
    pub rto_budget: Option<std::time::Duration>,

    /// How long each object may take to be written and to become ready (e.g. 5m, 90s; at most a
    /// year). A frozen API server fails the objects within it instead of hanging the run.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,

    /// Maximum number of concurrent API requests.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,

    /// Output format of the report (stdout).
    #[arg(long, short = 'o', value_enum, default_value_t = DrillOutput::Text)]
    pub output: DrillOutput,

    /// Also write the DR report to this file: .html (one self-contained page: verdict, timeline,
    /// critical path, simulated objects, drift check), .json, or .xml (JUnit).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The object: KIND/NAMESPACE/NAME or KIND/NAME (kind case-insensitive, optionally `kind.group`).
    pub object: String,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Do not contact the cluster for the object's live status.
    #[arg(long)]
    pub offline: bool,
}

/// What `rekube reconcile` does about drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReconcileMode {
    /// Apply new commits and re-apply drifted objects within seconds.
    Enforce,
    /// Report only (log, metrics, Events): nothing managed is written.
    Observe,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Repository to follow: a Git URL (https, ssh, file://) or a local Git repository.
    #[arg(long = "repo", value_name = "URL")]
    pub repository: String,

    /// Branch to follow (or a tag or commit); default: the remote's default branch.
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,

    /// Reject commits that refer to objects absent from the repository, or whose top-level folders the
    /// default layers leave out.
    #[arg(long)]
    pub strict: bool,

    /// Namespace of namespaced objects that have none and whose layer declares none (as for every command).
    #[arg(long, short = 'n', value_name = "NAMESPACE", value_parser = parse_namespace)]
    pub namespace: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,

    /// Secret NAMESPACE/NAME whose `*.agekey` entries hold age keys for SOPS (Flux's convention); read
    /// again for every new commit.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub decryption_secret: Option<String>,

    /// Secret NAMESPACE/NAME whose entries are trusted public keys for --verify-commit (SSH
    /// allowed-signers / authorized_keys, or armoured OpenPGP keys); read again for every new commit.
    #[arg(long, value_name = "NAMESPACE/NAME", requires = "verify_commit")]
    pub verify_secret: Option<String>,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub apply: ApplyOpts,

    /// How often the branch is fetched (e.g. 30s, 1m).
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub interval: std::time::Duration,

    /// Deadline of a Git fetch; a remote that does not answer fails the pass. A leader without progress
    /// for 3 × --interval + --git-timeout fails /healthz and gives up its Lease.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub git_timeout: std::time::Duration,

    /// How often every managed object is checked even without watch events (default: 10 × interval).
    #[arg(long, value_parser = parse_duration)]
    pub resync: Option<std::time::Duration>,

    /// enforce: heal drift; observe: only report it.
    #[arg(long, value_enum, default_value_t = ReconcileMode::Enforce)]
    pub mode: ReconcileMode,

    /// Address of /metrics, /healthz and /readyz (port 0 picks a free port, printed at start).
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: std::net::SocketAddr,

    /// Lease used for leader election (default: rekube-<inventory>).
    #[arg(long)]
    pub lease_name: Option<String>,

    /// Namespace of the Lease.
    #[arg(long, default_value = "rekube-system")]
    pub lease_namespace: String,

    /// How long a leader that stopped renewing keeps the Lease (whole seconds, at least 2s).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: std::time::Duration,

    /// Holder identity in the Lease (default: POD_NAME, else <hostname>-<pid>).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,

    /// Folder of the Git cache (default: REKUBE_CACHE_DIR, XDG_CACHE_HOME/rekube or ~/.cache/rekube).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// `1.34.4`, `v1.34.4` or `1.34`: a Kubernetes version as Helm's `--kube-version` takes it.
pub fn parse_kube_version(s: &str) -> Result<String, String> {
    let v = s.trim().trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && (2..=3).contains(&parts.len()) {
        Ok(v.to_string())
    } else {
        Err(format!(
            "invalid Kubernetes version {s:?}: expected MAJOR.MINOR.PATCH, e.g. 1.34.4"
        ))
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository folder to write rekube.yaml into.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Replace an existing rekube.yaml.
    #[arg(long)]
    pub force: bool,
}

/// A namespace name: a DNS-1123 label.
pub fn parse_namespace(s: &str) -> Result<String, String> {
    crate::manifest::names::dns1123_label(s)
        .map(|()| s.to_string())
        .map_err(|e| format!("invalid namespace {s:?}: {e}"))
}

/// The longest duration a flag accepts: a year. Anything longer is a typo, and the arithmetic done with
/// durations (deadlines, `10 × --interval`) must never overflow.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// Parses `90s`, `5m`, `1h`, `1h30m` or a bare number of seconds, up to [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let too_long = || format!("invalid duration {s:?}: too long (at most 8760h, a year)");
    let max = MAX_DURATION.as_secs();
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mult = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => {
                return Err(format!(
                    "invalid duration {s:?}: unit {c:?} (use s, m or h, e.g. 90s, 5m)"
                ));
            }
        };
        if num.is_empty() {
            return Err(format!(
                "invalid duration {s:?}: a number must come before {c:?}"
            ));
        }
        total = add(total, &num, mult)
            .filter(|t| *t <= max)
            .ok_or_else(too_long)?;
        num.clear();
    }
    if !num.is_empty() {
        // A bare number of seconds; digits after a unit (`5m3`) are not a duration.
        if total > 0 {
            return Err(format!("invalid duration {s:?} (use e.g. 90s, 5m, 1h30m)"));
        }
        total = add(0, &num, 1).filter(|t| *t <= max).ok_or_else(too_long)?;
    }
    if total == 0 {
        return Err(format!("invalid duration {s:?} (use e.g. 90s, 5m, 1h30m)"));
    }
    Ok(std::time::Duration::from_secs(total))
}

/// `total + digits × mult`, or `None` when it does not fit in a u64 (the caller says "too long").
fn add(total: u64, digits: &str, mult: u64) -> Option<u64> {
    let n: u64 = digits.parse().ok()?;
    total.checked_add(n.checked_mul(mult)?)
}

/// Parses `25%` or `25` into a percentage from 0 to 100.
pub fn parse_percent(s: &str) -> Result<u8, String> {
    let n = s.trim().trim_end_matches('%');
    match n.parse::<u8>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(format!("invalid percentage {s:?} (use 0% to 100%)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5m3").is_err());
        assert!(parse_duration("0").is_err());
        assert_eq!(parse_duration("8760h").unwrap(), MAX_DURATION);
    }

    #[test]
    fn absurd_durations_are_refused_not_overflowed() {
        for s in [
            "18446744073709551615",
            "99999999999999999999999s",
            "5124095576030431h",
            "8761h",
            "525601m",
            "8760h1s",
        ] {
            let err = parse_duration(s).unwrap_err();
            assert!(err.contains("too long"), "{s}: {err}");
        }
    }

    #[test]
    fn percents() {
        assert_eq!(parse_percent("25%").unwrap(), 25);
        assert_eq!(parse_percent("100").unwrap(), 100);
        assert!(parse_percent("101%").is_err());
        assert!(parse_percent("-1").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// `rekube export`: the live cluster as a repository.
///
/// Only what people declared is kept: fields owned by non-controller field managers, without status,
/// server defaults or cluster-assigned values. Objects owned by another object, written by
/// controllers, token Secrets, Helm release records and (without --include-secrets) Secrets are left
/// out, and the output says why. Layers: cluster-scoped objects in cluster/; namespaces that serve a
/// webhook or an aggregated API, or whose ServiceAccounts a ClusterRoleBinding grants to, in tools/;
/// the other namespaces in apps/ (override with --layer NAMESPACE=LAYER).
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Write a new repository into this folder (absent or empty).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "add_to",
        conflicts_with = "add_to"
    )]
    pub out: Option<PathBuf>,

    /// Add what this repository neither declares nor manages to it, as a new layer.
    #[arg(long, value_name = "REPO")]
    pub add_to: Option<PathBuf>,

    /// Name (and folder) of the layer `--add-to` writes.
    #[arg(long, default_value = "imported", requires = "add_to")]
    pub layer_name: String,

    /// Only objects of these namespaces (repeatable); cluster-scoped objects other than their
    /// Namespaces are then left out.
    #[arg(long = "namespace", short = 'n', value_name = "NAMESPACE")]
    pub namespaces: Vec<String>,

    /// Only objects with these labels (a label selector, as kubectl's -l).
    #[arg(long, short = 'l')]
    pub selector: Option<String>,

    /// Only these kinds, comma-separated (`deployments,configmap,certificate.cert-manager.io`).
    #[arg(long, value_delimiter = ',')]
    pub kinds: Vec<String>,

    /// Put a namespace's objects in a given layer (`cluster`, `tools` or `apps`), repeatable.
    #[arg(long = "layer", value_name = "NAMESPACE=LAYER")]
    pub layers: Vec<String>,

    /// Also export Secrets, SOPS-encrypted for the age recipients of --age-recipient,
    /// SOPS_AGE_RECIPIENTS or (with --add-to) the repository's .sops.yaml; only `data` and
    /// `stringData` are encrypted. Refused without a recipient unless --allow-plain-secrets is given.
    #[arg(long)]
    pub include_secrets: bool,

    /// age recipient (age1…) to encrypt exported Secrets for, as sops's --age (repeatable,
    /// comma-separated lists too). Default: SOPS_AGE_RECIPIENTS, then a .sops.yaml creation rule of
    /// the --add-to repository.
    #[arg(
        long = "age-recipient",
        value_name = "RECIPIENT",
        requires = "include_secrets"
    )]
    pub age_recipients: Vec<String>,

    /// With --include-secrets and no age recipient: write Secrets in plain text. Their values are then
    /// readable in the files: never commit them.
    #[arg(long, requires = "include_secrets")]
    pub allow_plain_secrets: bool,
}
