//! `rekube local`: persistent local control planes.

use clap::{Args, Subcommand};
use std::path::PathBuf;

use super::parse_duration;

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
