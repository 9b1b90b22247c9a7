//! Commands that write a repository: init, lock, export.

use clap::Args;
use std::path::PathBuf;

use super::ClusterArgs;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository folder to write rekube.yaml into.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Replace an existing rekube.yaml.
    #[arg(long)]
    pub force: bool,
}

/// `rekube lock`.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Repository folder holding rekube.yaml; rekube.lock is written beside it.
    #[arg(default_value = ".")]
    pub repository: PathBuf,
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
