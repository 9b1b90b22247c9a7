//! Commands that write: apply, rebuild, promote, drill.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::{ClusterArgs, ClusterSelect, Fresh, SourceArgs, parse_duration, parse_percent};

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
    pub select: ClusterSelect,
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
    pub select: ClusterSelect,
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

    /// Failover drill: one fresh local control plane per cluster of rekube.yaml's `clusters:`; the
    /// primary rebuilt cold (its recovery time measured), each standby built by its model, the primary
    /// destroyed, a standby promoted and checked for zero drift. Reports the failover recovery time
    /// next to the cold-rebuild one; --rto-budget then applies to the failover.
    #[arg(long)]
    pub failover: bool,

    /// The standby a failover drill promotes [default: the first standby of `clusters:`].
    #[arg(long, value_name = "NAME", requires = "failover")]
    pub promote: Option<String>,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// The standby of rekube.yaml's `clusters:` to promote (reached by its kubeconfig and context).
    #[arg(long = "cluster", value_name = "NAME")]
    pub cluster: String,

    /// Take the promotion back (failback): remove the record from the cluster's inventory, so that the
    /// next `apply --cluster NAME` applies it as a standby again (workloads held at zero, or only the
    /// pilot light's layers, the rest pruned within --max-prune). Applies nothing itself.
    #[arg(long)]
    pub undo: bool,

    /// How long each object may take to be written and to become ready (e.g. 5m, 90s).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,

    /// Inventory (ApplySet) name, as given to apply [default: `inventory:` in rekube.yaml, else derived
    /// from the repository].
    #[arg(long, env = "REKUBE_INVENTORY")]
    pub inventory: Option<String>,

    /// Maximum number of concurrent API requests.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,

    /// Output format of the report: text on stderr, or JSON on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t = DrillOutput::Text)]
    pub output: DrillOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DrillOutput {
    Text,
    Json,
}
