//! What the simulated storage does for one claim or one snapshot (pure; `storage` does the I/O).
//!
//! A claim gets a PersistentVolume the way an external provisioner would make it: named `pvc-<uid>`,
//! pre-bound through `claimRef` (the controller manager's binder completes the binding), annotated
//! `pv.kubernetes.io/provisioned-by`. `WaitForFirstConsumer` is honoured: the claim waits until the
//! scheduler has picked a Node for the pod that mounts it (`volume.kubernetes.io/selected-node`), and the
//! volume is pinned to that Node. A claim restored from a VolumeSnapshot waits until the snapshot is
//! ready to use. A snapshot is ready once its source claim is bound.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{Value, json};

use super::simulation::{PROVISIONER, SIMULATED_ANNOTATION, SNAPSHOT_GROUP};

/// The annotation the scheduler sets on a `WaitForFirstConsumer` claim once it chose a Node.
pub(crate) const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// Classes with this provisioner are for volumes created by hand: never provisioned.
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// What to do about a claim.
#[derive(Debug)]
pub(crate) enum ClaimPlan {
    /// Create this PersistentVolume.
    Provision(Box<PersistentVolume>),
    /// Not now (the reason, for the log).
    Wait(String),
    /// Not the provisioner's business (bound, static, no class, …).
    Ignore,
}

/// What to do about a VolumeSnapshot.
#[derive(Debug, PartialEq)]
pub(crate) enum SnapshotPlan {
    /// Create the VolumeSnapshotContent (if any), then write this status.
    Bind {
        content: Option<Value>,
        status: Value,
    },
    Wait(String),
    Ignore,
}

/// The plan for `claim`, given its StorageClass (`None`: the class does not exist) and whether the
/// VolumeSnapshot it is restored from (if any) is ready: `snapshot_ready(namespace, name)`.
pub(crate) fn plan_claim(
    claim: &PersistentVolumeClaim,
    class: Option<&StorageClass>,
    snapshot_ready: impl Fn(&str, &str) -> bool,
) -> ClaimPlan {
    let meta = &claim.metadata;
    let Some(spec) = &claim.spec else {
        return ClaimPlan::Ignore;
    };
    let bound = claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    if bound
        || meta.deletion_timestamp.is_some()
        || spec.volume_name.as_deref().is_some_and(|v| !v.is_empty())
        // Dynamic provisioning cannot satisfy a label selector (Kubernetes rejects the pairing too).
        || spec.selector.is_some()
    {
        return ClaimPlan::Ignore;
    }
    let (Some(namespace), Some(name), Some(uid)) = (&meta.namespace, &meta.name, &meta.uid) else {
        return ClaimPlan::Ignore;
    };
    let Some(class_name) = spec.storage_class_name.as_deref().filter(|c| !c.is_empty()) else {
        return ClaimPlan::Ignore;
    };
    let Some(class) = class else {
        return ClaimPlan::Wait(format!("StorageClass {class_name} does not exist"));
    };
    if class.provisioner == NO_PROVISIONER {
        return ClaimPlan::Ignore;
    }
    let wait_for_consumer = class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer");
    let node = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(SELECTED_NODE))
        .cloned();
    if wait_for_consumer && node.is_none() {
        return ClaimPlan::Wait("waiting for a pod that uses it to be scheduled".to_owned());
    }
    let source = restored_from(claim);
    if let Some((snap_ns, snap)) = &source
        && !snapshot_ready(snap_ns.as_deref().unwrap_or(namespace), snap)
    {
        return ClaimPlan::Wait(format!("waiting for VolumeSnapshot {snap} to be ready"));
    }
    let storage = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map_or_else(|| "1Gi".to_owned(), |q| q.0.clone());
    let pv_name = format!("pvc-{uid}");
    let note = match &source {
        Some((_, snap)) => {
            format!("volume of {namespace}/{name}, restored from VolumeSnapshot {snap} (no data)")
        }
        None => format!("volume of {namespace}/{name} (no data)"),
    };
    let mut pv = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": pv_name,
            "annotations": {
                "pv.kubernetes.io/provisioned-by": class.provisioner,
                SIMULATED_ANNOTATION: note,
            },
        },
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".to_owned()]),
            "volumeMode": spec.volume_mode.as_deref().unwrap_or("Filesystem"),
            "storageClassName": class_name,
            "persistentVolumeReclaimPolicy": class.reclaim_policy.as_deref().unwrap_or("Delete"),
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": namespace,
                "name": name,
                "uid": uid,
            },
            // Nothing mounts it: kwok's pods never start containers.
            "hostPath": {"path": format!("/var/lib/rekube-simulated/{pv_name}")},
        },
    });
    if let Some(options) = &class.mount_options {
        pv["spec"]["mountOptions"] = json!(options);
    }
    if let Some(node) = node {
        pv["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
        ]}]}});
    }
    match serde_json::from_value(pv) {
        Ok(pv) => ClaimPlan::Provision(Box::new(pv)),
        Err(e) => ClaimPlan::Wait(format!("cannot build its PersistentVolume: {e}")),
    }
}

