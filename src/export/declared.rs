//! What a person declared of a live object: the fields that non-controller field managers own
//! (`metadata.managedFields`), without status, server-populated metadata, rekube's own provenance and
//! the values the cluster assigns or defaults.
//!
//! The projection walks the live object along the union of the kept managers' `fieldsV1` trees (see
//! [`crate::diff::attribute`] for the format). Objects created with `Update` operations (`kubectl
//! create`, client-side apply) own the server's defaults too, since defaulting runs before field
//! management: those are removed from a table of the API server's defaults for the common kinds.

use serde_json::{Map, Value};

use crate::keys::PROVENANCE;

/// Field managers that are controllers of the cluster, not people or their tools: what they own was
/// never declared. Matched as a prefix (`kube-controller-manager`, `kwok-controller`…). Not every
/// `*-controller` is one: Flux's `kustomize-controller` and Argo CD's `argocd-controller` apply what
/// people declared in Git, and count as people.
pub const CONTROLLER_MANAGERS: &[&str] = &[
    "kube-controller-manager",
    "clusterrole-aggregation-controller",
    "kube-scheduler",
    "kube-apiserver",
    "kubelet",
    "kwok",
    "api-priority-and-fairness-config",
    "rbac-bootstrap",
];

/// True when `manager` is a controller of the cluster (see [`CONTROLLER_MANAGERS`]).
pub fn is_controller(manager: &str) -> bool {
    CONTROLLER_MANAGERS.iter().any(|c| manager.starts_with(c))
}

/// The `fieldsV1` trees of the entries a person made: not a controller, not the status subresource.
pub fn declared_fields(live: &Value) -> Vec<&Value> {
    let Some(entries) = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|e| {
            let manager = e.get("manager").and_then(Value::as_str).unwrap_or_default();
            let subresource = e
                .get("subresource")
                .and_then(Value::as_str)
                .unwrap_or_default();
            !is_controller(manager) && subresource != "status"
        })
        .filter_map(|e| e.get("fieldsV1"))
        .collect()
}

/// The declared object: `live` projected on the declared fields, then cleaned. `None` when no person
/// declared anything of it (it was made by the cluster itself).
pub fn declared(live: &Value) -> Option<Value> {
    let trees = declared_fields(live);
    if trees.is_empty() {
        return None;
    }
    let mut out = project(live, &trees)?;
    // apiVersion and kind are never in fieldsV1, and the identity must survive.
    if let (Some(o), Some(l)) = (out.as_object_mut(), live.as_object()) {
        for key in ["apiVersion", "kind"] {
            if let Some(v) = l.get(key) {
                o.insert(key.to_string(), v.clone());
            }
        }
        let meta = o
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        for key in ["name", "namespace"] {
            if let (Some(m), Some(v)) = (
                meta.as_object_mut(),
                live.pointer(&format!("/metadata/{key}")),
            ) {
                m.insert(key.to_string(), v.clone());
            }
        }
    }
    clean(&mut out);
    super::defaults::remove_defaults(&mut out);
    Some(out)
}

/// `value` restricted to what any of the `trees` owns; `None` when nothing of it is owned.
fn project(value: &Value, trees: &[&Value]) -> Option<Value> {
    // A leaf (`{}`) in any tree owns the whole value.
    if trees
        .iter()
        .any(|t| t.as_object().is_some_and(Map::is_empty))
    {
        return Some(value.clone());
    }
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, child) in map {
                let name = format!("f:{key}");
                let sub: Vec<&Value> = trees.iter().filter_map(|t| t.get(&name)).collect();
                if sub.is_empty() {
                    continue;
                }
                if let Some(v) = project(child, &sub) {
                    out.insert(key.clone(), v);
                }
            }
            // A map owned only through `.` (the node itself) is declared empty.
            let itself = trees.iter().any(|t| t.get(".").is_some());
            (!out.is_empty() || itself).then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                let sub: Vec<&Value> = trees
                    .iter()
                    .filter_map(|t| t.as_object())
                    .flat_map(|m| m.iter())
                    .filter(|(k, _)| item_matches(k, item))
                    .map(|(_, v)| v)
                    .collect();
                if sub.is_empty() {
                    continue;
                }
                // Set items (`v:`) are owned whole; associative items keep what their tree owns.
                let whole = sub.iter().any(|t| t.as_object().is_some_and(Map::is_empty));
                match if whole {
                    Some(item.clone())
                } else {
                    project(item, &sub)
                } {
                    Some(v) => out.push(v),
                    None => out.push(item.clone()),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        // A scalar reached through a non-leaf tree is still owned (its tree is `{".": {}}`).
        other => Some(other.clone()),
    }
}

/// Whether a `fieldsV1` key names this list item: `k:{"name":"web"}` (every key field equal) or
/// `v:"x"` (the item itself).
fn item_matches(key: &str, item: &Value) -> bool {
    if let Some(json) = key.strip_prefix("k:") {
        let Ok(keys) = serde_json::from_str::<Map<String, Value>>(json) else {
            return false;
        };
        return !keys.is_empty() && keys.iter().all(|(k, v)| item.get(k) == Some(v));
    }
    if let Some(json) = key.strip_prefix("v:") {
        return serde_json::from_str::<Value>(json).is_ok_and(|v| v == *item);
    }
    false
}

/// Server-populated metadata, rekube's provenance and inventory label, kubectl's last-applied record.
fn clean(obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    root.remove("status");
    let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for key in [
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
        "ownerReferences",
    ] {
        meta.remove(key);
    }
    if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        for key in PROVENANCE {
            a.remove(key);
        }
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    if let Some(l) = meta.get_mut("labels").and_then(Value::as_object_mut) {
        l.remove(crate::inventory::LABEL_PART_OF);
    }
    for key in ["annotations", "labels"] {
        if meta
            .get(key)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            meta.remove(key);
        }
    }
}

#[cfg(test)]
#[path = "declared_tests.rs"]
mod tests;
