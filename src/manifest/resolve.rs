//! Repository-wide rules: each object's scope and namespace (kubectl's rule: its own, then its layer's,
//! then `-n`), and objects defined twice.
//!
//! A kind is namespaced or cluster-scoped by the built-in table, a CustomResourceDefinition in the
//! repository (`spec.scope`), or discovery — never by a guess. Offline, an object of a kind none of them
//! knows is an error when it has no namespace; cluster commands leave it [`Unresolved`] until discovery
//! answers ([`Manifest::resolve_scopes`](super::Manifest::resolve_scopes)).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::scope::{Scope, Scopes};
use crate::object::{Layer, Object, ObjectId, SourceLoc};

/// Where the scope of kinds the repository does not define comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScopeLookup {
    /// Built-in kinds and CRDs in the repository only: an unknown kind without a namespace is an error.
    #[default]
    Offline,
    /// Unknown kinds are left [`Unresolved`] for the cluster's discovery (cluster commands).
    Discovery,
}

/// An object whose kind is neither built in nor defined by a CRD in the repository: discovery decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// Index in [`Manifest::objects`](super::Manifest::objects).
    pub index: usize,
    /// The namespace it gets if its kind is namespaced and it has none: its layer's, else `-n`.
    pub default: Option<String>,
    /// Declared in a Kustomize folder (its position is a document number, not a line).
    pub rendered: bool,
}

/// What the scope rules make of one object's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// As written: namespaced with its own namespace, or cluster-scoped without one.
    Keep,
    /// Namespaced without a namespace: gets this one (its layer's, else `-n`).
    Default(String),
    /// Cluster-scoped with a namespace: the namespace is dropped (a warning, as kubectl ignores it).
    Drop,
    /// Namespaced, without a namespace, and nothing to default it from: an error.
    Missing,
    /// The kind's scope is unknown.
    Unknown,
}

/// kubectl's rule: an object's own namespace wins, then the default (its layer's, else `-n`).
pub fn place(scope: Option<Scope>, own: Option<&str>, default: Option<&str>) -> Placement {
    match (scope, own, default) {
        (None, _, _) => Placement::Unknown,
        (Some(Scope::Namespaced), Some(_), _) | (Some(Scope::Cluster), None, _) => Placement::Keep,
        (Some(Scope::Namespaced), None, Some(ns)) => Placement::Default(ns.to_string()),
        (Some(Scope::Namespaced), None, None) => Placement::Missing,
        (Some(Scope::Cluster), Some(_), _) => Placement::Drop,
    }
}

/// Namespace defaults: an object's own (a chart's release namespace), then its layer's `namespace:`, then
/// `-n`.
pub struct Defaults<'a> {
    layers: BTreeMap<&'a str, Option<&'a str>>,
    flag: Option<&'a str>,
    objects: &'a [Option<String>],
}

impl<'a> Defaults<'a> {
    pub fn new(layers: &'a [Layer], flag: Option<&'a str>) -> Self {
        let layers = layers
            .iter()
            .map(|l| (l.name.as_str(), l.namespace.as_deref()))
            .collect();
        Defaults {
            layers,
            flag,
            objects: &[],
        }
    }

    /// With each object's own default, by index (objects past the end have none).
    pub fn with_objects(self, objects: &'a [Option<String>]) -> Self {
        Defaults { objects, ..self }
    }

    /// The namespace the object at `index` of `layer` gets when it is namespaced and has none.
    pub fn of_object(&self, index: usize, layer: &str) -> Option<&str> {
        match self.objects.get(index) {
            Some(Some(own)) => Some(own),
            _ => self.of(layer),
        }
    }

    /// The namespace a namespaced object of `layer` without one gets.
    pub fn of(&self, layer: &str) -> Option<&'a str> {
        self.layers.get(layer).copied().flatten().or(self.flag)
    }
}

