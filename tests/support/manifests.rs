//! Small manifests the tests write into their repositories.

use std::path::Path;

use super::write;

pub fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

/// A ConfigMap whose one key, `value`, holds `value`.
pub fn config_map(ns: &str, name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  value: \"{value}\"\n"
    )
}

/// `manifest` (one document, `metadata:` at the start of a line) with the annotation `key: value` added.
pub fn annotate(manifest: &str, key: &str, value: &str) -> String {
    manifest.replacen(
        "\nmetadata:\n",
        &format!("\nmetadata:\n  annotations:\n    {key}: {value}\n"),
        1,
    )
}

/// A one-replica Deployment whose container `main` runs `image`.
pub fn deployment(ns: &str, name: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: main
          image: {image}
"#
    )
}

/// A small application with references, written into `dir`: its Namespace in layer `cluster`; in layer
/// `apps` a ConfigMap and a Secret (token `hunter2`) that the two-replica Deployment `web` (container
/// `web`, `image`) reads, and its Service.
pub fn app(dir: &Path, ns: &str, image: &str) {
    write(dir, "cluster/namespace.yaml", &namespace(ns));
    write(
        dir,
        "apps/config.yaml",
        &format!(
            "{}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\n  namespace: {ns}\nstringData:\n  token: hunter2\n",
            config_map(ns, "web-config", "fast")
        ),
    );
    write(
        dir,
        "apps/web.yaml",
        &format!(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: {image}
          envFrom:
            - configMapRef: {{name: web-config}}
            - secretRef: {{name: web-secret}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  selector: {{app: web}}
  ports:
    - port: 80
"#
        ),
    );
}

/// [`app`] in a new repository whose rekube.yaml declares the layers `cluster` and `apps` and two
/// clusters reached by their kubeconfig files: `eu`, a primary, and `us`, whose entry ends with `us_role`
/// (e.g. `role: standby, standby: warm`; empty for a second primary).
pub fn two_cluster_repo(ns: &str, eu: &Path, us: &Path, us_role: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), ns, "nginx:1.27");
    let us_role = if us_role.is_empty() {
        String::new()
    } else {
        format!(", {us_role}")
    };
    let config = format!(
        "layers:
  - {{name: cluster, path: cluster}}
  - {{name: apps, path: apps, dependsOn: [cluster]}}
clusters:
  - {{name: eu, kubeconfig: {}}}
  - {{name: us, kubeconfig: {}{us_role}}}
",
        eu.display(),
        us.display()
    );
    write(dir.path(), "rekube.yaml", &config);
    dir
}
