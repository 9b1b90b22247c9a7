//! The SOPS pass over the documents of one repository file, between parsing and validation.
//!
//! sops encrypts a file as one tree: every document carries the same `sops` mapping and the MAC covers
//! them all, so the documents sharing a MAC are opened together. The MAC is computed over the values
//! as sops's YAML library reads them (`yes` is text there), from a second, YAML 1.2 parse of the file;
//! the decrypted values are then written into the documents as rekube parsed them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::cipher;
use super::keys::AgeKeys;
use super::metadata::Metadata;
use super::tree::{self, Step};
use super::{Prepared, Redactor, SopsError, annotate, identity_label, is_sops_document};
use crate::manifest::diagnostics::Diagnostic;
use crate::manifest::documents::{Doc, expand_all};
use crate::manifest::yaml;

/// What the pass does with encrypted documents.
#[derive(Debug, Clone, Copy)]
pub enum Pass<'k> {
    /// `plan`: keep the ciphertext, validate a stand-in with empty values of the recorded types.
    Seal,
    /// Decrypt with these keys and verify the MAC.
    Decrypt(&'k AgeKeys),
}

/// Runs the pass over the (unexpanded) documents of `rel`; `kind: List` documents are expanded after.
/// Problems go to `errors` (a document that cannot be decrypted is dropped) and `warnings`.
pub fn prepare(
    text: &str,
    rel: &str,
    json: bool,
    docs: Vec<Doc>,
    pass: Pass<'_>,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<Prepared> {
    if !docs.iter().any(|d| is_sops_document(&d.value)) {
        return expand_all(docs).into_iter().map(Prepared::plain).collect();
    }
    match pass {
        Pass::Seal => docs
            .into_iter()
            .flat_map(|doc| seal_document(doc, rel, warnings))
            .collect(),
        Pass::Decrypt(keys) => decrypt_file(text, rel, json, docs, keys, errors),
    }
}

/// `plan`: the document keeps its ciphertext (so the plan digest covers it); validation sees empty
/// values of the recorded types. A document whose identity is encrypted cannot be planned.
pub fn seal_document(mut doc: Doc, rel: &str, warnings: &mut Vec<Diagnostic>) -> Vec<Prepared> {
    if !is_sops_document(&doc.value) {
        return expand_all(vec![doc])
            .into_iter()
            .map(Prepared::plain)
            .collect();
    }
    if identity_label(&doc.value).is_none() {
        warnings.push(
            Diagnostic::new(
                rel,
                "SOPS-encrypted document whose apiVersion, kind or metadata.name is encrypted too: left out \
                 of the plan (it is decrypted by the commands that apply); encrypt only the secret fields \
                 (sops --encrypted-regex '^(data|stringData)$') to plan it without a key",
            )
            .at(doc.line, None),
        );
        return Vec::new();
    }
    let rules = match doc.value.get("sops").map(Metadata::parse).transpose() {
        Ok(meta) => meta.map(|m| m.rules).unwrap_or_default(),
        Err(_) => Default::default(),
    };
    let mut body = doc.value.clone();
    let mut encrypted = Vec::new();
    let mut stand_ins = Vec::new();
    for leaf in tree::leaves(&doc.value, &rules) {
        if leaf.encrypted
            && let Value::String(s) = leaf.value
            && cipher::is_encrypted(s)
        {
            stand_ins.push((leaf.pointer.clone(), tree::placeholder(s)));
            encrypted.push(leaf.pointer);
        }
    }
    for (pointer, value) in stand_ins {
        tree::set(&mut doc.value, &pointer, value);
    }
    strip_sops(&mut doc.value);
    strip_sops(&mut body);
    let bodies = split_items(&body);
    expand_all(vec![doc])
        .into_iter()
        .enumerate()
        .map(|(i, mut item)| {
            let (prefix, body) = match &bodies {
                Some(items) => (
                    vec![Step::Key("items".into()), Step::Index(i)],
                    items.get(i).cloned().unwrap_or(Value::Null),
                ),
                None => (Vec::new(), body.clone()),
            };
            let mine = relative(&encrypted, &prefix);
            let mut body = body;
            let shape = body.clone();
            annotate(&mut item.value, &shape, &mine);
            annotate(&mut body, &shape, &mine);
            Prepared {
                doc: item,
                sealed_body: Some(body),
                secrets: Redactor::default(),
            }
        })
        .collect()
}

