//! `export`: list the live cluster (every listable kind, or the chosen ones; every namespace, or the
//! chosen ones), hand the objects to [`crate::export`], and write the repository it makes: a new folder
//! (`--out`), or a new layer of an existing repository (`--add-to`) holding only what that repository
//! does not already declare or manage.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde_json::Value;

use crate::cluster::{Cluster, ClusterError};
use crate::export::{self, Export, ExportError, ExportOptions, LeftOut};
use crate::inventory::{self, LABEL_PART_OF};
use crate::object::ObjectId;

/// One kind's objects, or why they could not be listed.
type Listed = Result<Vec<(ObjectId, Value)>, ClusterError>;

/// Options of [`export`]; `Default` exports everything but Secrets.
#[derive(Debug, Clone, Default)]
pub struct ExportRunOptions {
    pub export: ExportOptions,
    /// Only these namespaces (and their Namespace objects); empty: every namespace and every
    /// cluster-scoped object.
    pub namespaces: Vec<String>,
    /// Label selector applied to every list.
    pub selector: Option<String>,
    /// Only these kinds (`Deployment`, `deployments`, `certificate.cert-manager.io`); empty: all.
    pub kinds: Vec<String>,
    /// Objects to leave out because a repository already declares them (`--add-to`).
    pub declared: BTreeSet<ObjectId>,
    /// Leave out the members of any rekube inventory (`--add-to`: they are managed already).
    pub skip_managed: bool,
    pub concurrency: usize,
}

/// An error that stops an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportRunError {
    #[error(transparent)]
    Render(#[from] ExportError),
    #[error("{path}: the output folder exists and is not empty; choose another or remove it")]
    NotEmpty { path: PathBuf },
    #[error("{path}: cannot write")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Options(String),
}

/// What was exported, and what could not be listed.
#[derive(Debug, Default)]
pub struct Exported {
    pub export: Export,
    /// Kinds that could not be listed (forbidden, failing): their objects are not in the export.
    pub warnings: Vec<String>,
}

/// Lists the cluster and builds the repository (nothing is written yet).
///
/// # Errors
/// An object cannot be rendered. Kinds that cannot be listed are [`Exported::warnings`].
pub async fn export(
    cluster: &Cluster,
    opts: &ExportRunOptions,
) -> Result<Exported, ExportRunError> {
    let mut kinds: Vec<_> = inventory::served_kinds(cluster)
        .await
        .into_iter()
        .filter(|(gk, r)| {
            opts.kinds.is_empty()
                || opts
                    .kinds
                    .iter()
                    .any(|k| kind_matches(k, &gk.group, &gk.kind, &r.resource.plural))
        })
        .collect();
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    let targets: Vec<_> = kinds
        .into_iter()
        .flat_map(|(_, r)| {
            let scopes: Vec<Option<String>> = match (r.namespaced, opts.namespaces.is_empty()) {
                (true, false) => opts.namespaces.iter().cloned().map(Some).collect(),
                (false, false) if r.resource.kind != "Namespace" => Vec::new(),
                _ => vec![None],
            };
            scopes.into_iter().map(move |ns| (r.clone(), ns))
        })
        .collect();
    let selector = opts.selector.as_deref();
    let results: Vec<(String, Listed)> = futures::stream::iter(targets)
        .map(|(r, ns)| async move {
            let what = r.resource.kind.clone();
            (
                what,
                cluster.list_objects(&r, ns.as_deref(), selector).await,
            )
        })
        .buffered(opts.concurrency.max(1))
        .collect()
        .await;
    let mut live = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut skipped = Vec::new();
    for (kind, result) in results {
        match result {
            Ok(items) => {
                for (id, v) in items {
                    if let Some(reason) = skip(&id, &v, opts) {
                        skipped.push(LeftOut { id, reason });
                    } else {
                        live.insert(id, v);
                    }
                }
            }
            Err(e) => warnings.push(format!(
                "{kind}: not exported, it cannot be listed: {}",
                crate::error::render(&e)
            )),
        }
    }
    let mut export = export::export(&live, &opts.export)?;
    export.left_out.extend(skipped);
    export.left_out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Exported { export, warnings })
}

/// `--add-to`: what the repository declares, or an inventory manages, is not exported again.
fn skip(id: &ObjectId, live: &Value, opts: &ExportRunOptions) -> Option<String> {
    let namespace_filtered = id.group.is_empty()
        && id.kind == "Namespace"
        && !opts.namespaces.is_empty()
        && !opts.namespaces.contains(&id.name);
    if namespace_filtered {
        return Some("not one of the namespaces asked for".into());
    }
    if opts.declared.contains(id) {
        return Some("declared in the repository already".into());
    }
    let member = live
        .pointer("/metadata/labels")
        .and_then(|l| l.get(LABEL_PART_OF))
        .is_some();
    (opts.skip_managed && member).then(|| "managed by a rekube inventory already".into())
}

/// `Deployment`, `deployment`, `deployments` or `deployment.apps` name the kind.
fn kind_matches(wanted: &str, group: &str, kind: &str, plural: &str) -> bool {
    let wanted = wanted.to_lowercase();
    let (name, g) = wanted.split_once('.').unwrap_or((wanted.as_str(), ""));
    let kind = kind.to_lowercase();
    (name == kind || name == plural) && (g.is_empty() || g == group)
}

