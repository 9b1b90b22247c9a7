//! Real-world manifests from the public corpus, rebuilt together into the real local control plane in one
//! run: Argo CD's install, ingress-nginx (with its admission webhook and certificate Jobs) and
//! microservices-demo (through its kustomization). Checks the order the objects were applied in.

mod support;

use serde_json::Value;

use support::{
    Rekube, chain, cluster, code, copy_dir, corpus, kubectl, stderr, three_projects, unique_name,
};

#[tokio::test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
async fn argo_cd_ingress_nginx_and_microservices_demo_rebuild_together_in_order() {
    let cp = cluster().await;
    let repo = tempfile::tempdir().expect("temp");
    let root = repo.path();
    three_projects(root);

    let rekube = Rekube::on(cp.kubeconfig());
    let report_path = rekube.cache().join("report.json");
    let out = rekube.run(&[
        "rebuild",
        root.to_str().expect("utf-8 path"),
        "--timeout",
        "180s",
        "--report",
        report_path.to_str().expect("utf-8 path"),
    ]);
    let stderr = stderr(&out);
    assert_eq!(code(&out), 0, "the rebuild succeeds");

    let report: Value =
        serde_json::from_slice(&std::fs::read(&report_path).expect("report")).expect("json");
    let changes = report["changes"]["changes"].as_array().expect("changes");
    assert!(
        changes.len() > 100,
        "the three projects together: {}",
        changes.len()
    );
    assert!(
        changes.iter().all(|c| c["action"] == "created"),
        "everything created and ready"
    );

    let times = |pred: &dyn Fn(&Value) -> bool| -> Vec<(f64, f64)> {
        changes
            .iter()
            .filter(|c| pred(c))
            .map(|c| {
                (
                    c["started"].as_f64().unwrap_or(0.0),
                    c["finished"].as_f64().unwrap_or(0.0),
                )
            })
            .collect()
    };
    let kind = |k: &'static str| move |c: &Value| c["id"]["kind"] == k;

    // Every namespaced object starts after its own Namespace is ready.
    let finished_at = |k: &str, ns: Option<&str>, n: &str| {
        changes
            .iter()
            .find(|c| {
                c["id"]["kind"] == k && c["id"]["name"] == n && c["id"]["namespace"].as_str() == ns
            })
            .map(|c| c["finished"].as_f64().unwrap_or(0.0))
    };
    for c in changes {
        if let Some(ns) = c["id"]["namespace"].as_str() {
            let ns_ready =
                finished_at("Namespace", None, ns).expect("every namespace is in the repository");
            let started = c["started"].as_f64().unwrap_or(0.0);
            assert!(
                ns_ready <= started,
                "{} started before its Namespace",
                c["id"]
            );
        }
    }
    // Custom resources' CRDs are established first (the corpus has CRDs; none of its objects is a CR).
    assert!(!times(&kind("CustomResourceDefinition")).is_empty());

    // The admission webhook is applied after every other object of its layer, and after its Service.
    let webhook = times(&kind("ValidatingWebhookConfiguration"));
    assert_eq!(webhook.len(), 1);
    let ingress_rest = times(&|c: &Value| {
        c["layer"] == "ingress" && c["id"]["kind"] != "ValidatingWebhookConfiguration"
    });
    // It needs the rest of its layer applied, not ready: ingress-nginx's certificate Job patches it.
    let last_start = ingress_rest.iter().map(|t| t.0).fold(0.0, f64::max);
    assert!(
        last_start <= webhook[0].0,
        "webhook configuration last in its layer"
    );
    let job = ingress_rest.iter().map(|t| t.1).fold(0.0, f64::max);
    assert!(job > 0.0);

    // ServiceAccounts and ConfigMaps before the workloads that use them (argocd-server uses both).
    let by_name = |k: &str, n: &str| {
        changes
            .iter()
            .find(|c| c["id"]["kind"] == k && c["id"]["name"] == n)
            .map(|c| {
                (
                    c["started"].as_f64().unwrap_or(0.0),
                    c["finished"].as_f64().unwrap_or(0.0),
                )
            })
            .unwrap_or_else(|| panic!("{k}/{n} in the report"))
    };
    let server = by_name("Deployment", "argocd-server");
    assert!(by_name("ServiceAccount", "argocd-server").1 <= server.0);
    assert!(by_name("ConfigMap", "argocd-cmd-params-cm").1 <= server.0);
    assert!(
        by_name("ClusterRole", "argocd-server").1
            <= by_name("ClusterRoleBinding", "argocd-server").0
    );
    assert!(
        by_name("Service", "ingress-nginx-controller-admission").1 <= webhook[0].0,
        "the webhook's Service is ready before the webhook configuration"
    );
    assert!(stderr.contains("recovery time"));
}

