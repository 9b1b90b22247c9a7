//! Drills of real-shaped stacks on the simulated local control plane, through the binary: a
//! kube-prometheus-like stack (an aggregated APIService, fail-closed admission webhooks) and stateful
//! applications (a StatefulSet with volumeClaimTemplates, a claim restored from a VolumeSnapshot). They
//! drill green, and every object whose readiness was simulated is listed with the reason; the report
//! files (.json, .xml) carry the same data, with the critical path.

mod support;

use serde_json::Value;

use support::{Rekube, fixture, output_dir};

/// `fixtures/drill/NAME`, as an argument.
fn drill_fixture(name: &str) -> String {
    fixture("drill").join(name).display().to_string()
}

fn simulated(report: &Value) -> Vec<(String, String)> {
    report["rebuild"]["simulated"]
        .as_array()
        .expect("simulated list")
        .iter()
        .map(|s| {
            (
                format!(
                    "{}/{}",
                    s["id"]["kind"].as_str().unwrap_or_default(),
                    s["id"]["name"].as_str().unwrap_or_default()
                ),
                s["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_kube_prometheus_like_stack_drills_green_with_its_simulated_objects_listed() {
    let junit = output_dir("simulated-drill").join("kube-prometheus.xml");
    let out = Rekube::fresh_local().run(&[
        "drill",
        &drill_fixture("kube-prometheus"),
        "--timeout",
        "60s",
        "--output",
        "json",
        "--report",
        junit.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "the drill passes");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["passed"], true);
    assert!(
        report["rto_seconds"].as_f64().is_some_and(|s| s < 30.0),
        "green in seconds: {}",
        report["rto_seconds"]
    );
    let listed = simulated(&report);
    let names: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        names,
        [
            "MutatingWebhookConfiguration/prometheusrulemutate.monitoring.coreos.com",
            "ValidatingWebhookConfiguration/prometheusrulevalidate.monitoring.coreos.com",
            "APIService/v1beta1.metrics.k8s.io",
            "Prometheus/k8s",
        ]
    );
    assert!(listed[3].1.contains("health rule"), "{}", listed[3].1);
    assert_eq!(
        listed[2].1,
        "backend not callable in a simulated cluster; Service monitoring/prometheus-adapter has ready endpoints"
    );
    assert!(listed[0].1.starts_with("admission webhooks are not called"));
    // The rules the fail-closed webhooks intercept were admitted, and nothing drifted.
    assert_eq!(report["drift"]["findings"], Value::Array(vec![]));
    let path = report["rebuild"]["critical_path"]["steps"]
        .as_array()
        .expect("steps");
    assert!(!path.is_empty(), "a critical path");
    assert!(
        report["rebuild"]["parallelism"]["max"]
            .as_u64()
            .is_some_and(|m| m > 1)
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(
        xml.contains("name=\"simulated:APIService/v1beta1.metrics.k8s.io\""),
        "{xml}"
    );
    assert!(xml.contains("failures=\"0\""), "{xml}");
}

#[test]
fn a_statefulset_and_a_claim_restored_from_a_snapshot_drill_green() {
    let out = Rekube::fresh_local().run(&[
        "drill",
        &drill_fixture("stateful"),
        "--timeout",
        "90s",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "the drill passes");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["passed"], true);
    let notes = report["simulation"].to_string();
    assert!(
        notes.contains("installed the VolumeSnapshot CRDs"),
        "{notes}"
    );
    let listed = simulated(&report);
    let names: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        names,
        [
            "VolumeSnapshot/reference-data-nightly",
            "PersistentVolumeClaim/reports"
        ]
    );
    // The StatefulSet's claims (from volumeClaimTemplates, no owner) are not unmanaged drift.
    assert_eq!(
        report["drift"]["findings"],
        Value::Array(vec![]),
        "{}",
        report["drift"]
    );
}

#[test]
fn rebuild_prints_the_critical_path_and_writes_the_same_data_as_json() {
    let file = output_dir("simulated-drill").join("rebuild-stateful.json");
    let out = Rekube::fresh_local().run(&[
        "rebuild",
        &drill_fixture("stateful"),
        "--fresh",
        "local",
        "--timeout",
        "90s",
        "--report",
        file.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "the rebuild succeeds");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("critical path (the chain that set the recovery time"),
        "{err}"
    );
    assert!(
        err.contains("StatefulSet/db/postgres"),
        "the slow StatefulSet sets it: {err}"
    );
    assert!(err.contains("parallelism: up to"), "{err}");
    assert!(
        err.contains("simulated cluster: readiness of 2 object(s) judged indirectly"),
        "{err}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("report file")).expect("JSON");
    let steps = report["critical_path"]["steps"].as_array().expect("steps");
    assert_eq!(
        steps.last().and_then(|s| s["id"]["name"].as_str()),
        Some("postgres")
    );
    assert_eq!(report["simulated"].as_array().map(Vec::len), Some(2));
}

#[test]
fn an_unknown_report_format_is_refused_before_anything_runs() {
    let out = Rekube::fresh_local().run(&[
        "drill",
        &drill_fixture("stateful"),
        "--report",
        "report.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must end in .html"), "{err}");
    assert!(!err.contains("drill: rebuilding"), "nothing ran: {err}");
}

#[test]
fn a_kind_cluster_is_not_offered() {
    let out = Rekube::fresh_local().run(&["drill", &drill_fixture("stateful"), "--fresh", "kind"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'kind'"), "{err}");
}
