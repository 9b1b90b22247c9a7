//! The desired object as rekube writes it: the repository's object plus provenance annotations and
//! inventory labels.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::keys::{ANNOTATION_DIGEST, ANNOTATION_REVISION, ANNOTATION_SOURCE};
use crate::object::Object;

/// The body to apply: `obj.body` with provenance annotations and `labels` added.
pub fn desired(obj: &Object, revision: Option<&str>, labels: &BTreeMap<String, String>) -> Value {
    let mut body = obj.body.clone();
    let digest = crate::diff::digest(&obj.body);
    let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
        return body;
    };
    let labels = labels.iter().map(|(k, v)| (k.clone(), v.clone()));
    insert_all(meta, "labels", labels);
    let mut annotations = vec![(ANNOTATION_SOURCE.to_string(), obj.source.annotation())];
    if let Some(rev) = revision {
        annotations.push((ANNOTATION_REVISION.to_string(), rev.to_string()));
    }
    annotations.push((ANNOTATION_DIGEST.to_string(), digest));
    insert_all(meta, "annotations", annotations);
    body
}

/// Inserts string pairs into `metadata.<key>`, creating (or replacing a non-map) as needed.
fn insert_all(
    meta: &mut Map<String, Value>,
    key: &str,
    pairs: impl IntoIterator<Item = (String, String)>,
) {
    let mut map = match meta.remove(key) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    map.extend(pairs.into_iter().map(|(k, v)| (k, Value::String(v))));
    if !map.is_empty() {
        meta.insert(key.to_string(), Value::Object(map));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{ObjectId, SourceLoc};
    use serde_json::json;

    #[test]
    fn adds_provenance_and_labels() {
        let obj = Object {
            id: ObjectId::new("", "ConfigMap", Some("a"), "c"),
            api_version: "v1".into(),
            body: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a", "labels": null}}),
            source: SourceLoc {
                layer: "apps".into(),
                path: "apps/c.yaml".into(),
                line: 1,
                document: 0,
            },
        };
        let labels = BTreeMap::from([(
            "applyset.kubernetes.io/part-of".to_string(),
            "x".to_string(),
        )]);
        let d = desired(&obj, Some("abc"), &labels);
        assert_eq!(
            d["metadata"]["annotations"][ANNOTATION_SOURCE],
            "apps/apps/c.yaml#0"
        );
        assert_eq!(d["metadata"]["annotations"][ANNOTATION_REVISION], "abc");
        assert_eq!(
            d["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
            "x"
        );
        assert_eq!(
            d["metadata"]["annotations"][ANNOTATION_DIGEST],
            crate::diff::digest(&obj.body)
        );
    }
}
