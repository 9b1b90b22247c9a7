//! Objects out of `kustomize build` that still carry their `sops` mapping (encrypted resources pass
//! through Kustomize untouched, as in Flux).
//!
//! Kustomize rewrites objects (namespace, labels, name prefixes), so the MAC cannot be checked on its
//! output: Flux skips the check there. rekube checks the file instead: the object's MAC names the
//! repository file it came from (the stored MAC is unique to one encryption), that file is opened and
//! its MAC verified, and every encrypted value of the object must be one of that file's, at the same
//! path. Values Kustomize added in plain text (a namespace) are kept as they are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::cipher::{self, DataKey, Plain};
use super::file::{Pass, seal_document};
use super::keys::AgeKeys;
use super::metadata::Metadata;
use super::tree;
use super::{Prepared, Redactor, SopsError, annotate, identity_label, is_sops_document};
use crate::manifest::diagnostics::Diagnostic;
use crate::manifest::documents::{self, Doc, Origin};

/// Encrypted files of the repository, found by their MAC; opened at most once.
pub struct Sources {
    root: PathBuf,
    max_file_size: u64,
    /// MAC → file (relative path), built on first use.
    index: Option<BTreeMap<String, String>>,
    opened: BTreeMap<String, Result<Verified, String>>,
}

/// A file whose MAC was verified: its data key and its encrypted values by path.
struct Verified {
    rel: String,
    key: DataKey,
    /// `(additional data, ENC[…])` of every encrypted value.
    sealed: BTreeSet<(String, String)>,
}

impl Sources {
    pub fn new(root: &Path, max_file_size: u64) -> Sources {
        Sources {
            root: root.to_path_buf(),
            max_file_size,
            index: None,
            opened: BTreeMap::new(),
        }
    }

    fn verified(&mut self, mac: &str, keys: &AgeKeys) -> Result<&Verified, String> {
        if !self.opened.contains_key(mac) {
            let index = self
                .index
                .get_or_insert_with(|| build_index(&self.root, self.max_file_size));
            let result = match index.get(mac) {
                None => Err("it comes from no SOPS file of the repository (its sops.mac matches none): \
                     encrypted objects must be files of the repository, encrypted by sops as they are"
                    .to_string()),
                Some(rel) => verify_file(&self.root, rel, mac, keys, self.max_file_size),
            };
            self.opened.insert(mac.to_string(), result);
        }
        match self.opened.get(mac) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => Err("internal: source not recorded".into()),
        }
    }
}

