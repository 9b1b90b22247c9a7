//! `rekube audit` through the binary on the fixtures of `fixtures/audit/`: text, JSON and JUnit, exit
//! codes 0/1/2, suppressions; and `--live` on the real local control plane (no published API server
//! endpoint, kwok Nodes without zones: both control plane findings).

mod support;

use serde_json::Value;
use support::{Rekube, cluster, code, fixture, kubectl, rekube, root, stderr, stdout};

/// `fixtures/audit/NAME`, as an argument.
fn audit_fixture(name: &str) -> String {
    fixture("audit").join(name).display().to_string()
}

/// (rule, object, source) of each finding of a JSON report.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("rule"), s("object"), s("source"))
        })
        .collect()
}

#[test]
fn a_repository_that_survives_a_zone_loss_exits_0() {
    let out = rekube(&["audit", &audit_fixture("clean")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "audit: 0 finding(s) (0 high, 0 medium) on 0 object(s), 0 suppressed; 2 object(s) checked\n"
    );
}

#[test]
fn findings_name_rule_object_and_file_line_and_exit_1() {
    let out = rekube(&["audit", &audit_fixture("shop")]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "apps/frontend.yaml:2: Deployment/shop/frontend: high single-replica: 1 replica: losing its node stops the workload until the pod is rescheduled",
        "apps/frontend.yaml:2: Deployment/shop/frontend: medium image-not-pinned: container `frontend` image `nginx:1.27` is not pinned by digest: a rebuild may run other bits",
        "apps/api.yaml:2: Deployment/shop/api: medium budget-blocks-eviction: PodDisruptionBudget/shop/backend (apps/api.yaml:23) allows no eviction (minAvailable 100% of 2 replica(s)): draining its node never ends",
        "apps/api.yaml:34: PersistentVolumeClaim/shop/uploads: high no-snapshot-class: StorageClass standard is not in the repository",
        "apps/leader.yaml:2: Deployment/shop/scheduler: suppressed single-replica: leader-elected, a second replica would only wait",
        "audit: 8 finding(s) (2 high, 6 medium) on 3 object(s), 2 suppressed; 4 object(s) checked",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(!text.contains("scheduler: high"), "{text}");
}

#[test]
fn json_lists_every_finding_and_every_suppression() {
    let out = rekube(&["audit", "-o", "json", &audit_fixture("shop")]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("audit: 8 finding(s)"),
        "{}",
        stderr(&out)
    );
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let s = |r: &str, o: &str, f: &str| (r.to_string(), o.to_string(), f.to_string());
    assert_eq!(
        findings(&report),
        vec![
            s(
                "budget-blocks-eviction",
                "Deployment/shop/api",
                "apps/api.yaml:2"
            ),
            s("no-spread", "Deployment/shop/api", "apps/api.yaml:2"),
            s(
                "no-snapshot-class",
                "PersistentVolumeClaim/shop/uploads",
                "apps/api.yaml:34"
            ),
            s(
                "single-replica",
                "Deployment/shop/frontend",
                "apps/frontend.yaml:2"
            ),
            s(
                "no-disruption-budget",
                "Deployment/shop/frontend",
                "apps/frontend.yaml:2"
            ),
            s(
                "no-readiness-probe",
                "Deployment/shop/frontend",
                "apps/frontend.yaml:2"
            ),
            s(
                "no-resource-requests",
                "Deployment/shop/frontend",
                "apps/frontend.yaml:2"
            ),
            s(
                "image-not-pinned",
                "Deployment/shop/frontend",
                "apps/frontend.yaml:2"
            ),
        ]
    );
    let suppressed: Vec<(&str, &str)> = report["suppressed"]
        .as_array()
        .expect("suppressed")
        .iter()
        .map(|x| {
            (
                x["rule"].as_str().unwrap_or_default(),
                x["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        suppressed,
        vec![
            (
                "single-replica",
                "leader-elected, a second replica would only wait"
            ),
            ("no-disruption-budget", "nothing to keep available"),
        ]
    );
}

#[test]
fn junit_has_a_case_per_rule_and_object() {
    let out = rekube(&["audit", "--output", "junit", &audit_fixture("shop")]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let xml = stdout(&out);
    assert!(
        xml.contains("<testsuites name=\"rekube audit\" tests=\"18\" failures=\"8\" errors=\"0\" skipped=\"2\">"),
        "{xml}"
    );
    assert!(xml.contains("<testcase classname=\"audit.single-replica\" name=\"Deployment/shop/frontend\" file=\"apps/frontend.yaml\" line=\"2\">\n      <failure type=\"high\" message=\"1 replica: losing its node stops the workload until the pod is rescheduled\"/>"), "{xml}");
    assert!(xml.contains("<testcase classname=\"audit.single-replica\" name=\"Deployment/shop/scheduler\" file=\"apps/leader.yaml\" line=\"2\">\n      <skipped message=\"suppressed: leader-elected, a second replica would only wait\"/>"), "{xml}");
    assert!(xml.contains("<testcase classname=\"audit.image-not-pinned\" name=\"Deployment/shop/api\" file=\"apps/api.yaml\" line=\"2\"/>"), "{xml}");
}

#[test]
fn a_suppression_without_reason_is_exit_2_naming_object_and_file() {
    let out = rekube(&["audit", &audit_fixture("bad-suppression")]);
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "", "nothing is reported on bad input");
    assert!(
        stderr(&out).contains("error: Deployment/default/web (apps/web.yaml:9): rekube.dev/audit-ignore: `single-replica` is suppressed without a reason: write `single-replica=why`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn cluster_flags_without_live_are_exit_2() {
    let out = rekube(&["audit", "--context", "prod", &audit_fixture("clean")]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("add --live"), "{}", stderr(&out));
}

#[tokio::test]
async fn live_finds_too_few_api_server_endpoints_and_nodes_in_no_zone() {
    let cp = cluster().await;
    let out = Rekube::on(cp.kubeconfig()).run(&[
        "audit",
        "--live",
        "-o",
        "json",
        &audit_fixture("clean"),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let live: Vec<(String, String)> = findings(&report)
        .into_iter()
        .map(|(rule, object, source)| {
            assert_eq!(source, "", "live findings have no file");
            (rule, object)
        })
        .collect();
    assert_eq!(
        live,
        vec![
            (
                "apiserver-endpoints".to_string(),
                "Endpoints/default/kubernetes".to_string()
            ),
            ("nodes-one-zone".to_string(), "Node/*".to_string()),
        ]
    );
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    // The local control plane (one kube-apiserver advertising 127.0.0.1) publishes no endpoint for the
    // `kubernetes` Service at all: still fewer than three.
    let seen = kubectl(
        cp.kubeconfig(),
        &[
            "get",
            "endpointslices,endpoints",
            "-n",
            "default",
            "-o",
            "name",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&seen.stdout),
        "",
        "what the test expects of the local control plane"
    );
    assert!(
        messages[0].starts_with("the `kubernetes` Service publishes no API server endpoint"),
        "{messages:?}"
    );
    assert!(messages[1].contains("Node(s)"), "{messages:?}");
    assert_eq!(
        report["server"].as_str().map(|s| s.trim_end_matches('/')),
        Some(cp.server_url().trim_end_matches('/'))
    );
}

#[test]
fn examples_platform_case_by_case() {
    let platform = root().join("examples/platform").display().to_string();
    let out = rekube(&["audit", "-o", "json", &platform]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let found = findings(&report);
    assert_eq!(found.len(), 26);
    let rules_of = |object: &str| -> Vec<(String, String)> {
        found
            .iter()
            .filter(|(_, o, _)| o == object)
            .map(|(r, _, s)| (r.clone(), s.clone()))
            .collect()
    };
    let pair = |r: &str, s: &str| (r.to_string(), s.to_string());
    // The claim of the orders database: its StorageClass is in the repository, but a no-provisioner
    // class has no snapshot driver.
    assert_eq!(
        rules_of("PersistentVolumeClaim/shop/orders-data"),
        [pair("no-snapshot-class", "apps/shop/orders.yaml:12")]
    );
    // The frontend has a budget and replicas, but nothing spreads them.
    let at = "apps/shop/frontend.yaml:11";
    assert_eq!(
        rules_of("Deployment/shop/frontend"),
        [
            pair("no-spread", at),
            pair("no-readiness-probe", at),
            pair("image-not-pinned", at)
        ]
    );
    // Jobs are asked for digests (and requests), never for readiness probes or replicas.
    assert_eq!(
        rules_of("Job/shop/orders-migrate"),
        [pair("image-not-pinned", "apps/shop/jobs.yaml:2")]
    );
    let at = "tools/backup-operator.yaml:23";
    assert_eq!(
        rules_of("Deployment/platform-system/backup-operator"),
        [
            pair("single-replica", at),
            pair("no-disruption-budget", at),
            pair("no-readiness-probe", at),
            pair("image-not-pinned", at)
        ]
    );
}
