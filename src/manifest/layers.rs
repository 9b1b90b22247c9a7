//! Layers: declared in `rekube.yaml`, else the folders `cluster/`, `tools/`, `apps/` (those present), else
//! the whole repository as one layer named `default`.
//!
//! ```yaml
//! layers:
//!   - {name: cluster, path: cluster}
//!   - {name: apps, path: apps, dependsOn: [cluster], namespace: web}
//! ```
//!
//! A layer's `charts:` are read by [`super::charts::spec`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::field::{FieldPath, Locate};
use super::files::read_text;
use super::names::dns1123_label;
use super::yaml;
use crate::object::Layer;

/// The layer file at the repository root.
pub const CONFIG_FILE: &str = "rekube.yaml";
/// Conventional layer folders, in dependency order, used without `rekube.yaml`.
pub const DEFAULT_LAYERS: [&str; 3] = ["cluster", "tools", "apps"];
/// Name of the single layer of a repository without layers.
pub const DEFAULT_LAYER: &str = "default";

const LAYER_KEYS: [&str; 5] = ["name", "path", "dependsOn", "namespace", "charts"];
/// Top-level keys of `rekube.yaml`; `health:` and `ignore:` are read by [`super::rules`], `inventory:`
/// by [`super::inventory`], `clusters:` by [`super::clusters`].
const TOP_KEYS: [&str; 5] = ["layers", "health", "ignore", "inventory", "clusters"];
const CONFIG_LIMIT: u64 = 1024 * 1024;

/// The layers of the repository at `root` (canonical), in dependency order (declaration order among
/// independent layers).
pub fn resolve(root: &Path) -> Result<Vec<Layer>, Vec<Diagnostic>> {
    let config = root.join(CONFIG_FILE);
    if config.symlink_metadata().is_ok()
        && let Some(layers) = from_config(root, &config)?
    {
        return Ok(layers);
    }
    let present: Vec<&str> = DEFAULT_LAYERS
        .into_iter()
        .filter(|name| root.join(name).is_dir())
        .collect();
    if present.is_empty() {
        return Ok(vec![Layer {
            name: DEFAULT_LAYER.to_string(),
            path: ".".to_string(),
            depends_on: Vec::new(),
            namespace: None,
        }]);
    }
    Ok(present
        .iter()
        .enumerate()
        .map(|(i, name)| Layer {
            name: name.to_string(),
            path: name.to_string(),
            depends_on: i
                .checked_sub(1)
                .map(|p| present[p].to_string())
                .into_iter()
                .collect(),
            namespace: None,
        })
        .collect())
}

/// The layers `rekube.yaml` declares; `None` when it declares none (the folders decide then).
fn from_config(root: &Path, config: &Path) -> Result<Option<Vec<Layer>>, Vec<Diagnostic>> {
    let text = read_text(config, CONFIG_FILE, CONFIG_LIMIT).map_err(|d| vec![d])?;
    let tree = match yaml::parse_single(&text) {
        Ok(Some(tree)) => tree,
        Ok(None) => {
            return Err(vec![
                Diagnostic::new(CONFIG_FILE, "is empty: declare `layers:`").at(1, None),
            ]);
        }
        Err(e) => {
            let d = Diagnostic::new(CONFIG_FILE, format!("invalid YAML: {}", e.message));
            return Err(vec![match e.pos {
                Some(p) => d.at(p.line, Some(p.column)),
                None => d,
            }]);
        }
    };
    let mut parser = Parser {
        tree: &tree,
        root,
        errors: Vec::new(),
    };
    let layers = parser.layers(&tree.to_value());
    if !parser.errors.is_empty() {
        return Err(parser.errors);
    }
    Ok(layers.map(|layers| topological(layers.into_iter().map(|(l, _)| l).collect())))
}

/// Reads layers (and, for [`super::clusters`], a cluster's extra layers and folders) of `rekube.yaml`.
pub(super) struct Parser<'a> {
    pub(super) tree: &'a yaml::Tree,
    pub(super) root: &'a Path,
    pub(super) errors: Vec<Diagnostic>,
}

