//! Synthetic repositories for benchmarks and scale tests: N valid Kubernetes objects, deterministic.
//!
//! Layer `cluster` holds Namespaces and a few CustomResourceDefinitions; layer `apps` (depending on it)
//! holds apps of six objects each: ConfigMap, Secret, ServiceAccount, Service, a Deployment that
//! references the first three, and a custom resource. Twenty apps share a Namespace. Every object is
//! valid for Kubernetes 1.34 and the Deployments run `registry.k8s.io/pause` with tiny requests, so the
//! repository can be applied to a real API server (with kwok nodes).
//!
//! ```
//! use rekube::synth::{SynthOptions, generate};
//!
//! let repo = generate(&SynthOptions { objects: 100 });
//! assert_eq!(repo.objects.len(), 100);
//! assert_eq!(repo, generate(&SynthOptions { objects: 100 }));
//! ```

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde_json::{Value, json};

use crate::object::{Layer, Object, ObjectId, SourceLoc, split_api_version};

/// Group of the synthetic CRDs.
pub const GROUP: &str = "synth.rekube.dev";
/// Kinds served by the synthetic CRDs; app `i` gets a resource of kind `KINDS[i % KINDS.len()]`.
pub const KINDS: &[&str] = &["Widget", "Gadget", "Gizmo", "Sprocket"];
/// Apps per Namespace.
pub const APPS_PER_NAMESPACE: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOptions {
    /// Exact number of objects to generate.
    pub objects: usize,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions { objects: 1000 }
    }
}

/// A generated repository: its layers, and its objects grouped by file (one file per app).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRepo {
    pub layers: Vec<Layer>,
    /// In file order, then document order.
    pub objects: Vec<Object>,
}

/// Generates `options.objects` objects. The same options always give the same repository.
pub fn generate(options: &SynthOptions) -> SynthRepo {
    let mut g = Gen::default();
    let n = options.objects;
    for kind in KINDS {
        if g.objects.len() < n {
            g.push("cluster", "cluster/crds.yaml", crd(kind));
        }
    }
    let mut app = 0;
    // An app costs 6 objects, plus its Namespace when it opens one.
    loop {
        let opens_namespace = app % APPS_PER_NAMESPACE == 0;
        let cost = 6 + usize::from(opens_namespace);
        if g.objects.len() + cost > n {
            break;
        }
        let ns = namespace_name(app / APPS_PER_NAMESPACE);
        if opens_namespace {
            g.push("cluster", "cluster/namespaces.yaml", namespace(&ns));
        }
        let file = format!("apps/{ns}/app-{app:05}.yaml");
        for body in app_objects(app, &ns) {
            g.push("apps", &file, body);
        }
        app += 1;
    }
    // Fill the rest with ConfigMaps in the last Namespace (opening one if none exists).
    let ns = namespace_name(app.saturating_sub(1) / APPS_PER_NAMESPACE);
    if app == 0 && g.objects.len() < n {
        g.push("cluster", "cluster/namespaces.yaml", namespace(&ns));
    }
    let mut extra = 0;
    while g.objects.len() < n {
        let name = format!("extra-{extra:05}");
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns}, "data": {"index": extra.to_string()}});
        g.push("apps", &format!("apps/{ns}/extra.yaml"), body);
        extra += 1;
    }
    // Files in path order, as a loader reading the folder would give them.
    g.objects.sort_by(|a, b| {
        (a.source.layer != "cluster", &a.source.path)
            .cmp(&(b.source.layer != "cluster", &b.source.path))
    });
    for i in 1..g.objects.len() {
        if g.objects[i].source.path == g.objects[i - 1].source.path {
            g.objects[i].source.document = g.objects[i - 1].source.document + 1;
        }
    }
    SynthRepo {
        layers: vec![layer("cluster", &[]), layer("apps", &["cluster"])],
        objects: g.objects,
    }
}

