//! The control plane's error type.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use super::ASSETS_ENV;

/// Errors of the local control plane.
#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    /// A binary is missing from the assets folder.
    #[error(
        "{binary} is missing from the control plane binaries in {dir} (set {ASSETS_ENV} to a folder \
         holding at least etcd and kube-apiserver, or unset it to build them)"
    )]
    MissingBinary { binary: &'static str, dir: PathBuf },
    /// The binaries must be built and Go is missing or too old.
    #[error("cannot build the control plane binaries: {message}")]
    GoMissing { message: String },
    /// The build script failed.
    #[error("building the control plane failed ({status}):\n{tail}")]
    Build { status: ExitStatus, tail: String },
    /// A file-system or process operation failed.
    #[error("{what} {}", path.display())]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("generating the control plane's certificates")]
    Certificates(#[source] rcgen::Error),
    /// A component exited while the control plane was starting.
    #[error("{component} exited during start ({status}); last lines of {}:\n{tail}", log.display())]
    ComponentExited {
        component: &'static str,
        status: ExitStatus,
        log: PathBuf,
        tail: String,
    },
    /// The control plane did not become ready in time.
    #[error("control plane not ready after {timeout:?}: still waiting for {waiting_for}; logs in {}", logs.display())]
    Timeout {
        timeout: Duration,
        waiting_for: String,
        logs: PathBuf,
    },
    /// The generated kubeconfig could not be loaded.
    #[error("loading kubeconfig {}", path.display())]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// A request to the control plane failed.
    #[error("{what}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    /// The apiserver port asked for is taken by another process.
    #[error(
        "port {port} on 127.0.0.1 is already in use by another process: choose another port, or let \
         rekube pick a free one"
    )]
    PortTaken { port: u16 },
    /// No HOME (nor an explicit folder) to find the kubeconfig or the local clusters' state in.
    #[error(
        "HOME is not set: set KUBECONFIG and REKUBE_STATE_DIR (or XDG_STATE_HOME) to say where the \
         kubeconfig and the local clusters' state go"
    )]
    NoHome,
    /// A local cluster name that cannot be a folder and context name.
    #[error("invalid local cluster name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    /// A local cluster of that name exists.
    #[error(
        "a local cluster named {name} already exists, {detail}: use it with --context rekube-{name}, \
         stop it with `rekube local down {name}`, or choose another name"
    )]
    NameInUse { name: String, detail: String },
    /// The supervisor of a local cluster could not start it.
    #[error("local cluster {name} did not start: {message}")]
    LocalStart { name: String, message: String },
    /// No local cluster of that name.
    #[error("no local cluster named {name} (`rekube local list` shows them)")]
    LocalNotFound { name: String },
    /// Waiting on an object failed.
    #[error("waiting for {what}")]
    Wait {
        what: String,
        #[source]
        source: kube::runtime::wait::Error,
    },
}

impl ControlPlaneError {
    /// A component could not bind its port (taken between our probe and its bind).
    pub(crate) fn is_port_conflict(&self) -> bool {
        matches!(self, Self::ComponentExited { tail, .. } if tail.contains("address already in use"))
    }

    /// This error, or [`Self::PortTaken`] when the apiserver could not bind the port asked for.
    pub(crate) fn into_port_taken(self, port: Option<u16>) -> Self {
        match (&self, port) {
            (
                Self::ComponentExited {
                    component: "kube-apiserver",
                    ..
                },
                Some(port),
            ) => Self::PortTaken { port },
            _ => self,
        }
    }

    pub(crate) fn io(what: &str, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.to_owned(),
            path: path.as_ref().to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt as _;

    use super::*;

    fn exited(tail: &str) -> ControlPlaneError {
        ControlPlaneError::ComponentExited {
            component: "etcd",
            status: ExitStatus::from_raw(256),
            log: "etcd.log".into(),
            tail: tail.to_owned(),
        }
    }

    #[test]
    fn a_taken_port_is_recognised_from_the_log() {
        let taken = "listen tcp 127.0.0.1:2379: bind: address already in use";
        assert!(exited(taken).is_port_conflict());
        assert!(!exited("error reading public key file").is_port_conflict());
    }
}
