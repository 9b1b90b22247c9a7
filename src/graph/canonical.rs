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

/// Feeds the canonical JSON of `value` to `hasher`. The text is built in one buffer and hashed at once:
/// one hasher update per token cost more than the hashing itself.
pub fn write(value: &Value, hasher: &mut Sha256) {
    let mut buf = Vec::with_capacity(1024);
    write_json(value, &mut buf);
    hasher.update(&buf);
}

/// The canonical JSON of `value`: object keys sorted, no whitespace.
fn write_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_scalar(k, out);
                out.push(b':');
                write_json(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(v, out);
            }
            out.push(b']');
        }
        // Strings, null, booleans and numbers print as serde_json prints them.
        other => write_scalar(other, out),
    }
}

fn write_scalar<T: serde::Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) {
    // Writing a string or a scalar into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
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
    fn digest_is_of_the_canonical_text() {
        // Pinned: plan digests recorded anywhere stay valid whatever the implementation.
        let v = json!({"c": true, "b": 1.5, "a": {"y": [1, "x\"\u{e9}"], "x": null}});
        assert_eq!(
            digest(&v),
            "sha256:9b59024009c938a7598daede14594b25da3ca661a98603760007f4ef20b80cdb"
        );
    }

    #[test]
    fn array_order_matters() {
        assert_ne!(digest(&json!([1, 2])), digest(&json!([2, 1])));
    }
}
