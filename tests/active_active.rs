//! Active/active on two real local control planes: two primary clusters of one repository, applied with
//! `apply --all-clusters`, compared by `drift --all-clusters` (text, JSON, JUnit): alike after the apply;
//! a ConfigMap patched by hand in one cluster is named with its cluster; an annotation Git does not set,
//! added by hand in one cluster, is a difference between the clusters though each is in sync with Git;
//! what Git sets per cluster (`paths:`) is not.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{Rekube, app, cluster, code, kubectl, stderr, stdout, text, unique_name, write};

/// `app` (Namespace, ConfigMap, Secret, Deployment, Service) for two primary clusters `eu` and `us`.
fn repository(dir: &Path, ns: &str, eu: &Path, us: &Path) {
    app(dir, ns, "registry.example/web:1.0");
    write(
        dir,
        "rekube.yaml",
        &format!(
            "inventory: {ns}\nclusters:\n  - {{name: eu, kubeconfig: {}}}\n  - {{name: us, kubeconfig: {}}}\n",
            eu.display(),
            us.display()
        ),
    );
}

/// `examples/ci/drift.sh REPO` with `REKUBE_CLUSTERS=all`, writing its JUnit report to `report`.
fn ci_script(repo: &str, inventory: &str, report: &Path) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_rekube"))
        .parent()
        .expect("a folder");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::process::Command::new("sh")
        .arg(support::root().join("examples/ci/drift.sh"))
        .arg(repo)
        .env("PATH", path)
        .env_remove("KUBECONFIG")
        .env("REKUBE_CLUSTERS", "all")
        .env("REKUBE_INVENTORY", inventory)
        .env("REKUBE_REPORT", report)
        .env("REKUBE_CACHE_DIR", report.with_extension("cache"))
        .output()
        .expect("sh runs")
}

