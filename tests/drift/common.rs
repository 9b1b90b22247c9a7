//! Helpers of the drift tests: the `rekube` and `kubectl` binaries, repositories written to disk and
//! committed with Git.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::cluster;
pub use crate::support::{kubectl, kubectl_with};

/// Runs `rekube ARGS --kubeconfig KC` (when given) with a private cache folder; a drill's fresh
/// control plane uses the binaries of the shared one.
pub fn rekube(kubeconfig: Option<&Path>, cache: &Path, args: &[&str]) -> Output {
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

pub async fn shared_assets() {
    let dir = cluster().await.control_plane().assets().dir().to_path_buf();
    let _ = SHARED_ASSETS.set(dir);
}

pub fn exists(kubeconfig: &Path, args: &[&str]) -> bool {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

pub fn git(dir: &Path, args: &[&str]) -> String {
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
pub fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

pub fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

pub fn config_map(ns: &str, name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n{annotations}data:\n  mode: fast\n"
    )
}

/// A small application: Namespace, ConfigMap, Secret, Deployment and Service.
pub fn app(dir: &Path, ns: &str) {
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
pub fn classes(out: &Output) -> Vec<(String, String)> {
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
