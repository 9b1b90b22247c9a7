//! Clusters of rekube.yaml on two real local control planes: a primary and a warm standby applied with
//! `--all-clusters`, the standby running nothing and drifting in nothing but its held replicas; a pilot
//! light holding only its layers; bad cluster configuration refused before anything is applied.

mod support;

use std::path::Path;

use support::{
    Rekube, cluster, code, jsonpath, kubectl, second, stderr, stdout, text, unique_name,
};

/// support::two_cluster_repo: `eu` a primary, `us` a standby of model `standby`.
fn repo(ns: &str, eu: &Path, us: &Path, standby: &str) -> tempfile::TempDir {
    support::two_cluster_repo(ns, eu, us, &format!("role: standby, {standby}"))
}

#[tokio::test]
async fn a_warm_standby_runs_nothing_and_drifts_only_when_its_held_replicas_change() {
    let (eu, us) = (cluster().await.kubeconfig(), second().await.kubeconfig());
    let ns = unique_name("warm");
    let dir = repo(&ns, eu, us, "standby: warm");
    let repo_s = dir.path().to_str().expect("utf-8");
    let rekube = Rekube::new().inventory(&ns);

    let plan = rekube.run(&["plan", repo_s, "--all-clusters"]);
    assert_eq!(code(&plan), 0, "{}", text(&plan));
    let out = stdout(&plan);
    assert!(out.contains("# cluster eu (primary)"), "{out}");
    assert!(out.contains("# cluster us (standby (warm))"), "{out}");

    let apply = rekube.run(&["apply", repo_s, "--all-clusters"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    let err = stderr(&apply);
    assert!(
        err.contains("cluster eu: primary") && err.contains("cluster us: standby (warm)"),
        "{err}"
    );
    let replicas = |kc: &Path| jsonpath(kc, &["-n", &ns, "deployment", "web"], "{.spec.replicas}");
    assert_eq!(replicas(eu).as_deref(), Some("2"));
    assert_eq!(
        replicas(us).as_deref(),
        Some("0"),
        "the standby runs nothing"
    );
    let held = jsonpath(
        us,
        &["-n", &ns, "deployment", "web"],
        "{.metadata.annotations.rekube\\.dev/standby-replicas}",
    );
    assert_eq!(held.as_deref(), Some("2"), "Git's replicas recorded");
    let pods = kubectl(us, &["-n", &ns, "get", "pods", "-o", "name"]);
    assert_eq!(stdout(&pods).trim(), "", "no pod on the standby");
    assert!(
        jsonpath(us, &["-n", &ns, "configmap", "web-config"], "{.data.value}").is_some(),
        "everything else is there"
    );

    let drift = rekube.run(&["drift", repo_s, "--all-clusters"]);
    assert_eq!(code(&drift), 0, "{}", text(&drift));
    let json = rekube.run(&["drift", repo_s, "--all-clusters", "-o", "json"]);
    assert_eq!(code(&json), 0, "{}", text(&json));
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON");
    let names: Vec<&str> = v["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .filter_map(|c| c["cluster"].as_str())
        .collect();
    assert_eq!(names, ["eu", "us"]);

    // The standby accepts its held replicas and nothing else: scaled up by hand, it drifts.
    let scaled = kubectl(us, &["-n", &ns, "scale", "deployment/web", "--replicas=1"]);
    assert_eq!(code(&scaled), 0, "{}", text(&scaled));
    let drift = rekube.run(&["drift", repo_s, "--cluster", "us", "--cluster", "eu"]);
    assert_eq!(code(&drift), 1, "{}", text(&drift));
    let out = stdout(&drift);
    let us_part = out.split("# cluster us").nth(1).unwrap_or_default();
    assert!(us_part.contains(&format!("Deployment/{ns}/web")), "{out}");
    let eu_part = out.split("# cluster us").next().unwrap_or_default();
    assert!(!eu_part.contains(&format!("Deployment/{ns}/web")), "{out}");
    // Applying the standby holds it again.
    let apply = rekube.run(&["apply", repo_s, "--cluster", "us"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    assert_eq!(replicas(us).as_deref(), Some("0"));
}

#[tokio::test]
async fn a_pilot_light_holds_only_its_layers() {
    let (eu, us) = (cluster().await.kubeconfig(), second().await.kubeconfig());
    let ns = unique_name("pilot");
    let dir = repo(&ns, eu, us, "standby: pilot-light, layers: [cluster]");
    let repo_s = dir.path().to_str().expect("utf-8");
    let rekube = Rekube::new().inventory(&ns);

    let apply = rekube.run(&["apply", repo_s, "--cluster", "us"]);
    assert_eq!(code(&apply), 0, "{}", text(&apply));
    assert!(
        support::exists(us, &["get", "namespace", &ns]),
        "its layer is there"
    );
    assert!(
        !support::exists(us, &["get", "-n", &ns, "deployment", "web"]),
        "the applications wait for a promotion"
    );
    assert!(
        !support::exists(eu, &["get", "namespace", &ns]),
        "only the cluster asked for"
    );
    let drift = rekube.run(&["drift", repo_s, "--cluster", "us"]);
    assert_eq!(code(&drift), 0, "{}", text(&drift));
}

#[tokio::test]
async fn bad_cluster_configuration_is_refused_before_anything_is_applied() {
    let (eu, us) = (cluster().await.kubeconfig(), second().await.kubeconfig());
    let ns = unique_name("badclusters");
    let dir = repo(&ns, eu, us, "standby: warm");
    let repo_s = dir.path().to_str().expect("utf-8");
    let rekube = Rekube::new().inventory(&ns);

    // Each configuration, then the cluster asked for, then what stderr must say.
    let eu_s = eu.display();
    let cases = [
        (
            None,
            "ap",
            "unknown cluster \"ap\" (rekube.yaml declares: eu, us)".to_string(),
        ),
        (
            Some(format!(
                "clusters:\n  - {{name: eu, kubeconfig: {eu_s}, context: nowhere}}\n"
            )),
            "eu",
            "cluster \"eu\" (rekube.yaml:2): context \"nowhere\" is not in the kubeconfig".into(),
        ),
        (
            Some(format!(
                "clusters:\n  - {{name: eu, kubeconfig: {eu_s}, standby: pilot-light, layers: [tools]}}\n"
            )),
            "eu",
            "pilot-light layer \"tools\" does not exist (layers: cluster, apps)".into(),
        ),
    ];
    for (config, name, want) in cases {
        if let Some(config) = config {
            support::write(dir.path(), "rekube.yaml", &config);
        }
        let out = rekube.run(&["apply", repo_s, "--cluster", name]);
        assert_eq!(code(&out), 2, "{}", text(&out));
        assert!(stderr(&out).contains(&want), "{want}: {}", text(&out));
    }
    assert!(
        !support::exists(eu, &["get", "namespace", &ns])
            && !support::exists(us, &["get", "namespace", &ns]),
        "nothing applied"
    );
}
