//! The live part of the HA posture audit: what the control plane has of its own redundancy. Observes
//! the API server endpoints and the Nodes' zones; [`crate::audit`] judges them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Endpoints, Node};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::ListParams;

use crate::audit::LiveState;
use crate::cluster::Cluster;

/// The Nodes' zone label.
const ZONE: &str = "topology.kubernetes.io/zone";

#[derive(Debug, thiserror::Error)]
pub enum LiveAuditError {
    #[error("Endpoints/default/kubernetes: cannot read the API server endpoints on {server}")]
    Endpoints {
        server: String,
        #[source]
        source: kube::Error,
    },
    #[error("cannot list the Nodes of {server}")]
    Nodes {
        server: String,
        #[source]
        source: kube::Error,
    },
}

/// Reads the ready API server addresses (the `kubernetes` Service's EndpointSlices in `default`, else
/// its Endpoints) and counts the Nodes per zone.
///
/// # Errors
/// Either list fails (unreachable, forbidden).
pub async fn observe(cluster: &Cluster) -> Result<LiveState, LiveAuditError> {
    let client = cluster.client().clone();
    let server = cluster.server().to_string();
    let endpoints_error = |source| LiveAuditError::Endpoints {
        server: server.clone(),
        source,
    };
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    let listed = slices
        .list(&ListParams::default().labels("kubernetes.io/service-name=kubernetes"))
        .await
        .map_err(endpoints_error)?;
    let mut addresses: Vec<String> = listed
        .items
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
        .flat_map(|e| e.addresses.iter().cloned())
        .collect();
    if listed.items.is_empty() {
        let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), "default");
        let legacy = endpoints
            .get_opt("kubernetes")
            .await
            .map_err(endpoints_error)?;
        addresses = legacy
            .iter()
            .flat_map(|e| e.subsets.iter().flatten())
            .flat_map(|s| s.addresses.iter().flatten())
            .map(|a| a.ip.clone())
            .collect();
    }
    addresses.sort();
    addresses.dedup();
    let nodes: Api<Node> = Api::all(client);
    let listed =
        nodes
            .list(&ListParams::default())
            .await
            .map_err(|source| LiveAuditError::Nodes {
                server: server.clone(),
                source,
            })?;
    let mut nodes_by_zone = BTreeMap::new();
    for n in &listed.items {
        let zone = n
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(ZONE))
            .cloned()
            .unwrap_or_default();
        *nodes_by_zone.entry(zone).or_insert(0) += 1;
    }
    Ok(LiveState {
        server,
        apiserver_endpoints: addresses.len(),
        nodes_by_zone,
    })
}
