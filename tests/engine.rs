//! The cluster engine end to end, through the `rekube` binary, on the real local control plane: rebuild,
//! no-op re-apply, diff exit codes, drift repaired by apply, immutable fields, and `--resume`.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{Rekube, app, cluster, code, kubectl, namespace, root, stderr, unique_name, write};

/// `rekube` on the cluster of `kubeconfig` with one inventory per test: tests run in parallel on one
/// cluster, and a shared inventory would prune each other's objects.
fn rekube_on(kubeconfig: &Path) -> Rekube {
    Rekube::on(kubeconfig).inventory(&unique_name("engine"))
}

/// resourceVersion of every object rekube applied (it carries `rekube.dev/source`) among those
/// `kubectl get WHAT` lists, keyed by kind/namespace/name.
fn applied_versions(kubeconfig: &Path, what: &[&str]) -> Vec<(String, String)> {
    let args: Vec<&str> = ["get"]
        .into_iter()
        .chain(what.iter().copied())
        .chain(["-o", "json"])
        .collect();
    let out = kubectl(kubeconfig, &args);
    let list: Value = serde_json::from_slice(&out.stdout).expect("kubectl json");
    let mut v: Vec<(String, String)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["metadata"]["annotations"]["rekube.dev/source"].is_string())
        .map(|o| {
            (
                format!(
                    "{}/{}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["metadata"]["namespace"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                ),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The kinds of the small application, in its namespace.
const APP_KINDS: &str = "deployments,services,configmaps,secrets,serviceaccounts";

/// Every kind examples/platform declares.
const ALL_KINDS: &str = "namespaces,customresourcedefinitions,clusterroles,clusterrolebindings,priorityclasses,\
storageclasses,ingressclasses,validatingwebhookconfigurations,persistentvolumes,deployments,statefulsets,\
daemonsets,jobs,cronjobs,services,configmaps,secrets,serviceaccounts,roles,rolebindings,\
persistentvolumeclaims,ingresses,horizontalpodautoscalers,poddisruptionbudgets,networkpolicies";

#[tokio::test]
async fn rebuild_then_noop_apply_then_diff_and_drift_repair() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let rekube = rekube_on(kc);
    let ns = unique_name("engine-app");
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), &ns, "registry.example/web:1.0");
    let path = dir.path().to_str().expect("utf-8 path");

    let out = rekube.run(&["rebuild", path, "--timeout", "120s"]);
    assert_eq!(code(&out), 0, "rebuild succeeds");
    let err = stderr(&out);
    assert!(err.contains("recovery time"), "reports the RTO: {err}");
    assert!(err.contains("5 created"), "{err}");

    // Readiness was awaited: the Deployment is Available with its replicas on kwok nodes.
    let dep = kubectl(kc, &["get", "deployment", "web", "-n", &ns, "-o", "json"]);
    let dep: Value = serde_json::from_slice(&dep.stdout).expect("json");
    assert_eq!(dep["status"]["readyReplicas"], 2, "{dep}");
    assert!(dep["metadata"]["annotations"]["rekube.dev/digest"].is_string());
    assert_eq!(
        dep["metadata"]["annotations"]["rekube.dev/source"],
        "apps/apps/web.yaml#0"
    );

    // A second apply writes nothing.
    let before = applied_versions(kc, &[APP_KINDS, "-n", &ns]);
    let out = rekube.run(&["apply", path]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("5 unchanged"), "{}", stderr(&out));
    assert_eq!(
        applied_versions(kc, &[APP_KINDS, "-n", &ns]),
        before,
        "no-op apply changed resourceVersions"
    );

    let out = rekube.run(&["diff", path]);
    assert_eq!(code(&out), 0, "in sync after apply");

    // Drift by hand: kubectl scale and set image.
    kubectl(kc, &["scale", "deployment/web", "-n", &ns, "--replicas=4"]);
    kubectl(
        kc,
        &[
            "set",
            "image",
            "deployment/web",
            "-n",
            &ns,
            "web=registry.example/web:hacked",
        ],
    );
    let out = rekube.run(&["diff", path]);
    assert_eq!(code(&out), 1, "differences");
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("-  replicas: 4") && diff.contains("+  replicas: 2"),
        "{diff}"
    );
    let has = |prefix: char, text: &str| {
        diff.lines()
            .any(|l| l.starts_with(prefix) && l.contains(text))
    };
    assert!(has('-', "image: registry.example/web:hacked"), "{diff}");
    assert!(has('+', "image: registry.example/web:1.0"), "{diff}");
    assert!(
        !diff.contains("hunter2"),
        "Secret values are masked: {diff}"
    );

    let out = rekube.run(&["apply", path]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("1 configured"), "{}", stderr(&out));
    let out = rekube.run(&["diff", path]);
    assert_eq!(code(&out), 0, "apply repaired the drift");
}

