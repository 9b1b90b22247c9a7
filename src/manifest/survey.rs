//! What the repository's top-level folders hold (Kubernetes manifests, kustomizations, Helm charts): to
//! name the folders that the default layers leave out, and for `rekube init`.
//!
//! A file holds manifests when it is `.yaml`/`.yml`/`.json` with top-level `apiVersion` and `kind` keys
//! (`mkdocs.yml` or `renovate.json` do not count). A folder with a `Chart.yaml` is a chart and one with a
//! kustomization is a kustomization: neither is looked into further. Hidden entries and symlinks are
//! skipped, as are files over the loader's size limit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::DEFAULT_MAX_FILE_SIZE;
use super::diagnostics::Diagnostic;
use super::files::{self, Input, KUSTOMIZATION_FILES};
use super::kustomize;
use super::layers::{CONFIG_FILE, DEFAULT_LAYER, DEFAULT_LAYERS};
use crate::object::Layer;

/// The file that makes a folder a Helm chart.
pub const CHART_FILE: &str = "Chart.yaml";

/// What a folder holds, paths relative to the repository root in sorted order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents {
    /// Files with Kubernetes objects (outside charts and kustomizations).
    pub manifests: Vec<String>,
    /// Folders with a kustomization.
    pub kustomizations: Vec<String>,
    /// Folders with a `Chart.yaml`.
    pub charts: Vec<String>,
}

impl Contents {
    pub fn is_empty(&self) -> bool {
        self.manifests.is_empty() && self.kustomizations.is_empty() && self.charts.is_empty()
    }

    /// Without the files and kustomizations in `used` (canonical paths): a base that kustomizations of
    /// the layers use is read through them.
    pub fn without(mut self, root: &Path, used: &BTreeSet<PathBuf>) -> Contents {
        let kept = |rel: &String| {
            std::fs::canonicalize(root.join(rel)).map_or(true, |p| !used.contains(&p))
        };
        self.manifests.retain(kept);
        self.kustomizations.retain(kept);
        self
    }
}

/// Canonical paths of every folder and file that the kustomizations of `layers` use, wherever they are
/// (`apps/prod` using `../../base`).
pub fn used_by_kustomizations(root: &Path, layers: &[Layer]) -> BTreeSet<PathBuf> {
    layers
        .iter()
        .flat_map(|l| files::collect(root, l).inputs)
        .filter_map(|i| match i {
            Input::Kustomization { abs, .. } => Some(abs),
            Input::File { .. } | Input::Chart { .. } => None,
        })
        .flat_map(|abs| kustomize::referenced(root, &abs))
        .map(|(_, _, target)| target)
        .collect()
}

/// A top-level folder and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub name: String,
    pub contents: Contents,
}

/// Everything below `rel` (`""` for the root's own files only, not its folders).
pub fn scan(root: &Path, rel: &str) -> Contents {
    let mut contents = Contents::default();
    if rel.is_empty() {
        files_of(root, "", &mut contents, false);
    } else {
        walk(root, rel, &mut contents);
    }
    contents
}

/// The non-hidden top-level folders that hold manifests, kustomizations or charts, by name.
pub fn top_level(root: &Path) -> Vec<Folder> {
    top_level_except(root, &[])
}

/// [`top_level`] without the folders named in `skip` (not even looked into).
fn top_level_except(root: &Path, skip: &[&str]) -> Vec<Folder> {
    entries(root)
        .into_iter()
        .filter(|(name, is_dir)| *is_dir && !skip.contains(&name.as_str()))
        .map(|(name, _)| Folder {
            contents: scan(root, &name),
            name,
        })
        .filter(|f| !f.contents.is_empty())
        .collect()
}

