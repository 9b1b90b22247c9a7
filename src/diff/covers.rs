//! The no-op fast path: does the live object already hold every value the desired object sets?
//!
//! When the desired object is unchanged since rekube last applied it (same `rekube.dev/digest`) and the
//! live object still holds every value it sets, a server-side apply would change nothing: the dry-run can
//! be skipped. Anything this check cannot prove equal (a value changed or removed by hand, a list of another
//! length, a quantity the server reformatted) answers `false`, and the caller falls back to the dry-run, so
//! a `false` is never wrong, only slower.

use base64::Engine;
use serde_json::Value;

use crate::builtin::is_secret;
use crate::keys::{ANNOTATION_REVISION, POINTER_DIGEST};

/// The no-op test for an object as rekube applies it (`desired` carries the provenance annotations):
/// the live object was applied from the same desired object (equal `rekube.dev/digest`) and still holds
/// every value it sets. The revision annotation is not compared: a new commit that leaves the object as it
/// was is not a change.
pub fn in_sync(live: &Value, desired: &Value) -> bool {
    let digest = desired.pointer(POINTER_DIGEST);
    if digest.is_none() || live.pointer(POINTER_DIGEST) != digest {
        return false;
    }
    let mut desired = desired.clone();
    if let Some(a) = desired
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(ANNOTATION_REVISION);
    }
    covers(live, &desired)
}

/// True when every value set in `desired` is present and equal in `live` (lists must match item for item).
pub fn covers(live: &Value, desired: &Value) -> bool {
    if is_secret(desired)
        && let Some(d) = with_string_data_encoded(desired)
    {
        return subset(live, &d);
    }
    subset(live, desired)
}

fn subset(live: &Value, desired: &Value) -> bool {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => d.iter().all(|(k, dv)| match l.get(k) {
            Some(lv) => subset(lv, dv),
            // Explicit nulls and empty maps/lists set nothing.
            None => is_empty(dv),
        }),
        (Value::Array(l), Value::Array(d)) => {
            l.len() == d.len() && l.iter().zip(d).all(|(lv, dv)| subset(lv, dv))
        }
        (Value::Number(l), Value::Number(d)) => l.as_f64() == d.as_f64(),
        (l, d) => l == d || d.is_null(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().all(is_empty),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `stringData` is write-only: the server stores it base64-encoded under `data`. Compare it that way.
fn with_string_data_encoded(desired: &Value) -> Option<Value> {
    let string_data = desired.get("stringData")?.as_object()?;
    let mut out = desired.clone();
    let obj = out.as_object_mut()?;
    obj.remove("stringData");
    let data = obj
        .entry("data")
        .or_insert_with(|| Value::Object(serde_json::Map::new()))
        .as_object_mut()?;
    for (k, v) in string_data {
        let s = v.as_str()?;
        data.insert(
            k.clone(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(s)),
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cases() {
        let desired = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}});
        let live = json!({"spec": {"replicas": 2, "progressDeadlineSeconds": 600, "template": {"spec": {"containers": [{"name": "a", "image": "x:1", "imagePullPolicy": "IfNotPresent"}]}}}, "status": {}});
        let cases = [
            (
                "server defaults are extra, not differences",
                live.clone(),
                desired.clone(),
                true,
            ),
            (
                "a changed value",
                json!({"spec": {"replicas": 3}}),
                json!({"spec": {"replicas": 2}}),
                false,
            ),
            (
                "a removed value",
                json!({"spec": {}}),
                json!({"spec": {"replicas": 2}}),
                false,
            ),
            (
                "a list of another length",
                json!({"a": [1, 2]}),
                json!({"a": [1]}),
                false,
            ),
            (
                "an empty map sets nothing",
                json!({}),
                json!({"resources": {}}),
                true,
            ),
            (
                "integers and floats compare by value",
                json!({"a": 1.0}),
                json!({"a": 1}),
                true,
            ),
            (
                "a reformatted quantity is not proven equal",
                json!({"cpu": "500m"}),
                json!({"cpu": "0.5"}),
                false,
            ),
        ];
        for (name, live, desired, want) in cases {
            assert_eq!(covers(&live, &desired), want, "{name}");
        }
    }

    #[test]
    fn in_sync_needs_the_same_digest_and_ignores_the_revision() {
        let desired = json!({"metadata": {"name": "a", "annotations": {"rekube.dev/digest": "d1", "rekube.dev/revision": "new"}}, "data": {"k": "v"}});
        let live = json!({"metadata": {"name": "a", "uid": "u", "annotations": {"rekube.dev/digest": "d1", "rekube.dev/revision": "old"}}, "data": {"k": "v"}});
        assert!(in_sync(&live, &desired));
        let edited = json!({"metadata": {"name": "a", "annotations": {"rekube.dev/digest": "d1"}}, "data": {"k": "changed"}});
        assert!(!in_sync(&edited, &desired), "a value changed by hand");
        let older = json!({"metadata": {"name": "a", "annotations": {"rekube.dev/digest": "d0"}}, "data": {"k": "v"}});
        assert!(
            !in_sync(&older, &desired),
            "Git changed since the last apply"
        );
    }

    #[test]
    fn secret_string_data_compares_as_data() {
        let desired =
            json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"token": "hunter2"}});
        let live = json!({"apiVersion": "v1", "kind": "Secret", "data": {"token": "aHVudGVyMg=="}, "type": "Opaque"});
        assert!(covers(&live, &desired));
        let other = json!({"apiVersion": "v1", "kind": "Secret", "data": {"token": "b3RoZXI="}});
        assert!(!covers(&other, &desired));
    }
}
