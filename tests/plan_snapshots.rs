//! Plans of real repositories: `examples/platform` and the public corpus (`REKUBE_CORPUS`).
//! The text rendering of each plan is a golden file (`tests/golden/plan/`, `REKUBE_BLESS=1` rewrites them),
//! and the orderings that a rebuild relies on are asserted: Namespaces first, CRDs before their custom
//! resources, ServiceAccounts and ConfigMaps before the workloads that use them, webhooks last in their layer.

mod support;

use std::path::Path;

use rekube::graph::{GraphOptions, Node, NodeId, Plan, Rule, plan, render};

use support::{copy_dir, corpus_repo, load, root};

fn plan_dir(dir: &Path) -> Plan {
    let manifest = load(dir);
    match plan(
        &manifest.layers,
        &manifest.objects,
        &GraphOptions::default(),
    ) {
        Ok(p) => p,
        Err(e) => panic!("{}: {e}", dir.display()),
    }
}

/// Plans a repository whose one layer `app` is a copy of a corpus folder, `namespace` its default.
fn plan_corpus(name: &str, namespace: Option<&str>) -> Plan {
    plan_dir(corpus_repo(name, namespace).path())
}

fn assert_golden(name: &str, actual: &str) {
    let path = root().join("tests/golden/plan").join(name);
    if std::env::var_os("REKUBE_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .to_string();
        panic!("{name} differs from its golden file (REKUBE_BLESS=1 to accept):\n{diff}");
    }
}

fn node(plan: &Plan, label: &str) -> NodeId {
    let found = plan
        .graph()
        .objects()
        .find(|(_, o)| o.id.to_string() == label);
    found
        .unwrap_or_else(|| panic!("{label} is not in the plan"))
        .0
}

/// `a` comes in an earlier wave than `b`.
fn before(plan: &Plan, a: &str, b: &str) {
    let (wa, wb) = (plan.wave_of(node(plan, a)), plan.wave_of(node(plan, b)));
    assert!(
        wa < wb,
        "{a} (wave {wa}) should come before {b} (wave {wb})"
    );
}

/// `from` waits for `to` because of `rule`.
fn waits(plan: &Plan, from: &str, to: &str, rule: Rule) {
    let g = plan.graph();
    let (f, t) = (node(plan, from), node(plan, to));
    assert!(
        g.dependencies(f)
            .iter()
            .any(|e| e.to == t && e.rule == rule),
        "{from} should wait for {to} ({rule})"
    );
}

/// The orderings every plan must have.
fn check_invariants(plan: &Plan) {
    let g = plan.graph();
    for (n, o) in g.objects() {
        for e in g.dependencies(n) {
            if let Node::Object(_) = g.node(e.to) {
                assert!(
                    plan.wave_of(e.to) < plan.wave_of(n),
                    "{} waits for {}",
                    o.id,
                    g.node(e.to).label()
                );
            }
        }
        // Namespaces come first in their layer: they wait only for other layers.
        if o.id.kind == "Namespace" && o.id.group.is_empty() {
            assert!(
                g.dependencies(n).iter().all(|e| e.rule == Rule::Layer),
                "{} waits for its layer only",
                o.id
            );
        }
        // A custom resource whose CRD is in the repository waits for it.
        let crd = g.objects().find(|(_, c)| {
            c.id.kind == "CustomResourceDefinition"
                && c.id.name.ends_with(&format!(".{}", o.id.group))
                && !o.id.group.is_empty()
        });
        if let Some((c, _)) = crd
            && g.dependencies(n).iter().any(|e| e.to == c)
        {
            assert!(plan.wave_of(c) < plan.wave_of(n));
        }
        // A webhook comes after every other object of its layer and sync wave.
        if matches!(
            o.id.kind.as_str(),
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
        ) {
            for (m, other) in g.objects() {
                let hook = other.id.kind.ends_with("WebhookConfiguration");
                if other.layer == o.layer && other.wave == o.wave && !hook {
                    assert!(
                        plan.wave_of(m) < plan.wave_of(n),
                        "{} before {}",
                        other.id,
                        o.id
                    );
                }
            }
        }
    }
}

