//! Ignored fields: fields another controller owns, which rekube neither reports as drift nor resets.
//!
//! Declared under `ignore:` in `rekube.yaml` in the shape of Argo CD's `ignoreDifferences` (selectors by
//! `group`, `kind`, `namespace`, `name`, with `*` wildcards; `jsonPointers` and
//! `managedFieldsManagers`), per object with the annotation [`ANNOTATION_IGNORE_FIELDS`], and without
//! configuration for the `spec.replicas` of every object a HorizontalPodAutoscaler (or a KEDA
//! ScaledObject) in the repository scales ([`autoscaler_rules`]).
//!
//! For one object the rules give an [`Ignored`]: the sync decision compares the live object and the
//! dry-run result without those fields ([`Ignored::same`], [`Ignored::in_sync`]), and a body written to
//! an existing object carries the live values of those fields ([`Ignored::overlay`]), so a write caused
//! by another change never resets them either.

mod autoscaler;
mod fields;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::{in_sync, normalize};
pub use crate::keys::ANNOTATION_IGNORE_FIELDS;
use crate::object::{ObjectId, glob_match};

pub use autoscaler::autoscaler_rules;
pub use fields::{Field, Step, managed_fields, parse_pointer, strip};

/// The field manager rekube applies with: ignoring its fields would ignore the whole object.
const OWN_MANAGER: &str = "rekube";

/// Fields that name the object: never ignorable.
const IDENTITY: &[&str] = &[
    "",
    "/apiVersion",
    "/kind",
    "/metadata",
    "/metadata/name",
    "/metadata/namespace",
];

/// Which objects a rule applies to; an absent field matches everything, `*` matches any run of
/// characters, and `group: ""` is the core group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Selector {
    pub fn matches(&self, id: &ObjectId) -> bool {
        let ok = |pattern: &Option<String>, value: &str| {
            pattern.as_deref().is_none_or(|p| glob_match(p, value))
        };
        ok(&self.group, &id.group)
            && ok(&self.kind, &id.kind)
            && ok(&self.namespace, id.namespace.as_deref().unwrap_or(""))
            && ok(&self.name, &id.name)
    }
}

/// Where an ignore rule comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IgnoreOrigin {
    /// `rekube.yaml`, the line of the `ignore:` entry.
    Config { file: String, line: usize },
    /// The object's [`ANNOTATION_IGNORE_FIELDS`] annotation.
    Annotation,
    /// A HorizontalPodAutoscaler (or ScaledObject) of the repository scales the object.
    Autoscaler { scaler: String },
}

impl fmt::Display for IgnoreOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoreOrigin::Config { file, line } => write!(f, "{file}:{line}"),
            IgnoreOrigin::Annotation => write!(f, "annotation {ANNOTATION_IGNORE_FIELDS}"),
            IgnoreOrigin::Autoscaler { scaler } => write!(f, "{scaler} scales it"),
        }
    }
}

/// One rule: the fields it ignores in the objects it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    pub selector: Selector,
    /// As written.
    pub json_pointers: Vec<String>,
    #[serde(skip)]
    pub fields: Vec<Field>,
    pub managed_fields_managers: Vec<String>,
    pub origin: IgnoreOrigin,
}

/// Every ignore rule of a repository (declared, and derived from its autoscalers); cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreRules {
    rules: Arc<[IgnoreRule]>,
}

impl Serialize for IgnoreRules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.rules.as_ref().serialize(s)
    }
}

impl IgnoreRules {
    pub fn new(rules: Vec<IgnoreRule>) -> IgnoreRules {
        IgnoreRules {
            rules: rules.into(),
        }
    }

    pub fn rules(&self) -> &[IgnoreRule] {
        &self.rules
    }

    /// What is ignored in object `id`, whose desired body is `desired` (for its annotation).
    pub fn for_object(&self, id: &ObjectId, desired: &Value) -> Ignored {
        let mut ignored = Ignored::default();
        for rule in self.rules.iter().filter(|r| r.selector.matches(id)) {
            for (field, text) in rule.fields.iter().zip(&rule.json_pointers) {
                ignored.add_field(field.clone(), format!("{text} ({})", rule.origin));
            }
            for m in &rule.managed_fields_managers {
                ignored.add_manager(
                    m.clone(),
                    format!("fields of manager {m} ({})", rule.origin),
                );
            }
        }
        let annotation = desired
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ANNOTATION_IGNORE_FIELDS))
            .and_then(Value::as_str);
        if let Some(text) = annotation {
            // Validated when the repository is loaded: entries that do not parse are left out here.
            for entry in parse_annotation(text).into_iter().flatten() {
                let why = format!("{} ({})", entry, IgnoreOrigin::Annotation);
                match entry {
                    Entry::Pointer(field, _) => ignored.add_field(field, why),
                    Entry::Manager(m) => ignored.add_manager(m, why),
                }
            }
        }
        ignored
    }
}

/// One entry of the annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Pointer(Field, String),
    Manager(String),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Pointer(_, text) => f.write_str(text),
            Entry::Manager(m) => write!(f, "fields of manager {m}"),
        }
    }
}

/// The entries of an [`ANNOTATION_IGNORE_FIELDS`] value, each parsed or why not.
pub fn parse_annotation(text: &str) -> Vec<Result<Entry, String>> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match e.strip_prefix("manager:") {
            Some(m) => check_manager(m.trim()).map(|()| Entry::Manager(m.trim().to_string())),
            None => check_pointer(e).map(|f| Entry::Pointer(f, e.to_string())),
        })
        .collect()
}