/// Without `rekube.yaml`, when the folders `cluster/`, `tools/`, `apps/` are the layers: one diagnostic per
/// other top-level folder (and for the root's own files) that holds manifests or charts, which rekube
/// does not read. Nothing when the layers are declared or the whole repository is one layer.
pub fn left_out(root: &Path, layers: &[Layer]) -> Vec<Diagnostic> {
    // A rekube.yaml of rules only (health:, ignore:) leaves the layers to the default folders.
    let declared = std::fs::read_to_string(root.join(CONFIG_FILE))
        .is_ok_and(|t| t.lines().any(|l| l.starts_with("layers:")));
    if declared
        || layers
            .iter()
            .any(|l| l.name == DEFAULT_LAYER && l.path == ".")
    {
        return Vec::new();
    }
    let read: Vec<&str> = layers.iter().map(|l| l.path.as_str()).collect();
    let folders = top_level_except(root, &read);
    let root_files = scan(root, "");
    if folders.is_empty() && root_files.is_empty() {
        return Vec::new();
    }
    let hint = format!(
        "without {CONFIG_FILE} only the folders {} are layers: declare the layers in {CONFIG_FILE} \
         (`rekube init` writes one from what it finds)",
        DEFAULT_LAYERS.map(|l| format!("{l}/")).join(", ")
    );
    // A base that kustomizations of the layers use is read through them.
    let used = used_by_kustomizations(root, layers);
    let mut out = Vec::new();
    let root_files = root_files.without(root, &used);
    if !root_files.is_empty() {
        let what = describe(&root_files);
        let msg = format!("the repository root holds {what} outside the layers, not read: {hint}");
        out.push(Diagnostic::new(".", msg));
    }
    for folder in folders {
        let contents = folder.contents.without(root, &used);
        if contents.is_empty() {
            continue;
        }
        let what = describe(&contents);
        let msg = format!("folder holds {what} but is not a layer, so it is not read: {hint}");
        out.push(Diagnostic::new(&folder.name, msg));
    }
    out
}

/// `3 manifest file(s), kustomization x, chart(s) a, b`.
fn describe(c: &Contents) -> String {
    let list = |v: &[String]| {
        let shown: Vec<&str> = v.iter().take(3).map(String::as_str).collect();
        let more = v.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("{}{more}", shown.join(", "))
    };
    let mut parts = Vec::new();
    if !c.manifests.is_empty() {
        parts.push(format!("Kubernetes manifests ({})", list(&c.manifests)));
    }
    if !c.kustomizations.is_empty() {
        parts.push(format!("kustomizations ({})", list(&c.kustomizations)));
    }
    if !c.charts.is_empty() {
        parts.push(format!("Helm charts ({})", list(&c.charts)));
    }
    parts.join(", ")
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// Non-hidden entries of `dir` as `(name, is a folder)`, sorted; symlinks and unreadable entries skipped.
fn entries(dir: &Path) -> Vec<(String, bool)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, bool)> = read
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let t = e.file_type().ok()?;
            (!name.starts_with('.') && !t.is_symlink() && (t.is_dir() || t.is_file()))
                .then_some((name, t.is_dir()))
        })
        .collect();
    out.sort();
    out
}

fn walk(root: &Path, rel: &str, contents: &mut Contents) {
    let dir = root.join(rel);
    if dir.join(CHART_FILE).is_file() {
        contents.charts.push(rel.to_string());
        return;
    }
    if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) {
        contents.kustomizations.push(rel.to_string());
        return;
    }
    files_of(root, rel, contents, true);
}

fn files_of(root: &Path, rel: &str, contents: &mut Contents, recurse: bool) {
    for (name, is_dir) in entries(&root.join(rel)) {
        let path = join(rel, &name);
        if is_dir {
            if recurse {
                walk(root, &path, contents);
            }
        } else if !(rel.is_empty() && name == CONFIG_FILE) && holds_objects(&root.join(&path)) {
            contents.manifests.push(path);
        }
    }
}

