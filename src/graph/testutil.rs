//! Helpers for the graph's table-driven tests: objects from JSON literals, one rule run in isolation.

use serde_json::Value;

use crate::object::{Layer, Object, ObjectId, SourceLoc, split_api_version};

use super::builder::Builder;
use super::dag::Graph;
use super::model::NodeId;

/// An object of `layer` from its JSON: identity from apiVersion, kind and metadata.
pub fn object(layer: &str, body: Value) -> Object {
    let api_version = body["apiVersion"].as_str().unwrap_or("v1").to_string();
    let group = split_api_version(&api_version).0.to_string();
    let kind = body["kind"].as_str().unwrap_or_default().to_string();
    let name = body["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let namespace = body["metadata"]["namespace"].as_str().map(str::to_string);
    let path = format!("{layer}/{}-{name}.yaml", kind.to_lowercase());
    Object {
        id: ObjectId {
            group,
            kind,
            namespace,
            name,
        },
        api_version,
        body,
        source: SourceLoc {
            layer: layer.to_string(),
            path,
            line: 1,
            document: 0,
        },
    }
}

pub fn layer(name: &str, depends_on: &[&str]) -> Layer {
    Layer {
        name: name.to_string(),
        path: name.to_string(),
        depends_on: depends_on.iter().map(|s| s.to_string()).collect(),
        namespace: None,
    }
}

/// The layers named by `objects`, in order of first appearance, depending on nothing.
pub fn layers_of(objects: &[Object]) -> Vec<Layer> {
    let mut out: Vec<Layer> = Vec::new();
    for o in objects {
        if !out.iter().any(|l| l.name == o.source.layer) {
            out.push(layer(&o.source.layer, &[]));
        }
    }
    out
}

/// Runs one rule over `objects` and returns its edges and externals as `from -> to: Rule (detail)`.
pub fn run_rule(
    objects: &[Object],
    rule: impl FnOnce(&mut Builder<'_>),
) -> (Vec<String>, Vec<String>) {
    let layers = layers_of(objects);
    let mut b = Builder::new(&layers, objects, &[], true).expect("valid test input");
    rule(&mut b);
    let graph = Graph::from_builder(b);
    (edge_lines(&graph), external_lines(&graph))
}

pub fn edge_lines(graph: &Graph) -> Vec<String> {
    let label = |n: NodeId| graph.node(n).label();
    graph
        .edges()
        .iter()
        .map(|e| {
            format!(
                "{} -> {}: {} ({})",
                label(e.from),
                label(e.to),
                e.rule,
                e.detail
            )
        })
        .collect()
}

pub fn external_lines(graph: &Graph) -> Vec<String> {
    graph
        .externals()
        .iter()
        .map(|x| {
            format!(
                "{} -> {}: {} ({})",
                graph.node(x.from).label(),
                x.target,
                x.rule,
                x.detail
            )
        })
        .collect()
}

/// Asserts a table of named cases: each runs `rule` over its objects and compares edges and externals.
pub fn check_cases(cases: Vec<Case>, rule: fn(&mut Builder<'_>)) {
    for case in cases {
        let (edges, externals) = run_rule(&case.objects, rule);
        assert_eq!(edges, case.edges, "case {:?}: edges", case.name);
        assert_eq!(externals, case.externals, "case {:?}: externals", case.name);
    }
}

pub struct Case {
    pub name: &'static str,
    pub objects: Vec<Object>,
    pub edges: Vec<&'static str>,
    pub externals: Vec<&'static str>,
}

impl Case {
    pub fn new(name: &'static str, objects: Vec<Object>) -> Case {
        Case {
            name,
            objects,
            edges: Vec::new(),
            externals: Vec::new(),
        }
    }

    pub fn edges(mut self, edges: &[&'static str]) -> Case {
        self.edges = edges.to_vec();
        self
    }

    pub fn externals(mut self, externals: &[&'static str]) -> Case {
        self.externals = externals.to_vec();
        self
    }
}

/// Compares `actual` with `src/graph/testdata/<name>`; `REKUBE_BLESS=1` rewrites the file instead.
pub fn assert_golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/graph/testdata")
        .join(name);
    if std::env::var_os("REKUBE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("testdata folder")).expect("create testdata");
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("golden", "actual")
            .to_string();
        panic!("{name} differs from its golden file (REKUBE_BLESS=1 to accept):\n{diff}");
    }
}

/// A small platform: three layers, a CRD and its resource, RBAC, a workload and its configuration,
/// a webhook and its Service, a sync wave, an explicit depends-on and a few external references.
pub fn fixture() -> (Vec<Layer>, Vec<Object>) {
    use serde_json::json;
    let layers = vec![
        layer("cluster", &[]),
        layer("tools", &["cluster"]),
        layer("apps", &["tools"]),
    ];
    let objects = vec![
        object(
            "cluster",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        ),
        object(
            "cluster",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}}),
        ),
        object(
            "cluster",
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "backups.platform.example.com"},
            "spec": {"group": "platform.example.com", "names": {"kind": "Backup", "plural": "backups"}, "scope": "Namespaced"}}),
        ),
        object(
            "cluster",
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "shop-critical"}, "value": 1000}),
        ),
        object(
            "tools",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "operator", "namespace": "ops"}}),
        ),
        object(
            "tools",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "operator"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "operator", "namespace": "ops"}]}),
        ),
        object(
            "tools",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "operator", "namespace": "ops"},
            "spec": {"template": {"spec": {"serviceAccountName": "operator",
                "containers": [{"name": "op", "image": "op:1", "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "op-token", "key": "t"}}}]}]}}}}),
        ),
        object(
            "tools",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "operator", "namespace": "ops"}}),
        ),
        object(
            "tools",
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "operator"},
            "webhooks": [{"name": "backups.platform.example.com", "clientConfig": {"service": {"name": "operator", "namespace": "ops"}}}]}),
        ),
        object(
            "apps",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "shop"}}),
        ),
        object(
            "apps",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}}),
        ),
        object(
            "apps",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"template": {"spec": {"priorityClassName": "shop-critical",
                "volumes": [{"name": "config", "configMap": {"name": "web"}}],
                "containers": [{"name": "web", "image": "web:1", "envFrom": [{"secretRef": {"name": "db"}}]}]}}}}),
        ),
        object(
            "apps",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}}),
        ),
        object(
            "apps",
            json!({"apiVersion": "platform.example.com/v1", "kind": "Backup", "metadata": {"name": "nightly", "namespace": "shop",
            "annotations": {"config.kubernetes.io/depends-on": "apps/namespaces/shop/Deployment/web"}}}),
        ),
        object(
            "apps",
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "smoke", "namespace": "shop",
            "annotations": {"argocd.argoproj.io/sync-wave": "1"}},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": "curl:1"}]}}}}),
        ),
    ];
    (layers, objects)
}
