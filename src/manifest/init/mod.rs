//! `rekube init`: a `rekube.yaml` proposed from what the repository holds — a layer per top-level folder
//! with manifests, kustomizations or Helm charts, ordered by the folder's conventional role, each with
//! the namespace its objects lack when the repository says which, and comments on charts and Kustomize
//! overlays — for the user to edit. [`write`] refuses to replace an existing file unless forced.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::Diagnostics;
use super::files::{self, Input};
use super::layers::{self, CONFIG_FILE, DEFAULT_LAYER};
use super::names::dns1123_label;
use super::overlays;
use super::survey::{self, Contents};
use crate::object::Layer;
use namespaces::{namespaces_defined, without_namespace};

mod namespaces;

/// Errors of [`write`].
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{path} already exists: edit it, or pass --force to replace it")]
    Exists { path: PathBuf },
    #[error(
        "{path}: no Kubernetes manifests, kustomizations or Helm charts found, nothing to declare"
    )]
    Empty { path: PathBuf },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A bug: what init wrote does not load.
    #[error("the rekube.yaml written does not load (please report this)")]
    Invalid(#[source] Diagnostics),
}

/// Options of [`write`].
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// Replace an existing `rekube.yaml`.
    pub force: bool,
}

/// A proposed layer, with the comments that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub layer: Layer,
    pub notes: Vec<String>,
}

/// Proposes layers for the repository at `root`; the second value lists notes for the whole file.
pub fn propose(root: &Path) -> (Vec<Proposed>, Vec<String>) {
    let mut notes = Vec::new();
    let mut folders = survey::top_level(root);
    // A folder whose every kustomization and file other folders' kustomizations use is not a layer.
    let every: Vec<Layer> = folders.iter().map(|f| layer(&f.name, &f.name)).collect();
    let used = survey::used_by_kustomizations(root, &every);
    folders.retain(|f| {
        let left = f.contents.clone().without(root, &used);
        if left.is_empty() {
            notes.push(format!(
                "{}/ is not a layer: kustomizations of the layers use it",
                f.name
            ));
        }
        !left.is_empty()
    });
    let root_files = survey::scan(root, "").without(root, &used);
    if folders.is_empty() {
        if root_files.is_empty() {
            return (Vec::new(), notes);
        }
        let layer = layer(DEFAULT_LAYER, ".");
        let namespaces = BTreeSet::new();
        return (vec![describe(root, layer, &root_files, &namespaces)], notes);
    }
    if !root_files.is_empty() {
        let files: Vec<&str> = root_files.manifests.iter().map(String::as_str).collect();
        notes.push(format!(
            "in no layer: {} at the repository root (move them into a layer's folder)",
            files.join(", ")
        ));
    }
    let namespaces = namespaces_defined(root, &folders);
    let mut taken = BTreeSet::new();
    let mut by_rank: BTreeMap<usize, Vec<Proposed>> = BTreeMap::new();
    for folder in &folders {
        let name = unique(layer_name(&folder.name), &mut taken);
        let (rank, known) = rank(&folder.name);
        let mut p = describe(
            root,
            layer(&name, &folder.name),
            &folder.contents,
            &namespaces,
        );
        if !known {
            p.notes.insert(
                0,
                "its place in the order is a guess: check dependsOn".into(),
            );
        }
        by_rank.entry(rank).or_default().push(p);
    }
    // Each layer depends on every layer of the rank before it.
    let mut out = Vec::new();
    let mut before: Vec<String> = Vec::new();
    for (_, mut group) in by_rank {
        for p in &mut group {
            p.layer.depends_on = before.clone();
        }
        before = group.iter().map(|p| p.layer.name.clone()).collect();
        out.extend(group);
    }
    (out, notes)
}

/// Writes the proposal as `rekube.yaml` at `root` and returns its text.
///
/// # Errors
/// The file exists (without `force`), nothing was found, or the file cannot be written.
pub fn write(root: &Path, options: &InitOptions) -> Result<String, InitError> {
    let path = root.join(CONFIG_FILE);
    if path.symlink_metadata().is_ok() && !options.force {
        return Err(InitError::Exists { path });
    }
    let canonical = std::fs::canonicalize(root).map_err(|source| InitError::Read {
        path: root.to_path_buf(),
        source,
    })?;
    let (layers, notes) = propose(&canonical);
    if layers.is_empty() {
        return Err(InitError::Empty {
            path: root.to_path_buf(),
        });
    }
    let text = render(&layers, &notes);
    std::fs::write(&path, &text).map_err(|source| InitError::Write {
        path: path.clone(),
        source,
    })?;
    layers::resolve(&canonical).map_err(|errors| {
        InitError::Invalid(Diagnostics {
            errors,
            warnings: Vec::new(),
        })
    })?;
    Ok(text)
}