fn decrypt_file(
    text: &str,
    rel: &str,
    json: bool,
    docs: Vec<Doc>,
    keys: &AgeKeys,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Prepared> {
    let strict = if json {
        None
    } else {
        Some(yaml12_values(text))
    };
    // Documents of one sops tree share the MAC (and the whole metadata).
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, doc) in docs.iter().enumerate() {
        if let Some(mac) = doc.value.pointer("/sops/mac").and_then(Value::as_str) {
            groups.entry(mac.to_string()).or_default().push(i);
        } else if is_sops_document(&doc.value) {
            groups.entry(format!("#{i}")).or_default().push(i);
        }
    }
    let mut results: BTreeMap<usize, Opened> = BTreeMap::new();
    let mut failed = vec![false; docs.len()];
    for members in groups.values() {
        let first = &docs[members[0]];
        let originals: Vec<&Value> = members
            .iter()
            .map(|&i| {
                let d = &docs[i];
                strict
                    .as_ref()
                    .and_then(|s| s.get(d.index))
                    .and_then(Option::as_ref)
                    .unwrap_or(&d.value)
            })
            .collect();
        match open_group(&first.value, &originals, keys) {
            Ok(opened) => {
                for (&i, o) in members.iter().zip(opened) {
                    results.insert(i, o);
                }
            }
            Err(e) => {
                let mut d = Diagnostic::new(rel, e.in_file()).at(first.line, None);
                if let Some(label) = identity_label(&first.value) {
                    d = d.object(label);
                }
                errors.push(d);
                for &i in members {
                    failed[i] = true;
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, mut doc) in docs.into_iter().enumerate() {
        if failed[i] {
            continue;
        }
        let Some(opened) = results.remove(&i) else {
            out.extend(expand_all(vec![doc]).into_iter().map(Prepared::plain));
            continue;
        };
        let mut secrets = Redactor::default();
        let mut encrypted = Vec::new();
        let mut missing = false;
        for (pointer, value) in opened {
            secrets.add(&value);
            missing |= !tree::set(&mut doc.value, &pointer, value);
            encrypted.push(pointer);
        }
        if missing {
            let e = SopsError::Metadata(
                "the file reads differently in YAML 1.1 and 1.2 (anchors or merge keys)".into(),
            );
            errors.push(Diagnostic::new(rel, e.in_file()).at(doc.line, None));
            continue;
        }
        strip_sops(&mut doc.value);
        let items = split_items(&doc.value).map(|v| v.len());
        for (n, mut item) in expand_all(vec![doc]).into_iter().enumerate() {
            let prefix = match items {
                Some(_) => vec![Step::Key("items".into()), Step::Index(n)],
                None => Vec::new(),
            };
            let mine = relative(&encrypted, &prefix);
            let plain = item.value.clone();
            annotate(&mut item.value, &plain, &mine);
            out.push(Prepared {
                doc: item,
                sealed_body: None,
                secrets: secrets.clone(),
            });
        }
    }
    out
}

/// Decrypted leaves of one document.
type Opened = Vec<(Vec<Step>, Value)>;

fn open_group(
    first: &Value,
    originals: &[&Value],
    keys: &AgeKeys,
) -> Result<Vec<Opened>, SopsError> {
    let sops = first
        .get("sops")
        .ok_or(SopsError::Metadata("no sops mapping".into()))?;
    let meta = Metadata::parse(sops)?;
    let key = cipher::data_key(&meta, keys)?;
    Ok(tree::open(originals, &meta, &key)?.documents)
}

/// The documents of a YAML text as sops's YAML library reads them, by document index (as
/// `parse_yaml_documents` numbers them); `None` where a document does not parse.
pub(super) fn yaml12_values(text: &str) -> Vec<Option<Value>> {
    let mut out = Vec::new();
    for chunk in yaml::split_documents(text) {
        if chunk.content_line().is_none() {
            continue;
        }
        match yaml::parse_document_yaml12(&chunk) {
            Ok(None) => {}
            Ok(Some(tree)) => out.push(Some(tree.to_value())),
            Err(_) => out.push(None),
        }
    }
    out
}

fn strip_sops(value: &mut Value) {
    if let Value::Object(map) = value {
        map.shift_remove("sops");
    }
}

/// The items of a `kind: List` document (as `expand_all` splits it), `None` for other documents.
fn split_items(value: &Value) -> Option<Vec<Value>> {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let items = value.get("items").and_then(Value::as_array)?;
    (kind == "List" || kind.ends_with("List")).then(|| items.clone())
}

/// The pointers under `prefix`, made relative to it.
fn relative(pointers: &[Vec<Step>], prefix: &[Step]) -> Vec<Vec<Step>> {
    pointers
        .iter()
        .filter_map(|p| p.strip_prefix(prefix).map(<[Step]>::to_vec))
        .collect()
}
