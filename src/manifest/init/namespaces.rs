//! Namespaces for `rekube init`: which Namespaces the repository defines, and how many namespaced objects of
//! a layer's plain files have none. Best effort: init proposes, `plan` validates.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::super::DEFAULT_MAX_FILE_SIZE;
use super::super::documents::{self, Origin};
use super::super::files::{self, Input};
use super::super::scope::{Scope, Scopes};
use super::super::survey;
use crate::object::split_api_version;

/// Names of the Namespaces the repository's plain manifest files define.
pub(super) fn namespaces_defined(root: &Path, folders: &[survey::Folder]) -> BTreeSet<String> {
    folders
        .iter()
        .flat_map(|f| f.contents.manifests.iter())
        .flat_map(|rel| documents_of(&root.join(rel), rel))
        .filter(|v| v.get("kind").and_then(Value::as_str) == Some("Namespace"))
        .filter_map(|v| Some(v.pointer("/metadata/name")?.as_str()?.to_string()))
        .collect()
}

/// How many namespaced objects of the plain files among `inputs` have no namespace, and the names of the
/// Namespaces those files define. Kustomize folders are not rendered here.
pub(super) fn without_namespace(inputs: &[Input]) -> (usize, Vec<String>) {
    let docs: Vec<Value> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File { rel, abs } => Some(documents_of(abs, rel)),
            Input::Kustomization { .. } | Input::Chart { .. } => None,
        })
        .flatten()
        .collect();
    let mut scopes = Scopes::default();
    let mut own = Vec::new();
    let mut kinds = Vec::new();
    for v in &docs {
        let (Some(api_version), Some(kind)) = (
            v.get("apiVersion").and_then(Value::as_str),
            v.get("kind").and_then(Value::as_str),
        ) else {
            continue;
        };
        let (group, _) = split_api_version(api_version);
        if let (Some(g), Some(k), Some(s)) = (
            v.pointer("/spec/group").and_then(Value::as_str),
            v.pointer("/spec/names/kind").and_then(Value::as_str),
            v.pointer("/spec/scope").and_then(Value::as_str),
        ) && kind == "CustomResourceDefinition"
        {
            let scope = if s == "Cluster" {
                Scope::Cluster
            } else {
                Scope::Namespaced
            };
            scopes.insert(g, k, scope);
        }
        if group.is_empty()
            && kind == "Namespace"
            && let Some(name) = v.pointer("/metadata/name").and_then(Value::as_str)
        {
            own.push(name.to_string());
        }
        let has_ns = v
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        kinds.push((group.to_string(), kind.to_string(), has_ns));
    }
    let missing = kinds
        .iter()
        .filter(|(g, k, has_ns)| !has_ns && scopes.scope_of(g, k) == Some(Scope::Namespaced))
        .count();
    (missing, own)
}

/// The documents of a manifest file, best effort (init proposes; `plan` validates).
fn documents_of(abs: &Path, rel: &str) -> Vec<Value> {
    let Ok(text) = files::read_text(abs, rel, DEFAULT_MAX_FILE_SIZE) else {
        return Vec::new();
    };
    let (docs, _) = if rel.to_ascii_lowercase().ends_with(".json") {
        documents::parse_json_file(&text, rel)
    } else {
        documents::parse_yaml(&text, rel, Origin::File)
    };
    docs.into_iter().map(|d| d.value).collect()
}
