//! The promotion of a standby cluster, recorded on its inventory's parent
//! ([`crate::keys::ANNOTATION_PROMOTED`]) so that every later command for the cluster loads it as
//! promoted.
//!
//! The annotation is written by its own field manager ([`PROMOTE_MANAGER`]): rekube's applies of the
//! parent (field manager `rekube`, server-side apply) never own it, so they never remove it.

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use super::{ApplySet, INVENTORY_NAMESPACE, Inventory, InventoryError};
use crate::cluster::Cluster;
use crate::keys::ANNOTATION_PROMOTED;

/// The field manager of the promotion record.
pub const PROMOTE_MANAGER: &str = "rekube-promote";

/// When the cluster was promoted, as its inventory's parent records; `None` when it was not (or has no
/// parent yet).
///
/// # Errors
/// The parent belongs to another tool or set, or the cluster cannot be read.
pub async fn promoted(cluster: &Cluster, set: &ApplySet) -> Result<Option<String>, InventoryError> {
    let Some(live) = cluster.get(&set.parent(), "v1").await? else {
        return Ok(None);
    };
    set.read_parent(&live)?;
    Ok(recorded_at(&live))
}

fn recorded_at(live: &Value) -> Option<String> {
    live.pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION_PROMOTED))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Records that the cluster was promoted at `at` (RFC 3339), unless it already was; returns the time
/// recorded (the earlier one when there was one).
///
/// # Errors
/// The parent does not exist (nothing was applied with this inventory) or is not rekube's, or the
/// cluster refuses the write.
pub async fn record_promotion(
    cluster: &Cluster,
    set: &ApplySet,
    at: &str,
) -> Result<String, InventoryError> {
    let inventory = Inventory::load(cluster, set.clone()).await?;
    if inventory.recorded.is_none() {
        return Err(InventoryError::NoParent {
            parent: set.parent().to_string(),
        });
    }
    if let Some(earlier) = promoted(cluster, set).await? {
        return Ok(earlier);
    }
    write(cluster, set, Some(at)).await?;
    Ok(at.to_string())
}

/// Removes the promotion record (the cluster is a standby again for the next apply); returns the time
/// it recorded, `None` when there was none.
///
/// # Errors
/// The parent is not rekube's, or the cluster refuses the write.
pub async fn clear_promotion(
    cluster: &Cluster,
    set: &ApplySet,
) -> Result<Option<String>, InventoryError> {
    let Some(at) = promoted(cluster, set).await? else {
        return Ok(None);
    };
    write(cluster, set, None).await?;
    Ok(Some(at))
}

/// Server-side apply of the record alone by [`PROMOTE_MANAGER`]: without it, the field it owned goes.
async fn write(cluster: &Cluster, set: &ApplySet, at: Option<&str>) -> Result<(), InventoryError> {
    let parent = set.parent();
    let mut metadata = json!({"name": parent.name, "namespace": INVENTORY_NAMESPACE});
    if let Some(at) = at {
        metadata["annotations"] = json!({ ANNOTATION_PROMOTED: at });
    }
    let body = json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata});
    let resolved = cluster.resolve(&parent, "v1").await?;
    let api = cluster.api(&resolved, Some(INVENTORY_NAMESPACE));
    let params = PatchParams::apply(PROMOTE_MANAGER).force();
    let patch = Patch::Apply(&body);
    cluster
        .request(&parent, "apply", || {
            api.patch(&parent.name, &params, &patch)
        })
        .await?;
    Ok(())
}
