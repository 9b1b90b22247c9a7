//! `rekube reconcile`: following a branch in-cluster.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::{ApplyOpts, ClusterArgs, TrustArgs, parse_duration, parse_namespace};

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
