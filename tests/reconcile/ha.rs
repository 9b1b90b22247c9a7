//! Three replicas: one leader, a killed leader replaced within the lease duration, a stopped one handing
//! over at once.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::fixtures::{INTERVAL, data};
use crate::harness::Reconciler;
use crate::support::{Repo, cluster, config_map, eventually, namespace, unique_name};

#[tokio::test]
async fn three_replicas_one_leader_failover_and_hand_over() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let client = cluster().await.client();
    let ns = unique_name("rc-ha");
    let inventory = unique_name("ha");
    let repo = Repo::new();
    repo.write("cluster/ns.yaml", &namespace(&ns));
    repo.write("apps/config.yaml", &config_map(&ns, "settings", "one"));
    let first = repo.commit("first").to_string();
    let lease_secs = 4;
    let lease_duration = format!("{lease_secs}s");
    let args = [
        "--interval",
        INTERVAL,
        "--inventory",
        &inventory,
        "--lease-name",
        &inventory,
        "--lease-duration",
        &lease_duration,
    ];
    let mut replicas: Vec<Reconciler> = (0..3)
        .map(|i| Reconciler::start(kc, &repo.url(), &format!("ha-{i}"), &args))
        .collect();
    let leases: Api<Lease> = Api::namespaced(client, "rekube-system");
    let holder = || async {
        leases
            .get(&inventory)
            .await
            .ok()
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
    };

    let leader = eventually(
        Duration::from_secs(60),
        "one leader applies the first commit",
        || {
            let leaders: Vec<usize> = (0..3).filter(|&i| replicas[i].is_leader()).collect();
            (leaders.len() == 1
                && replicas[leaders[0]].applied().as_deref() == Some(first.as_str())
                && replicas[leaders[0]].get("/readyz").0 == 200)
                .then(|| leaders[0])
        },
    )
    .await;
    assert_eq!(
        holder().await.as_deref(),
        Some(replicas[leader].identity.as_str())
    );
    for (i, r) in replicas.iter().enumerate() {
        assert_eq!(r.is_leader(), i == leader, "{}", r.identity);
        assert_eq!(r.get("/readyz").0, 200, "followers are ready too");
    }
    assert_eq!(data(kc, &ns, "settings").as_deref(), Some("one"));

    // SIGKILL: no release; a follower takes over once the Lease expires.
    replicas[leader].kill();
    let killed = Instant::now();
    let next = eventually(
        Duration::from_secs(lease_secs + 6),
        "a follower takes over",
        || (0..3).find(|&i| i != leader && replicas[i].is_leader()),
    )
    .await;
    let failover = killed.elapsed();
    assert!(
        failover <= Duration::from_secs(lease_secs + 3),
        "failover took {failover:?}"
    );
    assert_eq!(
        holder().await.as_deref(),
        Some(replicas[next].identity.as_str())
    );
    eprintln!(
        "MEASURE failover after SIGKILL {:.2}s (lease duration {lease_secs}s)",
        failover.as_secs_f64()
    );

    // The new leader carries on.
    repo.write("apps/config.yaml", &config_map(&ns, "settings", "two"));
    let second = repo.commit("second").to_string();
    eventually(
        Duration::from_secs(15),
        "the new leader applies the next commit",
        || {
            (data(kc, &ns, "settings").as_deref() == Some("two")
                && replicas[next].applied().as_deref() == Some(second.as_str()))
            .then_some(())
        },
    )
    .await;
    assert!(
        replicas[next]
            .log()
            .contains(&format!("applied commit {}", &second[..12]))
    );

    // SIGTERM: the leader finishes, releases the Lease and exits 0; the last replica takes over at once.
    let status = replicas[next].terminate();
    let stopped = Instant::now();
    assert!(status.success(), "exit status {status}");
    let last = (0..3)
        .find(|&i| i != leader && i != next)
        .expect("a third replica");
    eventually(
        Duration::from_secs(lease_secs),
        "the last replica takes over",
        || replicas[last].is_leader().then_some(()),
    )
    .await;
    let hand_over = stopped.elapsed();
    eprintln!(
        "MEASURE hand-over after SIGTERM {:.2}s",
        hand_over.as_secs_f64()
    );
    assert!(
        hand_over < Duration::from_secs(3),
        "hand-over took {hand_over:?}"
    );
    assert!(replicas[last].alive());
}