/// Diagnostics about an object already loaded, positioned at its document.
pub struct Reporter<'a> {
    /// Paths that are Kustomize folders: their lines mean nothing, the document index does.
    pub rendered: &'a BTreeSet<String>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Reporter<'_> {
    pub(super) fn at(&self, source: &SourceLoc, id: &ObjectId, message: String) -> Diagnostic {
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

/// Applies scopes and namespace defaults to every object. Returns the objects of unknown scope left for
/// discovery (with [`ScopeLookup::Discovery`]; offline those without a namespace are errors).
pub fn apply_scopes(
    objects: &mut [Object],
    defaults: &Defaults<'_>,
    scopes: &Scopes,
    lookup: ScopeLookup,
    r: &mut Reporter<'_>,
) -> Vec<Unresolved> {
    let mut unresolved = Vec::new();
    for (index, o) in objects.iter_mut().enumerate() {
        let default = defaults.of_object(index, &o.source.layer);
        let scope = scopes.scope_of(&o.id.group, &o.id.kind);
        match place(scope, o.id.namespace.as_deref(), default) {
            Placement::Unknown if lookup == ScopeLookup::Discovery => {
                unresolved.push(Unresolved {
                    index,
                    default: default.map(str::to_string),
                    rendered: r.rendered.contains(&o.source.path),
                });
            }
            // Its own namespace says it is namespaced: the API server will tell if not.
            Placement::Unknown if o.id.namespace.is_some() => {}
            Placement::Unknown => {
                let msg = format!(
                    "{} is not a built-in kind and no CustomResourceDefinition in the repository defines it, so \
                     whether it is namespaced is unknown offline: set metadata.namespace if it is, or add its \
                     CustomResourceDefinition to the repository (cluster commands ask the cluster's discovery)",
                    o.id.group_kind()
                );
                r.errors.push(r.at(&o.source, &o.id, msg));
            }
            placement => enact(o, placement, r),
        }
    }
    unresolved
}

/// Applies a known placement to `o`, reporting what needs reporting.
pub fn enact(o: &mut Object, placement: Placement, r: &mut Reporter<'_>) {
    match placement {
        Placement::Keep | Placement::Unknown => {}
        Placement::Default(ns) => set_namespace(o, Some(&ns)),
        Placement::Drop => {
            let msg = format!(
                "{} is cluster-scoped: metadata.namespace {:?} is ignored",
                o.id.kind,
                o.id.namespace.as_deref().unwrap_or_default()
            );
            set_namespace(o, None);
            r.warnings.push(r.at(&o.source, &o.id, msg));
        }
        Placement::Missing => {
            let msg = format!(
                "{} is namespaced but has no namespace: set metadata.namespace, a namespace for layer {:?} in \
                 rekube.yaml, or -n/--namespace",
                o.id.kind, o.source.layer
            );
            r.errors.push(r.at(&o.source, &o.id, msg));
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

/// Reports every object defined more than once, at each later definition, naming the first. Only pairs
/// where `counts` holds for both objects are compared, and only those where `reports` holds for one of
/// them are reported (objects of unknown scope are compared once discovery placed them).
pub fn check_duplicates(
    objects: &[Object],
    counts: impl Fn(usize) -> bool,
    reports: impl Fn(usize) -> bool,
    r: &mut Reporter<'_>,
) {
    let mut first: BTreeMap<&ObjectId, (usize, &SourceLoc)> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate().filter(|(i, _)| counts(*i)) {
        match first.get(&o.id) {
            Some(&(j, prev)) if reports(i) || reports(j) => {
                let msg = format!("defined twice: here and at {}", where_(prev, r.rendered));
                r.errors.push(r.at(&o.source, &o.id, msg));
            }
            Some(_) => {}
            None => {
                first.insert(&o.id, (i, &o.source));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_namespace_rule() {
        use Placement::*;
        let ns = Some(Scope::Namespaced);
        let cluster = Some(Scope::Cluster);
        // (case, scope, own namespace, default (layer's, else -n), placement)
        let cases = [
            ("own namespace wins", ns, Some("a"), Some("b"), Keep),
            (
                "default when none",
                ns,
                None,
                Some("b"),
                Default("b".into()),
            ),
            ("no namespace, no default", ns, None, None, Missing),
            ("cluster-scoped ignores -n", cluster, None, Some("b"), Keep),
            ("stray namespace dropped", cluster, Some("a"), None, Drop),
            (
                "unknown kind with namespace",
                None,
                Some("a"),
                None,
                Unknown,
            ),
            ("unknown kind without one", None, None, Some("b"), Unknown),
        ];
        for (case, scope, own, default, want) in cases {
            assert_eq!(place(scope, own, default), want, "{case}");
        }
    }

    #[test]
    fn layer_namespace_before_flag() {
        let layer = |name: &str, ns: Option<&str>| Layer {
            name: name.into(),
            path: name.into(),
            depends_on: Vec::new(),
            namespace: ns.map(Into::into),
        };
        let layers = [layer("a", Some("from-layer")), layer("b", None)];
        // (case, -n, layer, default)
        let cases = [
            ("layer's namespace", Some("flag"), "a", Some("from-layer")),
            (
                "-n when the layer has none",
                Some("flag"),
                "b",
                Some("flag"),
            ),
            ("nothing", None, "b", None),
            (
                "unknown layer falls back to -n",
                Some("flag"),
                "x",
                Some("flag"),
            ),
        ];
        for (case, flag, name, want) in cases {
            assert_eq!(Defaults::new(&layers, flag).of(name), want, "{case}");
        }
    }
}
