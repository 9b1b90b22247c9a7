//! Normalisation (what the API server or rekube adds, that no one writes in Git, is removed) and the
//! canonical form (keys sorted) used for digests and rendering.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Server-populated metadata fields, removed by [`normalize`].
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations removed by [`normalize`]: kubectl's client-side apply record and rekube's provenance
/// (`rekube.dev/digest` must go, or the digest would depend on itself). The ApplySet `part-of` label
/// stays: it says which inventory owns the object, and a change there is meaningful.
pub const IGNORED_ANNOTATIONS: [&str; 4] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    crate::keys::PROVENANCE[0],
    crate::keys::PROVENANCE[1],
    crate::keys::PROVENANCE[2],
];

/// The object without `status`, server-populated metadata and ignored annotations; `labels` and
/// `annotations` left empty are removed too. Idempotent; other values are returned unchanged.
pub fn normalize(obj: &Value) -> Value {
    let mut out = obj.clone();
    let Some(root) = out.as_object_mut() else {
        return out;
    };
    root.remove("status");
    if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_METADATA {
            meta.remove(*key);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for key in IGNORED_ANNOTATIONS {
                annotations.remove(key);
            }
        }
        for key in ["annotations", "labels"] {
            if meta.get(key).is_some_and(is_empty_or_null) {
                meta.remove(key);
            }
        }
    }
    out
}

fn is_empty_or_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A copy with every map's keys in byte order, recursively (list order is kept: it is meaningful).
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut sorted = Map::with_capacity(map.len());
            for k in keys {
                if let Some(child) = map.get(k) {
                    sorted.insert(k.clone(), canonical(child));
                }
            }
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The hex SHA-256 of the normalised object as canonical compact JSON: the value of the
/// `rekube.dev/digest` annotation. Key order in the input does not matter.
pub fn digest(obj: &Value) -> String {
    // Serialising a `Value` cannot fail (its keys are strings), and `Display` does not return errors.
    let json = canonical(&normalize(obj)).to_string();
    hex::encode(Sha256::digest(json.as_bytes()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn live() -> Value {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "settings", "namespace": "web",
                "uid": "4f3c", "resourceVersion": "812", "generation": 1,
                "creationTimestamp": "2025-05-01T10:00:00Z",
                "managedFields": [{"manager": "rekube", "operation": "Apply"}],
                "labels": {"applyset.kubernetes.io/part-of": "applyset-abc-v1"},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{}",
                    "rekube.dev/source": "apps/web/settings.yaml#0",
                    "rekube.dev/revision": "0123abcd",
                    "rekube.dev/digest": "sha256:00",
                },
            },
            "data": {"mode": "fast"},
            "status": {"ignored": true},
        })
    }

    #[test]
    fn removes_what_the_server_and_rekube_add() {
        let cases = [
            (
                "server fields, status and provenance go; part-of stays",
                live(),
                json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "settings", "namespace": "web", "labels": {"applyset.kubernetes.io/part-of": "applyset-abc-v1"}},
                    "data": {"mode": "fast"},
                }),
            ),
            (
                "a user annotation is kept",
                json!({"metadata": {"name": "a", "annotations": {"team": "core", "rekube.dev/digest": "x"}}}),
                json!({"metadata": {"name": "a", "annotations": {"team": "core"}}}),
            ),
            (
                "maps left empty are removed",
                json!({"metadata": {"name": "a", "labels": {}, "annotations": {"rekube.dev/source": "x"}}}),
                json!({"metadata": {"name": "a"}}),
            ),
            ("not an object", json!("text"), json!("text")),
        ];
        for (name, input, want) in cases {
            assert_eq!(normalize(&input), want, "{name}");
            assert_eq!(normalize(&normalize(&input)), want, "{name}: idempotent");
        }
    }

    #[test]
    fn digest_ignores_key_order_and_server_fields() {
        let a = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "settings", "namespace": "web"}, "data": {"b": "2", "a": "1"}});
        let b = json!({"apiVersion": "v1", "data": {"a": "1", "b": "2"}, "kind": "ConfigMap", "metadata": {"namespace": "web", "name": "settings", "uid": "x"}});
        assert_eq!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
        let c = json!({"apiVersion": "v1", "data": {"a": "1", "b": "3"}, "kind": "ConfigMap", "metadata": {"namespace": "web", "name": "settings"}});
        assert_ne!(digest(&a), digest(&c));
        // Pinned: a change of the canonical form would change every annotation in every cluster.
        assert_eq!(
            canonical(&a).to_string(),
            r#"{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"name":"settings","namespace":"web"}}"#
        );
    }
}
