//! The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok,
//! started on loopback ports for `--fresh local` and for the integration tests.
//!
//! It is a real Kubernetes API server (not a mock), with the controllers that make Deployments
//! Available: the scheduler binds pods to fake Nodes and kwok, the simulated kubelet, marks them
//! running and ready. [`ControlPlane::start`]:
//!
//! 1. finds the binaries ([`Assets`]): `$KUBEBUILDER_ASSETS`, else the cache folder, built from
//!    upstream Go modules by the embedded `tests/control-plane/build.sh` when missing;
//! 2. generates a fresh PKI and service-account key, and an admin kubeconfig;
//! 3. starts etcd (on tmpfs, without fsync) and kube-apiserver and waits for `/readyz`;
//! 4. starts the controller manager, the scheduler and kwok, creates fake Nodes, and waits for the
//!    `default` ServiceAccount and for every Node to be Ready;
//! 5. enters the simulated mode ([`simulation`]): marks the cluster as simulated, creates the default
//!    StorageClass and starts the simulated provisioner and snapshot controller. Admission webhooks are
//!    never called (the apiserver runs without the webhook admission plugins).
//!
//! Every component logs to a file in the control plane's folder. A component that exits during
//! the start fails it with the tail of its log. Stopping (or dropping) kills the processes and
//! removes the folder, unless the logs are kept: on request, after a failed start, when dropped
//! while panicking, or with `REKUBE_KEEP_LOGS=1`. The processes never outlive rekube (see
//! `process`).
//!
//! # Environment
//! - `KUBEBUILDER_ASSETS`: a folder with prebuilt binaries (at least etcd and kube-apiserver; without
//!   the controller manager, scheduler or kwok, Deployments never become Available).
//! - `REKUBE_CACHE_DIR` (default `$XDG_CACHE_HOME/rekube`, else `~/.cache/rekube`): where builds go.
//! - `REKUBE_KEEP_LOGS=1`: keep the folder with the logs, kubeconfig and certificates.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rekube::controlplane::ControlPlaneError> {
//! use rekube::controlplane::{ControlPlane, ControlPlaneOptions};
//! let cp = ControlPlane::start(ControlPlaneOptions::default()).await?;
//! let client = cp.client()?;
//! println!("kubectl --kubeconfig {}", cp.kubeconfig().display());
//! # drop(client);
//! cp.stop()?;
//! # Ok(()) }
//! ```

mod assets;
pub(crate) mod build_script;
mod components;
mod error;
mod etcd;
mod faults;
pub mod kubeconfig;
pub mod local;
mod nodes;
mod pki;
mod process;
mod provision;
pub mod simulation;
mod start;
mod storage;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use assets::{ASSETS_ENV, Assets, locate};
pub use error::ControlPlaneError;
pub use faults::Fault;
pub use nodes::NODE_LABEL;

use components::Layout;
use process::{Cleanup, Component};

/// Environment variable that keeps the control plane's folder (logs, kubeconfig, certificates).
pub const KEEP_LOGS_ENV: &str = "REKUBE_KEEP_LOGS";

/// Prefix of control plane folders in the temp folder, followed by the owning process id.
const CONTROL_PLANE_DIR_PREFIX: &str = "rekube-control-plane-";
/// Prefix of etcd data folders on tmpfs, followed by the owning process id.
const ETCD_DIR_PREFIX: &str = "rekube-etcd-";

/// How to start a [`ControlPlane`].
#[derive(Debug, Clone)]
pub struct ControlPlaneOptions {
    /// Folder with the binaries; `None` uses `$KUBEBUILDER_ASSETS`, else the cache (built if needed).
    pub assets: Option<PathBuf>,
    /// Number of fake kwok Nodes.
    pub nodes: usize,
    /// Keep the folder with logs, kubeconfig and certificates when stopped.
    pub keep_logs: bool,
    /// Limit on start-to-ready, once the binaries exist (building them is not counted); also bounds
    /// [`ControlPlane::restart`].
    pub start_timeout: Duration,
    /// The apiserver's port on 127.0.0.1; `None` picks a free one.
    pub apiserver_port: Option<u16>,
    /// Extra kube-apiserver flags (`--name=value`), e.g. `--max-requests-inflight=10` for a throttling
    /// test; one that rekube sets too replaces rekube's (list flags would add up otherwise):
    /// `--disable-admission-plugins=` calls admission webhooks again.
    pub apiserver_args: Vec<String>,
}

