//! What the trust tests add to `tests/support`: the `rekube` binary run with a deadline, so a hang fails
//! the test instead of CI.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs `rekube ARGS` (with `--kubeconfig KC` when given) and a private cache folder; killed after
/// `limit`, so a hang fails the test instead of CI.
pub fn rekube(kubeconfig: Option<&Path>, cache: &Path, args: &[&str], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rekube"));
    cmd.args(args);
    if let Some(kc) = kubeconfig {
        cmd.arg("--kubeconfig").arg(kc);
    }
    let child = cmd
        .env("REKUBE_CACHE_DIR", cache)
        .env_remove("KUBECONFIG")
        .env_remove("REKUBE_INVENTORY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the rekube binary runs");
    let out = wait_bounded(child, limit);
    eprintln!(
        "$ rekube {}\n--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Waits for `child` at most `limit`, then kills it and fails the test.
pub fn wait_bounded(child: std::process::Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("waiting for rekube"),
        Err(_) => {
            // SAFETY: a plain syscall on our own child, not reaped yet (the waiting thread still waits).
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
            panic!("rekube did not finish within {limit:?}: it hangs");
        }
    }
}
