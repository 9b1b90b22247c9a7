//! Walking documents the way sops does (sops.go `walkBranch`): mapping values in order with the keys
//! leading to them as the path, list items under their list's path, nulls skipped, the top-level
//! `sops` mapping left out. Which leaves are encrypted follows the [`Rules`]; the MAC is SHA-512 over
//! the leaves' bytes in walk order, across every document of the file.

use serde_json::Value;
use sha2::{Digest, Sha512};

use super::SopsError;
use super::cipher::{self, DataKey, Plain};
use super::metadata::{Metadata, Rules};

/// sops.go `MACOnlyEncryptedInitialization`: sha256("sops"), hashed first when only encrypted values
/// are covered, so the two kinds of MAC never match each other.
pub(super) const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// One step of a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A scalar of a document, in walk order.
#[derive(Debug)]
pub struct Leaf<'a> {
    /// Where it is (keys and list indices).
    pub pointer: Vec<Step>,
    /// The mapping keys leading to it: sops's path, the additional data of its encryption.
    pub path: Vec<&'a str>,
    pub value: &'a Value,
    pub encrypted: bool,
}

impl Leaf<'_> {
    /// sops's additional data: the keys joined and ended with `:`.
    pub fn aad(&self) -> String {
        let mut aad = self.path.join(":");
        aad.push(':');
        aad
    }
}

/// The leaves of `doc` in sops's order, each classified by `rules`.
pub fn leaves<'a>(doc: &'a Value, rules: &Rules) -> Vec<Leaf<'a>> {
    let mut out = Vec::new();
    if let Value::Object(map) = doc {
        for (key, value) in map {
            if key != "sops" {
                walk(
                    value,
                    vec![Step::Key(key.clone())],
                    vec![key],
                    rules,
                    &mut out,
                );
            }
        }
    }
    out
}

fn walk<'a>(
    value: &'a Value,
    pointer: Vec<Step>,
    path: Vec<&'a str>,
    rules: &Rules,
    out: &mut Vec<Leaf<'a>>,
) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, child) in map {
                let mut p = pointer.clone();
                p.push(Step::Key(key.clone()));
                let mut keys = path.clone();
                keys.push(key);
                walk(child, p, keys, rules, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let mut p = pointer.clone();
                p.push(Step::Index(i));
                walk(item, p, path.clone(), rules, out);
            }
        }
        _ => out.push(Leaf {
            encrypted: rules.encrypted(&path),
            pointer,
            path,
            value,
        }),
    }
}

/// What decrypting the documents of one sops tree gave: per document, the decrypted leaves.
#[derive(Default)]
pub struct Opened {
    pub documents: Vec<Vec<(Vec<Step>, Value)>>,
}

