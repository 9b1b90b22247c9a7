//! Defect 6: objects that Kubernetes or controllers create without ownerReferences are not drift. A
//! StatefulSet with volumeClaimTemplates gets PVCs from its controller; Helm leaves release Secrets;
//! Kubernetes adds `kube-root-ca.crt`, the `default` ServiceAccount, token Secrets, Endpoints,
//! EndpointSlices, Events and Leases. `drift` exits 0 on such a namespace, and a drill of it is green.

use std::time::Duration;

use serde_json::Value;

use crate::common::{rekube, wait_bounded};
use crate::support::{cluster, code, kubectl, namespace, stderr, stdout, unique_name, write};

/// A Namespace, a static PersistentVolume (the local control plane has no provisioner, so the PVC
/// of the volumeClaimTemplate binds to it) and a StatefulSet with a volumeClaimTemplate.
fn stateful_repo(dir: &std::path::Path, ns: &str) {
    write(dir, "cluster/namespace.yaml", &namespace(ns));
    write(
        dir,
        "cluster/storage.yaml",
        &format!(
            r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {ns}-manual
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: {ns}-data-0
spec:
  storageClassName: {ns}-manual
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {{path: /var/lib/{ns}/data-0}}
"#
        ),
    );
    write(
        dir,
        "apps/db.yaml",
        &format!(
            r#"apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: {ns}
spec:
  clusterIP: None
  selector: {{app: db}}
  ports: [{{port: 5432}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: {ns}
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db}}
    spec:
      containers:
        - name: db
          image: registry.example/db:1
          volumeMounts: [{{name: data, mountPath: /data}}]
  volumeClaimTemplates:
    - metadata: {{name: data}}
      spec:
        storageClassName: {ns}-manual
        accessModes: [ReadWriteOnce]
        resources: {{requests: {{storage: 1Gi}}}}
"#
        ),
    );
}

/// What Helm leaves in a release's namespace, made by hand (no Helm here): a release Secret.
fn helm_release_secret(ns: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Secret
metadata:
  name: sh.helm.release.v1.cache.v1
  namespace: {ns}
  labels: {{owner: helm, name: cache, status: deployed, version: "1"}}
type: helm.sh/release.v1
data:
  release: H4sIAAAAAAAA
"#
    )
}

#[tokio::test]
async fn statefulset_claims_and_kubernetes_objects_are_not_unmanaged() {
    let shared = cluster().await;
    let kc = shared.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let ns = unique_name("stateful");
    let dir = tempfile::tempdir().expect("repo");
    stateful_repo(dir.path(), &ns);
    let path = dir.path().to_str().expect("utf-8 path");
    let out = rekube(
        Some(kc),
        cache.path(),
        &["apply", path, "--inventory", &ns, "--timeout", "90s"],
        Duration::from_secs(240),
    );
    assert_eq!(
        code(&out),
        0,
        "the StatefulSet becomes ready: {}",
        stderr(&out)
    );
    let pvc = kubectl(kc, &["get", "pvc", "data-db-0", "-n", &ns, "-o", "json"]);
    let pvc: Value = serde_json::from_slice(&pvc.stdout).expect("pvc json");
    assert_eq!(pvc["status"]["phase"], "Bound", "{pvc}");

    // What other tools and Kubernetes leave behind, without ownerReferences.
    let extra = dir.path().join("extra.yaml");
    std::fs::write(&extra, helm_release_secret(&ns)).expect("write");
    kubectl(kc, &["apply", "-f", extra.to_str().expect("utf-8")]);
    kubectl(kc, &["create", "serviceaccount", "robot", "-n", &ns]);
    let token = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: robot-token\n  namespace: {ns}\n  annotations:\n    kubernetes.io/service-account.name: robot\ntype: kubernetes.io/service-account-token\n"
    );
    std::fs::write(&extra, token).expect("write");
    kubectl(kc, &["apply", "-f", extra.to_str().expect("utf-8")]);

    let out = rekube(
        Some(kc),
        cache.path(),
        &["drift", path, "--inventory", &ns, "--output", "json"],
        Duration::from_secs(120),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("drift json");
    let unmanaged: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["class"] == "unmanaged")
        .collect();
    // The hand-made ServiceAccount is the one object nobody accounts for.
    assert_eq!(unmanaged.len(), 1, "{report:#}");
    assert_eq!(unmanaged[0]["id"]["name"], "robot", "{report:#}");
    kubectl(kc, &["delete", "serviceaccount", "robot", "-n", &ns]);
    let out = rekube(
        Some(kc),
        cache.path(),
        &["drift", path, "--inventory", &ns],
        Duration::from_secs(120),
    );
    assert_eq!(code(&out), 0, "in sync: {}", stdout(&out));
}

#[tokio::test]
async fn drill_of_a_statefulset_with_claim_templates_is_green() {
    let assets = cluster().await.control_plane().assets().dir().to_path_buf();
    let cache = tempfile::tempdir().expect("cache");
    let dir = tempfile::tempdir().expect("repo");
    stateful_repo(dir.path(), "drill-stateful");
    let path = dir.path().to_str().expect("utf-8 path");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rekube"));
    let child = cmd
        .args(["drill", path, "--fresh", "local", "--timeout", "90s"])
        .env("KUBEBUILDER_ASSETS", assets)
        .env("REKUBE_CACHE_DIR", cache.path())
        .env_remove("KUBECONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rekube runs");
    let out = wait_bounded(child, Duration::from_secs(400));
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}\n{}", stderr(&out));
    assert!(text.contains("DRILL PASSED"), "{text}");
    assert!(text.contains("drift after the rebuild: none"), "{text}");
}