/// Writes the files under `dir`. With `fresh`, `dir` must be absent or empty (an export never mixes
/// with other files); otherwise only new files are added and none is overwritten.
///
/// # Errors
/// The folder is not empty (`fresh`), a file exists already, or a write fails.
pub fn write(dir: &Path, export: &Export, fresh: bool) -> Result<(), ExportRunError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportRunError::Write { path, source }
    };
    if fresh
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(ExportRunError::NotEmpty {
            path: dir.to_path_buf(),
        });
    }
    for rel in export.files.keys() {
        let path = dir.join(rel);
        if path.exists() {
            return Err(ExportRunError::Options(format!(
                "{}: exists already; nothing was written",
                path.display()
            )));
        }
    }
    for (rel, content) in &export.files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, content).map_err(io(&path))?;
    }
    Ok(())
}

/// Adds `layer` to the `layers:` list of `rekube.yaml` in `repo` (after every layer, depending on
/// all of them). Without a `rekube.yaml`, one is written for the default layers found and the new one.
///
/// # Errors
/// The file cannot be read or written, or its `layers:` list is not in block style.
pub fn add_layer(repo: &Path, layer: &str, existing: &[String]) -> Result<(), ExportRunError> {
    let path = repo.join("rekube.yaml");
    let depends = existing.join(", ");
    let entry = if existing.is_empty() {
        format!("  - {{name: {layer}, path: {layer}}}\n")
    } else {
        format!("  - {{name: {layer}, path: {layer}, dependsOn: [{depends}]}}\n")
    };
    // The default layers, written out: the file has no `layers:` (or no file exists), so they were found
    // by folder.
    let mut listed = String::from("layers:\n");
    let mut previous: Option<&str> = None;
    for l in existing {
        match previous {
            Some(p) => {
                listed.push_str(&format!("  - {{name: {l}, path: {l}, dependsOn: [{p}]}}\n"))
            }
            None => listed.push_str(&format!("  - {{name: {l}, path: {l}}}\n")),
        }
        previous = Some(l);
    }
    listed.push_str(&entry);
    let write = |text: String| {
        std::fs::write(&path, text).map_err(|source| ExportRunError::Write {
            path: path.clone(),
            source,
        })
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return write(listed),
        Err(source) => return Err(ExportRunError::Write { path, source }),
    };
    if !text.lines().any(|l| l.starts_with("layers:")) {
        let mut out = text.clone();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&listed);
        return write(out);
    }
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == "layers:") else {
        return Err(ExportRunError::Options(format!(
            "{}: no block-style `layers:` list to add to; add this entry yourself:\n{entry}",
            path.display()
        )));
    };
    // The list ends at the first line after it that is neither an item, indented, blank nor a comment.
    let end = lines[start + 1..]
        .iter()
        .position(|l| !(l.starts_with(' ') || l.starts_with('-') || l.trim().is_empty()))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out: Vec<String> = lines[..end].iter().map(|l| l.to_string()).collect();
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.push(entry.trim_end().to_string());
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    let mut joined = out.join("\n");
    joined.push('\n');
    write(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_plural_or_group() {
        assert!(kind_matches(
            "Deployment",
            "apps",
            "Deployment",
            "deployments"
        ));
        assert!(kind_matches(
            "deployments",
            "apps",
            "Deployment",
            "deployments"
        ));
        assert!(kind_matches(
            "deployment.apps",
            "apps",
            "Deployment",
            "deployments"
        ));
        assert!(!kind_matches(
            "deployment.extensions",
            "apps",
            "Deployment",
            "deployments"
        ));
        assert!(!kind_matches(
            "service",
            "",
            "ServiceAccount",
            "serviceaccounts"
        ));
    }

    #[test]
    fn a_layer_is_added_to_rekube_yaml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rekube.yaml");
        std::fs::write(
            &path,
            "# platform\nlayers:\n  - {name: cluster, path: cluster}\n  - name: apps\n    path: apps\n\ninventory: shop\n",
        )
        .expect("write");
        add_layer(dir.path(), "imported", &["cluster".into(), "apps".into()]).expect("add");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "# platform\nlayers:\n  - {name: cluster, path: cluster}\n  - name: apps\n    path: apps\n  - {name: imported, path: imported, dependsOn: [cluster, apps]}\ninventory: shop\n"
        );
        let rules_only = tempfile::tempdir().expect("tempdir");
        let path = rules_only.path().join("rekube.yaml");
        std::fs::write(
            &path,
            "ignore:\n  - kind: Deployment\n    jsonPointers: [/spec/replicas]\n",
        )
        .expect("write");
        add_layer(rules_only.path(), "imported", &["apps".into()]).expect("add");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "ignore:\n  - kind: Deployment\n    jsonPointers: [/spec/replicas]\nlayers:\n  - {name: apps, path: apps}\n  - {name: imported, path: imported, dependsOn: [apps]}\n",
            "a rekube.yaml of rules only gets the default layers written out, then the new one"
        );
        let bare = tempfile::tempdir().expect("tempdir");
        add_layer(bare.path(), "imported", &["apps".into()]).expect("add");
        assert_eq!(
            std::fs::read_to_string(bare.path().join("rekube.yaml")).expect("read"),
            "layers:\n  - {name: apps, path: apps}\n  - {name: imported, path: imported, dependsOn: [apps]}\n"
        );
    }
}
