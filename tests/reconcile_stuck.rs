//! A leader that cannot make progress does not keep its Lease: a Git remote on loopback that accepts
//! connections and never answers stalls every fetch; the fetch has a deadline, `/healthz` fails once no
//! pass has made progress within the bound derived from `--interval`, and the leader gives up the Lease
//! to another replica, on the real local control plane.

#[path = "reconcile/harness.rs"]
mod harness;
mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use harness::Reconciler;
use support::{cluster, eventually, unique_name};

/// Accepts every connection and never answers; the connections are kept open.
fn silent_remote() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let handle = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().flatten() {
            open.push(stream);
        }
    });
    (format!("http://127.0.0.1:{port}/repo.git"), handle)
}

#[tokio::test]
async fn a_leader_stuck_on_git_fails_liveness_and_hands_over_the_lease() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let (url, _remote) = silent_remote();
    let inventory = unique_name("stuck");
    let args = [
        "--interval",
        "1s",
        "--git-timeout",
        "2s",
        "--lease-duration",
        "4s",
        "--inventory",
        &inventory,
        "--lease-name",
        &inventory,
    ];
    let replicas: Vec<Reconciler> = (0..2)
        .map(|i| Reconciler::start(kc, &url, &format!("stuck-{i}"), &args))
        .collect();
    let first = eventually(Duration::from_secs(30), "a leader is elected", || {
        (0..2).find(|&i| replicas[i].is_leader())
    })
    .await;
    let elected = Instant::now();
    assert_eq!(replicas[first].get("/healthz").0, 200, "healthy at first");

    // The fetch never completes: liveness fails within the bound (3 × interval + git timeout = 5 s)…
    let unhealthy = eventually(
        Duration::from_secs(20),
        "the stuck leader fails /healthz",
        || {
            let (code, body) = replicas[first].get("/healthz");
            (code == 503).then_some(body)
        },
    )
    .await;
    let failed_after = elected.elapsed();
    assert!(unhealthy.contains("no reconcile progress"), "{unhealthy}");
    // …and the other replica takes the Lease.
    eventually(
        Duration::from_secs(15),
        "the other replica takes the Lease",
        || replicas[1 - first].is_leader().then_some(()),
    )
    .await;
    let handed_over = elected.elapsed();
    assert!(!replicas[first].is_leader(), "the stuck leader gave it up");
    let log = replicas[first].log();
    assert!(
        log.contains("timed out"),
        "the fetch has a deadline:\n{log}"
    );
    eprintln!(
        "MEASURE stuck leader: /healthz 503 after {:.1}s, Lease taken by the other replica after {:.1}s",
        failed_after.as_secs_f64(),
        handed_over.as_secs_f64()
    );
}