impl Parser<'_> {
    pub(super) fn error(&mut self, at: &FieldPath, message: String) {
        let pos = self.tree.locate(at).unwrap_or(self.tree.pos());
        self.errors
            .push(Diagnostic::new(CONFIG_FILE, message).at(pos.line, Some(pos.column)));
    }

    pub(super) fn line(&self, at: &FieldPath) -> usize {
        self.tree.locate(at).map_or(1, |p| p.line)
    }

    /// Every declared layer with its position in the list; `None` without `layers:`.
    fn layers(&mut self, doc: &Value) -> Option<Vec<(Layer, FieldPath)>> {
        let top = FieldPath::default();
        let Some(map) = doc.as_object() else {
            self.error(&top, "must be a mapping with a `layers:` list".into());
            return Some(Vec::new());
        };
        for key in map.keys().filter(|k| !TOP_KEYS.contains(&k.as_str())) {
            self.error(
                &top.key(key),
                format!("unknown key {key:?} (expected: {})", TOP_KEYS.join(", ")),
            );
        }
        let at = top.key("layers");
        if !map.contains_key("layers") && map.keys().any(|k| TOP_KEYS.contains(&k.as_str())) {
            return None;
        }
        let Some(items) = map
            .get("layers")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
        else {
            self.error(
                &at,
                "`layers:` must be a non-empty list of {name, path, dependsOn, namespace}".into(),
            );
            return Some(Vec::new());
        };
        let mut layers = Vec::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            let at = at.index(i);
            if let Some(layer) = self.layer(item, &at) {
                if let Some(first) = seen.get(&layer.name) {
                    let msg = format!(
                        "duplicate layer name {:?} (first declared at line {first})",
                        layer.name
                    );
                    self.error(&at.key("name"), msg);
                    continue;
                }
                seen.insert(layer.name.clone(), self.line(&at));
                layers.push((layer, at));
            }
        }
        self.check_dependencies(&layers);
        self.check_overlaps(&layers);
        if self.errors.is_empty() {
            self.check_cycles(&layers);
        }
        Some(layers)
    }

    pub(super) fn layer(&mut self, item: &Value, at: &FieldPath) -> Option<Layer> {
        let Some(map) = item.as_object() else {
            self.error(
                at,
                "a layer must be a mapping {name, path, dependsOn, namespace}".into(),
            );
            return None;
        };
        for key in map.keys().filter(|k| !LAYER_KEYS.contains(&k.as_str())) {
            let hint = LAYER_KEYS
                .iter()
                .find(|k| k.to_lowercase() == key.replace(['_', '-'], "").to_lowercase())
                .map(|k| format!(", did you mean {k}?"))
                .unwrap_or_default();
            self.error(&at.key(key), format!("unknown key {key:?} in layer{hint} (expected: name, path, dependsOn, namespace, charts)"));
        }
        let name = match map.get("name") {
            Some(Value::String(s)) => match dns1123_label(s) {
                Ok(()) => s.clone(),
                Err(e) => return self.fail(&at.key("name"), format!("invalid layer name: {e}")),
            },
            Some(_) => return self.fail(&at.key("name"), "layer name must be a string".into()),
            None => return self.fail(at, "layer has no name".into()),
        };
        let path = match map.get("path") {
            None => name.clone(),
            Some(Value::String(s)) => self.folder(s, &at.key("path"))?,
            Some(_) => {
                return self.fail(
                    &at.key("path"),
                    format!("path of layer {name:?} must be a string"),
                );
            }
        };
        let mut depends_on = Vec::new();
        match map.get("dependsOn") {
            None | Some(Value::Null) => {}
            Some(Value::Array(deps)) => {
                for (i, d) in deps.iter().enumerate() {
                    match d.as_str() {
                        Some(s) => depends_on.push(s.to_string()),
                        None => self.error(
                            &at.key("dependsOn").index(i),
                            "dependsOn entries must be layer names".into(),
                        ),
                    }
                }
            }
            Some(_) => self.error(
                &at.key("dependsOn"),
                "dependsOn must be a list of layer names".into(),
            ),
        }
        let namespace = match map.get("namespace") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                if let Err(e) = dns1123_label(s) {
                    self.error(
                        &at.key("namespace"),
                        format!("invalid namespace of layer {name:?}: {e}"),
                    );
                }
                Some(s.clone())
            }
            Some(_) => return self.fail(&at.key("namespace"), "namespace must be a string".into()),
        };
        Some(Layer {
            name,
            path,
            depends_on,
            namespace,
        })
    }

    fn fail<T>(&mut self, at: &FieldPath, message: String) -> Option<T> {
        self.error(at, message);
        None
    }

    /// A relative folder inside the repository, normalised (`./apps/` → `apps`).
    pub(super) fn folder(&mut self, raw: &str, at: &FieldPath) -> Option<String> {
        let parts: Vec<&str> = raw
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if raw.starts_with('/') || parts.contains(&"..") {
            return self.fail(
                at,
                format!(
                    "path {raw:?} must be a folder inside the repository (relative, without ..)"
                ),
            );
        }
        let path = if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        };
        let abs = self.root.join(&path);
        match std::fs::canonicalize(&abs) {
            Ok(real) if !real.starts_with(self.root) => self.fail(
                at,
                format!("folder {path:?} is a symlink that leaves the repository"),
            ),
            Ok(real) if real.is_dir() => Some(path),
            Ok(_) => self.fail(at, format!("{path:?} is not a folder")),
            Err(_) => self.fail(at, format!("folder {path:?} does not exist")),
        }
    }

    fn check_dependencies(&mut self, layers: &[(Layer, FieldPath)]) {
        let names: BTreeSet<&str> = layers.iter().map(|(l, _)| l.name.as_str()).collect();
        for (layer, at) in layers {
            for (i, dep) in layer.depends_on.iter().enumerate() {
                if !names.contains(dep.as_str()) {
                    let known = names.iter().copied().collect::<Vec<_>>().join(", ");
                    let msg = format!(
                        "layer {:?} depends on unknown layer {dep:?} (layers: {known})",
                        layer.name
                    );
                    self.error(&at.key("dependsOn").index(i), msg);
                }
            }
        }
    }

    /// Folders must not nest: every file belongs to exactly one layer.
    fn check_overlaps(&mut self, layers: &[(Layer, FieldPath)]) {
        for (i, (a, _)) in layers.iter().enumerate() {
            for (b, at) in &layers[i + 1..] {
                let inside =
                    |x: &str, y: &str| x == y || y == "." || x.starts_with(&format!("{y}/"));
                if inside(&a.path, &b.path) || inside(&b.path, &a.path) {
                    let msg = format!(
                        "folder {:?} of layer {:?} overlaps folder {:?} of layer {:?}: a file would belong to two layers",
                        b.path, b.name, a.path, a.name
                    );
                    self.error(&at.key("path"), msg);
                }
            }
        }
    }

    fn check_cycles(&mut self, layers: &[(Layer, FieldPath)]) {
        let index: BTreeMap<&str, usize> = layers
            .iter()
            .enumerate()
            .map(|(i, (l, _))| (l.name.as_str(), i))
            .collect();
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; layers.len()];
        let mut stack = Vec::new();
        for start in 0..layers.len() {
            if let Some(cycle) = dfs(start, layers, &index, &mut state, &mut stack) {
                let names: Vec<&str> = cycle.iter().map(|&i| layers[i].0.name.as_str()).collect();
                let at = layers[cycle[0]].1.key("dependsOn");
                self.error(
                    &at,
                    format!(
                        "layers depend on each other in a cycle: {}",
                        names.join(" -> ")
                    ),
                );
                return;
            }
        }
    }
}

