//! A simulated cluster (rekube's local control plane, see [`crate::controlplane::simulation`]):
//! recognising one, and preparing it for a repository before the apply.
//!
//! A cluster is simulated when it carries the marker ConfigMap that the local control plane creates
//! at start; on any other cluster nothing here changes anything. Preparing installs the VolumeSnapshot
//! CRDs when the repository uses snapshots and does not bring the CRDs itself (real clusters get them
//! from their CSI setup, not from the applications' repositories).

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::controlplane::simulation::{MARKER, SNAPSHOT_GROUP, is_marker, snapshot_crds};
use crate::manifest::Manifest;
use crate::object::ObjectId;

/// The field manager of what the simulation installs (not rekube's: it is not the repository's).
const FIELD_MANAGER: &str = "rekube-simulation";

#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    #[error("CustomResourceDefinition/{crd}: installing it in the simulated cluster failed")]
    Install {
        crd: String,
        #[source]
        source: kube::Error,
    },
    #[error(
        "CustomResourceDefinition/{crd}: not Established after {timeout:?} in the simulated cluster"
    )]
    NotEstablished { crd: String, timeout: Duration },
    #[error("refreshing discovery after installing the VolumeSnapshot CRDs")]
    Discovery(#[source] kube::Error),
}

/// Whether `cluster` is simulated (it carries the marker). Unreadable counts as real: nothing changes.
pub async fn is_simulated(cluster: &Cluster) -> bool {
    let (namespace, name) = MARKER;
    let id = ObjectId::new("", "ConfigMap", Some(namespace), name);
    matches!(cluster.get(&id, "v1").await, Ok(Some(cm)) if is_marker(&cm))
}

/// Whether the repository uses volume snapshots: objects of the snapshot group, or claims restored
/// from a VolumeSnapshot.
pub fn uses_snapshots(manifest: &Manifest) -> bool {
    manifest.objects.iter().any(|o| {
        o.id.group == SNAPSHOT_GROUP
            || (o.id.group.is_empty()
                && o.id.kind == "PersistentVolumeClaim"
                && ["/spec/dataSource/apiGroup", "/spec/dataSourceRef/apiGroup"]
                    .iter()
                    .any(|p| o.body.pointer(p).and_then(Value::as_str) == Some(SNAPSHOT_GROUP)))
    })
}

/// Whether the repository declares the VolumeSnapshot CRD itself.
fn brings_snapshot_crds(manifest: &Manifest) -> bool {
    manifest.objects.iter().any(|o| {
        o.id.kind == "CustomResourceDefinition"
            && o.body.pointer("/spec/group").and_then(Value::as_str) == Some(SNAPSHOT_GROUP)
    })
}

/// Prepares a simulated cluster for `manifest`; returns what it did, one line each, for the output.
///
/// # Errors
/// A CRD cannot be installed or does not become Established within `timeout`.
pub async fn prepare(
    cluster: &Cluster,
    manifest: &Manifest,
    timeout: Duration,
) -> Result<Vec<String>, SimulationError> {
    if !uses_snapshots(manifest) || brings_snapshot_crds(manifest) {
        return Ok(Vec::new());
    }
    if cluster
        .resources()
        .resolve(&format!("{SNAPSHOT_GROUP}/v1"), "VolumeSnapshot")
        .await
        .is_some()
    {
        return Ok(Vec::new());
    }
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client().clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut names = Vec::new();
    for crd in snapshot_crds() {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        api.patch(&name, &params, &Patch::Apply(&crd))
            .await
            .map_err(|source| SimulationError::Install {
                crd: name.clone(),
                source,
            })?;
        names.push(name);
    }
    for name in &names {
        let established = kube::runtime::wait::await_condition(
            api.clone(),
            name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        match tokio::time::timeout(timeout, established).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => {
                return Err(SimulationError::NotEstablished {
                    crd: name.clone(),
                    timeout,
                });
            }
        }
    }
    cluster
        .resources()
        .refresh()
        .await
        .map_err(SimulationError::Discovery)?;
    Ok(vec![
        "installed the VolumeSnapshot CRDs (snapshot.storage.k8s.io/v1): the repository uses snapshots but does not bring them"
            .to_owned(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{LoadOptions, load_dir};

    fn manifest(files: &[(&str, &str)]) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            std::fs::write(dir.path().join(path), text).unwrap();
        }
        load_dir(dir.path(), &LoadOptions::default()).unwrap()
    }

    const CLAIM: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c, namespace: a}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n";

    #[test]
    fn snapshots_are_recognised_by_kind_and_by_restored_claims() {
        assert!(!uses_snapshots(&manifest(&[("c.yaml", CLAIM)])));
        let restored = format!(
            "{CLAIM}  dataSource: {{apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: s}}\n"
        );
        assert!(uses_snapshots(&manifest(&[("c.yaml", &restored)])));
        let class = "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\nmetadata: {name: csi}\ndriver: x\ndeletionPolicy: Delete\n";
        let m = manifest(&[("c.yaml", class)]);
        assert!(uses_snapshots(&m));
        assert!(!brings_snapshot_crds(&m));
    }
}
