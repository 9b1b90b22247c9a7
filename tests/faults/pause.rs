//! kube-apiserver frozen (SIGSTOP) for 20 s in the middle of a rebuild: it accepts connections and
//! never answers. With a `--timeout` longer than the pause the rebuild completes after it; with a
//! shorter one it fails within the timeout (its objects', then the inventory record's), naming the
//! objects it could not finish, and `--resume`
//! completes it. It never hangs.

use std::time::{Duration, Instant};

use rekube::controlplane::{ControlPlaneOptions, Fault};
use rekube::synth::{SynthOptions, generate, write as write_repo};

use crate::counts::*;
use crate::harness::*;

const OBJECTS: usize = 300;
const PAUSE: Duration = Duration::from_secs(20);

/// Starts `rebuild --timeout TIMEOUT`, freezes the API server once a third of the objects are
/// created, and thaws it after [`PAUSE`]; returns the output, when the pause began and the total time.
async fn rebuild_through_a_pause(
    timeout: &str,
) -> (std::process::Output, Duration, Duration, String) {
    let mut cp = control_plane(ControlPlaneOptions::default()).await;
    let kc = cp.kubeconfig().to_path_buf();
    let rk = Rekube::on(&kc);
    let dir = tempfile::tempdir().expect("repo");
    write_repo(&generate(&SynthOptions { objects: OBJECTS }), dir.path()).expect("repository");
    let path = dir.path().to_str().expect("utf-8 path").to_string();
    let started = Instant::now();
    let mut child = spawn(&rk, &["rebuild", &path, "--timeout", timeout]);
    let client = cp.client().expect("client");
    loop {
        assert!(!exited(&mut child), "the rebuild finished before the fault");
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the rebuild is too slow"
        );
        if let Some(w) = scrape(&client, Duration::from_secs(5)).await
            && w.creates >= (OBJECTS / 3) as u64
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    cp.inject("kube-apiserver", Fault::Pause).expect("pause");
    let paused_at = started.elapsed();
    let thaw = Instant::now() + PAUSE;
    while Instant::now() < thaw && !exited(&mut child) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ended_during_pause = exited(&mut child).then(|| started.elapsed());
    tokio::time::sleep_until(thaw.into()).await;
    cp.inject("kube-apiserver", Fault::Resume).expect("resume");
    let out = finish(child, Duration::from_secs(300));
    let total = ended_during_pause.unwrap_or_else(|| started.elapsed());
    let mut resumed = String::new();
    if code(&out) != 0 {
        let again = run(
            &rk,
            &["rebuild", &path, "--timeout", "120s", "--resume"],
            Duration::from_secs(300),
        );
        assert_eq!(code(&again), 0, "--resume completes it: {}", stderr(&again));
        resumed = stderr(&again);
    }
    let drift = run(&rk, &["drift", &path], Duration::from_secs(180));
    assert_eq!(code(&drift), 0, "zero drift afterwards");
    (out, paused_at, total, resumed)
}

#[tokio::test]
async fn apiserver_paused_shorter_than_the_timeout() {
    let _one = exclusive().await;
    let (out, paused_at, total, _) = rebuild_through_a_pause("90s").await;
    let err = stderr(&out);
    eprintln!(
        "FIGURES pause 20s, --timeout 90s: paused at {paused_at:.1?}, exit {}, done in {total:.1?}, `{}`",
        code(&out),
        summary(&err)
    );
    assert_eq!(code(&out), 0, "completes after the pause: {err}");
    assert!(total >= paused_at + PAUSE, "it waited for the API server");
}

#[tokio::test]
async fn apiserver_paused_longer_than_the_timeout() {
    let _one = exclusive().await;
    let timeout = Duration::from_secs(6);
    let (out, paused_at, total, resumed) = rebuild_through_a_pause("6s").await;
    let err = stderr(&out);
    eprintln!(
        "FIGURES pause 20s, --timeout 6s: paused at {paused_at:.1?}, exit {}, failed after {:.1?} of pause, `{}`; resumed: `{}`",
        code(&out),
        total.saturating_sub(paused_at),
        summary(&err),
        summary(&resumed)
    );
    assert_eq!(code(&out), 2, "fails: {err}");
    assert!(
        err.contains("not written: the API server did not answer in time")
            || err.contains("not ready after 6s"),
        "names the objects and why: {err}"
    );
    assert!(
        total < paused_at + 2 * timeout + Duration::from_secs(4),
        "fails within the timeout of the objects and then of the inventory record, while the API \
         server is still frozen ({total:.1?})"
    );
}
