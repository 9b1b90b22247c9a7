//! Reading the `charts:` of each layer in `rekube.yaml` into [`ChartSpec`]s, every problem at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::spec::{ChartSource, ChartSpec, Declared};
use crate::helm::remote::{RemoteChart, check_repository};
use crate::manifest::diagnostics::Diagnostic;
use crate::manifest::field::{FieldPath, Locate};
use crate::manifest::layers::CONFIG_FILE;
use crate::manifest::names::dns1123_label;
use crate::manifest::yaml;
use crate::object::Layer;

const CHART_KEYS: [&str; 9] = [
    "release",
    "chart",
    "repository",
    "version",
    "namespace",
    "valuesFiles",
    "values",
    "includeCRDs",
    "skipTests",
];

/// Helm's limit on release names.
const MAX_RELEASE_NAME: usize = 53;

/// The charts declared in `rekube.yaml` (none without one), each checked: folders and values files
/// exist inside the repository, remote charts have a version, names are valid. Returns the valid ones
/// and a problem for each other, so that the valid ones still render and every problem is reported at
/// once. Layers are those already resolved from the same file.
pub fn declared(root: &Path, layers: &[Layer]) -> Declared {
    let Ok(text) = std::fs::read_to_string(root.join(CONFIG_FILE)) else {
        return Default::default();
    };
    // Syntax errors were reported when the layers were read.
    let Ok(Some(tree)) = yaml::parse_single(&text) else {
        return Default::default();
    };
    let doc = tree.to_value();
    let namespaces: BTreeMap<&str, Option<&str>> = layers
        .iter()
        .map(|l| (l.name.as_str(), l.namespace.as_deref()))
        .collect();
    let mut p = Parser {
        tree: &tree,
        root,
        errors: Vec::new(),
        claimed: BTreeSet::new(),
    };
    let mut specs = Vec::new();
    let at = FieldPath::default().key("layers");
    for (i, layer) in doc
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(name) = layer.get("name").and_then(Value::as_str) else {
            continue;
        };
        let Some(&layer_ns) = namespaces.get(name) else {
            continue;
        };
        let at = at.index(i).key("charts");
        match layer.get("charts") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (j, item) in items.iter().enumerate() {
                    if let Some(spec) = p.chart(item, &at.index(j), name, layer_ns) {
                        specs.push(spec);
                    }
                }
            }
            Some(_) => p.error(&at, "charts must be a list of {release, chart, …}".into()),
        }
    }
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for spec in &specs {
        let key = (spec.namespace.clone(), spec.release.clone());
        if let Some(first) = seen.get(&key) {
            p.errors.push(spec.error(format!(
                "release {:?} in namespace {:?} is declared twice (first at line {first})",
                spec.release, spec.namespace
            )));
        } else {
            seen.insert(key, spec.line.unwrap_or(0));
        }
    }
    Declared {
        specs,
        errors: p.errors,
        claimed: p.claimed,
    }
}

struct Parser<'a> {
    tree: &'a yaml::Tree,
    root: &'a Path,
    errors: Vec<Diagnostic>,
    claimed: BTreeSet<String>,
}