#[tokio::test]
async fn immutable_changes_fail_unless_recreation_is_allowed() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let rekube = rekube_on(kc);
    let ns = unique_name("engine-immutable");
    let job = |cmd: &str| {
        format!(
            r#"apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: {ns}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example/migrate:1
          command: ["{cmd}"]
"#
        )
    };
    let dir = tempfile::tempdir().expect("repo");
    write(dir.path(), "namespace.yaml", &namespace(&ns));
    write(dir.path(), "job.yaml", &job("up"));
    let path = dir.path().to_str().expect("utf-8");
    let out = rekube.run(&["apply", path, "--timeout", "120s"]);
    assert_eq!(code(&out), 0, "the Job completes on kwok");

    std::fs::write(dir.path().join("job.yaml"), job("down")).expect("write");
    let out = rekube.run(&["apply", path]);
    assert_eq!(code(&out), 2, "an immutable change fails");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Job/{ns}/migrate")) && err.contains("immutable"),
        "{err}"
    );
    assert!(err.contains("--recreate"), "says how to allow it: {err}");

    let out = rekube.run(&["apply", path, "--recreate", "--timeout", "120s"]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("1 recreated"), "{}", stderr(&out));
    let live = kubectl(kc, &["get", "job", "migrate", "-n", &ns, "-o", "json"]);
    let live: Value = serde_json::from_slice(&live.stdout).expect("json");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["command"][0],
        "down"
    );
}

#[tokio::test]
async fn a_killed_rebuild_completes_with_resume() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let rekube = rekube_on(kc);
    let ns = unique_name("engine-resume");
    // The Deployment in `apps` takes a while to become Available; kill rekube while it waits.
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), &ns, "registry.example/web:1.0");
    let p = dir.path().to_str().expect("utf-8");
    let mut child = rekube
        .command(&["rebuild", p])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rekube");
    // Wait until the first layer is done (plain progress lines on a pipe), then kill.
    let stderr_pipe = child.stderr.take().expect("stderr");
    let saw_layer = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr_pipe)
            .lines()
            .map_while(Result::ok)
        {
            eprintln!("(first run) {line}");
            if line.contains("layer cluster done") {
                return true;
            }
        }
        false
    });
    let started = Instant::now();
    let saw = tokio::time::timeout(Duration::from_secs(120), saw_layer).await;
    child.kill().expect("kill rekube");
    let _ = child.wait();
    assert!(
        matches!(saw, Ok(Ok(true))),
        "the first layer finished before the kill"
    );
    assert!(started.elapsed() < Duration::from_secs(120));

    let out = rekube.run(&["rebuild", p, "--resume", "--timeout", "120s"]);
    assert_eq!(code(&out), 0, "resume completes");
    let err = stderr(&out);
    assert!(
        err.contains("resuming: 1 object(s)"),
        "the Namespace is not redone: {err}"
    );
    assert!(err.contains("1 skipped"), "{err}");
    let out = rekube.run(&["diff", p]);
    assert_eq!(code(&out), 0);
}

#[tokio::test]
async fn the_platform_example_rebuilds_then_reapplies_with_zero_writes() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let rekube = rekube_on(kc);
    let platform = root().join("examples/platform");
    let path = platform.to_str().expect("utf-8");
    let report = rekube.cache().join("report.json");
    let out = rekube.run(&[
        "rebuild",
        path,
        "--timeout",
        "120s",
        "--report",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&out), 0, "rebuild of examples/platform succeeds");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let changes = report["changes"]["changes"].as_array().expect("changes");
    assert!(changes.len() >= 40, "{}", changes.len());
    assert!(
        changes.iter().all(|c| c["action"] == "created"),
        "every object created and Current: {report}"
    );
    assert!(report["rto_seconds"].as_f64().unwrap_or(0.0) > 0.0);
    assert_eq!(report["layers"].as_array().map(Vec::len), Some(3));

    let before = applied_versions(kc, &[ALL_KINDS, "-A"]);
    assert!(before.len() >= 40, "{before:?}");
    let out = rekube.run(&["apply", path]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("{} unchanged", changes.len())),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        applied_versions(kc, &[ALL_KINDS, "-A"]),
        before,
        "a second apply wrote nothing"
    );
    let out = rekube.run(&["diff", path]);
    assert_eq!(code(&out), 0, "in sync");

    // explain: where it is declared, what it waits for and why, and its live status.
    let out = rekube.run(&["explain", "deployment/shop/orders", path]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("declared at  apps/shop/orders.yaml:"),
        "{text}"
    );
    assert!(
        text.contains("waits for:") && text.contains("Namespace/shop"),
        "{text}"
    );
    assert!(text.contains("status       Current"), "{text}");
}
