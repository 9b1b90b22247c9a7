//! Commands that read: plan, diff, drift, explain, audit.

use clap::{Args, ValueEnum};

use super::{ClusterArgs, ClusterSelect, SourceArgs};

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub select: ClusterSelect,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = PlanOutput::Text)]
    pub output: PlanOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub select: ClusterSelect,

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportOutput {
    Text,
    Json,
    Junit,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub select: ClusterSelect,

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

    // --cluster NAME / --all-clusters: the repository shaped for each cluster and its live control plane.
    #[command(flatten)]
    pub select: ClusterSelect,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportOutput::Text)]
    pub output: ReportOutput,
}
