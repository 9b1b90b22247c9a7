//! What is left out before live objects of several clusters are compared: the fields each cluster
//! allocates for itself ([`PER_CLUSTER`]) and the fields Git sets differently per cluster ([`without`]).

use serde_json::Value;

use crate::diff::{FieldPath, Segment};
use crate::object::ObjectId;

/// Fields the API server or a controller fills in per cluster: equal objects of Git never have equal
/// values there. `(kind, path)`, `*` standing for every item of a list.
pub const PER_CLUSTER: &[(&str, &[&str])] = &[
    ("Service", &["spec", "clusterIP"]),
    ("Service", &["spec", "clusterIPs"]),
    ("Service", &["spec", "ports", "*", "nodePort"]),
    ("Service", &["spec", "healthCheckNodePort"]),
    ("PersistentVolumeClaim", &["spec", "volumeName"]),
    (
        "PersistentVolumeClaim",
        &["metadata", "annotations", "pv.kubernetes.io/bind-completed"],
    ),
    (
        "PersistentVolumeClaim",
        &[
            "metadata",
            "annotations",
            "pv.kubernetes.io/bound-by-controller",
        ],
    ),
    (
        "PersistentVolumeClaim",
        &[
            "metadata",
            "annotations",
            "volume.beta.kubernetes.io/storage-provisioner",
        ],
    ),
    (
        "PersistentVolumeClaim",
        &[
            "metadata",
            "annotations",
            "volume.kubernetes.io/storage-provisioner",
        ],
    ),
    (
        "PersistentVolumeClaim",
        &[
            "metadata",
            "annotations",
            "volume.kubernetes.io/selected-node",
        ],
    ),
    // Counts the rollouts each cluster has seen.
    (
        "Deployment",
        &[
            "metadata",
            "annotations",
            "deployment.kubernetes.io/revision",
        ],
    ),
    // A Job's selector carries the uid of the Job in each cluster.
    ("Job", &["spec", "selector"]),
    (
        "Job",
        &["spec", "template", "metadata", "labels", "controller-uid"],
    ),
    (
        "Job",
        &[
            "spec",
            "template",
            "metadata",
            "labels",
            "batch.kubernetes.io/controller-uid",
        ],
    ),
    // Injected per cluster (cert-manager's CA injector, the API server's own CA).
    (
        "ValidatingWebhookConfiguration",
        &["webhooks", "*", "clientConfig", "caBundle"],
    ),
    (
        "MutatingWebhookConfiguration",
        &["webhooks", "*", "clientConfig", "caBundle"],
    ),
    ("APIService", &["spec", "caBundle"]),
    (
        "CustomResourceDefinition",
        &["spec", "conversion", "webhook", "clientConfig", "caBundle"],
    ),
];

/// `obj` without the [`PER_CLUSTER`] fields of its kind.
pub fn per_cluster(id: &ObjectId, obj: &Value) -> Value {
    let mut out = obj.clone();
    for (kind, path) in PER_CLUSTER {
        if *kind == id.kind {
            remove_pattern(&mut out, path);
        }
    }
    prune_empty_metadata(&mut out);
    out
}

fn remove_pattern(node: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match (node, *first) {
        (Value::Array(items), "*") => {
            for item in items {
                remove_pattern(item, rest);
            }
        }
        (Value::Object(map), key) if rest.is_empty() => {
            map.remove(key);
        }
        (Value::Object(map), key) => {
            if let Some(child) = map.get_mut(key) {
                remove_pattern(child, rest);
            }
        }
        _ => {}
    }
}

/// Labels or annotations left empty go, as [`crate::diff::normalize`] removes them.
fn prune_empty_metadata(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["annotations", "labels"] {
            if meta
                .get(key)
                .and_then(Value::as_object)
                .is_some_and(serde_json::Map::is_empty)
            {
                meta.remove(key);
            }
        }
    }
}

/// `obj` without the fields at `paths`. A path into a list by position leaves out the whole list: once
/// Git's lists differ in length, positions no longer say which items correspond.
pub fn without(obj: &Value, paths: &[FieldPath]) -> Value {
    let mut out = obj.clone();
    for path in paths {
        let steps: Vec<&Segment> = path
            .segments()
            .iter()
            .take_while(|s| !matches!(s, Segment::Index(_)))
            .collect();
        remove(&mut out, &steps);
    }
    out
}

/// The value at `path`, if `obj` has it.
pub fn at<'a>(obj: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.segments()
        .iter()
        .try_fold(obj, |node, segment| match (node, segment) {
            (Value::Object(map), Segment::Field(key)) => map.get(key),
            (Value::Array(items), Segment::Item { name, .. }) => items
                .iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(name.as_str())),
            (Value::Array(items), Segment::Index(i)) => items.get(*i),
            _ => None,
        })
}

fn remove(node: &mut Value, steps: &[&Segment]) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    match (node, first) {
        (Value::Object(map), Segment::Field(key)) if rest.is_empty() => {
            map.remove(key);
        }
        (Value::Object(map), Segment::Field(key)) => {
            if let Some(child) = map.get_mut(key) {
                remove(child, rest);
            }
        }
        (Value::Array(items), Segment::Item { name, .. }) => {
            let named = |v: &Value| v.get("name").and_then(Value::as_str) == Some(name.as_str());
            let Some(i) = items.iter().position(named) else {
                return;
            };
            if rest.is_empty() {
                items.remove(i);
            } else {
                remove(&mut items[i], rest);
            }
        }
        _ => {}
    }
}