#[test]
fn platform_example() {
    let plan = plan_dir(&root().join("examples/platform"));
    check_invariants(&plan);
    assert_eq!(plan.graph().object_count(), 47);
    assert!(
        plan.graph().externals().is_empty(),
        "{:?}",
        plan.graph().externals()
    );
    for ns in [
        "Namespace/platform-system",
        "Namespace/shop",
        "Namespace/monitoring",
    ] {
        assert_eq!(plan.wave_of(node(&plan, ns)), 0, "{ns}");
    }
    let crd = "CustomResourceDefinition/backups.platform.example.com";
    waits(
        &plan,
        "Backup/platform-system/etcd-nightly",
        crd,
        Rule::CustomResourceDefinition,
    );
    waits(
        &plan,
        "Backup/shop/orders-data",
        crd,
        Rule::CustomResourceDefinition,
    );
    let operator = "Deployment/platform-system/backup-operator";
    waits(
        &plan,
        operator,
        "ServiceAccount/platform-system/backup-operator",
        Rule::ServiceAccount,
    );
    waits(
        &plan,
        operator,
        "ConfigMap/platform-system/backup-operator",
        Rule::ConfigMap,
    );
    waits(
        &plan,
        operator,
        "Secret/platform-system/backup-operator-webhook-tls",
        Rule::Secret,
    );
    waits(
        &plan,
        operator,
        "PriorityClass/platform-critical",
        Rule::PriorityClass,
    );
    let webhook = "ValidatingWebhookConfiguration/backup-operator";
    waits(
        &plan,
        webhook,
        "Service/platform-system/backup-operator-webhook",
        Rule::WebhookService,
    );
    before(&plan, operator, webhook);
    waits(
        &plan,
        "Deployment/shop/orders",
        "PersistentVolumeClaim/shop/orders-data",
        Rule::PersistentVolumeClaim,
    );
    waits(
        &plan,
        "PersistentVolumeClaim/shop/orders-data",
        "StorageClass/local-wait",
        Rule::StorageClass,
    );
    waits(
        &plan,
        "Deployment/shop/frontend",
        "Secret/shop/registry-credentials",
        Rule::Secret,
    );
    waits(
        &plan,
        "Deployment/shop/cart",
        "ConfigMap/shop/cart",
        Rule::ConfigMap,
    );
    waits(
        &plan,
        "Deployment/monitoring/metrics-collector",
        "ServiceAccount/monitoring/auditor",
        Rule::ServiceAccount,
    );
    waits(
        &plan,
        "Ingress/shop/shop",
        "IngressClass/shop-nginx",
        Rule::IngressClass,
    );
    waits(
        &plan,
        "Ingress/shop/shop",
        "Secret/shop/shop-tls",
        Rule::IngressTls,
    );
    waits(
        &plan,
        "Ingress/shop/shop",
        "Service/shop/frontend",
        Rule::IngressBackend,
    );
    waits(
        &plan,
        "Job/shop/orders-migrate",
        "Deployment/shop/orders",
        Rule::DependsOn,
    );
    before(&plan, "Job/shop/orders-migrate", "Job/shop/smoke-test");
    before(&plan, webhook, "Deployment/shop/frontend");
    assert_golden("platform.txt", &render::text(&plan));
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn argo_cd_install() {
    let plan = plan_corpus("argo-cd", Some("argocd"));
    check_invariants(&plan);
    let server = "Deployment/argocd/argocd-server";
    waits(
        &plan,
        server,
        "ServiceAccount/argocd/argocd-server",
        Rule::ServiceAccount,
    );
    waits(
        &plan,
        server,
        "ConfigMap/argocd/argocd-cmd-params-cm",
        Rule::ConfigMap,
    );
    waits(
        &plan,
        "StatefulSet/argocd/argocd-application-controller",
        "ServiceAccount/argocd/argocd-application-controller",
        Rule::ServiceAccount,
    );
    waits(
        &plan,
        "RoleBinding/argocd/argocd-server",
        "Role/argocd/argocd-server",
        Rule::RoleRef,
    );
    assert!(
        plan.graph()
            .externals()
            .iter()
            .any(|x| x.target.to_string() == "Namespace/argocd"),
        "the argocd Namespace is not in the install manifest"
    );
    assert_golden("argo-cd.txt", &render::text(&plan));
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn ingress_nginx() {
    let plan = plan_corpus("ingress-nginx", None);
    check_invariants(&plan);
    assert_eq!(plan.wave_of(node(&plan, "Namespace/ingress-nginx")), 0);
    let controller = "Deployment/ingress-nginx/ingress-nginx-controller";
    waits(
        &plan,
        controller,
        "ServiceAccount/ingress-nginx/ingress-nginx",
        Rule::ServiceAccount,
    );
    waits(
        &plan,
        controller,
        "Namespace/ingress-nginx",
        Rule::Namespace,
    );
    let webhook = "ValidatingWebhookConfiguration/ingress-nginx-admission";
    waits(
        &plan,
        webhook,
        "Service/ingress-nginx/ingress-nginx-controller-admission",
        Rule::WebhookService,
    );
    before(&plan, controller, webhook);
    before(
        &plan,
        "Job/ingress-nginx/ingress-nginx-admission-create",
        webhook,
    );
    assert_golden("ingress-nginx.txt", &render::text(&plan));
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn microservices_demo_kustomization() {
    let plan = plan_corpus("microservices-demo", Some("shop"));
    check_invariants(&plan);
    waits(
        &plan,
        "Deployment/shop/frontend",
        "ServiceAccount/shop/frontend",
        Rule::ServiceAccount,
    );
    waits(
        &plan,
        "Deployment/shop/cartservice",
        "ServiceAccount/shop/cartservice",
        Rule::ServiceAccount,
    );
    assert_golden("microservices-demo.txt", &render::text(&plan));
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn sock_shop_kustomization() {
    let plan = plan_corpus("sock-shop", Some("sock-shop"));
    check_invariants(&plan);
    assert_golden("sock-shop.txt", &render::text(&plan));
}

#[test]
fn digest_does_not_depend_on_file_names_or_order() {
    // The same objects split into other files, in another order: the same plan digest.
    let a = plan_dir(&root().join("examples/platform"));
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/platform"), repo.path());
    let shop = repo.path().join("apps/shop");
    let mut merged = String::new();
    let mut files: Vec<_> = std::fs::read_dir(&shop)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files.iter().rev() {
        merged.push_str("---\n");
        merged.push_str(&std::fs::read_to_string(f).unwrap());
        std::fs::remove_file(f).unwrap();
    }
    std::fs::write(shop.join("all.yaml"), merged).unwrap();
    let b = plan_dir(repo.path());
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn synthetic_repository_loads_and_plans_like_in_memory() {
    use rekube::synth::{SynthOptions, generate, write};
    let repo = generate(&SynthOptions { objects: 300 });
    let dir = tempfile::tempdir().unwrap();
    write(&repo, dir.path()).unwrap();
    let loaded = plan_dir(dir.path());
    let in_memory = plan(&repo.layers, &repo.objects, &GraphOptions::default()).unwrap();
    assert_eq!(loaded.graph().object_count(), 300);
    assert_eq!(loaded.digest(), in_memory.digest());
    check_invariants(&loaded);
}
