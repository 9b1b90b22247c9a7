//! `rekube reconcile` on the real local control plane, run as local processes following a `file://` Git
//! repository: commits applied within the interval, drift healed (enforce) or reported (observe), a bad
//! commit kept out, three replicas electing one leader that a killed or stopped leader hands over, and
//! the corpus managed. The measured figures are printed as `MEASURE` lines (run with `--nocapture`).

#[path = "reconcile/corpus.rs"]
mod corpus;
#[path = "reconcile/fixtures.rs"]
mod fixtures;
#[path = "reconcile/ha.rs"]
mod ha;
#[path = "reconcile/harness.rs"]
mod harness;
mod support;

use std::time::{Duration, Instant};

use fixtures::{INTERVAL, data, drift_to_heal, image};
use harness::{Reconciler, median};
use support::{
    Rekube, Repo, cluster, config_map, deployment, eventually, jsonpath, kubectl, namespace,
    recorded, rekube, root, stderr, unique_name,
};

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
    let first = repo.commit("first").to_string();
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
    let second = repo.commit("second").to_string();
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
        "MEASURE commit-to-applied {:.2}s (interval {INTERVAL}); RSS with 7 objects {:.1} MiB",
        applied_in.as_secs_f64(),
        r.rss_kib() as f64 / 1024.0
    );

    // kubectl set image is reverted within 2 s: one sample per Deployment (first heals are immediate).
    let mut samples = Vec::new();
    for i in 0..5 {
        let latency = drift_to_heal(kc, &ns, &format!("web-{i}"), "main").await;
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
    let first = repo.commit("first").to_string();
    // Applied by `rekube apply`; the reconciler only watches.
    let url = repo.url();
    let out = Rekube::on(kc).run(&["apply", &url, "--ref", "main", "--inventory", &inventory]);
    assert!(out.status.success(), "{}", stderr(&out));

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
    let good = repo.commit("good").to_string();
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
    let bad = repo.commit("bad").to_string();
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
    let fixed = repo.commit("fixed").to_string();
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
async fn the_deploy_example_plans_applies_and_spreads_its_replicas() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let dir = root().join("examples/deploy");
    let path = dir.to_str().expect("utf-8 path");
    let plan = rekube(&["plan", path]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    // Server-side validation and admission (restricted Pod Security), then three replicas on three nodes.
    let inventory = unique_name("deploy-example");
    let args = [
        "apply",
        path,
        "--inventory",
        &inventory,
        "--timeout",
        "120s",
    ];
    let out = Rekube::on(&kc).run(&args);
    assert!(out.status.success(), "rekube {args:?}: {}", stderr(&out));
    let nodes = jsonpath(
        &kc,
        &[
            "pods",
            "-n",
            "rekube-system",
            "-l",
            "app.kubernetes.io/name=rekube",
        ],
        "{.items[*].spec.nodeName}",
    )
    .unwrap_or_default();
    let mut nodes: Vec<&str> = nodes.split_whitespace().collect();
    nodes.sort_unstable();
    nodes.dedup();
    assert_eq!(nodes.len(), 3, "one replica per node: {nodes:?}");

    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
    assert_eq!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM ")),
        2,
        "multi-stage"
    );
    assert!(dockerfile.contains("USER 65532:65532"), "non-root");
}
