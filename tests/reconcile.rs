//! `rekube reconcile` on the real local control plane, run as local processes following a `file://` Git
//! repository: commits applied within the interval, drift healed (enforce) or reported (observe), a bad
//! commit kept out, and three replicas electing one leader that a killed or stopped leader hands over.
//! The measured figures (commit-to-applied, drift-to-heal, failover, memory) are printed.

#[path = "reconcile/harness.rs"]
mod harness;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};

use harness::{Reconciler, Repo, eventually, jsonpath, kubectl, median};
use support::{cluster, unique_name};

const INTERVAL: &str = "2s";

fn namespace(ns: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
}

fn config_map(ns: &str, name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  value: \"{value}\"\n"
    )
}

fn deployment(ns: &str, name: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: main
          image: {image}
"#
    )
}

fn data(kc: &Path, ns: &str, name: &str) -> Option<String> {
    jsonpath(kc, &["configmap", name, "-n", ns], "{.data.value}")
}

fn image(kc: &Path, ns: &str, name: &str) -> Option<String> {
    jsonpath(
        kc,
        &["deployment", name, "-n", ns],
        "{.spec.template.spec.containers[0].image}",
    )
}

/// The inventory parent's recorded revision.
fn recorded(kc: &Path, inventory: &str) -> Option<String> {
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

/// `kubectl set image` on one Deployment, timed by watching it: from the event showing the new image to
/// the event showing the original again.
async fn drift_to_heal(kc: &Path, ns: &str, name: &str) -> Duration {
    let api: Api<Deployment> = Api::namespaced(cluster().await.client(), ns);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = watcher(api, config).applied_objects().boxed();
    let image_of = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    };
    let first = events.next().await.expect("watch").expect("event");
    let original = image_of(&first);
    let kc = kc.to_path_buf();
    let (ns2, name2) = (ns.to_string(), name.to_string());
    let set = tokio::task::spawn_blocking(move || {
        kubectl(
            &kc,
            &[
                "set",
                "image",
                &format!("deployment/{name2}"),
                "main=drifted:6.6",
                "-n",
                &ns2,
            ],
        );
    });
    let mut drifted_at = None;
    let healed = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(d)) = events.next().await {
            let img = image_of(&d);
            if img == "drifted:6.6" && drifted_at.is_none() {
                drifted_at = Some(Instant::now());
            } else if img == original
                && let Some(t) = drifted_at
            {
                return t.elapsed();
            }
        }
        panic!("the watch ended");
    })
    .await
    .unwrap_or_else(|_| panic!("deployment {ns}/{name} was not reverted within 20 s"));
    set.await.expect("kubectl ran");
    healed
}

