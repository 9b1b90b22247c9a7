//! Immutable fields, as a table: which fields the API server refuses to change, so that rekube can
//! say so before applying (and recreate the object when allowed).
//!
//! `after` may be the dry-run result or, when the dry-run failed (an immutable change makes it
//! fail), the desired object as written. So a field counts as changed only where `after` sets it
//! and it differs from `before`: what the server defaults or adds (a Job template's
//! `controller-uid` label, a claim template's `status`) is never reported.

use serde_json::Value;

/// How a field's change is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// `after` sets it and it differs (setting it where `before` had none is a change too).
    Changed,
    /// Both sides set it, not to `""`, and differ: the server fills it in (a claim's volume, a
    /// Service's cluster IP), so leaving it out or empty is not asking for a change.
    ChangedWhenSet,
    /// The first item differs, both set: a second IP family may be added, the primary is fixed.
    PrimaryChanged,
    /// Changed while `before` has `immutable: true` (ConfigMaps and Secrets).
    ChangedWhileImmutable,
}

/// `(API group, kind, field, check)`.
const RULES: &[(&str, &str, &str, Check)] = &[
    ("batch", "Job", "spec.selector", Check::Changed),
    ("batch", "Job", "spec.template", Check::Changed),
    ("apps", "Deployment", "spec.selector", Check::Changed),
    ("apps", "ReplicaSet", "spec.selector", Check::Changed),
    ("apps", "DaemonSet", "spec.selector", Check::Changed),
    ("apps", "StatefulSet", "spec.selector", Check::Changed),
    ("apps", "StatefulSet", "spec.serviceName", Check::Changed),
    (
        "apps",
        "StatefulSet",
        "spec.volumeClaimTemplates",
        Check::Changed,
    ),
    (
        "apps",
        "StatefulSet",
        "spec.podManagementPolicy",
        Check::Changed,
    ),
    ("", "Service", "spec.clusterIP", Check::ChangedWhenSet),
    ("", "Service", "spec.clusterIPs", Check::PrimaryChanged),
    ("", "Service", "spec.ipFamilies", Check::PrimaryChanged),
    (
        "",
        "PersistentVolumeClaim",
        "spec.storageClassName",
        Check::ChangedWhenSet,
    ),
    (
        "",
        "PersistentVolumeClaim",
        "spec.volumeName",
        Check::ChangedWhenSet,
    ),
    (
        "",
        "PersistentVolumeClaim",
        "spec.accessModes",
        Check::Changed,
    ),
    ("", "PersistentVolumeClaim", "spec.selector", Check::Changed),
    (
        "",
        "PersistentVolumeClaim",
        "spec.volumeMode",
        Check::Changed,
    ),
    ("", "ConfigMap", "data", Check::ChangedWhileImmutable),
    ("", "ConfigMap", "binaryData", Check::ChangedWhileImmutable),
    ("", "ConfigMap", "immutable", Check::ChangedWhileImmutable),
    ("", "Secret", "data", Check::ChangedWhileImmutable),
    ("", "Secret", "immutable", Check::ChangedWhileImmutable),
    ("", "Secret", "type", Check::Changed),
    (
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "roleRef",
        Check::Changed,
    ),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "roleRef",
        Check::Changed,
    ),
    (
        "storage.k8s.io",
        "StorageClass",
        "provisioner",
        Check::Changed,
    ),
    (
        "storage.k8s.io",
        "StorageClass",
        "parameters",
        Check::Changed,
    ),
    (
        "storage.k8s.io",
        "StorageClass",
        "reclaimPolicy",
        Check::Changed,
    ),
    (
        "storage.k8s.io",
        "StorageClass",
        "volumeBindingMode",
        Check::Changed,
    ),
    (
        "scheduling.k8s.io",
        "PriorityClass",
        "value",
        Check::Changed,
    ),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "spec.scope",
        Check::Changed,
    ),
];

/// The immutable fields of a `group`/`kind` that differ between `before` (live) and `after`, as
/// dotted paths in table order; empty when the object can be updated in place.
pub fn immutable_changes(
    group: &str,
    kind: &str,
    before: &Value,
    after: &Value,
) -> Vec<&'static str> {
    RULES
        .iter()
        .filter(|(g, k, _, _)| *g == group && *k == kind)
        .filter(|(_, _, field, check)| {
            let old = lookup(before, field);
            let new = lookup(after, field);
            match check {
                Check::Changed => sets_differently(old, new),
                Check::ChangedWhenSet => both_set_and_differ(old, new),
                Check::PrimaryChanged => {
                    both_set_and_differ(old.and_then(|v| v.get(0)), new.and_then(|v| v.get(0)))
                }
                Check::ChangedWhileImmutable => {
                    before.get("immutable").and_then(Value::as_bool) == Some(true)
                        && sets_differently(old, new)
                }
            }
        })
        .map(|(_, _, field, _)| *field)
        .collect()
}

fn lookup<'a>(obj: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(obj, |v, key| v.get(key))
}

/// Both are set (not null, not `""`) and differ.
fn both_set_and_differ(old: Option<&Value>, new: Option<&Value>) -> bool {
    let set = |v: &&Value| !v.is_null() && v.as_str() != Some("");
    matches!((old.filter(set), new.filter(set)), (Some(o), Some(n)) if o != n)
}

/// Whether applying `new` would change `old`: some field `new` sets has another value in `old`.
/// Lists must match item for item (an extra or missing item is a change).
fn sets_differently(old: Option<&Value>, new: Option<&Value>) -> bool {
    match (old, new) {
        (_, None | Some(Value::Null)) => false,
        (Some(Value::Object(o)), Some(Value::Object(n))) => {
            n.iter().any(|(k, v)| sets_differently(o.get(k), Some(v)))
        }
        (Some(Value::Array(o)), Some(Value::Array(n))) => {
            o.len() != n.len()
                || o.iter()
                    .zip(n)
                    .any(|(o, n)| sets_differently(Some(o), Some(n)))
        }
        (old, Some(new)) => old != Some(new),
    }
}

#[cfg(test)]
mod tests;
