//! Checks of one object on its own: apiVersion, kind, metadata, names, removed API versions and the
//! built-in schema. Every problem is collected; the object is still returned when its identity is known,
//! so that repository-wide checks (duplicates, namespaces) report on it too.

use serde_json::{Map, Value};

use super::diagnostics::Diagnostic;
use super::documents::{Doc, Origin};
use super::field::{FieldPath, Locate};
use super::names::{check_name, dns1123_label, name_rule};
use super::schema;
use super::versions::removed_api;
use crate::object::{Object, ObjectId, SourceLoc, split_api_version};

/// Where the document being checked comes from.
pub struct Context<'a> {
    pub layer: &'a str,
    /// File (or Kustomize folder) relative to the repository root.
    pub rel: &'a str,
    pub origin: Origin,
}

struct Checker<'a> {
    ctx: &'a Context<'a>,
    doc: &'a Doc,
    object: Option<String>,
    /// Fields already reported, so that the schema check does not report them again.
    reported: Vec<FieldPath>,
    errors: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, field: Option<&FieldPath>, message: impl Into<String>) {
        let message = message.into();
        if let Some(f) = field {
            self.reported.push(f.clone());
        }
        let mut d = match self.ctx.origin.rendered_by() {
            Some(by) => Diagnostic::new(
                self.ctx.rel,
                format!("{message} ({by} document #{})", self.doc.index),
            ),
            None => {
                let pos = field.and_then(|f| self.doc.tree.as_ref()?.locate(f));
                let d = Diagnostic::new(self.ctx.rel, message);
                match pos {
                    Some(p) => d.at(p.line, Some(p.column)),
                    None => d.at(self.doc.line, None),
                }
            }
        };
        d.object = self.object.clone();
        self.errors.push(d);
    }

    /// A required non-empty string field; reports a missing or mistyped one.
    fn string<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        at: &FieldPath,
    ) -> Option<&'v str> {
        match map.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                self.error(Some(at), format!("missing {at}"));
                None
            }
            Some(v) => {
                self.error(
                    Some(at),
                    format!("{at} must be a string, found {}", describe(v)),
                );
                None
            }
        }
    }
}

/// `Kind/namespace/name`, `Kind/name`, or just the kind while the name is unknown.
fn label(kind: Option<&str>, namespace: Option<&str>, name: Option<&str>) -> Option<String> {
    let kind = kind?;
    Some(match (namespace, name) {
        (Some(ns), Some(n)) => format!("{kind}/{ns}/{n}"),
        (None, Some(n)) => format!("{kind}/{n}"),
        _ => kind.to_string(),
    })
}

pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// YAML reads `name: 0123`, `name: yes` or `name: n` as a number or a boolean: say how to keep the text.
fn quote_hint(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) | Value::Number(_) => " (quote the value to keep it as text)",
        _ => "",
    }
}

