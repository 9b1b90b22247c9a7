//! Clusters of `rekube.yaml`: where each is reached, its role, its standby model, and what it changes in
//! the repository. One repository serves several clusters; a command run for one of them loads the
//! repository shaped for it ([`shape_layers`], [`add_values`], [`hold_replicas`]).
//!
//! ```yaml
//! clusters:
//!   - {name: eu, context: eu-admin}                      # role: primary by default
//!   - name: us
//!     kubeconfig: ~/.kube/us.yaml
//!     context: us-admin
//!     role: standby
//!     standby: warm                                      # everything, workloads held at zero
//!     namespace: web                                     # default namespace (as -n)
//!     values: {podinfo: [clusters/us/podinfo.yaml]}      # extra values files per chart release
//!     paths: {apps: apps/overlays/us}                    # a layer's folder for this cluster
//!     extraLayers: [{name: us-only, path: clusters/us, dependsOn: [apps]}]
//!   - {name: dr, context: dr, role: standby, standby: pilot-light, layers: [cluster, tools]}
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::field::FieldPath;
use super::files::read_text;
use super::layers::{CONFIG_FILE, Parser, topological};
use super::names::dns1123_label;
use super::yaml;
use crate::object::{Layer, Object};

const KEYS: [&str; 10] = [
    "name",
    "kubeconfig",
    "context",
    "role",
    "standby",
    "layers",
    "namespace",
    "values",
    "paths",
    "extraLayers",
];
const CONFIG_LIMIT: u64 = 1024 * 1024;

/// A cluster declared in `rekube.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    pub name: String,
    /// Kubeconfig file (`~/` is the home folder); the usual lookup when absent.
    pub kubeconfig: Option<String>,
    /// Kubeconfig context; the file's current context when absent.
    pub context: Option<String>,
    pub role: Role,
    /// Default namespace of namespaced objects that have none and whose layer declares none.
    pub namespace: Option<String>,
    /// Extra values files (relative to the repository root) per chart release, after the chart's own.
    pub values: BTreeMap<String, Vec<String>>,
    /// A layer's folder for this cluster, instead of the declared one.
    pub paths: BTreeMap<String, String>,
    /// Layers only this cluster has.
    pub extra_layers: Vec<Layer>,
    /// Line of the cluster's entry in `rekube.yaml`.
    pub line: usize,
}

/// What a cluster is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "role", content = "standby")]
pub enum Role {
    /// Serves: gets the whole repository.
    Primary,
    /// Stands by to take over, by one of the recovery models.
    Standby(Standby),
}

/// How a standby waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "model", content = "layers")]
pub enum Standby {
    /// Every object, Deployments and StatefulSets held at zero replicas.
    Warm,
    /// Only the named layers (the core services); the rest is applied at promotion.
    PilotLight(Vec<String>),
}

impl Role {
    /// `primary`, `standby (warm)`, `standby (pilot light: cluster, tools)`.
    pub fn describe(&self) -> String {
        match self {
            Role::Primary => "primary".into(),
            Role::Standby(Standby::Warm) => "standby (warm)".into(),
            Role::Standby(Standby::PilotLight(layers)) => {
                format!("standby (pilot light: {})", layers.join(", "))
            }
        }
    }

    /// Same role, for comparing clusters with each other (`primary`, `standby`).
    pub fn kind(&self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby(_) => "standby",
        }
    }
}

/// Which cluster a load is for, and whether its standby model applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterChoice {
    pub name: String,
    /// The standby was promoted: it gets the whole repository, nothing held (as a primary).
    pub promoted: bool,
}

