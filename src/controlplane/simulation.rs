//! The simulated mode of the local control plane, made explicit.
//!
//! Pods run on kwok's fake Nodes, so nothing behind a Service ever answers. The control plane therefore:
//! - does not call admission webhooks (the apiserver runs without the webhook admission plugins), so a
//!   webhook with `failurePolicy: Fail` cannot reject what is applied after it;
//! - has a default StorageClass and a simulated provisioner and snapshot controller (see `storage`);
//! - says so in a ConfigMap ([`MARKER`]), so rekube knows that a cluster reached through a kubeconfig
//!   context (`rekube local up`) is simulated, and judges aggregated APIs by their Service's ready
//!   endpoints instead of their `Available` condition.
//!
//! The VolumeSnapshot CRDs ([`snapshot_crds`]) are not installed at start: only when a repository uses
//! snapshots without bringing the CRDs itself.

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

use super::ControlPlaneError;

/// `(namespace, name)` of the ConfigMap that marks a simulated cluster.
pub const MARKER: (&str, &str) = ("kube-system", "rekube-simulation");

/// The provisioner name of the default StorageClass. The simulated provisioner serves every class that
/// names a provisioner, so a repository's own classes (`ebs.csi.aws.com`, …) work too.
pub const PROVISIONER: &str = "rekube.dev/simulated";

/// The default StorageClass, named as kind names its own.
pub const DEFAULT_STORAGE_CLASS: &str = "standard";

/// The volume-snapshot API group.
pub const SNAPSHOT_GROUP: &str = "snapshot.storage.k8s.io";

/// Annotation on the PersistentVolumes and VolumeSnapshotContents the simulation creates.
pub const SIMULATED_ANNOTATION: &str = "rekube.dev/simulated";

const SNAPSHOT_CRDS: &str = include_str!("snapshot-crds.yaml");

/// The CRDs of VolumeSnapshotClass, VolumeSnapshotContent and VolumeSnapshot (snapshot.storage.k8s.io/v1).
pub fn snapshot_crds() -> Vec<Value> {
    // Embedded and covered by a unit test: a parse error is a build defect, never user input.
    serde_saphyr::from_multiple::<Value>(SNAPSHOT_CRDS).unwrap_or_default()
}

/// What the marker ConfigMap says, for people reading it with kubectl.
fn marker() -> Value {
    let (namespace, name) = MARKER;
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {
            "mode": "simulated",
            "pods": "simulated by kwok: nothing runs, Services have endpoints that never answer",
            "admissionWebhooks": "not called (ValidatingAdmissionWebhook and MutatingAdmissionWebhook are disabled)",
            "aggregatedAPIs": "judged by their Service's ready endpoints, not by Available",
            "storage": format!("default StorageClass {DEFAULT_STORAGE_CLASS}; every claim of an existing class is bound to a simulated PersistentVolume"),
            "snapshots": "VolumeSnapshots are marked readyToUse once their source claim is bound; no data is copied",
        },
    })
}

/// The default StorageClass: binds on first consumer, as most real clusters' defaults do.
fn default_storage_class() -> Value {
    json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": DEFAULT_STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": true,
    })
}

/// Whether a marker ConfigMap (as read from a cluster) says the cluster is simulated.
pub fn is_marker(config_map: &Value) -> bool {
    config_map.pointer("/data/mode").and_then(Value::as_str) == Some("simulated")
}

/// Creates the marker and the default StorageClass in a freshly started control plane.
pub(crate) async fn prepare(client: &kube::Client) -> Result<(), ControlPlaneError> {
    let (namespace, _) = MARKER;
    let marker: ConfigMap = serde_json::from_value(marker()).map_err(|e| invalid("marker", e))?;
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    // kube-system is created by the apiserver shortly after it is ready: retry until it exists.
    loop {
        match config_maps.create(&PostParams::default(), &marker).await {
            Err(kube::Error::Api(s)) if s.code == 404 => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            result => {
                created(result, "the simulation marker ConfigMap")?;
                break;
            }
        }
    }
    let class: StorageClass =
        serde_json::from_value(default_storage_class()).map_err(|e| invalid("StorageClass", e))?;
    let classes = Api::<StorageClass>::all(client.clone());
    created(
        classes.create(&PostParams::default(), &class).await,
        "the default StorageClass",
    )
}

/// An object created, or already there.
fn created<T>(result: Result<T, kube::Error>, what: &str) -> Result<(), ControlPlaneError> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(source) => Err(ControlPlaneError::Api {
            what: format!("creating {what}"),
            source,
        }),
    }
}

/// Now in RFC 3339, whole seconds (as Kubernetes writes times).
pub(crate) fn now() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

fn invalid(what: &str, e: serde_json::Error) -> ControlPlaneError {
    ControlPlaneError::io(
        &format!("building the simulated {what}"),
        "",
        std::io::Error::other(e),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_crds_parse_and_name_their_kinds() {
        let crds = snapshot_crds();
        let kinds: Vec<&str> = crds
            .iter()
            .filter_map(|c| c.pointer("/spec/names/kind").and_then(Value::as_str))
            .collect();
        assert_eq!(
            kinds,
            [
                "VolumeSnapshotClass",
                "VolumeSnapshotContent",
                "VolumeSnapshot"
            ]
        );
        for crd in &crds {
            let group = crd.pointer("/spec/group").and_then(Value::as_str);
            assert_eq!(group, Some(SNAPSHOT_GROUP));
            let plural = crd.pointer("/spec/names/plural").and_then(Value::as_str);
            let name = crd.pointer("/metadata/name").and_then(Value::as_str);
            assert_eq!(
                name,
                plural.map(|p| format!("{p}.{SNAPSHOT_GROUP}")).as_deref()
            );
        }
    }

    #[test]
    fn built_objects_are_valid_and_the_marker_is_recognised() {
        let marker_value = marker();
        assert!(is_marker(&marker_value));
        assert!(!is_marker(&json!({"data": {"mode": "real"}})));
        serde_json::from_value::<ConfigMap>(marker_value).unwrap();
        let class: StorageClass = serde_json::from_value(default_storage_class()).unwrap();
        assert_eq!(class.provisioner, PROVISIONER);
    }
}