/// Argo CD's `install.yaml` as published (no namespace on its namespaced objects), rebuilt the way its
/// documentation installs it with kubectl: `kubectl create namespace argocd` then
/// `kubectl apply -n argocd -f install.yaml`. Like kubectl, rekube does not create the namespace `-n`
/// names. Its own control plane: the other test here installs Argo CD too.
#[tokio::test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
async fn argo_cd_install_yaml_rebuilds_with_namespace_flag() {
    let cp = rekube::controlplane::ControlPlane::start(Default::default())
        .await
        .unwrap_or_else(|e| panic!("the local control plane did not start: {}", chain(&e)));
    let kc = cp.kubeconfig();
    let repo = tempfile::tempdir().expect("temp");
    std::fs::copy(
        corpus().join("argo-cd/install.yaml"),
        repo.path().join("install.yaml"),
    )
    .expect("copy");
    let path = repo.path().to_str().expect("utf-8");
    let rekube = Rekube::on(kc);

    // Without -n (and no layer namespace), every namespaced object is named as lacking one.
    let out = rekube.run(&["rebuild", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Deployment/argocd-server: Deployment is namespaced but has no namespace"),
        "{stderr}"
    );

    kubectl(kc, &["create", "namespace", "argocd"]);
    let report_path = rekube.cache().join("report.json");
    let out = rekube.run(&[
        "rebuild",
        path,
        "-n",
        "argocd",
        "--timeout",
        "180s",
        "--report",
        report_path.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Namespace/argocd is not in the repository (must exist in the cluster)"),
        "{stderr}"
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report_path).expect("report")).expect("json");
    let changes = report["changes"]["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 59, "every object of install.yaml");
    assert!(changes.iter().all(|c| c["action"] == "created"));
    for c in changes {
        let kind = c["id"]["kind"].as_str().unwrap_or_default();
        let namespace = c["id"]["namespace"].as_str();
        let cluster_scoped = matches!(
            kind,
            "CustomResourceDefinition" | "ClusterRole" | "ClusterRoleBinding"
        );
        let want = if cluster_scoped { None } else { Some("argocd") };
        assert_eq!(namespace, want, "{}", c["id"]);
    }
    let out = kubectl(kc, &["get", "deployments", "-n", "argocd", "-o", "name"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("deployment.apps/argocd-server"));
    let out = rekube.run(&["drift", path, "-n", "argocd"]);
    assert_eq!(out.status.code(), Some(0), "no drift after the rebuild");
}

/// argocd-example-apps' guestbook has no namespace; a kustomization over it applies with `-n`.
#[tokio::test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
async fn kustomized_guestbook_applies_with_namespace_flag() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let repo = tempfile::tempdir().expect("temp");
    copy_dir(&corpus().join("guestbook"), repo.path());
    std::fs::write(
        repo.path().join("kustomization.yaml"),
        "resources:\n  - guestbook-ui-deployment.yaml\n  - guestbook-ui-svc.yaml\n",
    )
    .expect("kustomization");
    let ns = unique_name("guestbook");
    kubectl(kc, &["create", "namespace", &ns]);
    let rekube = Rekube::on(kc);
    let path = repo.path().to_str().expect("utf-8");
    let inventory = format!("--inventory={ns}");
    let out = rekube.run(&["apply", path, "-n", &ns, &inventory, "--timeout", "120s"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    kubectl(
        kc,
        &[
            "get",
            "deployment/guestbook-ui",
            "service/guestbook-ui",
            "-n",
            &ns,
        ],
    );
}
