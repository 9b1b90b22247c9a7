//! Readiness of a custom resource by a `health:` rule of `rekube.yaml`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{code, kubectl, rekube, stdout, write};
use crate::harness::eventually;
use crate::support::{cluster, unique_name};

/// A repository: a Widget CRD of its own group (with a status subresource), a Namespace, one Widget, and
/// a ConfigMap that depends on the Widget; `rekube.yaml` judges Widgets by `status.phase`.
fn repo(dir: &Path, group: &str, ns: &str) {
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

/// `rekube apply` running in the background, its stderr collected.
struct Running {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Running {
    fn start(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rekube"))
            .args(args)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .env("REKUBE_CACHE_DIR", cache)
            .env_remove("KUBECONFIG")
            .env_remove("REKUBE_INVENTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the rekube binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[apply] {line}");
                let mut log = sink.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        Running { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits (up to `timeout`) for the exit code.
    fn wait(&mut self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "rekube apply did not finish within {timeout:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn exists(kc: &Path, args: &[&str]) -> bool {
    crate::common::exists(kc, args)
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
    let cache = tempfile::tempdir().expect("cache");
    let dir = tempfile::tempdir().expect("repo");
    repo(dir.path(), &group, &name);
    let path = dir.path().to_str().expect("utf-8 path");
    let mut apply = Running::start(
        kc,
        cache.path(),
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
    assert_eq!(apply.wait(Duration::from_secs(60)), 0, "{}", apply.log());
    assert!(exists(kc, &after), "applied once the Widget is ready");

    // explain names the rule and its last evaluation.
    let out = rekube(
        Some(kc),
        cache.path(),
        &["explain", &format!("widget/{name}/w"), path],
    );
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
    let out = rekube(
        Some(kc),
        cache.path(),
        &["explain", &format!("widget/{name}/w"), path, "--offline"],
    );
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
    let cache = tempfile::tempdir().expect("cache");
    let dir = tempfile::tempdir().expect("repo");
    repo(dir.path(), &group, &name);
    let path = dir.path().to_str().expect("utf-8 path");
    let mut apply = Running::start(
        kc,
        cache.path(),
        &["apply", path, "--inventory", &name, "--timeout", "120s"],
    );
    let widget = ["get", &format!("widgets.{group}"), "w", "-n", &name];
    eventually(Duration::from_secs(60), "the Widget is applied", || {
        exists(kc, &widget).then_some(())
    })
    .await;
    let started = Instant::now();
    set_phase(kc, &group, &name, "Failed");
    let exit = apply.wait(Duration::from_secs(30));
    let log = apply.log();
    assert_ne!(exit, 0, "{log}");
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
