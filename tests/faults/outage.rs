//! Defect 7: waits that end without a verdict. An API server that goes away for longer than a few
//! retries must not turn a wait into a failure (or a success): the shared Deployment watch and the
//! per-object watch of a prune are re-established when it is back, and the waits end on what
//! actually happens.

use std::time::{Duration, Instant};

use rekube::controlplane::{ControlPlane, ControlPlaneOptions, Fault};

use crate::harness::*;

fn repo(dir: &std::path::Path, ns: &str, image: &str, doomed: bool) {
    write(
        dir,
        "ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );
    write(
        dir,
        "web.yaml",
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
"#
        ),
    );
    write(
        dir,
        "after.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-web\n  namespace: {ns}\n  annotations:\n    config.kubernetes.io/depends-on: apps/namespaces/{ns}/Deployment/web\ndata:\n  image: {image}\n"
        ),
    );
    let doomed_path = dir.join("doomed.yaml");
    if doomed {
        // A finalizer holds its deletion until the test lets it go.
        write(
            dir,
            "doomed.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: doomed\n  namespace: {ns}\n  finalizers: [rekube.dev/test-hold]\ndata:\n  k: v\n"
            ),
        );
    } else {
        let _ = std::fs::remove_file(doomed_path);
    }
}

/// Kills kube-apiserver, keeps it down for `down`, starts it again.
async fn outage(cp: &mut ControlPlane, down: Duration) -> Duration {
    cp.inject("kube-apiserver", Fault::Kill).expect("kill");
    tokio::time::sleep(down).await;
    down + cp.restart("kube-apiserver").await.expect("restarted")
}

#[tokio::test]
async fn waits_survive_an_apiserver_outage() {
    let _one = exclusive().await;
    let mut cp = control_plane(ControlPlaneOptions::default()).await;
    let kc = cp.kubeconfig().to_path_buf();
    let rk = Rekube::on(&kc);
    let dir = tempfile::tempdir().expect("repo");
    let ns = "outage";
    let path = dir.path().to_str().expect("utf-8 path");
    let apply = ["apply", path, "--timeout", "120s", "--max-prune", "100%"];
    repo(dir.path(), ns, "registry.example/web:1", true);
    assert_eq!(code(&run(&rk, &apply, Duration::from_secs(180))), 0);

    // The update needs new pods: with kwok frozen, the apply waits on the Deployment watch.
    repo(dir.path(), ns, "registry.example/web:2", false);
    cp.inject("kwok", Fault::Pause).expect("kwok paused");
    let started = Instant::now();
    let mut child = spawn(&rk, &apply);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!exited(&mut child), "the apply waits for the new pods");
    // Longer than the old retry budgets (10 failed watch polls, 8 request tries).
    let first = outage(&mut cp, Duration::from_secs(12)).await;
    cp.inject("kwok", Fault::Resume).expect("kwok resumed");

    // Then the prune: it deletes `doomed` and waits on its own watch while the finalizer holds it.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the prune did not start");
        if exited(&mut child) {
            let out = finish(child, Duration::from_secs(10));
            panic!(
                "the apply ended (exit {}) before the prune waited:\n{}",
                code(&out),
                stderr(&out)
            );
        }
        let deleting = kubectl(
            &kc,
            &[
                "get",
                "configmap",
                "doomed",
                "-n",
                ns,
                "-o",
                "jsonpath={.metadata.deletionTimestamp}",
            ],
        );
        if deleting.is_some_and(|t| !t.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let second = outage(&mut cp, Duration::from_secs(5)).await;
    kubectl(
        &kc,
        &[
            "patch",
            "configmap",
            "doomed",
            "-n",
            ns,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
    )
    .expect("the finalizer is removed");
    let out = finish(child, Duration::from_secs(300));
    let err = stderr(&out);
    eprintln!(
        "FIGURES outage: outages of {first:.1?} and {second:.1?}, apply done in {:.1?}",
        started.elapsed()
    );
    assert_eq!(code(&out), 0, "the waits end on what happened: {err}");
    assert!(err.contains("configured Deployment/outage/web"), "{err}");
    assert!(err.contains("deleted ConfigMap/outage/doomed"), "{err}");
    assert!(err.contains("retries ("), "the retries are counted: {err}");
}
