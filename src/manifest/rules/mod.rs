//! `health:` and `ignore:` in `rekube.yaml`, and the `rekube.dev/ignore-fields` annotation of objects.
//!
//! ```yaml
//! health:                      # Flux's healthCheckExprs
//!   - apiVersion: example.com/v1
//!     kind: Widget
//!     inProgress: "status.phase == 'Provisioning'"
//!     failed: "status.phase == 'Failed'"
//!     current: "status.phase == 'Ready'"
//! ignore:                      # Argo CD's ignoreDifferences
//!   - group: apps
//!     kind: Deployment
//!     name: web
//!     jsonPointers: [/spec/template/metadata/annotations]
//!     managedFieldsManagers: [vpa-recommender]
//! ```
//!
//! A rule that does not parse, names a kind the repository does not know, or a pointer that is not a
//! pointer is an error naming the rule and its line, so nothing is applied.

use std::path::Path;

use serde_json::{Map, Value};

use super::diagnostics::Diagnostic;
use super::field::{FieldPath, Locate};
use super::files::read_text;
use super::layers::CONFIG_FILE;
use super::scope::Scopes;
use super::yaml;
use crate::diff::ignore::{
    self, ANNOTATION_IGNORE_FIELDS, IgnoreOrigin, IgnoreRule, IgnoreRules, Selector,
};
use crate::object::{Object, split_api_version};
use crate::readiness::{Expr, HealthRule, HealthRules, RuleOrigin};
use known::Known;

mod known;

const HEALTH_KEYS: [&str; 5] = ["apiVersion", "kind", "current", "inProgress", "failed"];
const IGNORE_KEYS: [&str; 6] = [
    "group",
    "kind",
    "namespace",
    "name",
    "jsonPointers",
    "managedFieldsManagers",
];
const CONFIG_LIMIT: u64 = 1024 * 1024;

/// The health and ignore rules of a repository.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Rules {
    pub health: HealthRules,
    /// Declared rules, then one per autoscaler of the repository.
    pub ignore: IgnoreRules,
}

/// Reads the rules of `rekube.yaml` under `root` (none without it), checks them against the kinds the
/// repository knows (its objects, its CRDs, `scopes`, built-in kinds), checks the ignore annotation of
/// every object, and adds the autoscaler rules. Problems are pushed to `errors`.
pub fn load(
    root: &Path,
    objects: &[Object],
    scopes: &Scopes,
    errors: &mut Vec<Diagnostic>,
) -> Rules {
    check_annotations(objects, errors);
    let mut rules = Rules::default();
    let mut ignore_rules = Vec::new();
    let config = root.join(CONFIG_FILE);
    if config.symlink_metadata().is_ok() {
        // The layers stage read the file first and reported what makes it unreadable.
        let tree = read_text(&config, CONFIG_FILE, CONFIG_LIMIT)
            .ok()
            .and_then(|text| yaml::parse_single(&text).ok().flatten());
        if let Some(tree) = tree {
            let mut p = Parser {
                tree: &tree,
                known: Known { objects, scopes },
                errors,
            };
            let doc = tree.to_value();
            rules.health = HealthRules::new(p.health(doc.get("health")));
            ignore_rules = p.ignore(doc.get("ignore"));
        }
    }
    ignore_rules.extend(ignore::autoscaler_rules(objects));
    rules.ignore = IgnoreRules::new(ignore_rules);
    rules
}

/// Every object's `rekube.dev/ignore-fields` entries must parse.
fn check_annotations(objects: &[Object], errors: &mut Vec<Diagnostic>) {
    for o in objects {
        let Some(text) = o.annotation(ANNOTATION_IGNORE_FIELDS) else {
            continue;
        };
        for e in ignore::parse_annotation(text)
            .into_iter()
            .filter_map(Result::err)
        {
            errors.push(
                Diagnostic::new(
                    &o.source.path,
                    format!("annotation {ANNOTATION_IGNORE_FIELDS}: {e}"),
                )
                .at(o.source.line, None)
                .object(o.id.to_string()),
            );
        }
    }
}

