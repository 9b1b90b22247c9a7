//! Discovery: which kinds the cluster serves, under which resource name, and their scope.
//! Refreshed after CRDs become Established, since new kinds only appear then.

use std::sync::Arc;

use kube::Client;
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Discovery, Scope};
use tokio::sync::RwLock;

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
}

impl Resources {
    /// Runs aggregated discovery (two requests), falling back to per-group discovery on old servers.
    pub(super) async fn discover(client: &Client) -> Result<Resources, kube::Error> {
        let discovery = run(client).await?;
        Ok(Resources {
            client: client.clone(),
            discovery: Arc::new(RwLock::new(discovery)),
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

    /// Runs discovery again (after CRDs were established, or when a kind was not found).
    pub async fn refresh(&self) -> Result<(), kube::Error> {
        let fresh = run(&self.client).await?;
        *self.discovery.write().await = fresh;
        Ok(())
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

async fn run(client: &Client) -> Result<Discovery, kube::Error> {
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
