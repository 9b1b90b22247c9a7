//! What the fault tests share: their own control plane (one at a time), the `rekube` binary run in the
//! background with a deadline, and the API server's own metrics.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

use tokio::sync::{Mutex, MutexGuard};

/// An async lock: each test has its own runtime, and the guard is held across awaits.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Holds the right to run a control plane of its own (two at once would share two cores).
pub async fn exclusive() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

/// Starts a control plane for one test.
pub async fn control_plane(options: ControlPlaneOptions) -> ControlPlane {
    match ControlPlane::start(options).await {
        Ok(cp) => {
            eprintln!(
                "own control plane {} ready in {:.1?}",
                cp.server_url(),
                cp.ready_in()
            );
            cp
        }
        Err(e) => panic!("the local control plane did not start: {e}"),
    }
}

/// `rekube ARGS --kubeconfig KC` in the background, with a private cache folder.
pub fn spawn(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Child {
    eprintln!("$ rekube {}", args.join(" "));
    Command::new(env!("CARGO_BIN_EXE_rekube"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("REKUBE_CACHE_DIR", cache)
        .env_remove("KUBECONFIG")
        .env_remove("REKUBE_INVENTORY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the rekube binary runs")
}

/// Waits for `child` at most `limit` (then kills it and fails: it hangs), prints its output.
pub fn finish(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(limit) {
        Ok(out) => out.expect("waiting for rekube"),
        Err(_) => {
            // SAFETY: a plain syscall on our own child, not reaped yet (the waiting thread waits).
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
            panic!("rekube did not finish within {limit:?}: it hangs");
        }
    };
    eprintln!(
        "--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `rekube` to the end (at most `limit`).
pub fn run(kubeconfig: &Path, cache: &Path, args: &[&str], limit: Duration) -> Output {
    finish(spawn(kubeconfig, cache, args), limit)
}

/// Whether `child` has exited (without reaping its output).
pub fn exited(child: &mut Child) -> bool {
    matches!(child.try_wait(), Ok(Some(_)))
}

/// The summary line of an apply or rebuild: `300 created; 12 retries (…)`, `109 created, 100 failed,
/// 91 blocked` (not a progress line, nor a log line that starts with a timestamp).
pub fn summary(err: &str) -> &str {
    const ACTIONS: &[&str] = &[
        "created",
        "configured",
        "unchanged",
        "skipped",
        "deleted",
        "failed",
        "blocked",
    ];
    err.lines()
        .find(|l| {
            let mut words = l.split_whitespace();
            words
                .next()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                && words
                    .next()
                    .is_some_and(|w| ACTIONS.contains(&w.trim_end_matches([',', ';'])))
        })
        .unwrap_or("no summary")
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn write(dir: &Path, path: &str, content: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

/// kubectl against `kubeconfig`; `None` when it fails (e.g. NotFound).
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl is installed (it is the peer in these tests)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
