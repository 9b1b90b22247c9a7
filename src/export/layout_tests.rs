use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn id(group: &str, kind: &str, ns: Option<&str>, name: &str) -> ObjectId {
    ObjectId::new(group, kind, ns, name)
}

#[test]
fn left_out_with_a_reason() {
    let cases = [
        (
            "owned",
            id("apps", "ReplicaSet", Some("shop"), "web-5d4f"),
            json!({"metadata": {"ownerReferences": [{"kind": "Deployment", "name": "web"}]}}),
            false,
            Some("owned by Deployment/web"),
        ),
        (
            "token",
            id("", "Secret", Some("shop"), "t"),
            json!({"type": "kubernetes.io/service-account-token"}),
            true,
            Some("a ServiceAccount token Secret"),
        ),
        (
            "helm release",
            id("", "Secret", Some("shop"), "sh.helm.release.v1.web.v1"),
            json!({"type": "helm.sh/release.v1"}),
            true,
            Some("a Helm release record (export the chart instead)"),
        ),
        (
            "secret without the flag",
            id("", "Secret", Some("shop"), "db"),
            json!({"type": "Opaque"}),
            false,
            Some("a Secret (exported only with --include-secrets)"),
        ),
        (
            "secret with the flag",
            id("", "Secret", Some("shop"), "db"),
            json!({"type": "Opaque"}),
            true,
            None,
        ),
        (
            "built-in namespace",
            id("", "Namespace", None, "kube-system"),
            json!({}),
            false,
            Some("a namespace Kubernetes or rekube manages itself"),
        ),
        (
            "event",
            id("", "Event", Some("shop"), "e"),
            json!({}),
            false,
            Some("written by controllers and the API server, not declared"),
        ),
        (
            "the local control plane's default StorageClass",
            id("storage.k8s.io", "StorageClass", None, "standard"),
            json!({"provisioner": "rekube.dev/simulated"}),
            false,
            Some("made by the simulation of rekube's local control plane"),
        ),
        (
            "a StorageClass of the user's",
            id("storage.k8s.io", "StorageClass", None, "standard"),
            json!({"provisioner": "ebs.csi.aws.com"}),
            false,
            None,
        ),
        (
            "a simulated volume",
            id("", "PersistentVolume", None, "pvc-1"),
            json!({"metadata": {"annotations": {"rekube.dev/simulated": "true"}}}),
            false,
            Some("made by the simulation of rekube's local control plane"),
        ),
        (
            "a deployment",
            id("apps", "Deployment", Some("shop"), "web"),
            json!({}),
            false,
            None,
        ),
    ];
    for (name, id, live, secrets, want) in cases {
        assert_eq!(left_out(&id, &live, secrets).as_deref(), want, "{name}");
    }
}

#[test]
fn layers_follow_the_documented_rule() {
    let mut objects = BTreeMap::new();
    objects.insert(id("apps", "Deployment", Some("shop"), "web"), json!({}));
    objects.insert(id("apps", "Deployment", Some("operators"), "op"), json!({}));
    objects.insert(id("", "Service", Some("hooks"), "svc"), json!({}));
    objects.insert(
        id(
            "rbac.authorization.k8s.io",
            "ClusterRoleBinding",
            None,
            "op",
        ),
        json!({"subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "operators"}]}),
    );
    objects.insert(
        id(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            None,
            "v",
        ),
        json!({"webhooks": [{"clientConfig": {"service": {"namespace": "hooks", "name": "svc"}}}]}),
    );
    objects.insert(id("", "Namespace", None, "shop"), json!({}));
    let overrides = BTreeMap::from([("hooks".to_string(), "apps".to_string())]);
    let ns = namespace_layers(&objects, &overrides);
    assert_eq!(ns["shop"], "apps");
    assert_eq!(
        ns["operators"], "tools",
        "a ClusterRoleBinding grants to its ServiceAccount"
    );
    assert_eq!(ns["hooks"], "apps", "the override wins");
    let layer = |i: &ObjectId| layer_of(i, &objects[i], &ns);
    assert_eq!(layer(&id("", "Namespace", None, "shop")), "cluster");
    assert_eq!(
        layer(&id(
            "rbac.authorization.k8s.io",
            "ClusterRoleBinding",
            None,
            "op"
        )),
        "tools",
        "goes with its subject"
    );
    assert_eq!(
        layer(&id(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            None,
            "v"
        )),
        "apps",
        "goes with its Service"
    );
}

#[test]
fn file_paths_and_rekube_yaml() {
    assert_eq!(
        file_path("apps", &id("apps", "Deployment", Some("shop"), "web")),
        "apps/shop/deployment.apps-web.yaml"
    );
    assert_eq!(
        file_path(
            "cluster",
            &id("rbac.authorization.k8s.io", "ClusterRole", None, "a:b")
        ),
        "cluster/cluster-scoped/clusterrole.rbac.authorization.k8s.io-a_b.yaml"
    );
    let layers = ["apps", "cluster"].map(String::from).into_iter().collect();
    assert_eq!(
        rekube_yaml(&layers, "https://k:6443"),
        "# Written by `rekube export` from https://k:6443: review it, then rebuild with `rekube rebuild`.\n\
         layers:\n  - {name: cluster, path: cluster}\n  - {name: apps, path: apps, dependsOn: [cluster]}\n"
    );
}
