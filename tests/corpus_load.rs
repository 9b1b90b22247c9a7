//! The real-world corpus (`../shared/corpus`, unmodified public manifests) loads offline with zero errors.

use std::path::{Path, PathBuf};

use rekube::manifest::{LoadOptions, Manifest, load_dir};

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "the corpus is missing: expected the public manifests in {} (see its SOURCES.md)",
        dir.display()
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A repository whose one layer is a copy of a corpus folder, with `namespace` as the layer default.
fn load_corpus(name: &str, namespace: Option<&str>) -> Manifest {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&corpus().join(name), &repo.path().join(name));
    let ns = namespace
        .map(|n| format!(", namespace: {n}"))
        .unwrap_or_default();
    std::fs::write(
        repo.path().join("rekube.yaml"),
        format!("layers:\n  - {{name: app, path: {name}{ns}}}\n"),
    )
    .unwrap();
    match load_dir(repo.path(), &LoadOptions::default()) {
        Ok(m) => m,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn count(m: &Manifest, kind: &str) -> usize {
    m.objects.iter().filter(|o| o.id.kind == kind).count()
}

#[test]
fn argo_cd_install() {
    let m = load_corpus("argo-cd", Some("argocd"));
    assert_eq!(m.objects.len(), 59);
    assert!(count(&m, "CustomResourceDefinition") >= 3);
    assert!(
        m.objects
            .iter()
            .filter(|o| o.id.kind == "Deployment")
            .all(|o| o.namespace() == Some("argocd"))
    );
    assert!(
        m.objects
            .iter()
            .filter(|o| o.id.kind == "ClusterRole")
            .all(|o| o.namespace().is_none())
    );
}

#[test]
fn ingress_nginx() {
    let m = load_corpus("ingress-nginx", None);
    assert_eq!(m.objects.len(), 19);
    assert_eq!(count(&m, "ValidatingWebhookConfiguration"), 1);
}

#[test]
fn microservices_demo_via_kustomize() {
    let m = load_corpus("microservices-demo", Some("shop"));
    // loadgenerator.yaml is not listed in the kustomization.
    assert!(!m.objects.iter().any(|o| o.name() == "loadgenerator"));
    assert!(
        m.objects
            .iter()
            .any(|o| o.name() == "frontend" && o.kind() == "Deployment")
    );
    assert!(
        m.objects
            .iter()
            .all(|o| o.source.path == "microservices-demo")
    );
}

#[test]
fn sock_shop_via_kustomize() {
    let m = load_corpus("sock-shop", Some("sock-shop"));
    assert_eq!(count(&m, "Ingress"), 1);
    assert!(m.objects.len() >= 29);
}

#[test]
fn reloader() {
    let m = load_corpus("reloader", Some("reloader"));
    assert_eq!(count(&m, "Deployment"), 1);
}

#[test]
fn guestbook() {
    let m = load_corpus("guestbook", Some("guestbook"));
    assert_eq!(m.objects.len(), 2);
}
