//! The local control plane is a real, working cluster: server-side apply, CRDs, Deployments that
//! become Available on kwok Nodes, Namespace deletion, and kubectl with the generated kubeconfig.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;

use support::{chain, cluster, kubectl_piped, test_namespace, unique_name};

const WAIT: Duration = Duration::from_secs(90);

/// Awaits `future` for at most [`WAIT`], panicking with `what` on timeout or error.
async fn within<T, E: std::error::Error>(
    what: &str,
    future: impl Future<Output = Result<T, E>>,
) -> T {
    match tokio::time::timeout(WAIT, future).await {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => panic!("{what}: {}", chain(&err)),
        Err(_) => panic!("{what}: not done within {WAIT:?}"),
    }
}

fn apply() -> PatchParams {
    PatchParams::apply("rekube-test").force()
}

#[tokio::test]
async fn applies_crd_custom_resource_configmap_and_deployment_then_deletes_the_namespace() {
    let client = cluster().await.client();
    let ns = unique_name("apply");

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}
    }))
    .unwrap();
    let created = within(
        "apply Namespace",
        namespaces.patch(&ns, &apply(), &Patch::Apply(&namespace)),
    )
    .await;

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.test.rekube.dev"},
        "spec": {
            "group": "test.rekube.dev",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
                }},
            }],
        },
    }))
    .unwrap();
    within(
        "apply CRD",
        crds.patch("widgets.test.rekube.dev", &apply(), &Patch::Apply(&crd)),
    )
    .await;
    within(
        "CRD Established",
        await_condition(
            crds.clone(),
            "widgets.test.rekube.dev",
            conditions::is_crd_established(),
        ),
    )
    .await;

    let widget_type = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("test.rekube.dev", "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &widget_type);
    let widget: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "test.rekube.dev/v1", "kind": "Widget",
        "metadata": {"name": "first", "namespace": ns},
        "spec": {"size": 3},
    }))
    .unwrap();
    let applied = within(
        "apply Widget",
        widgets.patch("first", &apply(), &Patch::Apply(&widget)),
    )
    .await;
    assert_eq!(applied.data["spec"]["size"], 3);

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let config_map: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": ns},
        "data": {"mode": "fast"},
    }))
    .unwrap();
    within(
        "apply ConfigMap",
        config_maps.patch("settings", &apply(), &Patch::Apply(&config_map)),
    )
    .await;

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": "registry.invalid/web:1",
                    "envFrom": [{"configMapRef": {"name": "settings"}}],
                }]},
            },
        },
    }))
    .unwrap();
    within(
        "apply Deployment",
        deployments.patch("web", &apply(), &Patch::Apply(&deployment)),
    )
    .await;
    let available = within(
        "Deployment Available with 3 ready replicas",
        await_condition(deployments.clone(), "web", |d: Option<&Deployment>| {
            let Some(status) = d.and_then(|d| d.status.as_ref()) else {
                return false;
            };
            let available = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Available" && c.status == "True");
            available && status.ready_replicas == Some(3) && status.available_replicas == Some(3)
        }),
    )
    .await;
    assert!(available.is_some());

    // Every replica runs on a fake Node that kwok manages.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let listed = within(
        "list Pods",
        pods.list(&ListParams::default().labels("app=web")),
    )
    .await;
    assert_eq!(listed.items.len(), 3);
    let nodes: Api<Node> = Api::all(client.clone());
    for pod in &listed.items {
        let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone());
        let node_name =
            node_name.unwrap_or_else(|| panic!("pod {:?} not scheduled", pod.metadata.name));
        let node = within("get Node", nodes.get(&node_name)).await;
        let annotations = node.metadata.annotations.unwrap_or_default();
        assert_eq!(
            annotations.get("kwok.x-k8s.io/node").map(String::as_str),
            Some("fake"),
            "{node_name}"
        );
    }

    let uid = created.metadata.uid.expect("a created Namespace has a uid");
    within(
        "delete Namespace",
        namespaces.delete(&ns, &DeleteParams::default()),
    )
    .await;
    within(
        "Namespace gone",
        await_condition(namespaces.clone(), &ns, conditions::is_deleted(&uid)),
    )
    .await;
    let gone = within("get Namespace", namespaces.get_opt(&ns)).await;
    assert!(gone.is_none(), "Namespace {ns} still exists");
}

#[tokio::test]
async fn kubectl_gets_applies_and_diffs_with_the_generated_kubeconfig() {
    let kc = cluster().await.kubeconfig();
    let (code, out, err) = kubectl_piped(kc, &["get", "nodes", "-o", "name"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("node/kwok-node-0"), "{out}");

    // The server reports the pinned Kubernetes release (version ldflags).
    let go_mod = include_str!("control-plane/go.mod");
    let pinned = go_mod
        .lines()
        .find_map(|l| l.trim().strip_prefix("k8s.io/kubernetes "))
        .expect("go.mod pins k8s.io/kubernetes")
        .trim();
    let (code, out, err) = kubectl_piped(kc, &["version", "-o", "json"], "");
    assert_eq!(code, 0, "{err}");
    let version: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(version["serverVersion"]["gitVersion"], pinned, "{out}");

    let (_client, ns) = test_namespace("kubectl").await;
    let manifest = |mode: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\ndata:\n  mode: {mode}\n"
        )
    };
    let (code, out, err) = kubectl_piped(
        kc,
        &["apply", "--server-side", "-f", "-"],
        &manifest("fast"),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("configmap/settings serverside-applied"),
        "{out}"
    );

    let (code, out, err) =
        kubectl_piped(kc, &["diff", "--server-side", "-f", "-"], &manifest("fast"));
    assert_eq!(code, 0, "in sync, yet: {out}{err}");
    assert!(out.is_empty(), "{out}");

    let (code, out, err) =
        kubectl_piped(kc, &["diff", "--server-side", "-f", "-"], &manifest("slow"));
    assert_eq!(code, 1, "a change must exit 1: {out}{err}");
    assert!(
        out.contains("-  mode: fast") && out.contains("+  mode: slow"),
        "{out}"
    );
}
