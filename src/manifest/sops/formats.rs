//! sops's file formats, for the files a `secretGenerator` reads: YAML, JSON, dotenv (metadata
//! flattened into `sops_*` keys) and binary (a JSON envelope whose `data` is the file). Each is
//! decrypted with its MAC verified and written back in its own format.

use serde_json::{Map, Value};

use super::file::yaml12_values;
use super::keys::AgeKeys;
use super::metadata::Metadata;
use super::tree;
use super::{SopsError, cipher};
use crate::manifest::documents::{self, Origin};

/// How sops stored a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// Flux's `formatForPath`.
    pub fn for_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        match lower.rsplit_once('.').map(|(_, e)| e) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// sops's marker bytes of an encrypted file of this format.
    pub fn is_encrypted(self, bytes: &[u8]) -> bool {
        let marker: &[u8] = match self {
            Format::Yaml => b"mac: ENC[",
            Format::Json | Format::Binary => b"\"mac\": \"ENC[",
            Format::Dotenv => b"sops_mac=ENC[",
            Format::Ini => b"[sops]",
        };
        bytes.windows(marker.len()).any(|w| w == marker)
    }
}

/// The plaintext of a sops file, in its own format (MAC verified).
///
/// # Errors
/// No usable key, a tampered file, or a format rekube does not read (INI).
pub fn decrypt(text: &str, format: Format, keys: &AgeKeys) -> Result<String, SopsError> {
    match format {
        Format::Ini => Err(SopsError::Unsupported(
            "INI files: store the secret as YAML, JSON, dotenv or binary".into(),
        )),
        Format::Dotenv => {
            let (items, meta) = parse_dotenv(text)?;
            let doc = Value::Object(items);
            let opened = open(&[&doc], &meta, keys)?;
            let mut plain = doc;
            apply(&mut plain, opened.into_iter().next().unwrap_or_default());
            let mut out = String::new();
            for (k, v) in plain.as_object().into_iter().flatten() {
                let v = match v {
                    Value::String(s) => s.replace('\n', "\\n"),
                    other => cipher::mac_bytes(other)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                };
                out.push_str(&format!("{k}={v}\n"));
            }
            Ok(out)
        }
        Format::Json | Format::Binary => {
            let docs = documents::parse_json_documents(text, "")
                .0
                .into_iter()
                .map(|d| d.value)
                .collect::<Vec<_>>();
            let doc = docs
                .first()
                .ok_or(SopsError::Metadata("empty file".into()))?;
            let meta = Metadata::parse(doc.get("sops").unwrap_or(&Value::Null))?;
            let opened = open(&[doc], &meta, keys)?;
            let mut plain = doc.clone();
            apply(&mut plain, opened.into_iter().next().unwrap_or_default());
            if let Value::Object(m) = &mut plain {
                m.shift_remove("sops");
            }
            if format == Format::Binary {
                return match plain.get("data") {
                    Some(Value::String(s)) => Ok(s.clone()),
                    _ => Err(SopsError::Metadata(
                        "a binary file needs a string `data`".into(),
                    )),
                };
            }
            serde_json::to_string_pretty(&plain).map_err(|e| SopsError::Metadata(e.to_string()))
        }
        Format::Yaml => {
            let docs: Vec<Value> = documents::parse_yaml_documents(text, "", Origin::File)
                .0
                .into_iter()
                .map(|d| d.value)
                .collect();
            let strict: Vec<Value> = yaml12_values(text).into_iter().flatten().collect();
            let originals: Vec<&Value> = if strict.len() == docs.len() {
                strict.iter().collect()
            } else {
                docs.iter().collect()
            };
            let first = docs
                .first()
                .ok_or(SopsError::Metadata("empty file".into()))?;
            let meta = Metadata::parse(first.get("sops").unwrap_or(&Value::Null))?;
            let opened = open(&originals, &meta, keys)?;
            let mut out = String::new();
            for (mut doc, leaves) in docs.into_iter().zip(opened) {
                apply(&mut doc, leaves);
                if let Value::Object(m) = &mut doc {
                    m.shift_remove("sops");
                }
                if !out.is_empty() {
                    out.push_str("---\n");
                }
                out.push_str(
                    &serde_saphyr::to_string(&doc)
                        .map_err(|e| SopsError::Metadata(e.to_string()))?,
                );
            }
            Ok(out)
        }
    }
}

