//! The public corpus: unmodified real-world manifests (Argo CD, ingress-nginx, microservices-demo, …)
//! kept outside this repository. Its acceptance tests run only when `REKUBE_CORPUS` names its folder:
//!
//! ```text
//! REKUBE_CORPUS=../shared/corpus cargo test
//! ```
//!
//! `build.rs` turns the variable into `cfg(rekube_corpus)`; without it each corpus test carries
//! `#[cfg_attr(not(rekube_corpus), ignore = "…")]`, so `cargo test` lists it as ignored with how to run it.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::{copy_dir, root, write};

/// The corpus folder named by `REKUBE_CORPUS` (a relative path is relative to the repository root).
///
/// # Panics
/// When the variable is unset or does not name a folder.
pub fn corpus() -> PathBuf {
    let Some(value) = std::env::var_os("REKUBE_CORPUS").filter(|v| !v.is_empty()) else {
        panic!(
            "REKUBE_CORPUS is not set: this test reads the public corpus; run REKUBE_CORPUS=../shared/corpus cargo test"
        );
    };
    let dir = root().join(&value);
    assert!(
        dir.is_dir(),
        "REKUBE_CORPUS={}: {} is not a folder (it names the public corpus, e.g. ../shared/corpus)",
        Path::new(&value).display(),
        dir.display()
    );
    dir
}

/// The corpus project `name` (a folder of the corpus).
fn project(name: &str) -> PathBuf {
    let dir = corpus().join(name);
    assert!(
        dir.is_dir(),
        "{} is missing: REKUBE_CORPUS does not name the public corpus",
        dir.display()
    );
    dir
}

/// A repository whose one layer `app` is a copy of the corpus project `name`, with `namespace` as the
/// layer's default.
pub fn corpus_repo(name: &str, namespace: Option<&str>) -> TempDir {
    let repo = tempfile::tempdir().expect("temp dir");
    copy_dir(&project(name), &repo.path().join(name));
    let ns = namespace
        .map(|n| format!(", namespace: {n}"))
        .unwrap_or_default();
    write(
        repo.path(),
        "rekube.yaml",
        &format!("layers:\n  - {{name: app, path: {name}{ns}}}\n"),
    );
    repo
}

/// Writes into `root` a repository of three corpus projects side by side: layer `cluster` with the
/// Namespaces `argocd` and `shop`, then Argo CD's install (layer `argocd`, namespace `argocd`),
/// ingress-nginx (layer `ingress`) and microservices-demo (layer `shop`, namespace `shop`).
pub fn three_projects(root: &Path) {
    write(
        root,
        "rekube.yaml",
        "layers:\n  - {name: cluster, path: cluster}\n  - {name: argocd, path: argocd, namespace: argocd, dependsOn: [cluster]}\n  - {name: ingress, path: ingress, dependsOn: [cluster]}\n  - {name: shop, path: shop, namespace: shop, dependsOn: [cluster]}\n",
    );
    write(
        root,
        "cluster/namespaces.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    copy_dir(&project("argo-cd"), &root.join("argocd"));
    copy_dir(&project("ingress-nginx"), &root.join("ingress"));
    copy_dir(&project("microservices-demo"), &root.join("shop"));
}
