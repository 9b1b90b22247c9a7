//! `rekube audit --cluster NAME` / `--all-clusters` on the real local control plane: the repository
//! shaped for each cluster of rekube.yaml (a pilot light audits its layers only) and each cluster's
//! control plane (one API server endpoint: `apiserver-endpoints`); an unknown cluster, a context the
//! kubeconfig lacks and a layer that does not exist are exit 2 with a clear message.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{Rekube, cluster, code, deployment, stderr, stdout, temp_repo, text};

/// Layers `core` (a single-replica Deployment `dns`) and `apps` (one `web`); clusters `eu` (primary)
/// and `dr` (pilot light: `core` only), both on the control plane of `kubeconfig`, then `extra`.
fn repository(kubeconfig: &Path, extra: &str) -> tempfile::TempDir {
    let k = kubeconfig.display();
    let config = format!(
        "layers:\n  - {{name: core, path: core}}\n  - {{name: apps, path: apps, dependsOn: [core]}}\n\
         clusters:\n  - {{name: eu, kubeconfig: {k}}}\n  - {{name: dr, kubeconfig: {k}, role: standby, standby: pilot-light, layers: [core]}}\n{extra}"
    );
    temp_repo(&[
        ("rekube.yaml", config),
        (
            "core/dns.yaml",
            deployment("kube-system", "dns", "registry.example/dns:1"),
        ),
        (
            "apps/web.yaml",
            deployment("default", "web", "registry.example/web:1"),
        ),
    ])
}

/// (rule, object) of each finding of a JSON audit report.
fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("rule"), s("object"))
        })
        .collect()
}

#[tokio::test]
async fn each_cluster_is_audited_as_shaped_for_it_with_its_control_plane() {
    let cp = cluster().await;
    let dir = repository(cp.kubeconfig(), "");
    let repo = dir.path().display().to_string();

    let out = Rekube::new().run(&["audit", "--cluster", "eu", &repo]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let shown = stdout(&out);
    assert!(shown.starts_with("# cluster eu (primary)\n"), "{shown}");
    for expected in [
        "apiserver-endpoints",
        "Deployment/kube-system/dns",
        "Deployment/default/web",
    ] {
        assert!(shown.contains(expected), "{expected}:\n{shown}");
    }

    let out = Rekube::new().run(&["audit", "--all-clusters", "-o", "json", &repo]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let clusters = doc["clusters"].as_array().expect("clusters");
    let names: Vec<&str> = clusters
        .iter()
        .filter_map(|c| c["cluster"].as_str())
        .collect();
    assert_eq!(names, ["eu", "dr"]);
    let eu = findings(&clusters[0]["report"]);
    let dr = findings(&clusters[1]["report"]);
    let has = |f: &[(String, String)], rule: &str, object: &str| {
        f.iter().any(|(r, o)| r == rule && o == object)
    };
    for f in [&eu, &dr] {
        assert!(
            has(f, "apiserver-endpoints", "Endpoints/default/kubernetes"),
            "{f:?}"
        );
        assert!(
            has(f, "single-replica", "Deployment/kube-system/dns"),
            "{f:?}"
        );
    }
    assert!(
        has(&eu, "single-replica", "Deployment/default/web"),
        "{eu:?}"
    );
    // The pilot light runs its core layer only: the apps are not its posture until promoted.
    assert!(
        !dr.iter().any(|(_, o)| o == "Deployment/default/web"),
        "{dr:?}"
    );
    assert_eq!(clusters[1]["role"], "standby (pilot light: core)");

    let out = Rekube::new().run(&["audit", "--all-clusters", "-o", "junit", &repo]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let xml = stdout(&out);
    assert_eq!(xml.matches("<testsuites").count(), 1, "{xml}");
    assert!(xml.contains("<testsuite name=\"eu: "), "{xml}");
    assert!(xml.contains("<testsuite name=\"dr: "), "{xml}");
}

#[tokio::test]
async fn bad_cluster_configuration_is_exit_2_with_a_clear_message() {
    let cp = cluster().await;
    let k = cp.kubeconfig().display().to_string();
    let cases = [
        (
            "an unknown cluster",
            String::new(),
            "nowhere",
            "unknown cluster \"nowhere\" (rekube.yaml declares: eu, dr)".to_string(),
        ),
        (
            "a context the kubeconfig does not have",
            format!("  - {{name: ap, kubeconfig: {k}, context: ap-admin}}\n"),
            "ap",
            format!("context \"ap-admin\" is not in the kubeconfig {k}"),
        ),
        (
            "a pilot light naming a layer that does not exist",
            format!(
                "  - {{name: sa, kubeconfig: {k}, role: standby, standby: pilot-light, layers: [data]}}\n"
            ),
            "sa",
            "cluster \"sa\": pilot-light layer \"data\" does not exist (layers: core, apps)"
                .to_string(),
        ),
    ];
    for (name, extra, cluster, message) in cases {
        let dir = repository(cp.kubeconfig(), &extra);
        let repo = dir.path().display().to_string();
        let out = Rekube::new().run(&["audit", "--cluster", cluster, &repo]);
        assert_eq!(code(&out), 2, "{name}: {}", text(&out));
        assert!(stderr(&out).contains(&message), "{name}: {}", stderr(&out));
    }
}