/// A `.yaml`/`.yml`/`.json` file with top-level `apiVersion` and `kind` keys.
fn holds_objects(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let json = name.ends_with(".json");
    if !(json || name.ends_with(".yaml") || name.ends_with(".yml")) {
        return false;
    }
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= DEFAULT_MAX_FILE_SIZE);
    let Some(text) = small.then(|| std::fs::read_to_string(path).ok()).flatten() else {
        return false;
    };
    if json {
        return text.contains("\"apiVersion\"") && text.contains("\"kind\"");
    }
    let key = |k: &str| text.lines().any(|l| l.starts_with(k));
    key("apiVersion:") && key("kind:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for rel in files {
            // `rekube.yaml#rules`: a rekube.yaml of rules only, with no `layers:`.
            let (rel, rules_only) = match rel.strip_suffix("#rules") {
                Some(r) => (r, true),
                None => (*rel, false),
            };
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            let text = if rules_only {
                "ignore: []\n"
            } else if rel == CONFIG_FILE {
                "layers:\n  - {name: apps, path: apps}\n"
            } else if rel.ends_with("mkdocs.yml") {
                "site_name: x\n"
            } else if rel.ends_with("prod/kustomization.yaml") {
                "resources: [../../base]\n"
            } else if rel.ends_with("kustomization.yaml") {
                "resources: [a.yaml]\n"
            } else {
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
            };
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn what_folders_hold() {
        let dir = repo(&[
            "apps/a.yaml",
            "docs/mkdocs.yml",
            "infrastructure/ingress/deploy.yaml",
            "charts/podinfo/Chart.yaml",
            "charts/podinfo/templates/x.yaml",
            "overlays/base/kustomization.yaml",
            ".github/workflows/ci.yaml",
        ]);
        let found: Vec<(String, Contents)> = top_level(dir.path())
            .into_iter()
            .map(|f| (f.name, f.contents))
            .collect();
        let contents = |m: &[&str], k: &[&str], c: &[&str]| Contents {
            manifests: m.iter().map(|s| s.to_string()).collect(),
            kustomizations: k.iter().map(|s| s.to_string()).collect(),
            charts: c.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            found,
            [
                ("apps".into(), contents(&["apps/a.yaml"], &[], &[])),
                ("charts".into(), contents(&[], &[], &["charts/podinfo"])),
                (
                    "infrastructure".into(),
                    contents(&["infrastructure/ingress/deploy.yaml"], &[], &[])
                ),
                ("overlays".into(), contents(&[], &["overlays/base"], &[])),
            ]
        );
    }

    #[test]
    fn left_out_only_for_default_layers() {
        let layer = |name: &str, path: &str| Layer {
            name: name.into(),
            path: path.into(),
            depends_on: Vec::new(),
            namespace: None,
        };
        let defaults = [layer("apps", "apps")];
        let whole = [layer(DEFAULT_LAYER, ".")];
        // (case, files, layers, diagnostics' paths)
        type Case<'a> = (&'a str, &'a [&'a str], &'a [Layer], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                "other folders and root files",
                &["apps/a.yaml", "infra/b.yaml", "ns.yaml", "docs/mkdocs.yml"],
                &defaults,
                &[".", "infra"],
            ),
            ("only layers", &["apps/a.yaml"], &defaults, &[]),
            (
                "a base that a kustomization of a layer uses",
                &[
                    "apps/prod/kustomization.yaml",
                    "base/kustomization.yaml",
                    "base/a.yaml",
                ],
                &defaults,
                &[],
            ),
            (
                "a base nobody uses",
                &["apps/a.yaml", "base/kustomization.yaml", "base/a.yaml"],
                &defaults,
                &["base"],
            ),
            (
                "declared layers are what the user chose",
                &["apps/a.yaml", "infra/b.yaml", "rekube.yaml"],
                &defaults,
                &[],
            ),
            (
                "a rekube.yaml of rules only leaves the default layers",
                &["apps/a.yaml", "infra/b.yaml", "rekube.yaml#rules"],
                &defaults,
                &["infra"],
            ),
            (
                "the whole repository is one layer",
                &["infra/b.yaml"],
                &whole,
                &[],
            ),
        ];
        for (case, files, layers, want) in cases {
            let dir = repo(files);
            let got: Vec<String> = left_out(dir.path(), layers)
                .into_iter()
                .map(|d| d.path)
                .collect();
            assert_eq!(got, *want, "{case}");
        }
    }
}