impl Parser<'_> {
    fn line(&self, at: &FieldPath) -> (usize, usize) {
        let pos = self.tree.locate(at).unwrap_or(self.tree.pos());
        (pos.line, pos.column)
    }

    fn error(&mut self, at: &FieldPath, message: String) {
        let (line, column) = self.line(at);
        self.errors
            .push(Diagnostic::new(CONFIG_FILE, message).at(line, Some(column)));
    }

    fn chart(
        &mut self,
        item: &Value,
        at: &FieldPath,
        layer: &str,
        layer_ns: Option<&str>,
    ) -> Option<ChartSpec> {
        let Some(map) = item.as_object() else {
            self.error(
                at,
                "a chart must be a mapping {release, chart, …}".to_string(),
            );
            return None;
        };
        let errors_before = self.errors.len();
        for key in map.keys().filter(|k| !CHART_KEYS.contains(&k.as_str())) {
            let hint = CHART_KEYS
                .iter()
                .find(|k| k.to_lowercase() == key.replace(['_', '-'], "").to_lowercase())
                .map(|k| format!(", did you mean {k}?"))
                .unwrap_or_default();
            self.error(
                &at.key(key),
                format!(
                    "unknown key {key:?} in chart{hint} (expected: {})",
                    CHART_KEYS.join(", ")
                ),
            );
        }
        let release = self.string(map, "release", at, true)?;
        if let Err(e) = release_name(&release) {
            self.error(&at.key("release"), format!("invalid release name: {e}"));
        }
        let chart = self.string(map, "chart", at, true)?;
        let repository = self.string(map, "repository", at, false);
        let version = self.string(map, "version", at, false);
        let source = match (repository, version) {
            (Some(repository), Some(version)) => {
                if let Some(why) = check_repository(&repository) {
                    self.error(&at.key("repository"), why);
                }
                ChartSource::Remote(RemoteChart {
                    repository: repository.trim_end_matches('/').to_string(),
                    chart,
                    version,
                })
            }
            (Some(_), None) => {
                self.error(
                    at,
                    format!("chart {chart:?} of a repository needs a version"),
                );
                return None;
            }
            (None, version) => {
                if chart.contains("://") {
                    self.error(&at.key("chart"), format!("chart {chart:?} is a URL: give the repository URL as `repository:` and the chart name as `chart:`"));
                    return None;
                }
                if version.is_some() {
                    self.error(&at.key("version"), "version is for remote charts (with repository:); a chart folder has its own version in Chart.yaml".into());
                }
                ChartSource::Folder(self.path(&chart, &at.key("chart"), true)?)
            }
        };
        let namespace = match self.string(map, "namespace", at, false) {
            Some(ns) => {
                if let Err(e) = dns1123_label(&ns) {
                    self.error(&at.key("namespace"), format!("invalid namespace: {e}"));
                }
                ns
            }
            None => layer_ns.unwrap_or("default").to_string(),
        };
        let mut values_files = Vec::new();
        match map.get("valuesFiles") {
            None | Some(Value::Null) => {}
            Some(Value::Array(files)) => {
                for (i, f) in files.iter().enumerate() {
                    let at = at.key("valuesFiles").index(i);
                    match f.as_str() {
                        Some(f) => values_files.extend(self.path(f, &at, false)),
                        None => self.error(&at, "a values file must be a path".into()),
                    }
                }
            }
            Some(_) => self.error(
                &at.key("valuesFiles"),
                "valuesFiles must be a list of paths".into(),
            ),
        }
        let values = match map.get("values") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(v) => {
                let found = crate::manifest::validate::describe(v);
                self.error(
                    &at.key("values"),
                    format!("values must be a mapping of chart values, found {found}"),
                );
                None
            }
        };
        let include_crds = self.flag(map, "includeCRDs", at, true);
        let skip_tests = self.flag(map, "skipTests", at, true);
        if self.errors.len() > errors_before {
            return None;
        }
        Some(ChartSpec {
            layer: layer.to_string(),
            release,
            source,
            namespace,
            values_files,
            values,
            include_crds,
            skip_tests,
            declared_in: CONFIG_FILE.to_string(),
            line: Some(self.line(at).0),
        })
    }

    fn string(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        at: &FieldPath,
        required: bool,
    ) -> Option<String> {
        match map.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            None | Some(Value::Null) if !required => None,
            None | Some(Value::Null) => {
                self.error(at, format!("chart has no {key}"));
                None
            }
            Some(Value::Number(n)) if key == "version" => Some(n.to_string()),
            Some(v) => {
                let found = crate::manifest::validate::describe(v);
                self.error(
                    &at.key(key),
                    format!("{key} must be a string, found {found}"),
                );
                None
            }
        }
    }

    fn flag(&mut self, map: &Map<String, Value>, key: &str, at: &FieldPath, default: bool) -> bool {
        match map.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                let found = crate::manifest::validate::describe(v);
                self.error(
                    &at.key(key),
                    format!("{key} must be true or false, found {found}"),
                );
                default
            }
        }
    }

    /// A folder (or file) inside the repository, normalised (`./a/` → `a`).
    fn path(&mut self, raw: &str, at: &FieldPath, folder: bool) -> Option<String> {
        let parts: Vec<&str> = raw
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let what = if folder {
            "chart folder"
        } else {
            "values file"
        };
        if raw.starts_with('/') || parts.contains(&"..") || parts.is_empty() {
            self.error(
                at,
                format!("{what} {raw:?} must be a path inside the repository (relative to its root, without ..)"),
            );
            return None;
        }
        let rel = parts.join("/");
        self.claimed.insert(rel.clone());
        match std::fs::canonicalize(self.root.join(&rel)) {
            Ok(real) if !real.starts_with(self.root) => {
                self.error(
                    at,
                    format!("{what} {rel:?} is a symlink that leaves the repository"),
                );
                None
            }
            Ok(real) if folder && !real.is_dir() => {
                self.error(at, format!("chart folder {rel:?} is not a folder"));
                None
            }
            Ok(real) if !folder && !real.is_file() => {
                self.error(at, format!("values file {rel:?} is not a file"));
                None
            }
            Ok(_) => Some(rel),
            Err(_) => {
                self.error(at, format!("{what} {rel:?} does not exist"));
                None
            }
        }
    }
}

/// Helm's rule for release names: a DNS-1123 label of at most 53 characters.
pub fn release_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_RELEASE_NAME {
        return Err(format!(
            "{name:?} is longer than {MAX_RELEASE_NAME} characters"
        ));
    }
    dns1123_label(name)
}