fn dfs(
    n: usize,
    layers: &[(Layer, FieldPath)],
    index: &BTreeMap<&str, usize>,
    state: &mut [u8],
    stack: &mut Vec<usize>,
) -> Option<Vec<usize>> {
    match state[n] {
        2 => return None,
        1 => {
            let from = stack.iter().position(|&s| s == n).unwrap_or(0);
            let mut cycle = stack[from..].to_vec();
            cycle.push(n);
            return Some(cycle);
        }
        _ => {}
    }
    state[n] = 1;
    stack.push(n);
    for dep in &layers[n].0.depends_on {
        if let Some(&d) = index.get(dep.as_str())
            && let Some(cycle) = dfs(d, layers, index, state, stack)
        {
            return Some(cycle);
        }
    }
    stack.pop();
    state[n] = 2;
    None
}

/// Dependencies first; among layers ready at the same time, declaration order. Input must be acyclic.
pub(super) fn topological(layers: Vec<Layer>) -> Vec<Layer> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left = layers;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let Some(i) = left
            .iter()
            .position(|l| l.depends_on.iter().all(|d| done.contains(d)))
        else {
            // Unreachable for validated input; keep the rest in declaration order rather than loop.
            out.append(&mut left);
            break;
        };
        let layer = left.remove(i);
        done.insert(layer.name.clone());
        out.push(layer);
    }
    out
}