/// `(namespace, name)` of the VolumeSnapshot a claim is restored from (`dataSourceRef` first).
pub(crate) fn restored_from(claim: &PersistentVolumeClaim) -> Option<(Option<String>, String)> {
    let spec = claim.spec.as_ref()?;
    if let Some(r) = &spec.data_source_ref
        && r.api_group.as_deref() == Some(SNAPSHOT_GROUP)
        && r.kind == "VolumeSnapshot"
    {
        return Some((r.namespace.clone(), r.name.clone()));
    }
    spec.data_source
        .as_ref()
        .filter(|r| r.api_group.as_deref() == Some(SNAPSHOT_GROUP) && r.kind == "VolumeSnapshot")
        .map(|r| (None, r.name.clone()))
}

/// The plan for a VolumeSnapshot, given its source claim (`None`: absent or not a claim snapshot) and
/// the provisioner of that claim's StorageClass (the snapshot's driver). `now` is RFC 3339.
pub(crate) fn plan_snapshot(
    snapshot: &Value,
    claim: Option<&PersistentVolumeClaim>,
    driver: Option<&str>,
    now: &str,
) -> SnapshotPlan {
    let ready = snapshot
        .pointer("/status/readyToUse")
        .and_then(Value::as_bool)
        == Some(true);
    let deleting = snapshot.pointer("/metadata/deletionTimestamp").is_some();
    let (Some(namespace), Some(name), Some(uid)) = (
        str_at(snapshot, "/metadata/namespace"),
        str_at(snapshot, "/metadata/name"),
        str_at(snapshot, "/metadata/uid"),
    ) else {
        return SnapshotPlan::Ignore;
    };
    if ready || deleting {
        return SnapshotPlan::Ignore;
    }
    if let Some(content) = str_at(snapshot, "/spec/source/volumeSnapshotContentName") {
        // Pre-provisioned: the repository declares the content; bind to it.
        return SnapshotPlan::Bind {
            content: None,
            status: json!({"boundVolumeSnapshotContentName": content, "creationTime": now, "readyToUse": true}),
        };
    }
    let Some(source) = str_at(snapshot, "/spec/source/persistentVolumeClaimName") else {
        return SnapshotPlan::Ignore;
    };
    let Some(claim) = claim else {
        return SnapshotPlan::Wait(format!("PersistentVolumeClaim {source} does not exist"));
    };
    let status = claim.status.as_ref();
    let volume = claim.spec.as_ref().and_then(|s| s.volume_name.clone());
    let (Some(volume), Some("Bound")) = (volume, status.and_then(|s| s.phase.as_deref())) else {
        return SnapshotPlan::Wait(format!("PersistentVolumeClaim {source} is not bound yet"));
    };
    let size = status
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .map(|q| q.0.clone());
    let content_name = format!("snapcontent-{uid}");
    let mut content = json!({
        "apiVersion": format!("{SNAPSHOT_GROUP}/v1"),
        "kind": "VolumeSnapshotContent",
        "metadata": {
            "name": content_name,
            "annotations": {SIMULATED_ANNOTATION: format!("snapshot of {namespace}/{source} (no data)")},
        },
        "spec": {
            "deletionPolicy": "Delete",
            "driver": driver.unwrap_or(PROVISIONER),
            "source": {"volumeHandle": volume},
            "volumeSnapshotRef": {
                "apiVersion": format!("{SNAPSHOT_GROUP}/v1"),
                "kind": "VolumeSnapshot",
                "namespace": namespace,
                "name": name,
                "uid": uid,
            },
        },
    });
    if let Some(class) = str_at(snapshot, "/spec/volumeSnapshotClassName") {
        content["spec"]["volumeSnapshotClassName"] = json!(class);
    }
    let mut status = json!({
        "boundVolumeSnapshotContentName": content_name,
        "creationTime": now,
        "readyToUse": true,
    });
    if let Some(size) = size {
        status["restoreSize"] = json!(size);
    }
    SnapshotPlan::Bind {
        content: Some(content),
        status,
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

#[cfg(test)]
#[path = "provision_tests.rs"]
mod tests;
