//! Readiness of a custom resource by a `health:` rule of `rekube.yaml`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{
    Rekube, cluster, code, eventually, exists, kubectl, stdout, unique_name, write,
};

/// A repository: a Widget CRD of its own group (with a status subresource), a Namespace, one Widget, and
/// a ConfigMap that depends on the Widget; `rekube.yaml` judges Widgets by `status.phase`.
fn widget_repo(dir: &Path, group: &str, ns: &str) {
    write(
        dir,
        "rekube.yaml",
        &format!(
            r#"layers:
  - {{name: cluster, path: cluster}}
  - {{name: apps, path: apps, dependsOn: [cluster]}}
health:
  - apiVersion: {group}/v1
    kind: Widget
    inProgress: "status.phase == 'Provisioning'"
    failed: "status.phase == 'Failed'"
    current: "status.phase == 'Ready'"
"#
        ),
    );
    write(
        dir,
        "cluster/crd.yaml",
        &format!(
            r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {{status: {{}}}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
---
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
"#
        ),
    );
    write(
        dir,
        "apps/widget.yaml",
        &format!(
            r#"apiVersion: {group}/v1
kind: Widget
metadata:
  name: w
  namespace: {ns}
spec:
  size: 2
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  namespace: {ns}
  annotations:
    config.kubernetes.io/depends-on: {group}/namespaces/{ns}/Widget/w
data:
  ready: "yes"
"#
        ),
    );
}

fn set_phase(kc: &Path, group: &str, ns: &str, phase: &str) {
    kubectl(
        kc,
        &[
            "patch",
            &format!("widgets.{group}"),
            "w",
            "-n",
            ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            &format!(r#"{{"status":{{"phase":"{phase}"}}}}"#),
        ],
    );
}

#[tokio::test]
async fn waits_for_a_custom_resource_by_its_health_rule_then_proceeds() {
    let kc = cluster().await.kubeconfig();
    let name = unique_name("health-wait");
    let group = format!("{name}.example.com");
    let rekube = Rekube::on(kc);
    let dir = tempfile::tempdir().expect("repo");
    widget_repo(dir.path(), &group, &name);
    let path = dir.path().to_str().expect("utf-8 path");
    let mut apply = rekube.spawn(
        "apply",
        &["apply", path, "--inventory", &name, "--timeout", "120s"],
    );

    // Applied, not ready: no status yet, so the rule cannot be evaluated, and that is shown.
    let widget = ["get", &format!("widgets.{group}"), "w", "-n", &name];
    eventually(Duration::from_secs(60), "the Widget is applied", || {
        exists(kc, &widget).then_some(())
    })
    .await;
    let rule = format!("health rule rekube.yaml:5 (Widget.{group})");
    eventually(
        Duration::from_secs(30),
        "the evaluation error is shown while waiting",
        || {
            let log = apply.log();
            log.contains(&format!(
                "waiting    Widget/{name}/w: InProgress: {rule} cannot be evaluated: inProgress: No such key: phase"
            ))
            .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(apply.running(), "still waiting:\n{}", apply.log());
    let after = ["get", "configmap", "after", "-n", &name];
    assert!(
        !exists(kc, &after),
        "what depends on the Widget waits for it"
    );

    // In progress by the rule's own expression, then current: rekube proceeds.
    set_phase(kc, &group, &name, "Provisioning");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        apply.running(),
        "Provisioning is in progress:\n{}",
        apply.log()
    );
    assert!(!exists(kc, &after));
    assert!(
        apply
            .log()
            .contains(&format!("InProgress: inProgress is true ({rule})")),
        "{}",
        apply.log()
    );
    set_phase(kc, &group, &name, "Ready");
    let exit = apply.wait(Duration::from_secs(60)).code();
    assert_eq!(exit, Some(0), "{}", apply.log());
    assert!(exists(kc, &after), "applied once the Widget is ready");

    // explain names the rule and its last evaluation.
    let out = rekube.run(&["explain", &format!("widget/{name}/w"), path]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.contains(&format!("readiness    {rule}")), "{text}");
    assert!(text.contains("Current: current is true"), "{text}");
    for line in [
        "inProgress  false",
        "failed      false",
        "current     true             status.phase == 'Ready'",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    let out = rekube.run(&["explain", &format!("widget/{name}/w"), path, "--offline"]);
    assert!(
        stdout(&out).contains(&format!("readiness    {rule}")),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn a_failed_expression_fails_the_apply_and_blocks_what_depends_on_it() {
    let kc = cluster().await.kubeconfig();
    let name = unique_name("health-fail");
    let group = format!("{name}.example.com");
    let rekube = Rekube::on(kc);
    let dir = tempfile::tempdir().expect("repo");
    widget_repo(dir.path(), &group, &name);
    let path = dir.path().to_str().expect("utf-8 path");
    let mut apply = rekube.spawn(
        "apply",
        &["apply", path, "--inventory", &name, "--timeout", "120s"],
    );
    let widget = ["get", &format!("widgets.{group}"), "w", "-n", &name];
    eventually(Duration::from_secs(60), "the Widget is applied", || {
        exists(kc, &widget).then_some(())
    })
    .await;
    let started = Instant::now();
    set_phase(kc, &group, &name, "Failed");
    let exit = apply.wait(Duration::from_secs(30)).code();
    let log = apply.log();
    assert_ne!(exit, Some(0), "{log}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a failure does not wait for the timeout"
    );
    assert!(
        log.contains(&format!(
            "failed is true (health rule rekube.yaml:5 (Widget.{group}))"
        )),
        "{log}"
    );
    assert!(!exists(kc, &["get", "configmap", "after", "-n", &name]));
}
