//! The public corpus (unmodified real-world manifests, `REKUBE_CORPUS`) loads offline with zero errors.

mod support;

use rekube::manifest::Manifest;

use support::{corpus_repo, load};

fn count(m: &Manifest, kind: &str) -> usize {
    m.objects.iter().filter(|o| o.id.kind == kind).count()
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn argo_cd_install_loads() {
    let m = load(corpus_repo("argo-cd", Some("argocd")).path());
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
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn ingress_nginx_loads() {
    let m = load(corpus_repo("ingress-nginx", None).path());
    assert_eq!(m.objects.len(), 19);
    assert_eq!(count(&m, "ValidatingWebhookConfiguration"), 1);
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn microservices_demo_via_kustomize() {
    let m = load(corpus_repo("microservices-demo", Some("shop")).path());
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
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn sock_shop_via_kustomize() {
    let m = load(corpus_repo("sock-shop", Some("sock-shop")).path());
    assert_eq!(count(&m, "Ingress"), 1);
    assert!(m.objects.len() >= 29);
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn reloader() {
    let m = load(corpus_repo("reloader", Some("reloader")).path());
    assert_eq!(count(&m, "Deployment"), 1);
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn guestbook() {
    let m = load(corpus_repo("guestbook", Some("guestbook")).path());
    assert_eq!(m.objects.len(), 2);
}