/// The clusters `rekube.yaml` at `root` declares, in declaration order (empty without `clusters:`).
///
/// # Errors
/// Every problem of the `clusters:` list, each with its line.
pub fn declared(root: &Path) -> Result<Vec<ClusterSpec>, Vec<Diagnostic>> {
    let config = root.join(CONFIG_FILE);
    if config.symlink_metadata().is_err() {
        return Ok(Vec::new());
    }
    let text = read_text(&config, CONFIG_FILE, CONFIG_LIMIT).map_err(|d| vec![d])?;
    // Syntax errors are the layers' to report.
    let Ok(Some(tree)) = yaml::parse_single(&text) else {
        return Ok(Vec::new());
    };
    let doc = tree.to_value();
    let Some(list) = doc.get("clusters") else {
        return Ok(Vec::new());
    };
    let mut p = Parser {
        tree: &tree,
        root,
        errors: Vec::new(),
    };
    let at = FieldPath::default().key("clusters");
    let Some(items) = list.as_array().filter(|a| !a.is_empty()) else {
        p.error(
            &at,
            "`clusters:` must be a non-empty list of {name, context, kubeconfig, role, standby, …}"
                .into(),
        );
        return Err(p.errors);
    };
    let mut out: Vec<ClusterSpec> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = at.index(i);
        if let Some(spec) = cluster(&mut p, item, &at) {
            if let Some(first) = out.iter().find(|c| c.name == spec.name) {
                let msg = format!(
                    "duplicate cluster name {:?} (first declared at line {})",
                    spec.name, first.line
                );
                p.error(&at.key("name"), msg);
                continue;
            }
            out.push(spec);
        }
    }
    if p.errors.is_empty() {
        Ok(out)
    } else {
        Err(p.errors)
    }
}

fn cluster(p: &mut Parser<'_>, item: &Value, at: &FieldPath) -> Option<ClusterSpec> {
    let Some(map) = item.as_object() else {
        p.error(at, "a cluster must be a mapping {name, context, …}".into());
        return None;
    };
    for key in map.keys().filter(|k| !KEYS.contains(&k.as_str())) {
        let msg = format!(
            "unknown key {key:?} in cluster (expected: {})",
            KEYS.join(", ")
        );
        p.error(&at.key(key), msg);
    }
    let name = match map.get("name") {
        Some(Value::String(s)) => match dns1123_label(s) {
            Ok(()) => s.clone(),
            Err(e) => {
                p.error(&at.key("name"), format!("invalid cluster name: {e}"));
                return None;
            }
        },
        _ => {
            p.error(at, "a cluster needs a name (a string)".into());
            return None;
        }
    };
    let mut text = |key: &str| match map.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            let msg = format!("{key} of cluster {name:?} must be a non-empty string");
            p.error(&at.key(key), msg);
            None
        }
    };
    let kubeconfig = text("kubeconfig");
    let context = text("context");
    let role = text("role");
    let standby = text("standby");
    let namespace = text("namespace");
    if let Some(ns) = &namespace
        && let Err(e) = dns1123_label(ns)
    {
        let msg = format!("invalid namespace of cluster {name:?}: {e}");
        p.error(&at.key("namespace"), msg);
    }
    let layers = names(p, map.get("layers"), &at.key("layers"), &name);
    let role = match (role.as_deref(), standby.as_deref()) {
        (None | Some("primary"), None) => Role::Primary,
        (Some("primary"), Some(_)) => {
            let msg = format!("cluster {name:?} is a primary: `standby:` is for role standby");
            p.error(&at.key("standby"), msg);
            return None;
        }
        (Some("standby"), None) => {
            let msg = format!(
                "standby cluster {name:?} needs its model: `standby: warm` or `standby: pilot-light` with `layers:`"
            );
            p.error(at, msg);
            return None;
        }
        (None | Some("standby"), Some("warm")) => Role::Standby(Standby::Warm),
        (None | Some("standby"), Some("pilot-light")) => {
            if layers.is_empty() {
                let msg = format!(
                    "pilot-light cluster {name:?} needs `layers:`, the layers it runs before a promotion"
                );
                p.error(at, msg);
                return None;
            }
            Role::Standby(Standby::PilotLight(layers.clone()))
        }
        (None | Some("standby"), Some(other)) => {
            let msg = format!("unknown standby model {other:?} (expected: warm, pilot-light)");
            p.error(&at.key("standby"), msg);
            return None;
        }
        (Some(other), _) => {
            let msg = format!("unknown role {other:?} (expected: primary, standby)");
            p.error(&at.key("role"), msg);
            return None;
        }
    };
    if !layers.is_empty() && !matches!(role, Role::Standby(Standby::PilotLight(_))) {
        let msg = format!("`layers:` of cluster {name:?} is for `standby: pilot-light`");
        p.error(&at.key("layers"), msg);
    }
    let values = values(p, map.get("values"), &at.key("values"), &name);
    let mut paths = BTreeMap::new();
    match map.get("paths") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (layer, path) in m {
                let at = at.key("paths").key(layer);
                match path.as_str() {
                    Some(raw) => {
                        if let Some(folder) = p.folder(raw, &at) {
                            paths.insert(layer.clone(), folder);
                        }
                    }
                    None => p.error(&at, format!("paths.{layer} must be a folder (a string)")),
                }
            }
        }
        Some(_) => p.error(
            &at.key("paths"),
            "paths must map layer names to folders".into(),
        ),
    }
    let mut extra_layers = Vec::new();
    match map.get("extraLayers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                extra_layers.extend(p.layer(item, &at.key("extraLayers").index(i)));
            }
        }
        Some(_) => p.error(
            &at.key("extraLayers"),
            "extraLayers must be a list of layers {name, path, dependsOn, namespace}".into(),
        ),
    }
    Some(ClusterSpec {
        line: p.line(at),
        name,
        kubeconfig,
        context,
        role,
        namespace,
        values,
        paths,
        extra_layers,
    })
}