#[tokio::test]
async fn enforce_applies_commits_and_heals_drift_with_backoff() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let ns = unique_name("rc-enforce");
    let inventory = unique_name("enforce");
    let repo = Repo::new();
    repo.write("cluster/ns.yaml", &namespace(&ns));
    repo.write("apps/config.yaml", &config_map(&ns, "settings", "one"));
    for i in 0..5 {
        repo.write(
            &format!("apps/web-{i}.yaml"),
            &deployment(&ns, &format!("web-{i}"), "nginx:1.27"),
        );
    }
    let first = repo.commit("first");
    let r = Reconciler::start(
        kc,
        &repo.url(),
        "enforce-0",
        &[
            "--interval",
            INTERVAL,
            "--inventory",
            &inventory,
            "--lease-name",
            &inventory,
        ],
    );
    eventually(
        Duration::from_secs(120),
        "the first commit is applied",
        || (r.applied().as_deref() == Some(first.as_str())).then_some(()),
    )
    .await;
    assert_eq!(r.get("/readyz"), (200, "ready (leader)\n".into()));
    assert_eq!(r.get("/healthz").0, 200);
    assert_eq!(recorded(kc, &inventory).as_deref(), Some(first.as_str()));

    // A commit is applied within the interval and 5 s, and only what changed is written.
    let rv = |name: &str| {
        jsonpath(
            kc,
            &["deployment", name, "-n", &ns],
            "{.metadata.resourceVersion}",
        )
    };
    let web_rv = rv("web-0");
    repo.write("apps/config.yaml", &config_map(&ns, "settings", "two"));
    let committed = Instant::now();
    let second = repo.commit("second");
    eventually(
        Duration::from_secs(7),
        "the second commit is applied within interval + 5 s",
        || (data(kc, &ns, "settings").as_deref() == Some("two")).then_some(()),
    )
    .await;
    let applied_in = committed.elapsed();
    eventually(Duration::from_secs(5), "the revision is recorded", || {
        (recorded(kc, &inventory).as_deref() == Some(second.as_str())).then_some(())
    })
    .await;
    assert_eq!(
        rv("web-0"),
        web_rv,
        "an unchanged Deployment is not written"
    );
    assert_eq!(r.metric("rekube_revision_lag_seconds"), Some(0.0));
    eprintln!(
        "MEASURE commit-to-applied {:.2}s (interval {INTERVAL})",
        applied_in.as_secs_f64()
    );

    // kubectl set image is reverted within 2 s: one sample per Deployment (first heals are immediate).
    let mut samples = Vec::new();
    for i in 0..5 {
        let latency = drift_to_heal(kc, &ns, &format!("web-{i}")).await;
        assert!(
            latency <= Duration::from_secs(2),
            "web-{i} reverted in {latency:?}"
        );
        samples.push(latency);
    }
    eprintln!(
        "MEASURE drift-to-heal median {:.0} ms, samples {:?}",
        median(samples.clone()).as_secs_f64() * 1000.0,
        samples.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    );
    let events = kubectl(
        kc,
        &["get", "events.events.k8s.io", "-n", &ns, "-o", "json"],
    );
    let events = String::from_utf8_lossy(&events.stdout);
    assert!(
        events.contains("DriftHealed") && events.contains("kubectl-set"),
        "{events}"
    );

    // A deleted managed object is drift too: re-created.
    kubectl(kc, &["delete", "configmap", "settings", "-n", &ns]);
    eventually(
        Duration::from_secs(5),
        "the deleted ConfigMap is re-created",
        || (data(kc, &ns, "settings").as_deref() == Some("two")).then_some(()),
    )
    .await;

    // Another controller fighting over a field: heals back off instead of looping.
    let heals = |r: &Reconciler| {
        r.metric("rekube_heals_total{kind=\"Deployment\"}")
            .unwrap_or(0.0)
    };
    let before = heals(&r);
    let fight_end = Instant::now() + Duration::from_secs(8);
    let mut fights = 0;
    while Instant::now() < fight_end {
        kubectl(
            kc,
            &[
                "set",
                "image",
                "deployment/web-0",
                &format!("main=fighter:{fights}"),
                "-n",
                &ns,
            ],
        );
        fights += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healed = heals(&r) - before;
    eprintln!("MEASURE fight: {fights} changes by another manager in 8 s, {healed} heals");
    assert!(
        (2.0..=6.0).contains(&healed),
        "{healed} heals for {fights} changes"
    );
}