/// Writes the repository to `dir`: `rekube.yaml` and one multi-document YAML file per source path.
///
/// # Errors
/// Any I/O error creating folders or writing files.
pub fn write(repo: &SynthRepo, dir: &Path) -> io::Result<()> {
    let mut text = String::from("layers:\n");
    for l in &repo.layers {
        let _ = writeln!(
            text,
            "  - {{name: {}, path: {}, dependsOn: [{}]}}",
            l.name,
            l.path,
            l.depends_on.join(", ")
        );
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("rekube.yaml"), text)?;
    let mut start = 0;
    while start < repo.objects.len() {
        let path = &repo.objects[start].source.path;
        let end = start
            + repo.objects[start..]
                .iter()
                .take_while(|o| &o.source.path == path)
                .count();
        let mut file = String::new();
        for o in &repo.objects[start..end] {
            let yaml = serde_saphyr::to_string(&o.body)
                .map_err(|e| io::Error::other(format!("{}: {e}", o.id)))?;
            file.push_str("---\n");
            file.push_str(&yaml);
            if !yaml.ends_with('\n') {
                file.push('\n');
            }
        }
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, file)?;
        start = end;
    }
    Ok(())
}

#[derive(Default)]
struct Gen {
    objects: Vec<Object>,
}

impl Gen {
    fn push(&mut self, layer: &str, path: &str, body: Value) {
        let api_version = body["apiVersion"].as_str().unwrap_or("v1").to_string();
        let id = ObjectId::new(
            split_api_version(&api_version).0,
            body["kind"].as_str().unwrap_or_default(),
            body["metadata"]["namespace"].as_str(),
            body["metadata"]["name"].as_str().unwrap_or_default(),
        );
        self.objects.push(Object {
            id,
            api_version,
            body,
            source: SourceLoc {
                layer: layer.to_string(),
                path: path.to_string(),
                // In memory there are no lines; the document index locates the object.
                line: 1,
                document: 0,
            },
        });
    }
}

fn layer(name: &str, depends_on: &[&str]) -> Layer {
    Layer {
        name: name.to_string(),
        path: name.to_string(),
        depends_on: depends_on.iter().map(|s| s.to_string()).collect(),
        namespace: None,
    }
}

fn namespace_name(i: usize) -> String {
    format!("synth-{i:04}")
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn crd(kind: &str) -> Value {
    let plural = format!("{}s", kind.to_lowercase());
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{GROUP}")},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                    "type": "object",
                    "properties": {"app": {"type": "string"}, "size": {"type": "integer", "minimum": 0}}
                }}}}
            }]
        }
    })
}

/// ConfigMap, Secret, ServiceAccount, Service, Deployment and a custom resource, all named `app-NNNNN`.
fn app_objects(i: usize, ns: &str) -> Vec<Value> {
    let name = format!("app-{i:05}");
    let labels = json!({"app.kubernetes.io/name": name});
    let kind = KINDS[i % KINDS.len()];
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "data": {"APP_NAME": name, "LOG_LEVEL": "info"}}),
        // "synthetic", base64-encoded: a dummy value.
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "type": "Opaque", "data": {"password": "c3ludGhldGlj"}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns, "labels": labels}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                "serviceAccountName": name,
                "containers": [{
                    "name": "app",
                    "image": "registry.k8s.io/pause:3.10",
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "envFrom": [{"configMapRef": {"name": name}}],
                    "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": name, "key": "password"}}}],
                    "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": true}],
                    "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}, "limits": {"memory": "16Mi"}}
                }],
                "volumes": [{"name": "config", "configMap": {"name": name}}]
            }}
        }}),
        json!({"apiVersion": format!("{GROUP}/v1"), "kind": kind, "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"app": name, "size": i % 10}}),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_and_unique_ids() {
        for n in [0, 1, 5, 11, 100, 1234] {
            let repo = generate(&SynthOptions { objects: n });
            assert_eq!(repo.objects.len(), n, "{n}");
            let mut ids: Vec<&ObjectId> = repo.objects.iter().map(|o| &o.id).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "{n}: ids are unique");
        }
    }

    #[test]
    fn plans_without_cycles_or_externals() {
        let repo = generate(&SynthOptions { objects: 500 });
        let graph =
            crate::graph::build(&repo.layers, &repo.objects, &Default::default()).expect("plans");
        assert!(
            graph.externals().is_empty(),
            "{:?}",
            graph.externals().first()
        );
    }
}
