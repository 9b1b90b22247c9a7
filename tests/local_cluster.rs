//! `rekube local up|down|list` end to end through the binary: a persistent local control plane that
//! outlives the command, reached with kubectl and rekube through its kubeconfig context, then stopped
//! with nothing left running. Every test has its own KUBECONFIG and state folder in a temp folder:
//! the user's kubeconfig is never read or written.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;

use support::kubectl::kubectl_run;
use support::{Rekube, fixture, run_logged, stderr, stdout, which};

/// A sandbox: its own kubeconfig (holding an unrelated context, current) and state folder, and the
/// runs of `rekube` with them (its private cache folder, the control plane's binaries found once).
struct Sandbox {
    dir: tempfile::TempDir,
    rekube: Rekube,
}

const USER_KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: 'https://prod.example:6443'}\nusers:\n- name: me\n  user: {token: secret}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: me}\ncurrent-context: prod\n";

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp folder");
        std::fs::write(dir.path().join("kubeconfig"), USER_KUBECONFIG).expect("kubeconfig");
        let rekube = Rekube::fresh_local()
            .env("KUBECONFIG", dir.path().join("kubeconfig"))
            .env("REKUBE_STATE_DIR", dir.path().join("state"));
        Sandbox { dir, rekube }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }
}

impl Drop for Sandbox {
    /// A failed test must not leave a cluster running: stop whatever this sandbox started.
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(self.state()) {
            for e in entries.flatten() {
                if let Some(name) = e.file_name().to_str() {
                    let _ = self.rekube.command(&["local", "down", name]).output();
                }
            }
        }
    }
}

/// Processes (not zombies) whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = std::fs::read_to_string(path.join("stat"))
            .ok()
            .and_then(|s| {
                s.rfind(')')
                    .map(|i| s[i + 1..].trim_start().starts_with('Z'))
            })
            .unwrap_or(true);
        if !zombie && cmdline.contains(needle) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

#[test]
fn up_then_kubectl_and_apply_through_the_context_then_down_leaves_nothing_running() {
    let sandbox = Sandbox::new();
    let up = sandbox.rekube.run(&["local", "up", "demo", "--nodes", "2"]);
    assert_eq!(up.status.code(), Some(0), "local up");
    let said = stdout(&up);
    assert!(
        said.contains(&format!(
            "context rekube-demo added to {}",
            sandbox.kubeconfig().display()
        )),
        "{said}"
    );

    // It outlived the command: its supervisor and components run.
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(sandbox.state().join("demo/cluster.json")).expect("cluster.json"),
    )
    .expect("cluster.json is JSON");
    let pid = state["pid"].as_u64().expect("pid");
    let folder = state["control_plane_dir"]
        .as_str()
        .expect("folder")
        .to_owned();
    assert!(
        !processes_with(&folder).is_empty(),
        "components run from {folder}"
    );

    let list = sandbox.rekube.run(&["local", "list"]);
    let listed = stdout(&list);
    assert!(
        listed.contains("demo") && listed.contains("running") && listed.contains("rekube-demo"),
        "{listed}"
    );

    let nodes = kubectl_run(
        &sandbox.kubeconfig(),
        &["--context", "rekube-demo", "get", "nodes", "-o", "name"],
        &[],
        "",
    );
    assert_eq!(nodes.status.code(), Some(0), "kubectl get nodes");
    assert_eq!(stdout(&nodes).lines().count(), 2, "two kwok Nodes");
    let current = kubectl_run(
        &sandbox.kubeconfig(),
        &["config", "current-context"],
        &[],
        "",
    );
    assert_eq!(
        stdout(&current).trim(),
        "prod",
        "the current context is left alone"
    );

    // The repository with an aggregated API and fail-closed webhooks applies: the context's cluster
    // is recognised as simulated.
    let repo = fixture("drill/kube-prometheus");
    let apply = sandbox.rekube.run(&[
        "apply",
        repo.to_str().expect("utf-8 path"),
        "--context",
        "rekube-demo",
        "--timeout",
        "60s",
    ]);
    assert_eq!(apply.status.code(), Some(0), "apply through the context");
    assert!(
        stderr(&apply).contains("simulated cluster"),
        "says it is simulated"
    );
    let rules = kubectl_run(
        &sandbox.kubeconfig(),
        &[
            "--context",
            "rekube-demo",
            "get",
            "prometheusrules",
            "-n",
            "monitoring",
            "-o",
            "name",
        ],
        &[],
        "",
    );
    assert_eq!(
        stdout(&rules).lines().count(),
        2,
        "rules admitted past the fail-closed webhooks"
    );

    let again = sandbox.rekube.run(&["local", "up", "demo"]);
    assert_eq!(again.status.code(), Some(2), "a name in use");
    assert!(
        stderr(&again).contains("a local cluster named demo already exists"),
        "says why"
    );

    let down = sandbox.rekube.run(&["local", "down", "demo"]);
    assert_eq!(down.status.code(), Some(0), "local down");
    assert!(stdout(&down).contains("context rekube-demo removed"));
    assert!(
        processes_with(&folder).is_empty(),
        "no component left: {:?}",
        processes_with(&folder)
    );
    assert!(
        processes_with("local serve demo")
            .iter()
            .all(|p| !p.starts_with(&format!("{pid}:"))),
        "the supervisor is gone"
    );
    assert!(!Path::new(&folder).exists(), "its folder is removed");
    assert!(
        !sandbox.state().join("demo").exists(),
        "its state is removed"
    );
    let config = std::fs::read_to_string(sandbox.kubeconfig()).expect("kubeconfig");
    assert!(!config.contains("rekube-demo"), "{config}");
    assert!(
        config.contains("prod.example"),
        "other entries kept: {config}"
    );
    let gone = sandbox.rekube.run(&["local", "down", "demo"]);
    assert_eq!(gone.status.code(), Some(2));
    assert!(stderr(&gone).contains("no local cluster named demo"));
}

#[test]
fn a_taken_port_is_refused_by_number() {
    let sandbox = Sandbox::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("address").port().to_string();
    let out = sandbox
        .rekube
        .run(&["local", "up", "busy", "--port", &port]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{err}"
    );
    assert!(
        !sandbox.state().join("busy").exists(),
        "nothing left behind"
    );
}

#[test]
fn a_missing_go_toolchain_is_named() {
    let sandbox = Sandbox::new();
    // A PATH with what the build script needs but Go, and no prebuilt binaries.
    let bin = sandbox.dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    for tool in [
        "bash",
        "dirname",
        "awk",
        "uname",
        "sha256sum",
        "cut",
        "cat",
        "sort",
        "tail",
        "head",
        "mkdir",
        "flock",
        "rm",
    ] {
        if let Some(path) = which(tool) {
            std::os::unix::fs::symlink(path, bin.join(tool)).expect("symlink");
        }
    }
    let out = run_logged(
        sandbox
            .rekube
            .command(&["local", "up", "nogo"])
            .env_remove("KUBEBUILDER_ASSETS")
            .env("PATH", &bin),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("Go is not installed"), "{err}");
    assert!(!sandbox.state().join("nogo").exists());
}

#[test]
fn names_are_checked() {
    let sandbox = Sandbox::new();
    let bad = sandbox.rekube.run(&["local", "up", "Not_A_Name"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("invalid local cluster name \"Not_A_Name\""));
    let unknown = sandbox.rekube.run(&["local", "down", "nothing"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no local cluster named nothing"));
    let list = sandbox.rekube.run(&["local", "list"]);
    assert!(stdout(&list).contains("no local clusters"));
}
