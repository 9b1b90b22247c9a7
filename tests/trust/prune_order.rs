//! Defect 4: a prune deletes in reverse dependency order. A `failurePolicy: Fail` webhook whose backend
//! is gone blocks the deletion of what it guards, so webhook configurations (and APIServices) go first,
//! and CRDs and Namespaces last. The shared control plane never calls webhooks (simulated mode), so
//! this test runs its own with the webhook admission plugins on.

use std::time::Duration;

use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

use crate::common::rekube;
use crate::support::{code, config_map, kubectl, namespace, stderr, unique_name, write};

/// A webhook that guards DELETE of ConfigMaps in `ns` and whose backend never answers.
fn blocking_webhook(ns: &str) -> String {
    format!(
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {ns}-guard
webhooks:
  - name: guard.{ns}.rekube.dev
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: 2
    clientConfig:
      url: https://127.0.0.1:1/validate
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: {ns}
    rules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [DELETE]
        resources: [configmaps]
"#
    )
}

#[tokio::test]
async fn prune_deletes_webhooks_before_what_they_guard() {
    let cp = ControlPlane::start(ControlPlaneOptions {
        apiserver_args: vec!["--disable-admission-plugins=".into()],
        ..ControlPlaneOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("a control plane that calls webhooks: {e}"));
    let kc = cp.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let ns = unique_name("prune-order");
    let dir = tempfile::tempdir().expect("repo");
    let repo = dir.path();
    write(repo, "cluster/namespace.yaml", &namespace(&ns));
    for i in 0..3 {
        write(
            repo,
            &format!("apps/c{i}.yaml"),
            &config_map(&ns, &format!("c{i}"), "fast"),
        );
    }
    write(repo, "apps/webhook.yaml", &blocking_webhook(&ns));
    let path = repo.to_str().expect("utf-8 path");
    let apply = || {
        rekube(
            Some(kc),
            cache.path(),
            &[
                "apply",
                path,
                "--inventory",
                &ns,
                "--timeout",
                "60s",
                "--max-prune",
                "100%",
            ],
            Duration::from_secs(180),
        )
    };
    assert_eq!(code(&apply()), 0, "the repository applies");
    // The webhook is live: a delete by hand is refused.
    let denied = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(["delete", "configmap", "c0", "-n", &ns])
        .output()
        .expect("kubectl runs");
    assert!(!denied.status.success(), "the webhook guards deletes");

    // The next commit removes the ConfigMaps and the webhook: the webhook must go first.
    for i in 0..3 {
        std::fs::remove_file(repo.join(format!("apps/c{i}.yaml"))).expect("remove");
    }
    std::fs::remove_file(repo.join("apps/webhook.yaml")).expect("remove");
    let out = apply();
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "the prune goes through: {err}");
    assert!(err.contains("4 deleted"), "{err}");
    let left = kubectl(kc, &["get", "configmaps", "-n", &ns, "-o", "name"]);
    let left = String::from_utf8_lossy(&left.stdout).into_owned();
    assert!(!left.contains("configmap/c"), "nothing left behind: {left}");
}
