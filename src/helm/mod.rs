//! Helm: the pinned Helm v4 that renders charts, and what rekube makes of its output.
//!
//! 1. [`Helm::locate`]: `REKUBE_HELM`, else a `helm` v4 on PATH, else the pinned Helm built from the Go
//!    module proxy into the cache by the embedded `tests/helm/build.sh` (never a downloaded binary).
//! 2. [`template`]: `helm template` of one release (chart folder or archive, values files, inline
//!    values, Kubernetes version and API versions), its output split by `# Source:` comments, cached
//!    by (chart digest, values digest, Kubernetes version, API versions).
//! 3. [`hooks`]: `helm.sh/hook`, `helm.sh/hook-weight` and `helm.sh/hook-delete-policy` read into a
//!    [`Hook`]; which hooks a run executes ([`HookEvent`]) is decided from the inventory.
//! 4. [`remote`] and [`lock`]: charts of `https://` repositories and `oci://` registries, pulled once
//!    into the cache and pinned by digest in `rekube.lock`.
//!
//! A [`Release`] is what the rest of the pipeline sees of a chart: its objects stay ordinary
//! [`Object`](crate::Object)s of the manifest, its hooks are runs, not state.

mod assets;
mod binary;
pub mod cache;
pub mod chart;
pub mod hooks;
pub mod lock;
mod release;
pub mod remote;
pub mod template;

use std::path::PathBuf;
use std::process::ExitStatus;

pub use binary::{HELM_ENV, Helm, PINNED_VERSION};
pub use hooks::{DeletePolicy, Hook, HookEvent, HookStage};
pub use release::{Release, operations, release_digest};

/// Kubernetes version charts are rendered for when no cluster is asked: the local control plane's.
pub const DEFAULT_KUBE_VERSION: &str = "1.34.4";

/// Errors of running Helm or fetching charts.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    /// No usable Helm and it cannot be built.
    #[error("Helm v4 is needed to render charts and none was found: {message}")]
    Missing { message: String },
    /// `REKUBE_HELM` (or another explicit binary) is not Helm v4.
    #[error(
        "{} is Helm {found}, rekube needs Helm v4: point {HELM_ENV} to a Helm v4 binary, or unset it to let \
         rekube build its pinned Helm {PINNED_VERSION} from the Go module proxy",
        path.display()
    )]
    WrongVersion { path: PathBuf, found: String },
    /// The build script failed.
    #[error("building Helm {PINNED_VERSION} failed ({status}):\n{tail}")]
    Build { status: ExitStatus, tail: String },
    /// A file-system or process operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A Helm command failed; `message` is its cleaned error output.
    #[error("{message}")]
    Command { message: String },
}

impl HelmError {
    pub(crate) fn io(
        what: impl Into<String>,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        HelmError::Io {
            what: what.into(),
            path: path.into(),
            source,
        }
    }
}
