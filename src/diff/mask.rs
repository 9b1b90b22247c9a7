//! Secret masking, with kubectl diff's convention: `***` when a value is the same on both sides,
//! `*** (before)` / `*** (after)` when it changed.
//!
//! Why not a hash of each value (`sha256:abcd…`), which would also show changes? A digest of a
//! secret, even truncated, lets anyone who reads a CI log confirm a guess of a low-entropy secret
//! offline. kubectl's markers say only "changed or not", which the diff must say anyway, and they are
//! what users already know from `kubectl diff`.

use serde_json::{Map, Value};

use crate::builtin::is_secret;
use crate::manifest::sops;

/// Shown for a value that is the same on both sides, or exists on one side only.
pub const MASK: &str = "***";
/// Shown on the live side for a value that changed.
pub const MASK_BEFORE: &str = "*** (before)";
/// Shown on the desired side for a value that changed.
pub const MASK_AFTER: &str = "*** (after)";

/// The fields of a Secret that hold secret values.
const SECRET_FIELDS: [&str; 2] = ["data", "stringData"];

/// One object on its own: every value of a Secret's `data` and `stringData`, and of the fields an
/// object decrypted from SOPS lists in its `rekube.dev/sops` annotation, becomes [`MASK`] (keys stay
/// visible). Other objects are returned unchanged.
pub fn mask_secrets(obj: &Value) -> Value {
    mask_pair(Some(obj), None).0.unwrap_or_else(|| obj.clone())
}

/// Both sides of a diff, so that a changed value still shows as changed: values equal on both
/// sides become [`MASK`], values that differ [`MASK_BEFORE`] and [`MASK_AFTER`], values on one side
/// only [`MASK`]. A side that is not a Secret is returned unchanged.
pub fn mask_pair(before: Option<&Value>, after: Option<&Value>) -> (Option<Value>, Option<Value>) {
    let mut b = before.cloned();
    let mut a = after.cloned();
    let secret_before = before.filter(|v| is_secret(v));
    let secret_after = after.filter(|v| is_secret(v));
    for field in SECRET_FIELDS {
        let old = secret_before
            .and_then(|v| v.get(field))
            .and_then(Value::as_object);
        let new = secret_after
            .and_then(|v| v.get(field))
            .and_then(Value::as_object);
        if let Some(Value::Object(map)) = b
            .as_mut()
            .filter(|v| is_secret(v))
            .and_then(|v| v.get_mut(field))
        {
            mask_map(map, new, MASK_BEFORE);
        }
        if let Some(Value::Object(map)) = a
            .as_mut()
            .filter(|v| is_secret(v))
            .and_then(|v| v.get_mut(field))
        {
            mask_map(map, old, MASK_AFTER);
        }
    }
    // Fields that came from SOPS (any kind of object): the annotation lists them, on either side.
    let mut fields = before.map(sops::sensitive_fields).unwrap_or_default();
    fields.extend(after.map(sops::sensitive_fields).unwrap_or_default());
    fields.sort();
    fields.dedup();
    for pointer in fields {
        let old = before.and_then(|v| v.pointer(&pointer)).cloned();
        let new = after.and_then(|v| v.pointer(&pointer)).cloned();
        if let Some(v) = b.as_mut().and_then(|v| v.pointer_mut(&pointer)) {
            mask_tree(v, new.as_ref(), MASK_BEFORE);
        }
        if let Some(v) = a.as_mut().and_then(|v| v.pointer_mut(&pointer)) {
            mask_tree(v, old.as_ref(), MASK_AFTER);
        }
    }
    (b, a)
}

/// Masks every scalar under `value` (keys and list shapes stay); `other` is the other side's value at
/// the same place, to tell changed scalars.
fn mask_tree(value: &mut Value, other: Option<&Value>, changed: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                mask_tree(child, other.and_then(|o| o.get(key)), changed);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                mask_tree(child, other.and_then(|o| o.get(i)), changed);
            }
        }
        Value::Null => {}
        scalar => {
            let marker = match other {
                Some(theirs) if theirs != scalar => changed,
                _ => MASK,
            };
            *scalar = Value::String(marker.to_string());
        }
    }
}

/// Masks every value of `map`; `changed` marks those that differ from the other side's.
fn mask_map(map: &mut Map<String, Value>, other: Option<&Map<String, Value>>, changed: &str) {
    for (key, value) in map.iter_mut() {
        let marker = match other.and_then(|o| o.get(key)) {
            Some(theirs) if theirs != value => changed,
            _ => MASK,
        };
        *value = Value::String(marker.to_string());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque", "data": data})
    }

    #[test]
    fn pairs_show_what_changed_and_nothing_else() {
        let before = secret(json!({"user": "YWRtaW4=", "password": "b2xk", "gone": "eA=="}));
        let after = secret(json!({"user": "YWRtaW4=", "password": "bmV3", "added": "eQ=="}));
        let (b, a) = mask_pair(Some(&before), Some(&after));
        assert_eq!(
            b.unwrap()["data"],
            json!({"user": "***", "password": "*** (before)", "gone": "***"})
        );
        assert_eq!(
            a.unwrap()["data"],
            json!({"user": "***", "password": "*** (after)", "added": "***"})
        );
    }

    #[test]
    fn fields_decrypted_from_sops_are_masked_in_any_kind() {
        let cm = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"rekube.dev/sops": "/data,/metadata/labels"}, "labels": {"tier": "x"}}, "data": {"a": v, "same": "s", "nested": {"k": [v]}}});
        let (b, a) = mask_pair(Some(&cm("old")), Some(&cm("new")));
        let (b, a) = (b.unwrap(), a.unwrap());
        assert_eq!(
            a["data"],
            json!({"a": "*** (after)", "same": "***", "nested": {"k": ["*** (after)"]}})
        );
        assert_eq!(b["data"]["a"], "*** (before)");
        assert_eq!(a["metadata"]["labels"]["tier"], "***");
        assert_eq!(a["metadata"]["name"], "c");
        assert_eq!(mask_secrets(&cm("v"))["data"]["a"], "***");
    }

    #[test]
    fn cases() {
        let cases = [
            (
                "single object: data and stringData",
                mask_secrets(
                    &json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": "eA=="}, "stringData": {"b": "y"}}),
                ),
                json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": "***"}, "stringData": {"b": "***"}}),
            ),
            (
                "a ConfigMap is not masked",
                mask_secrets(&json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "x"}})),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "x"}}),
            ),
            (
                "a custom kind named Secret is not masked",
                mask_secrets(
                    &json!({"apiVersion": "example.com/v1", "kind": "Secret", "data": {"a": "x"}}),
                ),
                json!({"apiVersion": "example.com/v1", "kind": "Secret", "data": {"a": "x"}}),
            ),
            (
                "created secret",
                mask_pair(None, Some(&secret(json!({"a": "eA=="}))))
                    .1
                    .unwrap(),
                secret(json!({"a": "***"})),
            ),
            (
                "deleted secret",
                mask_pair(Some(&secret(json!({"a": "eA=="}))), None)
                    .0
                    .unwrap(),
                secret(json!({"a": "***"})),
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, want, "{name}");
        }
    }
}