/// Decrypts every encrypted leaf of `docs` (one sops tree: the documents of a file sharing one
/// metadata) and verifies the MAC over them all.
///
/// # Errors
/// A value that does not decrypt (named by its path, never its content) or a MAC mismatch.
pub fn open(docs: &[&Value], meta: &Metadata, key: &DataKey) -> Result<Opened, SopsError> {
    let mut hash = Sha512::new();
    if meta.rules.mac_only_encrypted {
        hash.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    let mut opened = Opened::default();
    for doc in docs {
        let mut decrypted = Vec::new();
        for leaf in leaves(doc, &meta.rules) {
            let value = if leaf.encrypted {
                let Value::String(sealed) = leaf.value else {
                    return Err(SopsError::NotEncrypted(dotted(&leaf.path)));
                };
                if sealed.is_empty() {
                    Some(Value::String(String::new()))
                } else {
                    match cipher::decrypt(sealed, key, &leaf.aad()) {
                        Ok(Plain::Value(v)) => Some(v),
                        Ok(Plain::Comment) => None,
                        Err(e) => return Err(SopsError::Value(dotted(&leaf.path), Box::new(e))),
                    }
                }
            } else {
                Some(leaf.value.clone())
            };
            let Some(value) = value else { continue };
            if (!meta.rules.mac_only_encrypted || leaf.encrypted)
                && let Some(bytes) = cipher::mac_bytes(&value)
            {
                hash.update(&bytes);
            }
            if leaf.encrypted {
                decrypted.push((leaf.pointer, value));
            }
        }
        opened.documents.push(decrypted);
    }
    let computed = hex::encode_upper(hash.finalize());
    if cipher::stored_mac(meta, key)? != computed {
        return Err(SopsError::MacMismatch);
    }
    Ok(opened)
}

/// `data.password`, for messages (sops's path, without list positions).
pub fn dotted(path: &[&str]) -> String {
    path.join(".")
}

/// RFC 6901 form of a pointer.
pub fn pointer_string(pointer: &[Step]) -> String {
    let mut out = String::new();
    for step in pointer {
        out.push('/');
        match step {
            Step::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

/// Writes `value` at `pointer` of `doc`; false when the pointer does not exist.
pub fn set(doc: &mut Value, pointer: &[Step], value: Value) -> bool {
    match doc.pointer_mut(&pointer_string(pointer)) {
        Some(slot) => {
            *slot = value;
            true
        }
        None => false,
    }
}

/// Identity fields: never masked, whatever sops encrypted (they name the object everywhere).
fn is_identity(pointer: &[Step]) -> bool {
    let key = |i: usize| match pointer.get(i) {
        Some(Step::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    match pointer.len() {
        1 => matches!(key(0), Some("apiVersion" | "kind")),
        2 => key(0) == Some("metadata") && matches!(key(1), Some("name" | "namespace")),
        _ => false,
    }
}

/// The fields to mask in diffs: the shallowest pointers under which every leaf was encrypted
/// (`/data` for a Secret encrypted with `encrypted_regex: ^(data|stringData)$`), identity fields
/// excepted. Keys holding a comma are masked through their parent, so the list stays comma-separated.
pub fn sensitive(doc: &Value, encrypted: &[Vec<Step>]) -> Vec<String> {
    let set: std::collections::BTreeSet<&[Step]> = encrypted.iter().map(Vec::as_slice).collect();
    let mut out = Vec::new();
    if let Value::Object(map) = doc {
        for (key, value) in map {
            if key != "sops" {
                collect(value, &mut vec![Step::Key(key.clone())], &set, &mut out);
            }
        }
    }
    out
}

/// Returns whether every leaf under `pointer` is encrypted (`None`: no leaf at all).
fn collect(
    value: &Value,
    pointer: &mut Vec<Step>,
    set: &std::collections::BTreeSet<&[Step]>,
    out: &mut Vec<String>,
) -> Option<bool> {
    let children: Vec<(Step, &Value)> = match value {
        Value::Null => return None,
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Step::Index(i), v))
            .collect(),
        _ => {
            let encrypted = set.contains(pointer.as_slice()) && !is_identity(pointer);
            if encrypted {
                out.push(pointer_string(pointer));
            }
            return Some(encrypted);
        }
    };
    let start = out.len();
    let mut all = None;
    let mut comma = false;
    for (step, child) in children {
        comma |= matches!(&step, Step::Key(k) if k.contains(','));
        pointer.push(step);
        let r = collect(child, pointer, set, out);
        pointer.pop();
        all = match (all, r) {
            (None, r) => r,
            (a, None) => a,
            (Some(a), Some(b)) => Some(a && b),
        };
    }
    if all == Some(true) || (comma && out.len() > start) {
        out.truncate(start);
        out.push(pointer_string(pointer));
    }
    all
}

/// The value a validator can check in place of a sealed one (`plan` reads objects without keys):
/// the type sops recorded, empty.
pub fn placeholder(sealed: &str) -> Value {
    let kind = sealed
        .rsplit_once(",type:")
        .map_or("str", |(_, k)| k.trim_end_matches(']'));
    match kind {
        "int" => Value::from(0),
        "float" => Value::from(0.0),
        "bool" => Value::Bool(false),
        _ => Value::String(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walk_order_paths_and_pointers() {
        let doc = json!({"kind": "X", "sops": {"mac": "m"}, "data": {"a": "1", "l": ["x", {"b": 2}, null]}});
        let rules = Rules::default();
        let got: Vec<(String, String, String)> = leaves(&doc, &rules)
            .iter()
            .map(|l| (pointer_string(&l.pointer), l.aad(), l.value.to_string()))
            .collect();
        let want = [
            ("/kind", "kind:", "\"X\""),
            ("/data/a", "data:a:", "\"1\""),
            ("/data/l/0", "data:l:", "\"x\""),
            ("/data/l/1/b", "data:l:b:", "2"),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sensitive_fields_collapse_and_spare_identity() {
        let p = |s: &[&str]| {
            s.iter()
                .map(|k| Step::Key(k.to_string()))
                .collect::<Vec<_>>()
        };
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}}, "data": {"x": "1", "y": "2"}});
        let everything = [
            p(&["apiVersion"]),
            p(&["kind"]),
            p(&["metadata", "name"]),
            p(&["metadata", "labels", "a"]),
            p(&["data", "x"]),
            p(&["data", "y"]),
        ];
        assert_eq!(sensitive(&doc, &everything), ["/metadata/labels", "/data"]);
        assert_eq!(sensitive(&doc, &[p(&["data", "x"])]), ["/data/x"]);
        let comma = json!({"data": {"a,b": "1", "c": "2"}});
        assert_eq!(sensitive(&comma, &[p(&["data", "a,b"])]), ["/data"]);
    }

    #[test]
    fn placeholders_keep_the_type() {
        assert_eq!(
            placeholder("ENC[AES256_GCM,data:x,iv:y,tag:z,type:int]"),
            json!(0)
        );
        assert_eq!(
            placeholder("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"),
            json!("")
        );
    }
}