#[tokio::test]
async fn observe_reports_drift_without_reverting_it() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let ns = unique_name("rc-observe");
    let inventory = unique_name("observe");
    let repo = Repo::new();
    repo.write("cluster/ns.yaml", &namespace(&ns));
    repo.write("apps/web.yaml", &deployment(&ns, "web", "nginx:1.27"));
    let first = repo.commit("first");
    // Applied by `rekube apply`; the reconciler only watches.
    let cache = tempfile::tempdir().expect("cache");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rekube"))
        .args([
            "apply",
            &repo.url(),
            "--ref",
            "main",
            "--inventory",
            &inventory,
        ])
        .arg("--kubeconfig")
        .arg(kc)
        .env("REKUBE_CACHE_DIR", cache.path())
        .output()
        .expect("rekube apply runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let r = Reconciler::start(
        kc,
        &repo.url(),
        "observe-0",
        &[
            "--interval",
            INTERVAL,
            "--inventory",
            &inventory,
            "--lease-name",
            &inventory,
            "--mode",
            "observe",
        ],
    );
    eventually(
        Duration::from_secs(60),
        "the observer reports the applied revision",
        || (r.applied().as_deref() == Some(first.as_str())).then_some(()),
    )
    .await;
    let drifted = "rekube_drifted_objects{class=\"modified\"}";
    assert_eq!(r.metric(drifted), Some(0.0));
    kubectl(
        kc,
        &[
            "set",
            "image",
            "deployment/web",
            "main=drifted:6.6",
            "-n",
            &ns,
        ],
    );
    eventually(
        Duration::from_secs(5),
        "the drift shows in the metrics",
        || (r.metric(drifted) == Some(1.0)).then_some(()),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        image(kc, &ns, "web").as_deref(),
        Some("drifted:6.6"),
        "observe mode never writes"
    );
    assert_eq!(r.metric(drifted), Some(1.0));
    assert_eq!(
        r.metric("rekube_drift_detected_total{class=\"modified\"}"),
        Some(1.0)
    );
    assert_eq!(r.metric("rekube_heals_total{kind=\"Deployment\"}"), None);
    let events = kubectl(
        kc,
        &["get", "events.events.k8s.io", "-n", &ns, "-o", "json"],
    );
    let events = String::from_utf8_lossy(&events.stdout);
    assert!(
        events.contains("DriftDetected") && events.contains("\"reportingController\": \"rekube\""),
        "{events}"
    );
    // Back to what Git says: no longer drifted.
    kubectl(
        kc,
        &[
            "set",
            "image",
            "deployment/web",
            "main=nginx:1.27",
            "-n",
            &ns,
        ],
    );
    eventually(Duration::from_secs(5), "the drift clears", || {
        (r.metric(drifted) == Some(0.0)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_bad_commit_changes_nothing_and_the_next_good_one_applies() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let ns = unique_name("rc-invalid");
    let inventory = unique_name("invalid");
    let repo = Repo::new();
    repo.write("cluster/ns.yaml", &namespace(&ns));
    repo.write("apps/a.yaml", &config_map(&ns, "a", "1"));
    for name in ["b", "c", "d", "e"] {
        repo.write(&format!("apps/{name}.yaml"), &config_map(&ns, name, "1"));
    }
    let good = repo.commit("good");
    let r = Reconciler::start(
        kc,
        &repo.url(),
        "invalid-0",
        &[
            "--interval",
            INTERVAL,
            "--inventory",
            &inventory,
            "--lease-name",
            &inventory,
        ],
    );
    eventually(
        Duration::from_secs(60),
        "the good commit is applied",
        || (r.applied().as_deref() == Some(good.as_str())).then_some(()),
    )
    .await;

    // Changes a value, drops an object, and breaks a file.
    repo.write("apps/a.yaml", &config_map(&ns, "a", "2"));
    repo.remove("apps/e.yaml");
    repo.write(
        "apps/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
    );
    let bad = repo.commit("bad");
    eventually(Duration::from_secs(10), "the bad commit is counted", || {
        (r.metric("rekube_invalid_revisions_total") == Some(1.0)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        r.applied().as_deref(),
        Some(good.as_str()),
        "the applied revision stays"
    );
    assert_eq!(
        r.metric("rekube_invalid_revisions_total"),
        Some(1.0),
        "reported once"
    );
    assert!(
        r.metric("rekube_revision_lag_seconds").unwrap_or(0.0) > 0.0,
        "the head waits"
    );
    assert_eq!(data(kc, &ns, "a").as_deref(), Some("1"), "nothing applied");
    assert_eq!(data(kc, &ns, "e").as_deref(), Some("1"), "nothing pruned");
    assert_eq!(recorded(kc, &inventory).as_deref(), Some(good.as_str()));
    assert!(
        r.log().contains(&format!("commit {} rejected", &bad[..12])),
        "{}",
        r.log()
    );
    let events = kubectl(
        kc,
        &[
            "get",
            "events.events.k8s.io",
            "-n",
            "rekube-system",
            "-o",
            "json",
        ],
    );
    assert!(String::from_utf8_lossy(&events.stdout).contains("InvalidRevision"));

    repo.remove("apps/broken.yaml");
    let fixed = repo.commit("fixed");
    eventually(
        Duration::from_secs(10),
        "the fixed commit is applied and prunes",
        || {
            (data(kc, &ns, "a").as_deref() == Some("2") && data(kc, &ns, "e").is_none())
                .then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(5),
        "the fixed revision is reported",
        || (r.applied().as_deref() == Some(fixed.as_str())).then_some(()),
    )
    .await;
    assert_eq!(r.metric("rekube_revision_lag_seconds"), Some(0.0));
}

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
    let first = repo.commit("first");
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
    let second = repo.commit("second");
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