/// Checks `doc`; returns the object when apiVersion, kind and name are known (even with other errors).
/// `id.namespace` is the namespace as written: scope and layer defaults are applied later.
pub fn check_object(ctx: &Context<'_>, doc: Doc, errors: &mut Vec<Diagnostic>) -> Option<Object> {
    let root = FieldPath::default();
    let mut c = Checker {
        ctx,
        doc: &doc,
        object: None,
        reported: Vec::new(),
        errors,
    };
    let Value::Object(map) = &doc.value else {
        let found = describe(&doc.value);
        c.error(
            None,
            format!(
                "a document must be a mapping with apiVersion, kind and metadata, found {found}"
            ),
        );
        return None;
    };
    let kind_at = root.key("kind");
    let kind = c.string(map, "kind", &kind_at);
    // Name and namespace are read first so that every later message names the object.
    let meta_at = root.key("metadata");
    let meta = map.get("metadata").and_then(Value::as_object);
    let raw_name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let raw_ns = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    c.object = label(kind, raw_ns, raw_name);

    let api_version = c.string(map, "apiVersion", &root.key("apiVersion"));
    let name = match (map.get("metadata"), meta) {
        (None | Some(Value::Null), _) => {
            c.error(None, "missing metadata (with at least metadata.name)");
            None
        }
        (Some(v), None) => {
            c.error(
                Some(&meta_at),
                format!("metadata must be a mapping, found {}", describe(v)),
            );
            None
        }
        (_, Some(m)) => check_name_field(&mut c, m, &meta_at),
    };
    let namespace = meta.map(|m| check_namespace_field(&mut c, m, &meta_at));
    // A namespace of the wrong type leaves the identity unknown: the object is checked, not returned.
    let (namespace, identity_known) = match namespace {
        Some(Err(())) => (None, false),
        Some(Ok(ns)) => (ns, true),
        None => (None, true),
    };
    let (api_version, kind, name) = (api_version?, kind?, name?);
    let (group, _) = split_api_version(api_version);

    if let Err(e) = check_name(name_rule(group, kind), name) {
        c.error(
            Some(&meta_at.key("name")),
            format!("invalid metadata.name: {e}"),
        );
    }
    if let Some(removed) = removed_api(api_version, kind) {
        c.error(Some(&root.key("apiVersion")), removed);
    } else {
        let (_, issues) = schema::check(api_version, kind, &doc.value);
        for issue in issues {
            // Name and namespace were checked above, with clearer messages.
            if c.reported.contains(&issue.path) {
                continue;
            }
            let message = issue.to_string();
            c.error(Some(&issue.path), message);
        }
    }
    if group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition" {
        check_crd_name(&mut c, &doc.value, name);
    }

    if !identity_known {
        return None;
    }
    let id = ObjectId::new(group, kind, namespace.as_deref(), name);
    let api_version = api_version.to_string();
    let source = SourceLoc {
        layer: ctx.layer.to_string(),
        path: ctx.rel.to_string(),
        line: match ctx.origin {
            Origin::File => doc.line,
            Origin::Rendered | Origin::Chart => 1,
        },
        document: doc.index,
    };
    Some(Object {
        id,
        api_version,
        body: doc.value,
        source,
    })
}

fn check_name_field<'v>(
    c: &mut Checker<'_>,
    meta: &'v Map<String, Value>,
    at: &FieldPath,
) -> Option<&'v str> {
    let name_at = at.key("name");
    match meta.get("name") {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(v @ (Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_))) => {
            c.error(
                Some(&name_at),
                format!(
                    "metadata.name must be a string, found {}{}",
                    describe(v),
                    quote_hint(v)
                ),
            );
            None
        }
        _ if meta.contains_key("generateName") => {
            let msg = "metadata.generateName is not supported: rekube applies objects by name, set metadata.name";
            c.error(Some(&at.key("generateName")), msg);
            None
        }
        _ => {
            c.error(Some(at), "missing metadata.name");
            None
        }
    }
}

fn check_namespace_field(
    c: &mut Checker<'_>,
    meta: &Map<String, Value>,
    at: &FieldPath,
) -> Result<Option<String>, ()> {
    let ns_at = at.key("namespace");
    match meta.get("namespace") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => {
            if let Err(e) = dns1123_label(s) {
                c.error(Some(&ns_at), format!("invalid metadata.namespace: {e}"));
            }
            Ok(Some(s.clone()))
        }
        Some(v) => {
            c.error(
                Some(&ns_at),
                format!(
                    "metadata.namespace must be a string, found {}{}",
                    describe(v),
                    quote_hint(v)
                ),
            );
            Err(())
        }
    }
}

/// The API server requires a CRD to be named `<spec.names.plural>.<spec.group>`.
fn check_crd_name(c: &mut Checker<'_>, body: &Value, name: &str) {
    let plural = body.pointer("/spec/names/plural").and_then(Value::as_str);
    let group = body.pointer("/spec/group").and_then(Value::as_str);
    if let (Some(plural), Some(group)) = (plural, group) {
        let want = format!("{plural}.{group}");
        if name != want {
            let at = FieldPath::default().key("metadata").key("name");
            c.error(Some(&at), format!("a CustomResourceDefinition must be named {want:?} (spec.names.plural.spec.group)"));
        }
    }
}
