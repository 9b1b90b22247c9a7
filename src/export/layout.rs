//! Where each exported object goes: which objects are left out and why, the layer of each (`cluster/`,
//! `tools/`, `apps/`) and its file. Pure: the same objects always give the same files.
//!
//! The layer rule, documented for users:
//! - cluster-scoped objects (Namespaces, CRDs, ClusterRoles, classes…) go to `cluster/`;
//! - a namespace is a *tools* namespace when it serves a webhook or an aggregated API, or when a
//!   ClusterRoleBinding grants cluster-wide rights to one of its ServiceAccounts (operators,
//!   controllers); every other namespace is an *apps* namespace; `--layer NAMESPACE=LAYER` overrides;
//! - a webhook configuration or an APIService goes with its Service's namespace, and a
//!   ClusterRoleBinding with its first ServiceAccount subject's, so no object waits on a later layer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::object::ObjectId;

/// The layers an export writes, in order.
pub const LAYERS: [&str; 3] = ["cluster", "tools", "apps"];

/// Why a live object is not exported, or `None` when it is.
pub fn left_out(id: &ObjectId, live: &Value, include_secrets: bool) -> Option<String> {
    if let Some(owner) = live
        .pointer("/metadata/ownerReferences/0")
        .filter(|o| o.is_object())
    {
        let text = |k: &str| owner.get(k).and_then(Value::as_str).unwrap_or_default();
        return Some(format!("owned by {}/{}", text("kind"), text("name")));
    }
    let ns = id.namespace.as_deref();
    if ns.is_some_and(|n| crate::builtin::is_builtin_namespace(n) || n == INVENTORY_NAMESPACE)
        || (id.group.is_empty()
            && id.kind == "Namespace"
            && (crate::builtin::is_builtin_namespace(&id.name) || id.name == INVENTORY_NAMESPACE))
    {
        return Some("a namespace Kubernetes or rekube manages itself".into());
    }
    if is_simulation(id, live) {
        return Some("made by the simulation of rekube's local control plane".into());
    }
    let kind = (id.group.as_str(), id.kind.as_str());
    if SKIPPED_KINDS.contains(&kind) {
        return Some("written by controllers and the API server, not declared".into());
    }
    if kind == ("", "Secret") {
        let secret_type = live.get("type").and_then(Value::as_str).unwrap_or_default();
        if secret_type == "kubernetes.io/service-account-token" {
            return Some("a ServiceAccount token Secret".into());
        }
        if secret_type.starts_with("helm.sh/release") {
            return Some("a Helm release record (export the chart instead)".into());
        }
        if !include_secrets {
            return Some("a Secret (exported only with --include-secrets)".into());
        }
    }
    None
}

const INVENTORY_NAMESPACE: &str = crate::inventory::INVENTORY_NAMESPACE;

/// What rekube's local control plane makes to simulate storage: its default StorageClass, and the
/// volumes and snapshot contents its provisioner annotates. Another cluster makes its own.
fn is_simulation(id: &ObjectId, live: &Value) -> bool {
    use crate::controlplane::simulation::{
        DEFAULT_STORAGE_CLASS, PROVISIONER, SIMULATED_ANNOTATION,
    };
    let default_class = id.group == "storage.k8s.io"
        && id.kind == "StorageClass"
        && id.name == DEFAULT_STORAGE_CLASS
        && live.get("provisioner").and_then(Value::as_str) == Some(PROVISIONER);
    default_class
        || live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(SIMULATED_ANNOTATION))
            .is_some()
}

/// Kinds never exported: controllers and the API server write them.
const SKIPPED_KINDS: &[(&str, &str)] = &[
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("coordination.k8s.io", "Lease"),
    ("apps", "ControllerRevision"),
    ("", "Node"),
    ("", "ComponentStatus"),
    ("", "Binding"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
];

/// Layer of each namespace: the overrides first, then the rule of this module's documentation.
pub fn namespace_layers(
    objects: &BTreeMap<ObjectId, Value>,
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tools: BTreeSet<String> = BTreeSet::new();
    for (id, body) in objects {
        tools.extend(anchor_namespace(id, body));
    }
    let mut out = BTreeMap::new();
    for id in objects.keys() {
        if let Some(ns) = &id.namespace {
            let layer = match overrides.get(ns) {
                Some(l) => l.clone(),
                None if tools.contains(ns) => "tools".into(),
                None => "apps".into(),
            };
            out.insert(ns.clone(), layer);
        }
    }
    out
}

/// The namespace a cluster-scoped object belongs with (webhook and APIService backends, the first
/// ServiceAccount a ClusterRoleBinding grants to).
fn anchor_namespace(id: &ObjectId, body: &Value) -> Option<String> {
    let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    match (id.group.as_str(), id.kind.as_str()) {
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => body
            .get("webhooks")
            .and_then(Value::as_array)?
            .iter()
            .find_map(|w| text(w, "/clientConfig/service/namespace")),
        ("apiregistration.k8s.io", "APIService") => text(body, "/spec/service/namespace"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => body
            .get("subjects")
            .and_then(Value::as_array)?
            .iter()
            .filter(|s| s.get("kind").and_then(Value::as_str) == Some("ServiceAccount"))
            .find_map(|s| text(s, "/namespace")),
        _ => None,
    }
}

/// The layer of one object: its namespace's, or for a cluster-scoped object the layer of the
/// namespace it belongs with when that namespace is exported, else `cluster`.
pub fn layer_of(id: &ObjectId, body: &Value, namespaces: &BTreeMap<String, String>) -> String {
    let ns = id.namespace.clone().or_else(|| anchor_namespace(id, body));
    ns.and_then(|n| namespaces.get(&n).cloned())
        .unwrap_or_else(|| "cluster".into())
}

/// `<layer>/<namespace>/<kind>[.<group>]-<name>.yaml`, or `<layer>/cluster-scoped/…` without a
/// namespace. Characters a file name should not hold become `_`.
pub fn file_path(layer: &str, id: &ObjectId) -> String {
    let folder = id.namespace.as_deref().unwrap_or("cluster-scoped");
    let kind = id.kind.to_lowercase();
    let stem = if id.group.is_empty() {
        format!("{kind}-{}", id.name)
    } else {
        format!("{kind}.{}-{}", id.group, id.name)
    };
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{layer}/{folder}/{safe}.yaml")
}

/// The `rekube.yaml` of an export: the layers that hold objects, each depending on the one before.
pub fn rekube_yaml(layers: &BTreeSet<String>, origin: &str) -> String {
    let mut out = format!(
        "# Written by `rekube export` from {origin}: review it, then rebuild with `rekube rebuild`.\nlayers:\n"
    );
    let mut previous: Option<&str> = None;
    let ordered = LAYERS
        .iter()
        .copied()
        .filter(|l| layers.contains(*l))
        .chain(
            layers
                .iter()
                .map(String::as_str)
                .filter(|l| !LAYERS.contains(l)),
        );
    for layer in ordered {
        match previous {
            Some(p) => out.push_str(&format!(
                "  - {{name: {layer}, path: {layer}, dependsOn: [{p}]}}\n"
            )),
            None => out.push_str(&format!("  - {{name: {layer}, path: {layer}}}\n")),
        }
        previous = Some(layer);
    }
    out
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