fn names(p: &mut Parser<'_>, v: Option<&Value>, at: &FieldPath, cluster: &str) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            let msg = format!("layers of cluster {cluster:?} must be a list of layer names");
            p.error(at, msg);
            Vec::new()
        }
    }
}

fn values(
    p: &mut Parser<'_>,
    v: Option<&Value>,
    at: &FieldPath,
    cluster: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return out;
    };
    let Some(map) = v.as_object() else {
        let msg = format!("values of cluster {cluster:?} must map chart releases to values files");
        p.error(at, msg);
        return out;
    };
    for (release, files) in map {
        let at = at.key(release);
        let files: Vec<&str> = match files {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) if a.iter().all(Value::is_string) => {
                a.iter().filter_map(Value::as_str).collect()
            }
            _ => {
                p.error(&at, format!("values.{release} must be a list of files"));
                continue;
            }
        };
        let mut kept = Vec::new();
        for file in files {
            let rel = file.trim_start_matches("./");
            let inside = !rel.starts_with('/') && !rel.split('/').any(|s| s == "..");
            if inside && p.root.join(rel).is_file() {
                kept.push(rel.to_string());
            } else {
                let msg = format!(
                    "values file {file:?} of release {release:?} (cluster {cluster:?}) is not a file inside the repository"
                );
                p.error(&at, msg);
            }
        }
        out.insert(release.clone(), kept);
    }
    out
}

/// The cluster named `name`, or an error listing the declared ones.
///
/// # Errors
/// No cluster of that name.
pub fn find<'a>(clusters: &'a [ClusterSpec], name: &str) -> Result<&'a ClusterSpec, Diagnostic> {
    clusters.iter().find(|c| c.name == name).ok_or_else(|| {
        let known: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
        let msg = if known.is_empty() {
            format!("unknown cluster {name:?}: rekube.yaml declares no `clusters:`")
        } else {
            format!(
                "unknown cluster {name:?} (rekube.yaml declares: {})",
                known.join(", ")
            )
        };
        Diagnostic::new(CONFIG_FILE, msg)
    })
}

