//! Where the repository and the cluster come from, shared by most commands.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::{parse_kube_version, parse_namespace};

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

    /// The cluster of rekube.yaml the repository is shaped for (set per run by `--cluster`).
    #[arg(skip)]
    pub cluster: Option<crate::manifest::clusters::ClusterChoice>,
}

/// Which clusters of rekube.yaml's `clusters:` a command runs for.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterSelect {
    /// A cluster of rekube.yaml's `clusters:` (repeatable): reached by its kubeconfig and context, the
    /// repository shaped for it (its folders, values files, namespace, standby model). Output is grouped
    /// per cluster; the exit code is the worst of them.
    #[arg(long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,

    /// Every cluster of rekube.yaml's `clusters:`, in declaration order (as --cluster for each).
    #[arg(long, conflicts_with = "clusters")]
    pub all_clusters: bool,
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
