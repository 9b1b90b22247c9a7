//! The cluster engine end to end, through the `rekube` binary, on the real local control plane: rebuild,
//! no-op re-apply, diff exit codes, drift repaired by apply, immutable fields, and `--resume`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{cluster, kubectl, unique_name};

/// Runs `rekube ARGS --kubeconfig KC`, with a private cache folder, and returns its output.
fn rekube(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_rekube"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("REKUBE_CACHE_DIR", cache)
        .env("REKUBE_INVENTORY", inventory(cache))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("the rekube binary runs");
    eprintln!(
        "$ rekube {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One inventory per test (named after its private cache folder): tests run in parallel on one
/// cluster, and a shared inventory would prune each other's objects.
fn inventory(cache: &Path) -> String {
    let name = cache
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let clean: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("engine-{clean}")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes a repository of `files` (path → content) into a new temp folder.
fn repo(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }
    dir
}

/// resourceVersion of every object labelled with the test's label, keyed by kind/namespace/name.
fn resource_versions(kubeconfig: &Path, namespace: &str) -> Vec<(String, String)> {
    let out = kubectl(
        kubeconfig,
        &[
            "get",
            "deployments,services,configmaps,secrets,serviceaccounts",
            "-n",
            namespace,
            "-o",
            "json",
        ],
    );
    let list: Value = serde_json::from_slice(&out.stdout).expect("kubectl json");
    let mut v: Vec<(String, String)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["metadata"]["annotations"]["rekube.dev/source"].is_string())
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or(""),
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

/// A small application with references: ConfigMap and Secret before the Deployment, Namespace first.
fn app(ns: &str, image: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "cluster/namespace.yaml",
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
        ),
        (
            "apps/config.yaml",
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: {ns}\ndata:\n  mode: fast\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\n  namespace: {ns}\nstringData:\n  token: hunter2\n"
            ),
        ),
        (
            "apps/web.yaml",
            format!(
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
        ),
    ]
}

#[tokio::test]
async fn rebuild_then_noop_apply_then_diff_and_drift_repair() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let ns = unique_name("engine-app");
    let dir = repo(&app(&ns, "registry.example/web:1.0"));
    let path = dir.path().to_str().expect("utf-8 path");

    let out = rekube(kc, cache.path(), &["rebuild", path, "--timeout", "120s"]);
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
    let before = resource_versions(kc, &ns);
    let out = rekube(kc, cache.path(), &["apply", path]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("5 unchanged"), "{}", stderr(&out));
    assert_eq!(
        resource_versions(kc, &ns),
        before,
        "no-op apply changed resourceVersions"
    );

    let out = rekube(kc, cache.path(), &["diff", path]);
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
    let out = rekube(kc, cache.path(), &["diff", path]);
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

    let out = rekube(kc, cache.path(), &["apply", path]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("1 configured"), "{}", stderr(&out));
    let out = rekube(kc, cache.path(), &["diff", path]);
    assert_eq!(code(&out), 0, "apply repaired the drift");
}

#[tokio::test]
async fn immutable_changes_fail_unless_recreation_is_allowed() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
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
    let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
    let dir = repo(&[
        ("namespace.yaml", namespace.clone()),
        ("job.yaml", job("up")),
    ]);
    let path = dir.path().to_str().expect("utf-8");
    let out = rekube(kc, cache.path(), &["apply", path, "--timeout", "120s"]);
    assert_eq!(code(&out), 0, "the Job completes on kwok");

    std::fs::write(dir.path().join("job.yaml"), job("down")).expect("write");
    let out = rekube(kc, cache.path(), &["apply", path]);
    assert_eq!(code(&out), 2, "an immutable change fails");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Job/{ns}/migrate")) && err.contains("immutable"),
        "{err}"
    );
    assert!(err.contains("--recreate"), "says how to allow it: {err}");

    let out = rekube(
        kc,
        cache.path(),
        &["apply", path, "--recreate", "--timeout", "120s"],
    );
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
    let kc = cp.kubeconfig().to_path_buf();
    let cache = tempfile::tempdir().expect("cache");
    let ns = unique_name("engine-resume");
    // The Deployment in `apps` takes a while to become Available; kill rekube while it waits.
    let dir = repo(&app(&ns, "registry.example/web:1.0"));
    let path: PathBuf = dir.path().to_path_buf();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rekube"))
        .arg("rebuild")
        .arg(&path)
        .arg("--kubeconfig")
        .arg(&kc)
        .env("REKUBE_CACHE_DIR", cache.path())
        .env("REKUBE_INVENTORY", inventory(cache.path()))
        .stdin(Stdio::null())
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

    let p = path.to_str().expect("utf-8");
    let out = rekube(
        &kc,
        cache.path(),
        &["rebuild", p, "--resume", "--timeout", "120s"],
    );
    assert_eq!(code(&out), 0, "resume completes");
    let err = stderr(&out);
    assert!(
        err.contains("resuming: 1 object(s)"),
        "the Namespace is not redone: {err}"
    );
    assert!(err.contains("1 skipped"), "{err}");
    let out = rekube(&kc, cache.path(), &["diff", p]);
    assert_eq!(code(&out), 0);
}

/// resourceVersion of every object rekube applied (it carries `rekube.dev/source`), across the cluster.
fn all_applied_versions(kubeconfig: &Path) -> Vec<(String, String)> {
    let kinds = "namespaces,customresourcedefinitions,clusterroles,clusterrolebindings,priorityclasses,\
storageclasses,ingressclasses,validatingwebhookconfigurations,persistentvolumes,deployments,statefulsets,\
daemonsets,jobs,cronjobs,services,configmaps,secrets,serviceaccounts,roles,rolebindings,\
persistentvolumeclaims,ingresses,horizontalpodautoscalers,poddisruptionbudgets,networkpolicies";
    let out = kubectl(kubeconfig, &["get", kinds, "-A", "-o", "json"]);
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

#[tokio::test]
async fn the_platform_example_rebuilds_then_reapplies_with_zero_writes() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let platform = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/platform");
    let path = platform.to_str().expect("utf-8");
    let report = cache.path().join("report.json");
    let out = rekube(
        kc,
        cache.path(),
        &[
            "rebuild",
            path,
            "--timeout",
            "120s",
            "--report",
            report.to_str().expect("utf-8"),
        ],
    );
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

    let before = all_applied_versions(kc);
    assert!(before.len() >= 40, "{before:?}");
    let out = rekube(kc, cache.path(), &["apply", path]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("{} unchanged", changes.len())),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        all_applied_versions(kc),
        before,
        "a second apply wrote nothing"
    );
    let out = rekube(kc, cache.path(), &["diff", path]);
    assert_eq!(code(&out), 0, "in sync");

    // explain: where it is declared, what it waits for and why, and its live status.
    let out = rekube(
        kc,
        cache.path(),
        &["explain", "deployment/shop/orders", path],
    );
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
