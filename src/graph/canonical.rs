//! Canonical JSON (object keys sorted, no whitespace) hashed with SHA-256: the same object gives the same
//! digest whatever the key order of the file it came from.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// `sha256:<hex>` of the canonical JSON of `value`.
pub fn digest(value: &Value) -> String {
    let mut hasher = Sha256::new();
    write(value, &mut hasher);
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Feeds the canonical JSON of `value` to `hasher` without building the string.
pub fn write(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                write_string(k, hasher);
                hasher.update(b":");
                if let Some(v) = map.get(k) {
                    write(v, hasher);
                }
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                write(v, hasher);
            }
            hasher.update(b"]");
        }
        Value::String(s) => write_string(s, hasher),
        // null, booleans and numbers print the same whatever the map order.
        other => hasher.update(other.to_string().as_bytes()),
    }
}

fn write_string(s: &str, hasher: &mut Sha256) {
    // Serialising a &str cannot fail; an empty string would still be distinct from any other value.
    let quoted = serde_json::to_string(s).unwrap_or_default();
    hasher.update(quoted.as_bytes());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_order_does_not_matter() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,"x"],"x":null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,"x"]},"b":1}"#).unwrap();
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(
            digest(&a),
            digest(&json!({"b": 2, "a": {"x": null, "y": [1, "x"]}}))
        );
    }

    #[test]
    fn array_order_matters() {
        assert_ne!(digest(&json!([1, 2])), digest(&json!([2, 1])));
    }
}
