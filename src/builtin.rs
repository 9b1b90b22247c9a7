//! What every Kubernetes API server has by itself: its own API groups, the namespaces it creates, and
//! the one kind whose values are secret. One table each, shared by loading, ordering, prune and drift.

use serde_json::Value;

/// API groups a Kubernetes 1.34 API server serves itself: their kinds need no CustomResourceDefinition.
pub const GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// True for the groups the API server serves itself (no CRD needed); anything else is a custom resource.
pub fn is_builtin_group(group: &str) -> bool {
    GROUPS.contains(&group)
}

/// Namespaces every cluster creates by itself.
pub const NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

pub fn is_builtin_namespace(name: &str) -> bool {
    NAMESPACES.contains(&name)
}

/// A core `v1` Secret: its `data` and `stringData` values are never shown.
pub fn is_secret(obj: &Value) -> bool {
    obj.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && obj.get("kind").and_then(Value::as_str) == Some("Secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        assert!(is_builtin_group("apps") && is_builtin_group(""));
        assert!(!is_builtin_group("cert-manager.io"));
        assert!(is_builtin_namespace("kube-system") && !is_builtin_namespace("shop"));
        assert!(is_secret(
            &serde_json::json!({"apiVersion": "v1", "kind": "Secret"})
        ));
        assert!(!is_secret(
            &serde_json::json!({"apiVersion": "example.com/v1", "kind": "Secret"})
        ));
    }
}