struct Parser<'a> {
    tree: &'a yaml::Tree,
    known: Known<'a>,
    errors: &'a mut Vec<Diagnostic>,
}

impl Parser<'_> {
    fn error(&mut self, at: &FieldPath, message: String) {
        let pos = self.tree.locate(at).unwrap_or(self.tree.pos());
        self.errors
            .push(Diagnostic::new(CONFIG_FILE, message).at(pos.line, Some(pos.column)));
    }

    fn line(&self, at: &FieldPath) -> usize {
        self.tree.locate(at).map_or(1, |p| p.line)
    }

    /// The entries of a top-level list, or an error when it is not one.
    fn list<'v>(
        &mut self,
        value: Option<&'v Value>,
        key: &str,
    ) -> Vec<(&'v Map<String, Value>, FieldPath)> {
        let at = FieldPath::default().key(key);
        match value {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_object() {
                        Some(map) => out.push((map, at.index(i))),
                        None => self.error(&at.index(i), format!("{key}[{i}]: must be a mapping")),
                    }
                }
                out
            }
            Some(_) => {
                self.error(&at, format!("`{key}:` must be a list"));
                Vec::new()
            }
        }
    }

    fn unknown_keys(
        &mut self,
        map: &Map<String, Value>,
        at: &FieldPath,
        name: &str,
        allowed: &[&str],
    ) {
        for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
            let hint = match key.as_str() {
                "jqPathExpressions" => ": jq paths are not supported, use jsonPointers".to_string(),
                _ => allowed
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(key))
                    .map(|k| format!(", did you mean {k}?"))
                    .unwrap_or_else(|| format!(" (expected: {})", allowed.join(", "))),
            };
            self.error(&at.key(key), format!("{name}: unknown key {key:?}{hint}"));
        }
    }

    /// A string field; `None` (with an error when present but not a non-empty string).
    fn text(
        &mut self,
        map: &Map<String, Value>,
        at: &FieldPath,
        name: &str,
        key: &str,
    ) -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(_) => {
                self.error(
                    &at.key(key),
                    format!("{name}: {key} must be a non-empty string"),
                );
                None
            }
        }
    }

    /// A list of strings; an error for anything else.
    fn strings(
        &mut self,
        map: &Map<String, Value>,
        at: &FieldPath,
        name: &str,
        key: &str,
    ) -> Vec<(String, FieldPath)> {
        match map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match v.as_str() {
                    Some(s) => Some((s.to_string(), at.key(key).index(i))),
                    None => {
                        self.error(
                            &at.key(key).index(i),
                            format!("{name}: {key} entries must be strings"),
                        );
                        None
                    }
                })
                .collect(),
            Some(_) => {
                self.error(
                    &at.key(key),
                    format!("{name}: {key} must be a list of strings"),
                );
                Vec::new()
            }
        }
    }

    fn check_kind(&mut self, group: Option<&str>, kind: &str, at: &FieldPath, name: &str) {
        if kind.contains('*')
            || group.is_some_and(|g| g.contains('*'))
            || self.known.has(group, kind)
        {
            return;
        }
        let gk = match group {
            Some("") | None => kind.to_string(),
            Some(g) => format!("{kind}.{g}"),
        };
        let hint = match self.known.near(kind) {
            Some(k) => format!(" (did you mean {k}?)"),
            None => String::new(),
        };
        let msg = format!(
            "{name}: unknown kind {gk}: no object, CustomResourceDefinition or built-in kind of that name{hint}"
        );
        self.error(at, msg);
    }

    fn health(&mut self, value: Option<&Value>) -> Vec<HealthRule> {
        let mut rules = Vec::new();
        for (i, (map, at)) in self.list(value, "health").into_iter().enumerate() {
            let kind = map.get("kind").and_then(Value::as_str).unwrap_or("?");
            let name = format!("health[{i}] ({kind})");
            self.unknown_keys(map, &at, &name, &HEALTH_KEYS);
            let api_version = self.text(map, &at, &name, "apiVersion");
            let kind = self.text(map, &at, &name, "kind");
            let (Some(api_version), Some(kind)) = (api_version, kind) else {
                self.error(&at, format!("{name}: apiVersion and kind are required"));
                continue;
            };
            let group = split_api_version(&api_version).0.to_string();
            self.check_kind(Some(&group), &kind, &at.key("kind"), &name);
            let expr = |p: &mut Self, key: &str| -> Result<Option<Expr>, ()> {
                let Some(source) = p.text(map, &at, &name, key) else {
                    return Ok(None);
                };
                Expr::parse(&source).map(Some).map_err(|e| {
                    p.error(
                        &at.key(key),
                        format!("{name}: {key}: CEL does not parse: {e}"),
                    );
                })
            };
            let current = expr(self, "current");
            let in_progress = expr(self, "inProgress");
            let failed = expr(self, "failed");
            let (Ok(current), Ok(in_progress), Ok(failed)) = (current, in_progress, failed) else {
                continue;
            };
            let Some(current) = current else {
                self.error(
                    &at,
                    format!("{name}: `current` is required (the expression that says it is ready)"),
                );
                continue;
            };
            rules.push(HealthRule {
                api_version,
                group,
                kind,
                current,
                in_progress,
                failed,
                origin: RuleOrigin::Config {
                    file: CONFIG_FILE.to_string(),
                    line: self.line(&at),
                },
            });
        }
        rules
    }

    fn ignore(&mut self, value: Option<&Value>) -> Vec<IgnoreRule> {
        let mut rules = Vec::new();
        for (i, (map, at)) in self.list(value, "ignore").into_iter().enumerate() {
            let name = format!("ignore[{i}]");
            self.unknown_keys(map, &at, &name, &IGNORE_KEYS);
            // `group: ""` is the core group: read it without the non-empty check.
            let group = match map.get("group") {
                Some(Value::String(g)) => Some(g.clone()),
                None | Some(Value::Null) => None,
                Some(_) => {
                    self.error(&at.key("group"), format!("{name}: group must be a string"));
                    None
                }
            };
            let selector = Selector {
                group,
                kind: self.text(map, &at, &name, "kind"),
                namespace: self.text(map, &at, &name, "namespace"),
                name: self.text(map, &at, &name, "name"),
            };
            if let Some(kind) = &selector.kind {
                self.check_kind(selector.group.as_deref(), kind, &at.key("kind"), &name);
            }
            let mut json_pointers = Vec::new();
            let mut fields = Vec::new();
            for (p, p_at) in self.strings(map, &at, &name, "jsonPointers") {
                match ignore::check_pointer(&p) {
                    Ok(f) => {
                        fields.push(f);
                        json_pointers.push(p);
                    }
                    Err(e) => self.error(&p_at, format!("{name}: jsonPointers: {e}")),
                }
            }
            let mut managers = Vec::new();
            for (m, m_at) in self.strings(map, &at, &name, "managedFieldsManagers") {
                match ignore::check_manager(&m) {
                    Ok(()) => managers.push(m),
                    Err(e) => self.error(&m_at, format!("{name}: managedFieldsManagers: {e}")),
                }
            }
            if !map.contains_key("jsonPointers") && !map.contains_key("managedFieldsManagers") {
                self.error(
                    &at,
                    format!(
                        "{name}: says nothing to ignore: give jsonPointers or managedFieldsManagers"
                    ),
                );
                continue;
            }
            rules.push(IgnoreRule {
                selector,
                json_pointers,
                fields,
                managed_fields_managers: managers,
                origin: IgnoreOrigin::Config {
                    file: CONFIG_FILE.to_string(),
                    line: self.line(&at),
                },
            });
        }
        rules
    }
}

#[cfg(test)]
mod tests;
