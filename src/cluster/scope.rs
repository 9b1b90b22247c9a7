//! Scopes of kinds the repository does not define, from discovery: the cluster's half of
//! [`Manifest::resolve_scopes`](crate::manifest::Manifest::resolve_scopes), run right after connecting
//! and before anything is diffed or applied.

use std::collections::BTreeSet;

use super::Cluster;
use crate::manifest::{Scope, Scopes};

/// The scopes of `kinds` (`(group, kind)`) that the cluster serves; kinds it does not serve are left out.
/// When one is missing, discovery runs again once (a CRD may have been installed since it last ran); a
/// failed refresh leaves the kinds found so far.
pub async fn discover_scopes(cluster: &Cluster, kinds: &BTreeSet<(String, String)>) -> Scopes {
    let mut scopes = Scopes::default();
    if kinds.is_empty() {
        return scopes;
    }
    let missing = lookup(cluster, kinds, &mut scopes).await;
    if !missing.is_empty() {
        match cluster.resources().refresh().await {
            Ok(()) => {
                lookup(cluster, &missing, &mut scopes).await;
            }
            Err(e) => tracing::debug!("discovery refresh failed: {e}"),
        }
    }
    scopes
}

/// Records the scope of each served kind of `kinds`; returns the others.
async fn lookup(
    cluster: &Cluster,
    kinds: &BTreeSet<(String, String)>,
    scopes: &mut Scopes,
) -> BTreeSet<(String, String)> {
    let mut missing = BTreeSet::new();
    for (group, kind) in kinds {
        match cluster.resources().namespaced(group, kind).await {
            Some(true) => scopes.insert(group, kind, Scope::Namespaced),
            Some(false) => scopes.insert(group, kind, Scope::Cluster),
            None => {
                missing.insert((group.clone(), kind.clone()));
            }
        }
    }
    missing
}