/// The `rekube.yaml` text: one block per layer, notes as comments.
pub fn render(layers: &[Proposed], notes: &[String]) -> String {
    let mut out = String::from(
        "# Written by `rekube init` from the folders it found: edit it to fit. Layers are applied in\n\
         # dependency order; each waits for every object of the layers it dependsOn. A namespaced object\n\
         # without a namespace gets its layer's namespace, else the one given with -n.\n",
    );
    for n in notes {
        out.push_str(&format!("# {n}\n"));
    }
    out.push_str("layers:\n");
    for p in layers {
        let l = &p.layer;
        out.push_str(&format!(
            "  - name: {}\n    path: {}\n",
            l.name,
            scalar(&l.path)
        ));
        if !l.depends_on.is_empty() {
            out.push_str(&format!("    dependsOn: [{}]\n", l.depends_on.join(", ")));
        }
        if let Some(ns) = &l.namespace {
            out.push_str(&format!("    namespace: {ns}\n"));
        }
        for n in &p.notes {
            out.push_str(&format!("    # {n}\n"));
        }
    }
    out
}

fn layer(name: &str, path: &str) -> Layer {
    Layer {
        name: name.to_string(),
        path: path.to_string(),
        depends_on: Vec::new(),
        namespace: None,
    }
}

/// A plain YAML scalar when safe, else a double-quoted (JSON) string.
fn scalar(s: &str) -> String {
    let plain = s == "."
        || (!s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
            && !s.starts_with(['-', '.']));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// A DNS-1123 label from a folder name (`My_Apps` → `my-apps`).
fn layer_name(folder: &str) -> String {
    let mut name: String = folder
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    name = name.trim_matches('-').to_string();
    if dns1123_label(&name).is_ok() {
        name
    } else {
        "layer".to_string()
    }
}

fn unique(name: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    candidate
}

/// The conventional place of a folder: foundation, tools, applications; unknown names go last.
fn rank(folder: &str) -> (usize, bool) {
    const RANKS: [&str; 3] = [
        "cluster infrastructure infra platform crds namespaces system core bootstrap",
        "tools addons controllers operators monitoring observability security",
        "apps applications services workloads tenants teams",
    ];
    let lower = folder.to_ascii_lowercase();
    RANKS
        .iter()
        .position(|names| names.split(' ').any(|n| n == lower))
        .map_or((2, false), |rank| (rank, true))
}

/// The layer with its namespace and notes on charts, overlays and objects without a namespace.
fn describe(
    root: &Path,
    mut layer: Layer,
    contents: &Contents,
    namespaces: &BTreeSet<String>,
) -> Proposed {
    let mut notes = Vec::new();
    if !contents.charts.is_empty() {
        notes.push(format!(
            "Helm charts (folders with Chart.yaml): {}",
            contents.charts.join(", ")
        ));
    }
    let (inputs, used) = overlays::split(root, files::collect(root, &layer).inputs);
    for u in &used {
        notes.push(format!(
            "Kustomize: {} is a base of {}, rendered only through {}",
            u.rel,
            u.by.join(", "),
            if u.by.len() == 1 { "it" } else { "them" }
        ));
    }
    // Kustomizations of the layer that use one base (in the layer or not) are overlays of it.
    let mut by_base: BTreeMap<PathBuf, BTreeSet<&str>> = BTreeMap::new();
    for input in &inputs {
        if let Input::Kustomization { rel, abs } = input {
            for (_, _, target) in super::kustomize::referenced(root, abs) {
                if target.is_dir() {
                    by_base.entry(target).or_default().insert(rel);
                }
            }
        }
    }
    let overlays: BTreeSet<&str> = by_base
        .into_values()
        .filter(|users| users.len() > 1)
        .flatten()
        .collect();
    if overlays.len() > 1 {
        let list: Vec<&str> = overlays.into_iter().collect();
        notes.push(format!(
            "overlays {} are all applied by this layer: point path at the one this cluster runs, or give \
             each its own layer",
            list.join(", ")
        ));
    }
    let (missing, own) = without_namespace(&inputs);
    if missing > 0 {
        let pick = match own.as_slice() {
            [only] => Some((only.clone(), "the layer's only Namespace")),
            _ if namespaces.contains(&layer.name) => Some((
                layer.name.clone(),
                "a Namespace of the repository named like the layer",
            )),
            _ if namespaces.len() == 1 => namespaces
                .first()
                .map(|ns| (ns.clone(), "the repository's only Namespace")),
            _ => None,
        };
        match pick {
            Some((ns, why)) => {
                notes.push(format!(
                    "{missing} namespaced object(s) have no namespace: given {ns}, {why}"
                ));
                layer.namespace = Some(ns);
            }
            None => notes.push(format!(
                "{missing} namespaced object(s) have no namespace: add `namespace: NAME` here, or pass -n NAME"
            )),
        }
    }
    Proposed { layer, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_places_of_folders() {
        // (folder, layer name, rank, known)
        let cases = [
            ("cluster", "cluster", 0, true),
            ("Infrastructure", "infrastructure", 0, true),
            ("monitoring", "monitoring", 1, true),
            ("apps", "apps", 2, true),
            ("My_Team", "my-team", 2, false),
            ("__", "layer", 2, false),
        ];
        for (folder, name, want_rank, want_known) in cases {
            assert_eq!(layer_name(folder), name, "{folder}");
            assert_eq!(rank(folder), (want_rank, want_known), "{folder}");
        }
        let mut taken = BTreeSet::new();
        assert_eq!(unique("apps".into(), &mut taken), "apps");
        assert_eq!(unique("apps".into(), &mut taken), "apps-2");
        assert_eq!(scalar("apps/prod"), "apps/prod");
        assert_eq!(scalar("my apps"), "\"my apps\"");
    }
}
