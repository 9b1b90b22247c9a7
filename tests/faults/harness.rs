//! What the fault tests add to `tests/support`: their own control plane (one at a time), and the
//! `rekube` binary run in the background with a deadline.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

use tokio::sync::{Mutex, MutexGuard};

pub use crate::support::{Rekube, code, stderr, write};

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

/// `rekube ARGS` in the background, as `rekube` runs it (its kubeconfig and private cache folder).
pub fn spawn(rekube: &Rekube, args: &[&str]) -> Child {
    eprintln!("$ rekube {}", args.join(" "));
    rekube
        .command(args)
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

/// Runs `rekube ARGS` to the end (at most `limit`).
pub fn run(rekube: &Rekube, args: &[&str], limit: Duration) -> Output {
    finish(spawn(rekube, args), limit)
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