/// The pass over the objects Kustomize rendered for the folder `rel`.
pub fn prepare(
    docs: Vec<Doc>,
    rel: &str,
    pass: Pass<'_>,
    sources: &mut Sources,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<Prepared> {
    let mut out = Vec::new();
    for doc in docs {
        if !is_sops_document(&doc.value) {
            out.push(Prepared::plain(doc));
            continue;
        }
        match pass {
            Pass::Seal => out.extend(seal_document(doc, rel, warnings)),
            Pass::Decrypt(keys) => match decrypt(doc.value.clone(), sources, keys) {
                Ok((value, secrets)) => out.push(Prepared {
                    doc: Doc { value, ..doc },
                    sealed_body: None,
                    secrets,
                }),
                Err(message) => {
                    let msg = format!(
                        "cannot decrypt (SOPS): {message} (kustomize output document #{})",
                        doc.index
                    );
                    let mut d = Diagnostic::new(rel, msg);
                    if let Some(label) = identity_label(&doc.value) {
                        d = d.object(label);
                    }
                    errors.push(d);
                }
            },
        }
    }
    out
}

fn decrypt(
    mut value: Value,
    sources: &mut Sources,
    keys: &AgeKeys,
) -> Result<(Value, Redactor), String> {
    let mac = value
        .pointer("/sops/mac")
        .and_then(Value::as_str)
        .ok_or("its sops mapping has no MAC")?
        .to_string();
    let meta =
        Metadata::parse(value.get("sops").unwrap_or(&Value::Null)).map_err(|e| e.to_string())?;
    let source = sources.verified(&mac, keys)?;
    let mut secrets = Redactor::default();
    let mut decrypted = Vec::new();
    for leaf in tree::leaves(&value, &meta.rules) {
        let Value::String(sealed) = leaf.value else {
            continue;
        };
        if !leaf.encrypted || !cipher::is_encrypted(sealed) {
            continue;
        }
        let aad = leaf.aad();
        if !source.sealed.contains(&(aad.clone(), sealed.clone())) {
            return Err(format!(
                "value {} is not the one {} holds at that path",
                tree::dotted(&leaf.path),
                source.rel
            ));
        }
        match cipher::decrypt(sealed, &source.key, &aad) {
            Ok(Plain::Value(v)) => decrypted.push((leaf.pointer, v)),
            Ok(Plain::Comment) => {}
            Err(e) => return Err(format!("value {}: {e}", tree::dotted(&leaf.path))),
        }
    }
    let mut encrypted = Vec::new();
    for (pointer, v) in decrypted {
        secrets.add(&v);
        tree::set(&mut value, &pointer, v);
        encrypted.push(pointer);
    }
    if let Value::Object(map) = &mut value {
        map.shift_remove("sops");
    }
    let shape = value.clone();
    annotate(&mut value, &shape, &encrypted);
    Ok((value, secrets))
}

/// MAC → file, for every YAML or JSON file of the repository that holds a SOPS document.
fn build_index(root: &Path, max_file_size: u64) -> BTreeMap<String, String> {
    let mut index = BTreeMap::new();
    let mut queue = vec![root.to_path_buf()];
    while let Some(dir) = queue.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if entry.file_name() != ".git" {
                    queue.push(path);
                }
                continue;
            }
            let Some(text) = sops_text(&path, max_file_size) else {
                continue;
            };
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            for doc in parse(&text, &rel) {
                if let Some(mac) = doc.value.pointer("/sops/mac").and_then(Value::as_str) {
                    index.entry(mac.to_string()).or_insert_with(|| rel.clone());
                }
            }
        }
    }
    index
}

/// The text of a regular YAML or JSON file holding sops's MAC marker.
fn sops_text(path: &Path, max_file_size: u64) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if !matches!(ext.as_str(), "yaml" | "yml" | "json") {
        return None;
    }
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > max_file_size {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    (text.contains("mac: ENC[") || text.contains("\"mac\": \"ENC[")).then_some(text)
}

fn parse(text: &str, rel: &str) -> Vec<Doc> {
    if rel.to_ascii_lowercase().ends_with(".json") {
        documents::parse_json_documents(text, rel).0
    } else {
        documents::parse_yaml_documents(text, rel, Origin::File).0
    }
}

/// Opens the documents of `rel` that carry `mac` and verifies the MAC over them.
fn verify_file(
    root: &Path,
    rel: &str,
    mac: &str,
    keys: &AgeKeys,
    max_file_size: u64,
) -> Result<Verified, String> {
    let fail = |e: SopsError| format!("{rel}: {}", e.in_file());
    let text = sops_text(&root.join(rel), max_file_size)
        .ok_or_else(|| format!("{rel} can no longer be read"))?;
    let docs = parse(&text, rel);
    let strict = if rel.to_ascii_lowercase().ends_with(".json") {
        None
    } else {
        Some(super::file::yaml12_values(&text))
    };
    let members: Vec<&Doc> = docs
        .iter()
        .filter(|d| d.value.pointer("/sops/mac").and_then(Value::as_str) == Some(mac))
        .collect();
    let originals: Vec<&Value> = members
        .iter()
        .map(|d| {
            strict
                .as_ref()
                .and_then(|s| s.get(d.index))
                .and_then(Option::as_ref)
                .unwrap_or(&d.value)
        })
        .collect();
    let first = members
        .first()
        .ok_or_else(|| format!("{rel} no longer holds it"))?;
    let meta = Metadata::parse(first.value.get("sops").unwrap_or(&Value::Null)).map_err(fail)?;
    let key = cipher::data_key(&meta, keys).map_err(fail)?;
    tree::open(&originals, &meta, &key).map_err(fail)?;
    let mut sealed = BTreeSet::new();
    for doc in &members {
        for leaf in tree::leaves(&doc.value, &meta.rules) {
            if let (true, Value::String(s)) = (leaf.encrypted, leaf.value) {
                sealed.insert((leaf.aad(), s.clone()));
            }
        }
    }
    Ok(Verified {
        rel: rel.to_string(),
        key,
        sealed,
    })
}
