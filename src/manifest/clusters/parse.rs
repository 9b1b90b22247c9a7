//! Reading `clusters:` of `rekube.yaml`: every problem with its line.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{ClusterSpec, Role, Standby};
use crate::manifest::diagnostics::Diagnostic;
use crate::manifest::field::FieldPath;
use crate::manifest::files::read_text;
use crate::manifest::layers::{CONFIG_FILE, Parser};
use crate::manifest::names::dns1123_label;
use crate::manifest::yaml;

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
