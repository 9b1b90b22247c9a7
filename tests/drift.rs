//! Inventory, prune, drift and drill end to end, through the `rekube` binary, on the real local control
//! plane. Each test has its own namespaces and its own `--inventory`, so the tests of this binary run
//! side by side without pruning each other's objects.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use support::{cluster, unique_name};

/// Runs `rekube ARGS --kubeconfig KC` (when given) with a private cache folder; a drill's fresh
/// control plane uses the binaries of the shared one.
fn rekube(kubeconfig: Option<&Path>, cache: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rekube"));
    cmd.args(args);
    if let Some(shared) = SHARED_ASSETS.get() {
        cmd.env("KUBEBUILDER_ASSETS", shared);
    }
    if let Some(kc) = kubeconfig {
        cmd.arg("--kubeconfig").arg(kc);
    }
    let out = cmd
        .env("REKUBE_CACHE_DIR", cache)
        .env_remove("KUBECONFIG")
        .env_remove("REKUBE_INVENTORY")
        .stdin(Stdio::null())
        .output()
        .expect("the rekube binary runs");
    eprintln!(
        "$ rekube {}\n--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The shared control plane's binaries, for the drills' own control planes.
static SHARED_ASSETS: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

async fn shared_assets() {
    let dir = cluster().await.control_plane().assets().dir().to_path_buf();
    let _ = SHARED_ASSETS.set(dir);
}

fn kubectl_with(kubeconfig: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("kubectl is installed (it is the peer in these tests)");
    assert!(
        out.status.success(),
        "kubectl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    kubectl_with(kubeconfig, args, &[])
}

fn exists(kubeconfig: &Path, args: &[&str]) -> bool {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits everything and returns the commit id.
fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

fn config_map(ns: &str, name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n{annotations}data:\n  mode: fast\n"
    )
}

/// A small application: Namespace, ConfigMap, Secret, Deployment and Service.
fn app(dir: &Path, ns: &str) {
    write(dir, "cluster/namespace.yaml", &namespace(ns));
    write(
        dir,
        "apps/config.yaml",
        &format!(
            "{}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\n  namespace: {ns}\nstringData:\n  token: hunter2\n",
            config_map(ns, "web-config", "")
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
          image: registry.example/web:1.0
          envFrom:
            - configMapRef: {{name: web-config}}
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

/// The classes reported for each object, from `--output json`.
fn classes(out: &Output) -> Vec<(String, String)> {
    let report: Value = serde_json::from_slice(&out.stdout).expect("drift --output json");
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let id = &f["id"];
            let ns = id["namespace"]
                .as_str()
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
            (
                f["class"].as_str().unwrap_or("").to_string(),
                format!(
                    "{}/{ns}{}",
                    id["kind"].as_str().unwrap_or(""),
                    id["name"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn drift_classes_then_apply_prunes_the_orphan() {
    let kc = cluster().await.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let ns = unique_name("drift-classes");
    let inv = unique_name("drift-classes");
    let dir = tempfile::tempdir().expect("repo");
    let repo = dir.path();
    app(repo, &ns);
    write(repo, "apps/extra.yaml", &config_map(&ns, "extra", ""));
    git(repo, &["init", "-q"]);
    let first = commit(repo, "app");
    let path = repo.to_str().expect("utf-8 path");
    let with = |cmd: &str, more: &[&str]| -> Vec<String> {
        let mut a = vec![
            cmd.to_string(),
            path.to_string(),
            "--inventory".into(),
            inv.clone(),
        ];
        a.extend(more.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| {
        rekube(
            Some(kc),
            cache.path(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };

    let out = run(with("rebuild", &["--timeout", "120s"]));
    assert_eq!(code(&out), 0, "rebuild succeeds");
    let out = run(with("drift", &[]));
    assert_eq!(code(&out), 0, "in sync right after the rebuild");
    assert!(
        stdout(&out).contains(&first),
        "prints the commit: {}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("in sync: 6 of 6"), "{}", stdout(&out));

    // Drift by hand: set image, a patch, an edit, a deleted ConfigMap, a Deployment made by hand.
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
    kubectl(
        kc,
        &[
            "patch",
            "service",
            "web",
            "-n",
            &ns,
            "-p",
            r#"{"spec":{"selector":{"app":"other"}}}"#,
        ],
    );
    kubectl_with(
        kc,
        &["edit", "secret", "web-secret", "-n", &ns],
        &[("KUBE_EDITOR", "sed -i -e s/aHVudGVyMg==/c3dvcmRmaXNo/")],
    );
    kubectl(kc, &["delete", "configmap", "web-config", "-n", &ns]);
    kubectl(
        kc,
        &[
            "create",
            "deployment",
            "handmade",
            "-n",
            &ns,
            "--image=registry.example/hand:1",
        ],
    );
    kubectl(
        kc,
        &[
            "rollout",
            "status",
            "deployment/handmade",
            "-n",
            &ns,
            "--timeout=90s",
        ],
    );
    std::fs::remove_file(repo.join("apps/extra.yaml")).expect("remove");
    let second = commit(repo, "drop extra");

    let out = run(with("drift", &[]));
    assert_eq!(code(&out), 1, "drift");
    let text = stdout(&out);
    for want in [
        format!("modified      Deployment/{ns}/web (apps/web.yaml:1)"),
        "spec.template.spec.containers[name=web].image: changed by kubectl-set (Update)"
            .to_string(),
        format!("modified      Service/{ns}/web (apps/web.yaml:"),
        "changed by kubectl-patch (Update)".to_string(),
        format!("modified      Secret/{ns}/web-secret (apps/config.yaml:"),
        "changed by kubectl-edit (Update)".to_string(),
        format!("missing       ConfigMap/{ns}/web-config (apps/config.yaml:1)"),
        format!(
            "orphaned      ConfigMap/{ns}/extra (apps/apps/extra.yaml#0 at {}",
            &first[..12]
        ),
        format!("unmanaged     Deployment/{ns}/handmade"),
        "created by kubectl-create".to_string(),
        second.clone(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in\n{text}");
    }
    assert!(
        !text.contains("ReplicaSet/") && !text.contains("Pod/"),
        "owned objects are not unmanaged:\n{text}"
    );
    for secret in ["hunter2", "aHVudGVyMg==", "c3dvcmRmaXNo", "swordfish"] {
        assert!(
            !text.contains(secret),
            "Secret values are never printed:\n{text}"
        );
    }

    let out = run(with("drift", &["--output", "json"]));
    assert_eq!(code(&out), 1);
    assert_eq!(
        classes(&out),
        vec![
            ("missing".into(), format!("ConfigMap/{ns}/web-config")),
            ("modified".into(), format!("Deployment/{ns}/web")),
            ("modified".into(), format!("Secret/{ns}/web-secret")),
            ("modified".into(), format!("Service/{ns}/web")),
            ("orphaned".into(), format!("ConfigMap/{ns}/extra")),
            ("unmanaged".into(), format!("Deployment/{ns}/handmade")),
        ]
    );

    let out = run(with("drift", &["--output", "junit"]));
    assert_eq!(code(&out), 1);
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"failures="6""#), "{xml}");
    assert!(
        xml.contains(&format!(
            r#"<failure type="missing" message="missing ConfigMap/{ns}/web-config"#
        )),
        "{xml}"
    );

    let out = run(with("drift", &["--fail-on", "unverifiable"]));
    assert_eq!(code(&out), 0, "only the chosen classes fail");

    // Apply repairs what it manages and prunes the orphan; the hand-made Deployment stays unmanaged.
    let out = run(with("apply", &["--timeout", "120s"]));
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("deleted ConfigMap/{ns}/extra")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("1 deleted"), "{}", stderr(&out));
    assert!(
        !exists(kc, &["get", "configmap", "extra", "-n", &ns]),
        "pruned"
    );
    let out = run(with("drift", &["--output", "json"]));
    assert_eq!(
        classes(&out),
        vec![("unmanaged".into(), format!("Deployment/{ns}/handmade"))]
    );
    let out = run(with("drift", &["--fail-on", "modified,missing,orphaned"]));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[tokio::test]
async fn applyset_is_readable_by_kubectl() {
    let kc = cluster().await.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let ns = unique_name("drift-applyset");
    let inv = unique_name("applyset");
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), &ns);
    let path = dir.path().to_str().expect("utf-8 path");
    let out = rekube(
        Some(kc),
        cache.path(),
        &["apply", path, "--inventory", &inv, "--timeout", "120s"],
    );
    assert_eq!(code(&out), 0);

    let parents = kubectl(
        kc,
        &[
            "get",
            "secret",
            "-n",
            "rekube-system",
            "-l",
            "applyset.kubernetes.io/id",
            "-o",
            "json",
        ],
    );
    let parents: Value = serde_json::from_slice(&parents.stdout).expect("json");
    let parent = parents["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["metadata"]["name"] == format!("rekube-{inv}"))
        .unwrap_or_else(|| panic!("kubectl lists the parent rekube-{inv}: {parents}"));
    let meta = &parent["metadata"];
    let id = meta["labels"]["applyset.kubernetes.io/id"]
        .as_str()
        .expect("an id label");
    assert!(id.starts_with("applyset-") && id.ends_with("-v1"), "{id}");
    let annotations = &meta["annotations"];
    assert_eq!(
        annotations["applyset.kubernetes.io/tooling"],
        concat!("rekube/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        annotations["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Deployment.apps,Namespace,Secret,Service"
    );
    assert_eq!(
        annotations["applyset.kubernetes.io/additional-namespaces"],
        ns.as_str()
    );

    let members = kubectl(
        kc,
        &[
            "get",
            "deployments,services,configmaps,secrets",
            "-n",
            &ns,
            "-l",
            &format!("applyset.kubernetes.io/part-of={id}"),
            "-o",
            "name",
        ],
    );
    let mut names: Vec<String> = stdout(&members).lines().map(str::to_string).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "configmap/web-config",
            "deployment.apps/web",
            "secret/web-secret",
            "service/web"
        ],
        "every member carries the part-of label"
    );
    let out = rekube(Some(kc), cache.path(), &["diff", path, "--inventory", &inv]);
    assert_eq!(code(&out), 0, "the part-of label is not a difference");
}

#[tokio::test]
async fn prune_refuses_too_much_and_protects_namespaces() {
    let kc = cluster().await.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let a = unique_name("prune-a");
    let b = unique_name("prune-b");
    let inv = unique_name("prune");
    let dir = tempfile::tempdir().expect("repo");
    let repo = dir.path();
    write(repo, "cluster/a.yaml", &namespace(&a));
    write(repo, "cluster/b.yaml", &namespace(&b));
    for i in 0..4 {
        write(
            repo,
            &format!("apps/a{i}.yaml"),
            &config_map(&a, &format!("a{i}"), ""),
        );
    }
    write(repo, "apps/b0.yaml", &config_map(&b, "b0", ""));
    let keep = "  annotations:\n    rekube.dev/prune: disabled\n";
    write(repo, "apps/keep.yaml", &config_map(&b, "keep", keep));
    let path = repo.to_str().expect("utf-8 path");
    let apply = |more: &[&str]| {
        let mut args = vec![
            "apply",
            path,
            "--inventory",
            inv.as_str(),
            "--timeout",
            "120s",
        ];
        args.extend_from_slice(more);
        rekube(Some(kc), cache.path(), &args)
    };
    assert_eq!(code(&apply(&[])), 0);

    // A commit that removes most of the repository: 4 of the 8 objects would go.
    for i in 0..4 {
        std::fs::remove_file(repo.join(format!("apps/a{i}.yaml"))).expect("remove");
    }
    std::fs::remove_file(repo.join("apps/keep.yaml")).expect("remove");
    let out = apply(&[]);
    assert_eq!(code(&out), 2, "refused");
    let err = stderr(&out);
    assert!(
        err.contains("refusing to prune 4 of the 8 objects"),
        "{err}"
    );
    for i in 0..4 {
        assert!(
            err.contains(&format!("ConfigMap/{a}/a{i}")),
            "lists what would go: {err}"
        );
        assert!(
            exists(kc, &["get", "configmap", &format!("a{i}"), "-n", &a]),
            "nothing deleted"
        );
    }

    let out = apply(&["--max-prune", "100%"]);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(err.contains("4 deleted") && err.contains("1 kept"), "{err}");
    assert!(
        err.contains(&format!("kept ConfigMap/{b}/keep"))
            && err.contains("rekube.dev/prune: disabled"),
        "{err}"
    );
    assert!(!exists(kc, &["get", "configmap", "a0", "-n", &a]));
    let kept = kubectl(kc, &["get", "configmap", "keep", "-n", &b, "-o", "json"]);
    let kept: Value = serde_json::from_slice(&kept.stdout).expect("json");
    assert!(
        kept["metadata"]["labels"]["applyset.kubernetes.io/part-of"].is_null(),
        "detached: {kept}"
    );

    // Namespace `a` leaves Git: kept unless --prune-protected.
    std::fs::remove_file(repo.join("cluster/a.yaml")).expect("remove");
    let out = apply(&[]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("kept Namespace/{a}")),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("--prune-protected"),
        "{}",
        stderr(&out)
    );
    assert!(exists(kc, &["get", "namespace", &a]));
    let out = apply(&["--prune-protected", "--max-prune", "50%"]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("deleted Namespace/{a}")),
        "{}",
        stderr(&out)
    );
    assert!(
        !exists(kc, &["get", "namespace", &a]),
        "gone once apply returns (watched, not assumed)"
    );
    assert!(
        exists(kc, &["get", "configmap", "keep", "-n", &b]),
        "the kept object stays"
    );
}

/// A small repository for drills, in its own namespace.
fn drill_repo(ns: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), ns);
    dir
}

#[tokio::test]
async fn drill_passes_and_reports_the_rto() {
    // The drill starts its own control plane, from the binaries the shared one was built from.
    shared_assets().await;
    let cache = tempfile::tempdir().expect("cache");
    let dir = drill_repo("drill-ok");
    let path = dir.path().to_str().expect("utf-8 path");
    let out = rekube(
        None,
        cache.path(),
        &[
            "drill",
            path,
            "--fresh",
            "local",
            "--rto-budget",
            "5m",
            "--output",
            "json",
        ],
    );
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
    shared_assets().await;
    let cache = tempfile::tempdir().expect("cache");
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
    let path = dir.path().to_str().expect("utf-8 path");
    let out = rekube(
        None,
        cache.path(),
        &["drill", path, "--fresh", "local", "--timeout", "15s"],
    );
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
}

#[tokio::test]
async fn drill_of_the_platform_example() {
    let platform = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/platform");
    let has_layers = ["cluster", "tools", "apps", "rekube.yaml"]
        .iter()
        .any(|p| platform.join(p).exists());
    if !has_layers {
        eprintln!("examples/platform has no manifests yet: nothing to drill");
        return;
    }
    shared_assets().await;
    let cache = tempfile::tempdir().expect("cache");
    let path = platform.to_str().expect("utf-8 path");
    let out = rekube(
        None,
        cache.path(),
        &["drill", path, "--fresh", "local", "--timeout", "3m"],
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("DRILL PASSED"));
}
