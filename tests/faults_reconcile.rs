//! Faults under `rekube reconcile`, on the real local control plane: bad commits on the followed branch
//! (invalid YAML, a dependency cycle, a Secret with a wrongly typed value) and etcd restarted while it
//! runs. The figures are printed as `MEASURE` lines (run with `--nocapture`).

#[path = "reconcile/harness.rs"]
mod harness;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use harness::Reconciler;
use rekube::controlplane::{ControlPlane, ControlPlaneOptions};
use support::{
    Repo, assert_absent, cluster, eventually, jsonpath, kubectl, namespace, recorded, unique_name,
};

/// Values that must never appear in an output: in an invalid YAML file, and a wrongly typed Secret.
const CANARY_YAML: &str = "canary-3e8a61f0-in-broken-yaml";
const CANARY_PIN: &str = "864209753";

/// [`support::config_map`] with `extra` lines at the end of its metadata.
fn config_map_with(ns: &str, name: &str, value: &str, extra: &str) -> String {
    support::config_map(ns, name, value).replacen("\ndata:\n", &format!("\n{extra}data:\n"), 1)
}

fn value(kc: &Path, ns: &str, name: &str) -> Option<String> {
    jsonpath(kc, &["configmap", name, "-n", ns], "{.data.value}")
}

fn assert_clean(what: &str, text: &str) {
    assert_absent(what, text, &[CANARY_YAML, CANARY_PIN]);
}

/// The good tree: a Namespace and ConfigMaps a…e with value 1.
fn write_good(repo: &Repo, ns: &str) {
    repo.write("cluster/namespace.yaml", &namespace(ns));
    for name in ["a", "b", "c", "d", "e"] {
        repo.write(
            &format!("apps/{name}.yaml"),
            &config_map_with(ns, name, "1", ""),
        );
    }
}

/// Each bad commit also changes `a` and drops `e`, so that applying or pruning anything shows.
fn bad_commits(ns: &str) -> Vec<(&'static str, &'static str, String)> {
    let depends = |on: &str| {
        format!(
            "  annotations:\n    config.kubernetes.io/depends-on: /namespaces/{ns}/ConfigMap/{on}\n"
        )
    };
    vec![
        (
            "yaml",
            "apps/broken.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: broken\n  namespace: {ns}\nstringData:\n  token: \"{CANARY_YAML}\n  other: [\n"
            ),
        ),
        (
            "ordering",
            "apps/cycle.yaml",
            format!(
                "{}---\n{}",
                config_map_with(ns, "cycle-x", "1", &depends("cycle-y")),
                config_map_with(ns, "cycle-y", "1", &depends("cycle-x"))
            ),
        ),
        (
            "validation",
            "apps/pin.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pin\n  namespace: {ns}\nstringData:\n  pin: {CANARY_PIN}\n"
            ),
        ),
    ]
}

#[tokio::test]
async fn a_bad_commit_keeps_the_last_good_state_and_says_why() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let ns = unique_name("fault-bad");
    let inventory = unique_name("fault-bad");
    let repo = Repo::new();
    write_good(&repo, &ns);
    let mut good = repo.commit("good").to_string();
    let r = Reconciler::start(
        kc,
        &repo.url(),
        "bad-0",
        &[
            "--interval",
            "1s",
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

    let versions = || {
        jsonpath(
            kc,
            &["configmaps", "-n", &ns],
            "{.items[*].metadata.resourceVersion}",
        )
    };
    for (i, (reason, file, text)) in bad_commits(&ns).into_iter().enumerate() {
        let before = versions();
        repo.write("apps/a.yaml", &config_map_with(&ns, "a", "2", ""));
        repo.remove("apps/e.yaml");
        repo.write(file, &text);
        let bad = repo.commit(&format!("bad: {reason}")).to_string();
        let committed = Instant::now();
        let series =
            format!("rekube_rejected_revision_info{{commit=\"{bad}\",reason=\"{reason}\"}}");
        eventually(
            Duration::from_secs(15),
            &format!("the {reason} commit is rejected, and the metric says why"),
            || (r.metric(&series) == Some(1.0)).then_some(()),
        )
        .await;
        let rejected_in = committed.elapsed();
        let (code, body) = r.get("/readyz");
        assert_eq!(code, 200, "the leader stays ready: {body}");
        assert!(
            body.contains(&format!("head {} rejected ({reason})", &bad[..12])),
            "/readyz says why: {body}"
        );
        // A few more passes: still nothing applied, nothing pruned, the last good revision recorded.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            value(kc, &ns, "a").as_deref(),
            Some("1"),
            "{reason}: nothing applied"
        );
        assert_eq!(
            value(kc, &ns, "e").as_deref(),
            Some("1"),
            "{reason}: nothing pruned"
        );
        assert_eq!(versions(), before, "{reason}: no object written");
        assert_eq!(recorded(kc, &inventory).as_deref(), Some(good.as_str()));
        assert_eq!(r.applied().as_deref(), Some(good.as_str()));
        assert_eq!(
            r.metric("rekube_invalid_revisions_total"),
            Some((i + 1) as f64),
            "counted once"
        );
        eprintln!(
            "MEASURE bad commit ({reason}): rejected {:.1}s after the commit (interval 1s); 0 objects written, 0 pruned",
            rejected_in.as_secs_f64()
        );

        // The fix: back to the good tree; the rejection clears.
        repo.remove(file);
        write_good(&repo, &ns);
        good = repo.commit(&format!("fix {reason}")).to_string();
        eventually(Duration::from_secs(15), "the fix is applied", || {
            (r.applied().as_deref() == Some(good.as_str())).then_some(())
        })
        .await;
        assert_eq!(r.metric(&series), None, "the rejection is cleared");
        assert_eq!(r.get("/readyz").1, "ready (leader)\n");
    }

    assert_clean("the reconciler's log", &r.log());
    assert_clean("/metrics", &r.metrics());
    let events = kubectl(kc, &["get", "events.events.k8s.io", "-A", "-o", "json"]);
    assert_clean("the Events", &String::from_utf8_lossy(&events.stdout));
}

