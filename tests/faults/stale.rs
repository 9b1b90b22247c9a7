//! Defect 1: readiness from a stale cache. Deployments updated in one apply, the later ones after the
//! first is ready (so the shared Deployment watch already holds the second's old copy, generation N
//! and observedGeneration N, which reads "rolled out"). With kwok frozen no new pod can become ready,
//! so what depends on the second Deployment must not start until kwok runs again.

use std::time::{Duration, Instant};

use rekube::controlplane::{ControlPlaneOptions, Fault};

use crate::harness::*;

fn deployment(ns: &str, name: &str, image: &str, history: u32, depends_on: Option<&str>) -> String {
    let annotation = depends_on
        .map(|d| {
            format!(
                "  annotations:\n    config.kubernetes.io/depends-on: apps/namespaces/{ns}/Deployment/{d}\n"
            )
        })
        .unwrap_or_default();
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
{annotation}spec:
  replicas: 2
  revisionHistoryLimit: {history}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: app
          image: {image}
"#
    )
}

fn dependent(ns: &str, name: &str, of: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations:\n    config.kubernetes.io/depends-on: apps/namespaces/{ns}/Deployment/{of}\ndata:\n  k: v\n"
    )
}

/// Deployments updated after the first one, each with a dependent; several, so that their writes
/// race the watch events that bring the new versions into the cache.
const SECONDS: usize = 20;

fn seconds(repo: &std::path::Path, ns: &str, image: &str, dependent_suffix: &str) {
    for i in 0..SECONDS {
        let name = format!("second-{i}");
        write(
            repo,
            &format!("{name}.yaml"),
            &deployment(ns, &name, image, 5, Some("first")),
        );
        write(
            repo,
            &format!("after-{i}.yaml"),
            &dependent(ns, &format!("after-{i}-{dependent_suffix}"), &name),
        );
    }
}

#[tokio::test]
async fn an_updated_deployment_is_not_ready_from_its_cached_copy() {
    let _one = exclusive().await;
    let mut cp = control_plane(ControlPlaneOptions::default()).await;
    let kc = cp.kubeconfig().to_path_buf();
    let rk = Rekube::on(&kc);
    let dir = tempfile::tempdir().expect("repo");
    let repo = dir.path();
    let ns = "stale";
    let path = repo.to_str().expect("utf-8 path");
    write(
        repo,
        "ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );
    write(
        repo,
        "first.yaml",
        &deployment(ns, "first", "registry.example/app:1", 5, None),
    );
    seconds(repo, ns, "registry.example/app:1", "v1");
    let apply = ["apply", path, "--timeout", "90s", "--no-prune"];
    assert_eq!(code(&run(&rk, &apply, Duration::from_secs(180))), 0);

    // The first Deployment changes without a rollout (ready at once); the second needs new pods.
    write(
        repo,
        "first.yaml",
        &deployment(ns, "first", "registry.example/app:1", 6, None),
    );
    seconds(repo, ns, "registry.example/app:2", "v2");
    cp.inject("kwok", Fault::Pause).expect("kwok paused");
    let mut child = spawn(&rk, &apply);
    let frozen = Instant::now();
    // Long enough for the apply to reach the dependent if it wrongly judged the second ready.
    while frozen.elapsed() < Duration::from_secs(8) && !exited(&mut child) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed = kubectl(&kc, &["get", "configmaps", "-n", ns, "-o", "name"]).unwrap_or_default();
    let started_while_frozen: Vec<&str> = listed.lines().filter(|l| l.ends_with("-v2")).collect();
    cp.inject("kwok", Fault::Resume).expect("kwok resumed");
    let out = finish(child, Duration::from_secs(180));
    assert_eq!(
        started_while_frozen,
        Vec::<&str>::new(),
        "dependents of updated Deployments started while their new pods could not be ready"
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(kubectl(&kc, &["get", "configmap", "after-0-v2", "-n", ns]).is_some());
}