/// A JSON pointer that may be ignored (not one naming the object).
///
/// # Errors
/// Why not: not a pointer, or a pointer to the object's identity.
pub fn check_pointer(s: &str) -> Result<Field, String> {
    let field = parse_pointer(s)?;
    if IDENTITY.contains(&s) {
        return Err(format!(
            "{s:?} names the object itself (apiVersion, kind, name, namespace): it cannot be ignored"
        ));
    }
    Ok(field)
}

/// A field manager whose fields may be ignored.
///
/// # Errors
/// Why not: empty, or rekube's own manager.
pub fn check_manager(m: &str) -> Result<(), String> {
    if m.is_empty() {
        return Err("a field manager name is empty".into());
    }
    if m == OWN_MANAGER {
        return Err(format!(
            "{m:?} is rekube's own field manager: ignoring its fields would ignore everything rekube applies"
        ));
    }
    Ok(())
}

/// What is ignored in one object, and why (for `explain` and messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignored {
    fields: Vec<Field>,
    managers: Vec<String>,
    reasons: Vec<String>,
}

impl Ignored {
    fn add_field(&mut self, field: Field, why: String) {
        if !self.fields.contains(&field) {
            self.fields.push(field);
            self.reasons.push(why);
        }
    }

    fn add_manager(&mut self, manager: String, why: String) {
        if !self.managers.contains(&manager) {
            self.managers.push(manager);
            self.reasons.push(why);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.managers.is_empty()
    }

    /// Whether fields are ignored by their manager: only then does a decision read the live object's
    /// managedFields.
    pub fn names_managers(&self) -> bool {
        !self.managers.is_empty()
    }

    /// Each ignored pointer or manager with the rule that asks for it.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// The concrete fields ignored in `live`: the pointers, and every field the listed managers own in
    /// its `metadata.managedFields`.
    pub fn fields_in(&self, live: Option<&Value>) -> Vec<Field> {
        let mut out = self.fields.clone();
        if self.managers.is_empty() {
            return out;
        }
        let entries = live
            .and_then(|l| l.pointer("/metadata/managedFields"))
            .and_then(Value::as_array);
        for entry in entries.into_iter().flatten() {
            let manager = entry.get("manager").and_then(Value::as_str);
            if !manager.is_some_and(|m| self.managers.iter().any(|x| x == m)) {
                continue;
            }
            for f in entry
                .get("fieldsV1")
                .map(managed_fields)
                .unwrap_or_default()
            {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// The dry-run result equals the live object once both are normalised and the ignored fields
    /// removed: applying would change nothing that matters.
    pub fn same(&self, dry: &Value, live: &Value) -> bool {
        if self.is_empty() {
            return normalize(dry) == normalize(live);
        }
        let fields = self.fields_in(Some(live));
        normalize(&strip(dry, &fields)) == normalize(&strip(live, &fields))
    }

    /// [`in_sync`] (the no-op fast path) that does not require the live object to hold the ignored
    /// values the desired object sets.
    pub fn in_sync(&self, live: &Value, desired: &Value) -> bool {
        if self.is_empty() {
            return in_sync(live, desired);
        }
        let fields = self.fields_in(Some(live));
        in_sync(live, &keep_provenance(strip(desired, &fields), desired))
    }

    /// `(before, after)` without the ignored fields, for rendering a diff.
    pub fn strip_pair(
        &self,
        live: Option<&Value>,
        after: Option<&Value>,
    ) -> (Option<Value>, Option<Value>) {
        let fields = self.fields_in(live);
        let s = |v: Option<&Value>| v.map(|v| strip(v, &fields));
        (s(live), s(after))
    }

    /// The body to apply to an existing object: each ignored field the body sets carries the live
    /// value ([`fields::overlay`]); rekube's provenance annotations and inventory label are kept.
    pub fn overlay(&self, body: &Value, live: &Value) -> Value {
        if self.is_empty() {
            return body.clone();
        }
        let fields = self.fields_in(Some(live));
        keep_provenance(fields::overlay(body, live, &fields), body)
    }
}

/// `changed` with rekube's annotations and ApplySet label as `original` has them: an ignore rule on
/// `/metadata/annotations` must not drop the digest or the inventory membership.
fn keep_provenance(mut changed: Value, original: &Value) -> Value {
    for (map, own) in [
        (
            "annotations",
            &(|k: &str| k.starts_with("rekube.dev/")) as &dyn Fn(&str) -> bool,
        ),
        ("labels", &|k: &str| {
            k.starts_with("applyset.kubernetes.io/")
        }),
    ] {
        let Some(theirs) = original
            .pointer(&format!("/metadata/{map}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let keep: Vec<(&String, &Value)> = theirs.iter().filter(|(k, _)| own(k)).collect();
        if keep.is_empty() {
            continue;
        }
        let Some(meta) = changed.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        let target = meta
            .entry(map)
            .or_insert_with(|| Value::Object(Default::default()));
        if !target.is_object() {
            *target = Value::Object(Default::default());
        }
        if let Some(t) = target.as_object_mut() {
            for (k, v) in keep {
                t.insert(k.clone(), v.clone());
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests;
