//! The real `kubectl`, the peer in these tests, against a given kubeconfig.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::{code, stderr, stdout};

/// Runs kubectl with extra environment and `stdin` piped in, whatever its exit code.
///
/// # Panics
/// When kubectl cannot run: the message says what to install.
pub fn kubectl_run(kubeconfig: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let spawned = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => panic!(
            "running kubectl: {err} (install kubectl, e.g. the kubernetes-client package, and put it on PATH)"
        ),
    };
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .expect("kubectl reads stdin");
    }
    child.wait_with_output().expect("kubectl runs")
}

/// Runs kubectl with extra environment, and fails the test with kubectl's stderr when it fails.
pub fn kubectl_with(kubeconfig: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = kubectl_run(kubeconfig, args, env, "");
    assert!(
        out.status.success(),
        "kubectl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// [`kubectl_with`] without extra environment.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    kubectl_with(kubeconfig, args, &[])
}

/// kubectl with `stdin` piped in: exit code, stdout and stderr, whatever the exit code.
pub fn kubectl_piped(kubeconfig: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = kubectl_run(kubeconfig, args, &[], stdin);
    (code(&out), stdout(&out), stderr(&out))
}

/// Whether kubectl succeeds, e.g. `get configmap NAME -n NS` for whether an object exists.
pub fn exists(kubeconfig: &Path, args: &[&str]) -> bool {
    kubectl_run(kubeconfig, args, &[], "").status.success()
}

/// `kubectl get WHAT -o jsonpath=PATH`, or `None` when the object does not exist.
pub fn jsonpath(kubeconfig: &Path, what: &[&str], path: &str) -> Option<String> {
    let output = format!("-o=jsonpath={path}");
    let args: Vec<&str> = ["get"]
        .into_iter()
        .chain(what.iter().copied())
        .chain([output.as_str()])
        .collect();
    let out = kubectl_run(kubeconfig, &args, &[], "");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The revision the inventory `inventory` recorded (its parent Secret's annotation), if any.
pub fn recorded(kc: &Path, inventory: &str) -> Option<String> {
    jsonpath(
        kc,
        &[
            "secret",
            &format!("rekube-{inventory}"),
            "-n",
            "rekube-system",
        ],
        "{.metadata.annotations.rekube\\.dev/revision}",
    )
}
