//! Repository-wide rules: each object's scope and namespace (layer default), and objects defined twice.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::scope::{Scope, Scopes};
use crate::object::{Layer, Object, ObjectId, SourceLoc};

/// Diagnostics about an object already loaded, positioned at its document.
pub struct Reporter<'a> {
    /// Paths that are Kustomize folders: their lines mean nothing, the document index does.
    pub rendered: &'a BTreeSet<String>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Reporter<'_> {
    fn at(&self, source: &SourceLoc, id: &ObjectId, message: String) -> Diagnostic {
        if self.rendered.contains(&source.path) {
            let msg = format!("{message} (kustomize output document #{})", source.document);
            Diagnostic::new(&source.path, msg).object(id.to_string())
        } else {
            Diagnostic::new(&source.path, message)
                .at(source.line, None)
                .object(id.to_string())
        }
    }
}

/// Applies scopes: namespaced objects without a namespace get their own default (`defaults[i]`: a
/// chart's release namespace), else their layer's; cluster-scoped objects lose a stray namespace (with a
/// warning); custom resources of unknown scope are namespaced when they set a namespace, else
/// cluster-scoped with a warning.
pub fn apply_scopes(
    objects: &mut [Object],
    defaults: &[Option<String>],
    layers: &[Layer],
    scopes: &Scopes,
    r: &mut Reporter<'_>,
) {
    let layer_ns: BTreeMap<&str, Option<&str>> = layers
        .iter()
        .map(|l| (l.name.as_str(), l.namespace.as_deref()))
        .collect();
    for (i, o) in objects.iter_mut().enumerate() {
        let written = o.id.namespace.clone();
        let own = defaults.get(i).and_then(Option::as_deref);
        match (scopes.scope_of(&o.id.group, &o.id.kind), written) {
            (Some(Scope::Namespaced), Some(_)) => {}
            (Some(Scope::Namespaced), None) => {
                match own.or(layer_ns.get(o.source.layer.as_str()).copied().flatten()) {
                    Some(ns) => set_namespace(o, Some(ns)),
                    None => {
                        let msg = format!(
                            "{} is namespaced but has no namespace: set metadata.namespace, or a namespace for \
                         layer {:?} in rekube.yaml",
                            o.id.kind, o.source.layer
                        );
                        r.errors.push(r.at(&o.source, &o.id, msg));
                    }
                }
            }
            (Some(Scope::Cluster), Some(ns)) => {
                let msg = format!(
                    "{} is cluster-scoped: metadata.namespace {ns:?} is ignored",
                    o.id.kind
                );
                set_namespace(o, None);
                r.warnings.push(r.at(&o.source, &o.id, msg));
            }
            (Some(Scope::Cluster), None) | (None, Some(_)) => {}
            (None, None) => {
                let msg = format!(
                    "{} has no CustomResourceDefinition in the repository and no metadata.namespace: treated as \
                     cluster-scoped (set metadata.namespace if it is namespaced)",
                    o.id.group_kind()
                );
                r.warnings.push(r.at(&o.source, &o.id, msg));
            }
        }
    }
}

fn set_namespace(o: &mut Object, namespace: Option<&str>) {
    o.id.namespace = namespace.map(str::to_string);
    if let Some(Value::Object(meta)) = o.body.get_mut("metadata") {
        match namespace {
            Some(ns) => {
                meta.insert("namespace".into(), Value::String(ns.to_string()));
            }
            None => {
                meta.shift_remove("namespace");
            }
        }
    }
}

/// Reports every object defined more than once, at each later definition, naming the first.
pub fn check_duplicates(objects: &[Object], r: &mut Reporter<'_>) {
    let mut first: BTreeMap<&ObjectId, &SourceLoc> = BTreeMap::new();
    for o in objects {
        match first.get(&o.id) {
            Some(prev) => {
                let msg = format!("defined twice: here and at {}", where_(prev, r.rendered));
                r.errors.push(r.at(&o.source, &o.id, msg));
            }
            None => {
                first.insert(&o.id, &o.source);
            }
        }
    }
}

fn where_(s: &SourceLoc, rendered: &BTreeSet<String>) -> String {
    if rendered.contains(&s.path) {
        format!("{} (kustomize output document #{})", s.path, s.document)
    } else {
        format!("{}:{}", s.path, s.line)
    }
}
