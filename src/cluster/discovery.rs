//! Discovery: which kinds the cluster serves, under which resource name, and their scope.
//! Refreshed after CRDs become Established, since new kinds only appear then. Refreshes are
//! single-flight: a thousand custom resources missing their kind at once share one refresh.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kube::Client;
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Discovery, Scope};
use tokio::sync::{Mutex, RwLock};

use crate::object::split_api_version;

/// A kind resolved against discovery.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// The discovery cache, shared by every clone of a [`super::Cluster`].
#[derive(Clone)]
pub struct Resources {
    client: Client,
    discovery: Arc<RwLock<Discovery>>,
    /// Held while a refresh runs: the others wait for it instead of running their own.
    refreshing: Arc<Mutex<()>>,
    /// Refreshes started (and not failed): see [`Resources::generation`].
    generation: Arc<AtomicU64>,
    refreshes: Arc<AtomicU64>,
}

impl Resources {
    /// Runs aggregated discovery (two requests), falling back to per-group discovery on old servers.
    pub(super) async fn discover(client: &Client) -> Result<Resources, kube::Error> {
        let discovery = run(client).await?;
        Ok(Resources {
            client: client.clone(),
            discovery: Arc::new(RwLock::new(discovery)),
            refreshing: Arc::default(),
            generation: Arc::default(),
            refreshes: Arc::default(),
        })
    }

    /// Looks up `apiVersion` + `kind`.
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Option<Resolved> {
        let (group, version) = split_api_version(api_version);
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let discovery = self.discovery.read().await;
        discovery
            .resolve_gvk(&gvk)
            .map(|(resource, caps)| Resolved {
                resource,
                namespaced: caps.scope == Scope::Namespaced,
            })
    }

    /// Whether the cluster serves `group`/`kind` as a namespaced kind, at any version; `None` when it does
    /// not serve the kind.
    pub async fn namespaced(&self, group: &str, kind: &str) -> Option<bool> {
        let discovery = self.discovery.read().await;
        let (_, caps) = discovery.get(group)?.recommended_kind(kind)?;
        Some(caps.scope == Scope::Namespaced)
    }

    /// A counter of refreshes, to read *before* looking a kind up: pass it to
    /// [`super::Cluster::refresh_discovery`] when the kind is missing.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Runs discovery again (after CRDs were established, or when a kind was not found), unless a
    /// refresh is running: then its result is used.
    ///
    /// # Errors
    /// Discovery failed.
    pub async fn refresh(&self) -> Result<(), kube::Error> {
        self.refresh_since(self.generation(), || run(&self.client))
            .await
    }

    /// Runs `fetch` and keeps its result, unless a refresh started since `seen` (then the caller's view
    /// is at least that fresh). A failed refresh does not count: the next waiter runs its own.
    pub(super) async fn refresh_since<E, Fut>(
        &self,
        seen: u64,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<(), E>
    where
        Fut: Future<Output = Result<Discovery, E>>,
    {
        let _one = self.refreshing.lock().await;
        if self.generation.load(Ordering::SeqCst) != seen {
            return Ok(());
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        match fetch().await {
            Ok(fresh) => {
                *self.discovery.write().await = fresh;
                self.refreshes.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.generation.fetch_sub(1, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// How many times discovery was run again since the connection (for tests and diagnostics).
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// What Helm calls the cluster's capabilities: its Kubernetes version (`1.34.4`, from `/version`)
    /// and every served `group/version` and `group/version/Kind` (`.Capabilities.APIVersions`).
    ///
    /// # Errors
    /// `/version` cannot be read.
    pub async fn capabilities(&self) -> Result<(String, Vec<String>), kube::Error> {
        let info = self.client.apiserver_version().await?;
        let version = info.git_version.trim_start_matches('v');
        // `v1.34.4+k3s1` and `v1.34.4-gke.100`: Helm wants the semantic version.
        let version = version
            .split(['+', '-'])
            .next()
            .unwrap_or(version)
            .to_string();
        let discovery = self.discovery.read().await;
        let mut out = std::collections::BTreeSet::new();
        for group in discovery.groups() {
            for v in group.versions() {
                let gv = if group.name().is_empty() {
                    v.to_string()
                } else {
                    format!("{}/{v}", group.name())
                };
                for (resource, _) in group.versioned_resources(v) {
                    out.insert(format!("{gv}/{}", resource.kind));
                }
                out.insert(gv);
            }
        }
        Ok((version, out.into_iter().collect()))
    }

    /// Every served kind that can be listed and watched, as (apiVersion, kind) — for drift's unmanaged scan.
    pub async fn listable(&self) -> Vec<Resolved> {
        let discovery = self.discovery.read().await;
        let mut out = Vec::new();
        for group in discovery.groups() {
            for (resource, caps) in group.recommended_resources() {
                if caps.supports_operation(kube::discovery::verbs::LIST)
                    && caps.supports_operation(kube::discovery::verbs::WATCH)
                {
                    out.push(Resolved {
                        resource,
                        namespaced: caps.scope == Scope::Namespaced,
                    });
                }
            }
        }
        out
    }
}

pub(super) async fn run(client: &Client) -> Result<Discovery, kube::Error> {
    match Discovery::new(client.clone()).run_aggregated().await {
        Ok(d) => Ok(d),
        Err(e) => {
            tracing::debug!(
                "aggregated discovery failed ({e}), falling back to per-group discovery"
            );
            Discovery::new(client.clone()).run().await
        }
    }
}
