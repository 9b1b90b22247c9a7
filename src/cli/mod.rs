//! Command-line arguments. Parsing only: every command turns its arguments into options and calls the library.
//!
//! One module per group of commands (`source` holds the flags most of them share, `parse` the value
//! parsers); everything is re-exported here.

use clap::{Parser, Subcommand};

mod apply;
mod inspect;
mod local;
mod parse;
mod reconcile;
mod repo;
mod source;

pub use apply::{ApplyArgs, ApplyOpts, DrillArgs, DrillOutput, PromoteArgs, RebuildArgs};
pub use inspect::{
    AuditArgs, DiffArgs, DriftArgs, DriftClass, ExplainArgs, PlanArgs, PlanOutput, ReportOutput,
};
pub use local::{LocalArgs, LocalCommand, LocalDownArgs, LocalServeArgs, LocalUpArgs};
pub use parse::{MAX_DURATION, parse_duration, parse_kube_version, parse_namespace, parse_percent};
pub use reconcile::{ReconcileArgs, ReconcileMode};
pub use repo::{ExportArgs, InitArgs, LockArgs};
pub use source::{ClusterArgs, ClusterSelect, Fresh, SourceArgs, TrustArgs, VerifyCommit};

/// rekube rebuilds and keeps Kubernetes clusters from Git.
///
/// rekube.yaml at the repository root may declare `layers:`, `health:` (readiness of custom resources
/// as CEL expressions, in the shape of Flux's healthCheckExprs), `ignore:` (fields other controllers
/// own, by JSON pointer or field manager, in the shape of Argo CD's ignoreDifferences) and `clusters:`
/// (the clusters it serves, their roles and standby models, for --cluster / --all-clusters). See the
/// README.
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
    ///
    /// Active/active: with several clusters (--all-clusters, or --cluster more than once), those of one
    /// role are also compared with each other, object by object: where the object's state differs
    /// (in sync, modified, missing…) among the clusters Git declares it for, or its live content does
    /// (a field changed by hand in one cluster, even one Git does not set), leaving out status, server
    /// metadata, ignored fields, what each cluster allocates (cluster IPs, node ports, volumes,
    /// caBundles) and what Git sets differently per cluster. Text: a table object × cluster after the
    /// reports; JSON: `comparison` next to `clusters`; JUnit: a suite `clusters of role ROLE`. Exit 1
    /// when clusters differ.
    Drift(DriftArgs),
    /// Show where an object is declared, what it depends on, and its status.
    ///
    /// Also names the rule that judges its readiness (a health rule with its rekube.yaml line, a
    /// built-in kind rule, or the generic conditions) with the last evaluation of each CEL expression,
    /// and the fields ignored in it and why.
    Explain(ExplainArgs),
    /// DR rehearsal: rebuild into a fresh cluster, prove zero drift, report the recovery time, tear down.
    ///
    /// With --failover: one fresh control plane per cluster of rekube.yaml, the primary rebuilt cold,
    /// the standbys built by their models, the primary destroyed, a standby promoted; the failover
    /// recovery time next to the cold-rebuild one.
    Drill(DrillArgs),
    /// Make a standby cluster of rekube.yaml serve: apply the whole repository to it, nothing held.
    ///
    /// A warm standby's workloads get Git's replicas; a pilot light gets the layers it lacked; in
    /// dependency order, waiting for readiness, with the recovery time reported (stderr, or -o json).
    /// Nothing is pruned or re-created. The promotion is recorded on the cluster's inventory
    /// (annotation rekube.dev/promoted): later apply, diff, drift and rebuild --cluster NAME treat the
    /// cluster as a primary, until `promote --undo`. A primary or an unknown cluster is exit 2.
    Promote(PromoteArgs),
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
    /// apiserver-endpoints and nodes-one-zone (--cluster NAME / --all-clusters: the repository shaped for
    /// each cluster of rekube.yaml, and its live control plane). Each finding names the rule, the object and its file:line.
    /// An object suppresses a rule with a reason: annotation `rekube.dev/audit-ignore: RULE=reason[,
    /// RULE=reason]` (no reason, or an unknown rule, is an error). Exit 0 clean, 1 findings, 2 bad input.
    Audit(AuditArgs),
}
