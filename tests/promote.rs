//! `rekube promote` on two real local control planes: a warm standby gets Git's replicas (an autoscaled
//! workload too) with its recovery time reported, and stays promoted through later applies until
//! `--undo`; a pilot light gets the layers it lacked; a primary or an unknown cluster is refused.

mod support;

use std::path::Path;

use support::{Rekube, cluster, code, exists, jsonpath, second, stderr, stdout, text, unique_name};

/// support::app (Namespace in `cluster`; a two-replica Deployment `web` with its ConfigMap, Secret and
/// Service in `apps`), an autoscaled one-replica Deployment `api`, and `clusters:` naming the two
/// control planes, `us` a standby of model `standby`.
fn repo(ns: &str, eu: &Path, us: &Path, standby: &str) -> tempfile::TempDir {
    let dir = support::two_cluster_repo(ns, eu, us, &format!("role: standby, {standby}"));
    let api = support::deployment(ns, "api", "nginx:1.27");
    let hpa = format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n  namespace: {ns}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}\n  minReplicas: 1\n  maxReplicas: 3\n"
    );
    support::write(dir.path(), "apps/api.yaml", &format!("{api}---\n{hpa}"));
    dir
}

fn replicas(kc: &Path, ns: &str, name: &str) -> Option<String> {
    jsonpath(kc, &["-n", ns, "deployment", name], "{.spec.replicas}")
}

fn promoted_record(kc: &Path, inventory: &str) -> Option<String> {
    jsonpath(
        kc,
        &[
            "-n",
            "rekube-system",
            "secret",
            &format!("rekube-{inventory}"),
        ],
        "{.metadata.annotations.rekube\\.dev/promoted}",
    )
    .filter(|s| !s.is_empty())
}

