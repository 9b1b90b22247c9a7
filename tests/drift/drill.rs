//! `rekube drill`: a passing rehearsal with its RTO, and one whose object never becomes ready.

use serde_json::Value;

use crate::support::{Rekube, app, code, namespace, root, stdout, write};

/// A small repository for drills, in its own namespace.
fn drill_repo(ns: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), ns, "registry.example/web:1.0");
    dir
}

#[tokio::test]
async fn drill_passes_and_reports_the_rto() {
    // The drill starts its own control plane, from the binaries the shared one was built from.
    let rekube = Rekube::fresh_local();
    let dir = drill_repo("drill-ok");
    let path = dir.path().to_str().expect("utf-8 path");
    let out = rekube.run(&[
        "drill",
        path,
        "--fresh",
        "local",
        "--rto-budget",
        "5m",
        "--output",
        "json",
    ]);
    assert_eq!(code(&out), 0, "the drill passes");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["passed"], true, "{report}");
    assert!(
        report["rto_seconds"].as_f64().is_some_and(|s| s > 0.0),
        "{report}"
    );
    assert_eq!(
        report["drift"]["findings"],
        Value::Array(vec![]),
        "zero drift: {report}"
    );
    assert_eq!(
        report["rebuild"]["layers"].as_array().map(Vec::len),
        Some(2),
        "per-layer timings: {report}"
    );
    assert!(
        report["rebuild"]["slowest"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
}

#[tokio::test]
async fn drill_names_the_object_that_never_becomes_ready() {
    let rekube = Rekube::fresh_local();
    let dir = tempfile::tempdir().expect("repo");
    let ns = "drill-stuck";
    write(dir.path(), "cluster/namespace.yaml", &namespace(ns));
    write(
        dir.path(),
        "apps/job.yaml",
        &format!(
            r#"apiVersion: batch/v1
kind: Job
metadata:
  name: stuck
  namespace: {ns}
spec:
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {{no-such-label: "true"}}
      containers:
        - name: run
          image: registry.example/run:1
"#
        ),
    );
    // A claim of a StorageClass that does not exist, and the Deployment that mounts it.
    write(
        dir.path(),
        "apps/data.yaml",
        &format!(
            r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: {ns}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: does-not-exist
  resources:
    requests:
      storage: 1Gi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: db
  namespace: {ns}
spec:
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
      volumes:
        - name: data
          persistentVolumeClaim: {{claimName: data}}
"#
        ),
    );
    let path = dir.path().to_str().expect("utf-8 path");
    let out = rekube.run(&["drill", path, "--fresh", "local", "--timeout", "15s"]);
    assert_eq!(
        code(&out),
        2,
        "an object that never becomes ready fails the drill"
    );
    let text = stdout(&out);
    assert!(text.contains("DRILL FAILED"), "{text}");
    assert!(
        text.contains(&format!(
            "never became ready: Job/{ns}/stuck: not ready after 15s"
        )),
        "{text}"
    );
    assert!(
        text.contains("is not scheduled") && text.contains("node"),
        "says why: {text}"
    );
    assert!(
        text.contains(&format!(
            "never became ready: PersistentVolumeClaim/{ns}/data: not ready after 15s"
        )),
        "{text}"
    );
    assert!(
        text.contains(r#"storageclass.storage.k8s.io "does-not-exist" not found"#),
        "says why: {text}"
    );
    assert!(
        text.contains(&format!(
            "because something they depend on failed: Deployment/{ns}/db"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn drill_of_the_platform_example() {
    let platform = root().join("examples/platform");
    assert!(
        platform.join("rekube.yaml").exists(),
        "examples/platform is the repository this test drills"
    );
    let rekube = Rekube::fresh_local();
    let path = platform.to_str().expect("utf-8 path");
    let out = rekube.run(&["drill", path, "--fresh", "local", "--timeout", "3m"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("DRILL PASSED"), "{text}");
    assert!(text.contains("drift after the rebuild: none"), "{text}");
}
