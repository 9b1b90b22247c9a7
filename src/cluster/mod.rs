//! Cluster: the I/O edge towards the API server — connection, discovery, server-side apply (real and
//! dry-run), reads, deletes and watch-based waits. Every request is bounded by one semaphore
//! (`--concurrency`) and retried on transient errors (429 with Retry-After, 5xx, connection resets).

use std::path::PathBuf;
use std::sync::Arc;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use tokio::sync::Semaphore;

mod discovery;
mod error;
mod informer;
mod live;
mod requests;
mod retry;
mod scope;
mod throttle;
pub mod wait;
mod watch;

pub use discovery::{Resolved, Resources};
pub use error::ClusterError;
pub use informer::Informers;
pub use live::{Live, LiveIndex};
pub use retry::{Retries, RetryPolicy};
pub use scope::discover_scopes;

/// The field manager of every write rekube makes.
pub const FIELD_MANAGER: &str = "rekube";

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Explicit kubeconfig file; `None` follows kubectl's rules (KUBECONFIG, ~/.kube/config, in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// Context in the kubeconfig; `None` is the current context.
    pub context: Option<String>,
    /// Maximum number of API requests in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            kubeconfig: None,
            context: None,
            concurrency: 32,
            retry: RetryPolicy::default(),
        }
    }
}

/// A connected cluster: a client, its discovery cache and the request budget.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    resources: Resources,
    permits: Arc<Semaphore>,
    retry: RetryPolicy,
    counters: Arc<retry::Counters>,
    server: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects with kubeconfig conventions and runs discovery once.
    ///
    /// # Errors
    /// The kubeconfig cannot be read or has no such context, the server is unreachable, or discovery fails.
    pub async fn connect(opts: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let mut config = load_config(opts).await?;
        // rekube retries itself (RetryPolicy): bounded, with jitter, counted in the summary. The
        // client's own retry layer would retry 429/503/504 out of sight, for minutes.
        config.default_retry = false;
        let server = config.cluster_url.to_string();
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|source| ClusterError::Connect {
                server: server.clone(),
                source,
            })?
            .with_layer(&throttle::RetryAfterLayer)
            .build();
        Cluster::from_client(client, server, opts).await
    }

    /// Wraps an existing client (tests, the local control plane) and runs discovery.
    ///
    /// # Errors
    /// Discovery fails (the server is unreachable or refuses).
    pub async fn from_client(
        client: Client,
        server: String,
        opts: &ClusterOptions,
    ) -> Result<Cluster, ClusterError> {
        let resources =
            Resources::discover(&client)
                .await
                .map_err(|source| ClusterError::Connect {
                    server: server.clone(),
                    source,
                })?;
        Ok(Cluster {
            client,
            resources,
            permits: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            retry: opts.retry.clone(),
            counters: Arc::default(),
            server,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The API server URL, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The requests and watches tried again so far on this connection (its clones included).
    pub fn retries(&self) -> Retries {
        self.counters.snapshot()
    }
}

async fn load_config(opts: &ClusterOptions) -> Result<Config, ClusterError> {
    let kopts = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    match &opts.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|source| ClusterError::Kubeconfig {
                what: path.display().to_string(),
                source,
            })?;
            Config::from_custom_kubeconfig(kc, &kopts)
                .await
                .map_err(|source| ClusterError::Kubeconfig {
                    what: path.display().to_string(),
                    source,
                })
        }
        None if opts.context.is_some() => {
            Config::from_kubeconfig(&kopts)
                .await
                .map_err(|source| ClusterError::Kubeconfig {
                    what: "the default kubeconfig".to_string(),
                    source,
                })
        }
        None => Config::infer()
            .await
            .map_err(|source| ClusterError::Infer { source }),
    }
}
