//! Kustomize bases and overlays in one layer. A kustomization that another kustomization of the same
//! layer uses (`resources`, `bases`, `components`, directly or through the kustomizations it uses) is
//! rendered through that one, not on its own; so is a file it uses. `apps/base`, `apps/staging` and
//! `apps/production` in one layer give the two overlays, not the base a third time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::files::Input;
use super::kustomize;

/// An input left out because kustomizations of its layer use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used {
    /// The input left out (relative to the repository root).
    pub rel: String,
    /// The kustomizations of the layer that use it, in input order.
    pub by: Vec<String>,
}

/// Splits the inputs of a layer into those read on their own and those only used through a
/// kustomization of the layer. `root` is the canonical repository root.
pub fn split(root: &Path, inputs: Vec<Input>) -> (Vec<Input>, Vec<Used>) {
    let canonical = |abs: &Path| std::fs::canonicalize(abs).unwrap_or_else(|_| abs.to_path_buf());
    // Canonical path of each input → the kustomizations (other than itself) that use it.
    let mut users: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for input in &inputs {
        if let Input::Kustomization { rel, abs } = input {
            let own = canonical(abs);
            for (_, _, target) in kustomize::referenced(root, abs) {
                // A kustomization reaching back to itself is Kustomize's error to report, not a use.
                if target == own {
                    continue;
                }
                let by = users.entry(target).or_default();
                if !by.contains(rel) {
                    by.push(rel.clone());
                }
            }
        }
    }
    let mut kept = Vec::new();
    let mut used: Vec<Used> = Vec::new();
    for input in inputs {
        let (rel, abs) = match &input {
            Input::File { rel, abs }
            | Input::Kustomization { rel, abs }
            | Input::Chart { rel, abs } => (rel, abs),
        };
        // Users left out themselves do not count: of kustomizations using each other in a cycle, the
        // first is kept, so that Kustomize reports the cycle.
        let by: Vec<String> = users
            .get(&canonical(abs))
            .into_iter()
            .flatten()
            .filter(|user| !used.iter().any(|u| &u.rel == *user))
            .cloned()
            .collect();
        if by.is_empty() {
            kept.push(input);
        } else {
            used.push(Used {
                rel: rel.clone(),
                by,
            });
        }
    }
    (kept, used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Layer;

    fn kustomization(resources: &[&str]) -> String {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [{}]\n",
            resources.join(", ")
        )
    }

    /// What the layer `apps` reads on its own, and what it leaves to the kustomizations using it.
    fn split_layer(files: &[(&str, String)]) -> (Vec<String>, Vec<(String, Vec<String>)>) {
        let dir = tempfile::tempdir().expect("temp dir");
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        let layer = Layer {
            name: "apps".into(),
            path: "apps".into(),
            depends_on: Vec::new(),
            namespace: None,
        };
        let (kept, used) = split(&root, super::super::files::collect(&root, &layer).inputs);
        let kept = kept
            .into_iter()
            .map(|i| match i {
                Input::File { rel, .. }
                | Input::Kustomization { rel, .. }
                | Input::Chart { rel, .. } => rel,
            })
            .collect();
        (kept, used.into_iter().map(|u| (u.rel, u.by)).collect())
    }

    #[test]
    fn kustomizations_used_by_others_are_not_rendered_on_their_own() {
        let k = kustomization;
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n".to_string();
        type Case<'a> = (
            &'a str,
            Vec<(&'a str, String)>,
            &'a [&'a str],
            &'a [(&'a str, &'a [&'a str])],
        );
        let cases: Vec<Case> = vec![
            (
                "base and two overlays",
                vec![
                    ("apps/base/kustomization.yaml", k(&["cm.yaml"])),
                    ("apps/base/cm.yaml", cm.clone()),
                    ("apps/production/kustomization.yaml", k(&["../base"])),
                    ("apps/staging/kustomization.yaml", k(&["../base"])),
                ],
                &["apps/production", "apps/staging"],
                &[("apps/base", &["apps/production", "apps/staging"])],
            ),
            (
                "unrelated kustomizations and files are all read",
                vec![
                    ("apps/a/kustomization.yaml", k(&["cm.yaml"])),
                    ("apps/a/cm.yaml", cm.clone()),
                    ("apps/b/kustomization.yaml", k(&["cm.yaml"])),
                    ("apps/b/cm.yaml", cm.clone()),
                    ("apps/plain/cm.yaml", cm.clone()),
                ],
                &["apps/a", "apps/b", "apps/plain/cm.yaml"],
                &[],
            ),
            (
                "a chain: only the top is rendered",
                vec![
                    ("apps/x/kustomization.yaml", k(&["cm.yaml"])),
                    ("apps/x/cm.yaml", cm.clone()),
                    ("apps/y/kustomization.yaml", k(&["../x"])),
                    ("apps/z/kustomization.yaml", k(&["../y"])),
                ],
                &["apps/z"],
                &[("apps/x", &["apps/y", "apps/z"]), ("apps/y", &["apps/z"])],
            ),
            (
                "bases as components and the legacy bases: field",
                vec![
                    ("apps/base/kustomization.yaml", k(&["cm.yaml"])),
                    ("apps/base/cm.yaml", cm.clone()),
                    (
                        "apps/env/kustomization.yaml",
                        "bases: [../base]\ncomponents: [../extra]\n".into(),
                    ),
                    (
                        "apps/extra/kustomization.yaml",
                        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n".into(),
                    ),
                ],
                &["apps/env"],
                &[("apps/base", &["apps/env"]), ("apps/extra", &["apps/env"])],
            ),
            (
                "a cycle keeps one, for Kustomize to report",
                vec![
                    ("apps/a/kustomization.yaml", k(&["../b"])),
                    ("apps/b/kustomization.yaml", k(&["../a"])),
                ],
                &["apps/b"],
                &[("apps/a", &["apps/b"])],
            ),
            (
                "a base outside the layer changes nothing",
                vec![
                    ("base/kustomization.yaml", k(&["cm.yaml"])),
                    ("base/cm.yaml", cm.clone()),
                    ("apps/prod/kustomization.yaml", k(&["../../base"])),
                ],
                &["apps/prod"],
                &[],
            ),
        ];
        for (case, files, want_kept, want_used) in cases {
            let (kept, used) = split_layer(&files);
            assert_eq!(kept, want_kept, "{case}");
            let want_used: Vec<(String, Vec<String>)> = want_used
                .iter()
                .map(|(rel, by)| (rel.to_string(), by.iter().map(|s| s.to_string()).collect()))
                .collect();
            assert_eq!(used, want_used, "{case}");
        }
    }
}