impl Default for ControlPlaneOptions {
    fn default() -> Self {
        Self {
            assets: None,
            nodes: 3,
            keep_logs: false,
            // Ready in well under 15 s on an idle machine; a CI box busy compiling can be much slower.
            start_timeout: Duration::from_secs(120),
            apiserver_port: None,
            apiserver_args: Vec::new(),
        }
    }
}

/// A running local control plane. Stopped when dropped.
pub struct ControlPlane {
    dir: PathBuf,
    layout: Layout,
    server_url: String,
    assets: Assets,
    config: Option<kube::Config>,
    components: Vec<Component>,
    cleanup: Cleanup,
    keep_logs: bool,
    start_timeout: Duration,
    ready_in: Duration,
    /// The simulated provisioner and snapshot controller (see `simulation`).
    storage: Option<storage::StorageController>,
}

impl ControlPlane {
    /// A new client for this control plane, bound to the calling tokio runtime (a client's
    /// connections live in the runtime that created it, so each runtime needs its own).
    ///
    /// # Errors
    /// [`ControlPlaneError::Api`] if the client cannot be built (outside a tokio runtime).
    pub fn client(&self) -> Result<kube::Client, ControlPlaneError> {
        let config = self.config.clone().ok_or_else(|| ControlPlaneError::Io {
            what: "the control plane has no client configuration:".to_owned(),
            path: self.layout.kubeconfig.clone(),
            source: std::io::Error::other("not started"),
        })?;
        kube::Client::try_from(config).map_err(|source| ControlPlaneError::Api {
            what: format!("creating a client for {}", self.server_url),
            source,
        })
    }

    /// The admin kubeconfig (client certificate in `system:masters`), usable with kubectl.
    pub fn kubeconfig(&self) -> &Path {
        &self.layout.kubeconfig
    }

    /// The apiserver's URL, `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// etcd's client URL, `http://127.0.0.1:<port>` (tests read it to count what was stored).
    pub fn etcd_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.layout.etcd_client_port)
    }

    /// The folder with `logs/`, `pki/` and `kubeconfig`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The binaries in use.
    pub fn assets(&self) -> &Assets {
        &self.assets
    }

    /// How long the start took, from the first process to ready (not counting a build).
    pub fn ready_in(&self) -> Duration {
        self.ready_in
    }

    /// The names of the running components.
    pub fn components(&self) -> Vec<&'static str> {
        self.components.iter().map(|c| c.name).collect()
    }

    /// The resident memory of the components, in KiB.
    pub fn resident_memory_kib(&self) -> u64 {
        self.components
            .iter()
            .filter_map(Component::resident_kib)
            .sum()
    }

    /// Keeps the folder with logs, kubeconfig and certificates when the control plane stops, even
    /// if that is only at process exit (a control plane in a static is never dropped).
    pub fn keep_logs(&self) {
        self.cleanup.keep_logs();
    }

    /// Stops every process and removes the folder (unless the logs are kept).
    ///
    /// # Errors
    /// [`ControlPlaneError::Io`] if the folder cannot be removed.
    pub fn stop(mut self) -> Result<(), ControlPlaneError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ControlPlaneError> {
        // The controller first: it would only retry against a dying apiserver.
        if let Some(mut storage) = self.storage.take() {
            storage.stop();
        }
        // Reverse start order: clients before the apiserver, the apiserver before etcd.
        for component in self.components.iter_mut().rev() {
            component.kill(&self.cleanup);
        }
        let keep = self.keep_logs || std::thread::panicking() || process::keep_requested();
        match self.cleanup.finish(keep) {
            Ok(Some(kept)) => {
                tracing::warn!("control plane logs kept in {}", kept.display());
                // Also on stderr: tests and CI show it even without a tracing subscriber.
                eprintln!(
                    "rekube: control plane logs kept in {}",
                    kept.join("logs").display()
                );
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(source) => Err(ControlPlaneError::io("removing", &self.dir, source)),
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            tracing::warn!("stopping the local control plane: {err}");
        }
    }
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("server_url", &self.server_url)
            .field("dir", &self.dir)
            .field("assets", &self.assets)
            .field("components", &self.components())
            .finish_non_exhaustive()
    }
}