#[tokio::test]
async fn a_promoted_warm_standby_gets_gits_replicas_and_keeps_them() {
    let (eu, us) = (cluster().await.kubeconfig(), second().await.kubeconfig());
    let ns = unique_name("promote-warm");
    let dir = repo(&ns, eu, us, "standby: warm");
    let repo_s = dir.path().to_str().expect("utf-8");
    let rekube = Rekube::new().inventory(&ns);

    let apply = rekube.run(&["apply", repo_s, "--all-clusters"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    assert_eq!(replicas(us, &ns, "web").as_deref(), Some("0"));
    assert_eq!(replicas(us, &ns, "api").as_deref(), Some("0"));

    let promote = rekube.run(&["promote", repo_s, "--cluster", "us", "-o", "json"]);
    assert_eq!(code(&promote), 0, "{}", text(&promote));
    let report: serde_json::Value = serde_json::from_str(&stdout(&promote)).expect("JSON");
    assert!(
        report["recoverySeconds"].as_f64().is_some_and(|s| s > 0.0),
        "{report}"
    );
    assert_eq!(report["cluster"], "us");
    assert_eq!(
        report["released"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    assert_eq!(report["created"], 0, "{report}");
    assert!(
        report["apply"]["layers"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    );
    let err = stderr(&promote);
    assert!(
        err.contains("promoted: cluster us (standby (warm)): recovery time"),
        "{err}"
    );
    assert_eq!(
        replicas(us, &ns, "web").as_deref(),
        Some("2"),
        "Git's replicas"
    );
    assert_eq!(
        replicas(us, &ns, "api").as_deref(),
        Some("1"),
        "an autoscaler does not scale a workload at zero: the promotion sets Git's replicas"
    );
    let held = jsonpath(
        us,
        &["-n", &ns, "deployment", "web"],
        "{.metadata.annotations.rekube\\.dev/standby-replicas}",
    );
    assert_eq!(held.as_deref(), Some(""), "the hold annotation is gone");
    let at = promoted_record(us, &ns).expect("the promotion is recorded on the inventory");
    assert!(
        err.contains(&format!("recorded as promoted at {at}")),
        "{err}"
    );

    // From now on the cluster is applied as a primary: no scaling back to zero.
    let apply = rekube.run(&["apply", repo_s, "--cluster", "us"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    assert!(
        stderr(&apply).contains(&format!("cluster us: promoted at {at}")),
        "{}",
        text(&apply)
    );
    assert_eq!(replicas(us, &ns, "web").as_deref(), Some("2"));
    assert_eq!(
        promoted_record(us, &ns).as_deref(),
        Some(at.as_str()),
        "an apply keeps the record"
    );
    let drift = rekube.run(&["drift", repo_s, "--cluster", "us"]);
    assert_eq!(code(&drift), 0, "{}", text(&drift));
    assert!(
        stderr(&drift).contains("cluster us: promoted at"),
        "{}",
        text(&drift)
    );

    // Promoting again changes nothing and keeps the first time.
    let again = rekube.run(&["promote", repo_s, "--cluster", "us"]);
    assert_eq!(code(&again), 0, "{}", text(&again));
    assert!(
        stderr(&again).contains(&format!("recorded as promoted at {at}")),
        "{}",
        text(&again)
    );

    // Failback: the record is taken back and the next apply holds the standby again.
    let undo = rekube.run(&["promote", repo_s, "--cluster", "us", "--undo"]);
    assert_eq!(code(&undo), 0, "{}", text(&undo));
    assert!(stderr(&undo).contains("is taken back"), "{}", text(&undo));
    assert_eq!(promoted_record(us, &ns), None);
    let apply = rekube.run(&["apply", repo_s, "--cluster", "us"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    assert_eq!(replicas(us, &ns, "web").as_deref(), Some("0"), "held again");
}

#[tokio::test]
async fn a_promoted_pilot_light_gets_the_layers_it_lacked() {
    let (eu, us) = (cluster().await.kubeconfig(), second().await.kubeconfig());
    let ns = unique_name("promote-pilot");
    let dir = repo(&ns, eu, us, "standby: pilot-light, layers: [cluster]");
    let repo_s = dir.path().to_str().expect("utf-8");
    let rekube = Rekube::new().inventory(&ns);

    let extra = support::write(
        dir.path(),
        "cluster/extra.yaml",
        &support::config_map(&ns, "extra", "x"),
    );
    let apply = rekube.run(&["apply", repo_s, "--cluster", "us"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    assert!(exists(us, &["get", "namespace", &ns]));
    assert!(exists(us, &["get", "-n", &ns, "configmap", "extra"]));
    assert!(!exists(us, &["get", "-n", &ns, "deployment", "web"]));

    // Gone from Git meanwhile: a promotion never deletes it, the next ordinary apply prunes it.
    std::fs::remove_file(&extra).expect("remove");
    let promote = rekube.run(&["promote", repo_s, "--cluster", "us"]);
    assert_eq!(code(&promote), 0, "{}", text(&promote));
    let err = stderr(&promote);
    assert!(err.contains("layer apps"), "per-layer timings: {err}");
    assert!(
        err.contains("promoted: cluster us (standby (pilot light: cluster)): recovery time"),
        "{err}"
    );
    assert!(err.contains("object(s) created"), "{err}");
    assert_eq!(replicas(us, &ns, "web").as_deref(), Some("2"));
    assert!(exists(us, &["get", "-n", &ns, "configmap", "web-config"]));
    assert!(promoted_record(us, &ns).is_some());
    assert!(
        exists(us, &["get", "-n", &ns, "configmap", "extra"]),
        "a promotion prunes nothing: {}",
        text(&promote)
    );
    assert!(!err.contains("deleted"), "{err}");

    // A later apply keeps the applications (they are not pruned as outside the pilot light) and prunes
    // what left Git.
    let apply = rekube.run(&["apply", repo_s, "--cluster", "us"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    assert!(exists(us, &["get", "-n", &ns, "deployment", "web"]));
    assert!(
        !exists(us, &["get", "-n", &ns, "configmap", "extra"]),
        "{}",
        text(&apply)
    );
    assert!(
        !exists(eu, &["get", "namespace", &ns]),
        "the primary untouched"
    );
}

#[tokio::test]
async fn a_primary_or_an_unknown_cluster_is_not_promoted() {
    let (eu, us) = (cluster().await.kubeconfig(), second().await.kubeconfig());
    let ns = unique_name("promote-bad");
    let dir = repo(&ns, eu, us, "standby: warm");
    let repo_s = dir.path().to_str().expect("utf-8");
    let rekube = Rekube::new().inventory(&ns);

    let primary = rekube.run(&["promote", repo_s, "--cluster", "eu"]);
    assert_eq!(code(&primary), 2, "{}", text(&primary));
    assert!(
        stderr(&primary)
            .contains("cluster \"eu\" (rekube.yaml:5) is a primary: only a standby is promoted"),
        "{}",
        text(&primary)
    );
    let unknown = rekube.run(&["promote", repo_s, "--cluster", "ap"]);
    assert_eq!(code(&unknown), 2, "{}", text(&unknown));
    assert!(
        stderr(&unknown).contains("unknown cluster \"ap\" (rekube.yaml declares: eu, us)"),
        "{}",
        text(&unknown)
    );
    assert!(!exists(eu, &["get", "namespace", &ns]) && !exists(us, &["get", "namespace", &ns]));
}