#[tokio::test]
async fn etcd_restarted_while_reconciling_recovers_and_heals() {
    // Its own control plane: etcd goes down under it. Same binaries as the shared one.
    let assets = cluster().await.control_plane().assets().dir().to_path_buf();
    let mut cp = ControlPlane::start(ControlPlaneOptions {
        assets: Some(assets),
        ..ControlPlaneOptions::default()
    })
    .await
    .expect("a second control plane starts");
    let kc = cp.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let ns = "fault-etcd";
    let inventory = "fault-etcd";
    let repo = Repo::new();
    repo.write("cluster/namespace.yaml", &namespace(ns));
    repo.write(
        "apps/settings.yaml",
        &config_map_with(ns, "settings", "one", ""),
    );
    let first = repo.commit("first").to_string();
    let mut r = Reconciler::start(
        kc,
        &repo.url(),
        "etcd-0",
        &[
            "--interval",
            "2s",
            "--lease-duration",
            "4s",
            "--inventory",
            inventory,
            "--lease-name",
            inventory,
        ],
    );
    eventually(
        Duration::from_secs(60),
        "the first commit is applied",
        || (r.applied().as_deref() == Some(first.as_str())).then_some(()),
    )
    .await;

    // etcd crashes; a commit lands while it is down.
    let outage = Duration::from_secs(10);
    cp.kill_etcd().expect("etcd killed");
    repo.write(
        "apps/settings.yaml",
        &config_map_with(ns, "settings", "two", ""),
    );
    let second = repo.commit("second").to_string();
    tokio::time::sleep(outage).await;
    assert!(r.alive(), "the reconciler survives the outage");
    let errors_during = r.metric("rekube_api_errors_total").unwrap_or(0.0);
    cp.start_etcd().expect("etcd starts again");
    let back = Instant::now();

    // It recovers without a restart: the commit made during the outage is applied…
    eventually(
        Duration::from_secs(90),
        "the commit made during the outage is applied",
        || (value(kc, ns, "settings").as_deref() == Some("two")).then_some(()),
    )
    .await;
    let applied_after = back.elapsed();
    eventually(Duration::from_secs(30), "the revision is recorded", || {
        (r.applied().as_deref() == Some(second.as_str())).then_some(())
    })
    .await;
    // …and heals drift afterwards.
    kubectl(
        kc,
        &[
            "patch",
            "configmap",
            "settings",
            "-n",
            ns,
            "--type",
            "merge",
            "-p",
            "{\"data\": {\"value\": \"drifted\"}}",
        ],
    );
    let drifted = Instant::now();
    eventually(Duration::from_secs(30), "the drift is healed", || {
        (value(kc, ns, "settings").as_deref() == Some("two")).then_some(())
    })
    .await;
    let healed_in = drifted.elapsed();
    assert!(r.alive(), "no restart");
    assert_eq!(r.get("/healthz").0, 200, "live");
    let log = r.log();
    let leaderships = log.matches("became the leader").count();
    eprintln!(
        "MEASURE etcd SIGKILLed for {}s under reconcile: commit made during the outage applied {:.1}s after etcd was back; drift healed {:.2}s after; {} API errors counted during the outage, {} in all; leadership taken {} time(s); 0 restarts",
        outage.as_secs(),
        applied_after.as_secs_f64(),
        healed_in.as_secs_f64(),
        errors_during,
        r.metric("rekube_api_errors_total").unwrap_or(0.0),
        leaderships
    );
    drop(r);
    drop(cp);
}
