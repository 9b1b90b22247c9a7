//! kube-apiserver SIGKILLed halfway through a 500-object rebuild and started again on the same port
//! 5 s later: the rebuild completes by retrying (or fails naming what is left, and `--resume`
//! completes it); no object is created twice, counted from the API server's own metrics and from
//! etcd; drift afterwards is zero.

use std::time::{Duration, Instant};

use rekube::controlplane::{ControlPlaneOptions, Fault};
use rekube::synth::{SynthOptions, generate, write as write_repo};

use crate::counts::*;
use crate::harness::*;

const OBJECTS: usize = 500;

#[tokio::test]
async fn apiserver_killed_mid_rebuild() {
    let _one = exclusive().await;
    let mut cp = control_plane(ControlPlaneOptions::default()).await;
    let kc = cp.kubeconfig().to_path_buf();
    let rk = Rekube::on(&kc);
    let dir = tempfile::tempdir().expect("repo");
    let repo = generate(&SynthOptions { objects: OBJECTS });
    write_repo(&repo, dir.path()).expect("repository written");
    let path = dir.path().to_str().expect("utf-8 path");
    let rebuild = ["rebuild", path, "--timeout", "120s"];

    let started = Instant::now();
    let mut child = spawn(&rk, &rebuild);
    // Count what etcd stores (fast, unlike the API server's metrics) until half the objects are
    // there, then kill the API server.
    let etcd = cp.etcd_url();
    loop {
        assert!(!exited(&mut child), "the rebuild finished before the fault");
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "half of the rebuild takes too long"
        );
        if written_keys(&repo.objects, &etcd_keys(&etcd)) >= OBJECTS / 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cp.inject("kube-apiserver", Fault::Kill).expect("kill");
    let killed_at = started.elapsed();
    // With the API server dead nothing changes in etcd: exactly what the first incarnation stored.
    let stored_at_kill = written_keys(&repo.objects, &etcd_keys(&cp.etcd_url()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let back_in = cp.restart("kube-apiserver").await.expect("restarted");
    eprintln!(
        "kube-apiserver killed at {killed_at:.1?} ({stored_at_kill} objects stored), back after 5 s + {back_in:.1?}"
    );

    let out = finish(child, Duration::from_secs(420));
    let mut total = started.elapsed();
    let first = stderr(&out);
    let mut resumed = false;
    if code(&out) != 0 {
        assert!(
            first.contains("failed ") || first.contains("blocked "),
            "a failed rebuild names what is left: {first}"
        );
        let out = run(
            &rk,
            &["rebuild", path, "--timeout", "120s", "--resume"],
            Duration::from_secs(420),
        );
        assert_eq!(code(&out), 0, "--resume completes it: {}", stderr(&out));
        total = started.elapsed();
        resumed = true;
    }

    // The second incarnation's counters start at zero: what it saw is exact.
    let client = cp.client().expect("client");
    let after = scrape(&client, Duration::from_secs(30))
        .await
        .expect("metrics");
    let stored = written_keys(&repo.objects, &etcd_keys(&cp.etcd_url()));
    assert_eq!(
        stored,
        OBJECTS + 2,
        "every object, the inventory Namespace and parent"
    );
    assert_eq!(
        stored_at_kill as u64 + after.creates,
        stored as u64,
        "no object created twice: {stored_at_kill} stored before the kill + {} created after = {stored}",
        after.creates
    );
    let retries = summary(&first);
    eprintln!(
        "FIGURES kill: total {total:.1?}, resumed {resumed}, summary `{retries}`, {stored_at_kill} stored at the kill, after the restart {} applies ({} creates)",
        after.applies, after.creates
    );
    let drift = run(&rk, &["drift", path], Duration::from_secs(180));
    assert_eq!(code(&drift), 0, "zero drift afterwards");
}