type Leaves = Vec<(Vec<tree::Step>, Value)>;

fn open(docs: &[&Value], meta: &Metadata, keys: &AgeKeys) -> Result<Vec<Leaves>, SopsError> {
    let key = cipher::data_key(meta, keys)?;
    Ok(tree::open(docs, meta, &key)?.documents)
}

fn apply(doc: &mut Value, leaves: Leaves) {
    for (pointer, value) in leaves {
        tree::set(doc, &pointer, value);
    }
}

/// sops's dotenv store: `KEY=VALUE` lines (`\n` escaped), `#` comments, metadata flattened into
/// `sops_*` keys (`sops_age__list_0__map_enc`).
fn parse_dotenv(text: &str) -> Result<(Map<String, Value>, Metadata), SopsError> {
    let mut items = Map::new();
    let mut sops = Value::Object(Map::new());
    for line in text.split('\n') {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or(SopsError::Metadata("a dotenv line without `=`".into()))?;
        let value = Value::String(value.replace("\\n", "\n"));
        match key.strip_prefix("sops_") {
            Some(path) => place(&mut sops, path, value),
            None => {
                items.insert(key.to_string(), value);
            }
        }
    }
    Ok((items, Metadata::parse(&sops)?))
}

/// Puts `value` at a flattened path (`age__list_0__map_enc`) of `root`.
fn place(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut rest = path;
    let first_end = rest.find("__").unwrap_or(rest.len());
    let mut step = tree::Step::Key(rest[..first_end].to_string());
    rest = &rest[first_end..];
    loop {
        let next = if let Some(r) = rest.strip_prefix("__map_") {
            let end = r.find("__").unwrap_or(r.len());
            rest = &r[end..];
            Some(tree::Step::Key(r[..end].to_string()))
        } else if let Some(r) = rest.strip_prefix("__list_") {
            let end = r.find("__").unwrap_or(r.len());
            let index = r[..end].parse().unwrap_or(0);
            rest = &r[end..];
            Some(tree::Step::Index(index))
        } else {
            None
        };
        let child = match (&step, &next) {
            (_, None) => value.clone(),
            (_, Some(tree::Step::Index(_))) => Value::Array(Vec::new()),
            (_, Some(tree::Step::Key(_))) => Value::Object(Map::new()),
        };
        node = match step {
            tree::Step::Key(k) => {
                let Some(map) = node.as_object_mut() else {
                    return;
                };
                if next.is_none() {
                    map.insert(k, value);
                    return;
                }
                map.entry(k).or_insert(child)
            }
            tree::Step::Index(i) => {
                let Some(list) = node.as_array_mut() else {
                    return;
                };
                while list.len() <= i {
                    list.push(child.clone());
                }
                if next.is_none() {
                    list[i] = value;
                    return;
                }
                &mut list[i]
            }
        };
        match next {
            Some(s) => step = s,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_metadata_unflattens() {
        let mut root = Value::Object(Map::new());
        place(&mut root, "age__list_0__map_recipient", "age1x".into());
        place(&mut root, "age__list_0__map_enc", "E".into());
        place(&mut root, "mac", "M".into());
        assert_eq!(
            root,
            serde_json::json!({"age": [{"recipient": "age1x", "enc": "E"}], "mac": "M"})
        );
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::for_path("a.YAML"), Format::Yaml);
        assert_eq!(Format::for_path("x.env"), Format::Dotenv);
        assert_eq!(Format::for_path("tls.key"), Format::Binary);
        assert!(Format::Dotenv.is_encrypted(b"A=1\nsops_mac=ENC[x]\n"));
    }
}