/// Every layer of the repository for `spec`: its folders and extra layers, checked (what it holds before
/// a promotion is [`standing`]).
///
/// # Errors
/// A layer named by the cluster that does not exist, a pilot light missing a layer its layers depend on,
/// an extra layer that depends on an unknown layer or repeats a name.
pub fn shape_layers(
    mut layers: Vec<Layer>,
    spec: &ClusterSpec,
) -> Result<Vec<Layer>, Vec<Diagnostic>> {
    let err = |msg: String| Diagnostic::new(CONFIG_FILE, msg).at(spec.line, None);
    let mut errors = Vec::new();
    let known = |layers: &[Layer]| {
        layers
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, path) in &spec.paths {
        match layers.iter_mut().find(|l| &l.name == name) {
            Some(layer) => layer.path = path.clone(),
            None => errors.push(err(format!(
                "cluster {:?}: paths names layer {name:?}, which does not exist (layers: {})",
                spec.name,
                known(&layers)
            ))),
        }
    }
    for extra in &spec.extra_layers {
        if layers.iter().any(|l| l.name == extra.name) {
            errors.push(err(format!(
                "cluster {:?}: extra layer {:?} repeats a layer's name",
                spec.name, extra.name
            )));
        }
    }
    layers.extend(spec.extra_layers.iter().cloned());
    for layer in &layers {
        for dep in &layer.depends_on {
            if !layers.iter().any(|l| &l.name == dep) {
                errors.push(err(format!(
                    "cluster {:?}: layer {:?} depends on unknown layer {dep:?} (layers: {})",
                    spec.name,
                    layer.name,
                    known(&layers)
                )));
            }
        }
    }
    if let Role::Standby(Standby::PilotLight(names)) = &spec.role {
        for name in names {
            if !layers.iter().any(|l| &l.name == name) {
                errors.push(err(format!(
                    "cluster {:?}: pilot-light layer {name:?} does not exist (layers: {})",
                    spec.name,
                    known(&layers)
                )));
            }
        }
        let kept: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        for layer in layers.iter().filter(|l| kept.contains(l.name.as_str())) {
            for dep in layer
                .depends_on
                .iter()
                .filter(|d| !kept.contains(d.as_str()))
            {
                errors.push(err(format!(
                    "cluster {:?}: pilot-light layer {:?} depends on layer {dep:?}, which the pilot light leaves out: add it to `layers:`",
                    spec.name, layer.name
                )));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(topological(layers))
}

/// The layers a cluster holds now: a pilot-light standby (not `promoted`) only its named ones.
pub fn standing(mut layers: Vec<Layer>, spec: &ClusterSpec, promoted: bool) -> Vec<Layer> {
    if let (Role::Standby(Standby::PilotLight(names)), false) = (&spec.role, promoted) {
        layers.retain(|l| names.contains(&l.name));
    }
    layers
}

/// Adds the cluster's values files to its chart releases (after each chart's own).
///
/// # Errors
/// Values for a release no chart declares.
pub fn add_values(
    specs: &mut [super::charts::ChartSpec],
    spec: &ClusterSpec,
) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for (release, files) in &spec.values {
        let mut found = false;
        for chart in specs.iter_mut().filter(|c| &c.release == release) {
            chart.values_files.extend(files.iter().cloned());
            found = true;
        }
        if !found {
            let releases: BTreeSet<&str> = specs.iter().map(|c| c.release.as_str()).collect();
            let msg = format!(
                "cluster {:?}: values for release {release:?}, which no chart of its layers declares (releases: {})",
                spec.name,
                releases.into_iter().collect::<Vec<_>>().join(", ")
            );
            errors.push(Diagnostic::new(CONFIG_FILE, msg).at(spec.line, None));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Warm standby: every Deployment and StatefulSet at zero replicas, Git's replicas recorded in
/// [`crate::keys::ANNOTATION_STANDBY_REPLICAS`] for the promotion, except those behind a webhook or an
/// aggregated API ([`super::standby::api_backends`]). Returns how many were held.
pub fn hold_replicas(objects: &mut [Object]) -> usize {
    let mut held = 0;
    let serving = super::standby::api_backends(objects);
    for o in objects
        .iter_mut()
        .filter(|o| is_held_kind(o) && !serving.contains(&o.id))
    {
        let replicas = o
            .body
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let Some(body) = o.body.as_object_mut() else {
            continue;
        };
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), Value::from(0));
        }
        let annotations = body
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()))
            .as_object_mut()
            .map(|m| {
                m.entry("annotations")
                    .or_insert_with(|| Value::Object(Default::default()))
            });
        if let Some(Value::Object(a)) = annotations {
            a.insert(
                crate::keys::ANNOTATION_STANDBY_REPLICAS.into(),
                Value::String(replicas.to_string()),
            );
            held += 1;
        }
    }
    held
}

/// Deployments and StatefulSets: the workloads a warm standby holds at zero.
pub fn is_held_kind(o: &Object) -> bool {
    o.id.group == "apps" && matches!(o.id.kind.as_str(), "Deployment" | "StatefulSet")
}

#[cfg(test)]
#[path = "clusters_tests.rs"]
mod tests;