#[tokio::test]
async fn two_active_clusters_differ_where_one_was_changed_by_hand() {
    let eu = cluster().await;
    let us = support::second().await;
    let ns = unique_name("active");
    let dir = tempfile::tempdir().expect("temp dir");
    repository(dir.path(), &ns, eu.kubeconfig(), us.kubeconfig());
    let repo = dir.path().display().to_string();
    let rekube = Rekube::new();

    let out = rekube.run(&["apply", "--all-clusters", &repo]);
    assert_eq!(code(&out), 0, "apply --all-clusters: {}", text(&out));

    // Alike (`--cluster` twice is as `--all-clusters`): the Services' cluster IPs, the uids and the Deployments' revisions differ, nothing else.
    let out = rekube.run(&["drift", "--cluster", "eu", "--cluster", "us", &repo]);
    assert_eq!(code(&out), 0, "drift after apply: {}", text(&out));
    let shown = stdout(&out);
    assert!(shown.contains("# cluster eu (primary)"), "{shown}");
    assert!(shown.contains("# cluster us (primary)"), "{shown}");
    assert!(
        shown.contains(
            "# clusters of role primary compared: eu, us\nalike: 5 object(s) compared, none differs"
        ),
        "{shown}"
    );

    // A value Git sets, changed by hand in us.
    kubectl(
        us.kubeconfig(),
        &[
            "patch",
            "configmap",
            "web-config",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"data":{"value":"slow"}}"#,
        ],
    );
    let object = format!("ConfigMap/{ns}/web-config");
    let out = rekube.run(&["drift", "--all-clusters", &repo]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let shown = stdout(&out);
    let row = shown
        .lines()
        .find(|l| l.starts_with(&object))
        .unwrap_or_else(|| panic!("no row for {object}:\n{shown}"));
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cells, [object.as_str(), "in sync", "modified"], "{shown}");
    assert!(
        shown.contains("    data.value: live content differs; set in us by kubectl-patch (Update)"),
        "{shown}"
    );
    assert!(
        shown.contains("CLUSTERS DIFFER: 1 of 5 object(s) differ between clusters of role primary"),
        "{shown}"
    );
    assert!(
        stderr(&out).contains("clusters compared: 1 of 5 differ (primary)"),
        "{}",
        stderr(&out)
    );

    let out = rekube.run(&["drift", "--all-clusters", "-o", "json", &repo]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let exit: Vec<(&str, i64)> = doc["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .map(|c| {
            (
                c["cluster"].as_str().unwrap_or(""),
                c["exitCode"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(exit, [("eu", 0), ("us", 1)]);
    let group = &doc["comparison"][0];
    assert_eq!(group["role"], "primary");
    assert_eq!(group["clusters"], json!(["eu", "us"]));
    assert_eq!(group["compared"], 5);
    let differing = group["differing"].as_array().expect("differing");
    assert_eq!(differing.len(), 1, "{group}");
    assert_eq!(differing[0]["id"]["kind"], "ConfigMap");
    assert_eq!(differing[0]["id"]["name"], "web-config");
    assert_eq!(
        differing[0]["states"],
        json!({"eu": "in-sync", "us": "modified"})
    );
    assert_eq!(differing[0]["fields"][0]["path"], "data.value");
    assert_eq!(
        differing[0]["fields"][0]["changedBy"]["us"]["manager"],
        "kubectl-patch"
    );

    let out = rekube.run(&["drift", "--all-clusters", "-o", "junit", &repo]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let xml = stdout(&out);
    assert_eq!(xml.matches("<testsuites").count(), 1, "{xml}");
    assert!(
        xml.contains("<testsuite name=\"clusters of role primary\" tests=\"5\" failures=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "message=\"{object} differs between clusters: eu in sync, us modified; data.value\""
        )),
        "{xml}"
    );
    assert!(
        !xml.contains("hunter2"),
        "a Secret value in the JUnit report"
    );

    // The example CI script, for every cluster of rekube.yaml, no KUBECONFIG.
    let reports = tempfile::tempdir().expect("temp dir");
    let report = reports.path().join("report.xml");
    let out = ci_script(&repo, &ns, &report);
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(stderr(&out).contains("DRIFT found"), "{}", stderr(&out));
    let xml = std::fs::read_to_string(&report).expect("the report is written");
    assert!(
        xml.contains("<testsuite name=\"clusters of role primary\" tests=\"5\" failures=\"1\""),
        "{xml}"
    );

    // Healed in us; then an annotation Git does not set, added by hand in eu: each cluster is in sync
    // with Git, but they differ from each other.
    let out = rekube.run(&["apply", "--cluster", "us", &repo]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    kubectl(
        eu.kubeconfig(),
        &[
            "annotate",
            "deployment",
            "web",
            "-n",
            &ns,
            "team=night-shift",
        ],
    );
    let out = rekube.run(&["drift", "--all-clusters", &repo]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("in sync: 5 of 5 object(s) match Git"),
        "{shown}"
    );
    let row = shown
        .lines()
        .find(|l| l.starts_with(&format!("Deployment/{ns}/web")))
        .unwrap_or_else(|| panic!("no row for the Deployment:\n{shown}"));
    assert!(
        row.contains("in sync") && !row.contains("modified"),
        "{row}"
    );
    assert!(
        shown.contains("    metadata.annotations.team: live content differs; set in eu by kubectl-annotate (Update)"),
        "{shown}"
    );
    assert!(
        !shown.contains("hunter2"),
        "a Secret value in the text report"
    );
}

/// What Git sets differently per cluster (a layer's folder for one cluster, `paths:`) is not a difference
/// between the clusters; a change by hand next to it still is.
#[tokio::test]
async fn what_git_sets_per_cluster_is_not_a_difference() {
    let eu = cluster().await;
    let us = support::second().await;
    let ns = unique_name("overlay");
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "cluster/namespace.yaml",
        &support::namespace(&ns),
    );
    write(
        dir.path(),
        "apps/config.yaml",
        &support::config_map(&ns, "tuning", "fast"),
    );
    write(
        dir.path(),
        "sites/us/config.yaml",
        &support::config_map(&ns, "tuning", "slow"),
    );
    write(
        dir.path(),
        "rekube.yaml",
        &format!(
            "inventory: {ns}\nclusters:\n  - {{name: eu, kubeconfig: {}}}\n  - {{name: us, kubeconfig: {}, paths: {{apps: sites/us}}}}\n",
            eu.kubeconfig().display(),
            us.kubeconfig().display()
        ),
    );
    let repo = dir.path().display().to_string();
    let rekube = Rekube::new();
    let out = rekube.run(&["apply", "--all-clusters", &repo]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let value = |kubeconfig: &Path| {
        let out = kubectl(
            kubeconfig,
            &[
                "get",
                "configmap",
                "tuning",
                "-n",
                &ns,
                "-o",
                "jsonpath={.data.value}",
            ],
        );
        stdout(&out)
    };
    assert_eq!(
        (value(eu.kubeconfig()), value(us.kubeconfig())),
        ("fast".into(), "slow".into())
    );

    let out = rekube.run(&["drift", "--all-clusters", &repo]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        stdout(&out).contains("alike: 2 object(s) compared, none differs"),
        "{}",
        stdout(&out)
    );

    kubectl(
        us.kubeconfig(),
        &["label", "configmap", "tuning", "-n", &ns, "tier=gold"],
    );
    let out = rekube.run(&["drift", "--all-clusters", "-o", "json", &repo]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let row = &doc["comparison"][0]["differing"][0];
    assert_eq!(row["id"]["name"], "tuning");
    let fields: Vec<&str> = row["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(fields, ["metadata.labels.tier"], "{row}");
    assert_eq!(
        row["fields"][0]["changedBy"]["us"]["manager"],
        "kubectl-label"
    );
}
