//! Errors of the cluster stage: each names the object first, then the verb, then the server's words.

use std::time::Duration;

/// An error talking to the API server.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load kubeconfig from {what}")]
    Kubeconfig {
        what: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("no kubeconfig found (set --kubeconfig or KUBECONFIG) and not running in a cluster")]
    Infer {
        #[source]
        source: kube::config::InferConfigError,
    },
    #[error("cannot reach the API server at {server}")]
    Connect {
        server: String,
        #[source]
        source: kube::Error,
    },
    /// The kind is not served by the cluster (yet): its CRD is missing or not established.
    #[error("{object}: the cluster does not serve {api_version} {kind}")]
    UnknownKind {
        object: String,
        api_version: String,
        kind: String,
    },
    #[error("{object} {verb} failed: {}", describe(source))]
    Request {
        object: String,
        verb: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error("{object}: not ready after {}s: {status}", timeout.as_secs())]
    Timeout {
        object: String,
        timeout: Duration,
        /// The last status seen, e.g. "InProgress: 1 of 3 replicas available".
        status: String,
    },
    #[error("{object} failed: {message}")]
    Failed { object: String, message: String },
}

impl ClusterError {
    /// The API status code behind a request error, if the server answered.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            ClusterError::Request {
                source: kube::Error::Api(s),
                ..
            } => Some(s.code),
            _ => None,
        }
    }

    /// The server's message for a request error (`field is immutable`…), if it answered.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            ClusterError::Request {
                source: kube::Error::Api(s),
                ..
            } => Some(s.message.as_str()),
            _ => None,
        }
    }
}

/// The server's own message when it answered, else the transport error; kube's `Debug` dump is noise.
pub fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => {
            if s.reason.is_empty() {
                format!("{} ({})", s.message, s.code)
            } else {
                format!("{} ({} {})", s.message, s.code, s.reason)
            }
        }
        kube::Error::Api(s) => format!("HTTP {} {}", s.code, s.reason),
        other => other.to_string(),
    }
}
