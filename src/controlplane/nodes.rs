//! The fake Nodes kwok brings to life.

use k8s_openapi::api::core::v1::Node;
use serde_json::json;

use super::components::KWOK_NODE_ANNOTATION;

/// Label on every fake Node, for selecting them.
pub const NODE_LABEL: (&str, &str) = ("type", "kwok");

/// Fake Node number `index` (0-based), named `kwok-node-<index>`.
///
/// Capacity is set explicitly (kwok keeps what it finds) and is large enough for thousands of pods
/// per node. Nodes may be created with their status, unlike most objects. The addresses are distinct
/// and never routed: no kubelet listens on them.
pub(crate) fn fake_node(index: usize) -> Result<Node, serde_json::Error> {
    let name = format!("kwok-node-{index}");
    let (annotation, annotation_value) = KWOK_NODE_ANNOTATION;
    let (label, label_value) = NODE_LABEL;
    let resources =
        json!({"cpu": "1000", "memory": "1Ti", "pods": "10000", "ephemeral-storage": "1Ti"});
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {annotation: annotation_value},
            "labels": {
                label: label_value,
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/agent": "",
            },
        },
        "status": {
            "allocatable": resources,
            "capacity": resources,
            "addresses": [
                {"type": "InternalIP", "address": format!("10.255.{}.{}", index / 250, index % 250 + 1)},
                {"type": "Hostname", "address": name},
            ],
        },
    }))
}

/// Whether `node` has condition Ready=True.
pub(crate) fn is_node_ready(node: Option<&Node>) -> bool {
    node.and_then(|n| n.status.as_ref())
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_nodes_are_kwok_annotated_with_distinct_addresses() {
        let a = fake_node(0).unwrap();
        let b = fake_node(251).unwrap();
        assert_eq!(a.metadata.name.as_deref(), Some("kwok-node-0"));
        let annotations = a.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations["kwok.x-k8s.io/node"], "fake");
        let ip = |n: &Node| {
            n.status.as_ref().unwrap().addresses.as_ref().unwrap()[0]
                .address
                .clone()
        };
        assert_eq!(ip(&a), "10.255.0.1");
        assert_eq!(ip(&b), "10.255.1.2");
        let pods = &a.status.as_ref().unwrap().allocatable.as_ref().unwrap()["pods"];
        assert_eq!(pods.0, "10000");
    }

    #[test]
    fn readiness_needs_ready_true() {
        let mut node = fake_node(0).unwrap();
        assert!(!is_node_ready(Some(&node)));
        assert!(!is_node_ready(None));
        node.status.as_mut().unwrap().conditions = Some(vec![
            serde_json::from_value(json!({"type": "Ready", "status": "True"})).unwrap(),
        ]);
        assert!(is_node_ready(Some(&node)));
    }
}
