//! Claims and snapshot classes, suppressions, the live control plane rules, and the machine formats.

use serde_json::{Value, json};

use super::{findings, good_deployment, good_pdb, manifest, rules_of};
use crate::audit::*;
use crate::manifest::Manifest;

fn storage_class(name: &str, provisioner: &str, default: bool) -> Value {
    json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": name, "annotations": {"storageclass.kubernetes.io/is-default-class": default.to_string()}},
        "provisioner": provisioner})
}

fn snapshot_class(driver: &str) -> Value {
    json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
        "metadata": {"name": format!("{driver}-snap")}, "driver": driver, "deletionPolicy": "Retain"})
}

fn claim(class: Option<&str>) -> Value {
    let mut c = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    if let Some(class) = class {
        c["spec"]["storageClassName"] = json!(class);
    }
    c
}

#[test]
fn claims_need_a_snapshot_class_of_their_driver() {
    let fast = || storage_class("fast", "ebs.csi.aws.com", true);
    assert_eq!(
        rules_of(vec![
            fast(),
            snapshot_class("ebs.csi.aws.com"),
            claim(Some("fast"))
        ]),
        Vec::<String>::new()
    );
    // The default class stands in for a claim without storageClassName.
    assert_eq!(
        rules_of(vec![fast(), snapshot_class("ebs.csi.aws.com"), claim(None)]),
        Vec::<String>::new()
    );
    let other_driver = findings(vec![
        fast(),
        snapshot_class("pd.csi.storage.gke.io"),
        claim(Some("fast")),
    ]);
    assert_eq!(other_driver[0].0, "no-snapshot-class");
    assert!(
        other_driver[0]
            .2
            .contains("StorageClass fast (provisioner ebs.csi.aws.com) has no VolumeSnapshotClass")
    );
    let absent = findings(vec![claim(Some("gold"))]);
    assert!(
        absent[0]
            .2
            .starts_with("StorageClass gold is not in the repository")
    );
    let no_default = findings(vec![claim(None)]);
    assert!(no_default[0].2.contains("declares no default StorageClass"));
    let static_pv = findings(vec![claim(Some(""))]);
    assert!(static_pv[0].2.contains("pre-provisioned"));
}

#[test]
fn stateful_set_claim_templates_are_checked_one_by_one() {
    let mut s = good_deployment("db");
    s["kind"] = json!("StatefulSet");
    s["spec"]["volumeClaimTemplates"] = json!([
        {"metadata": {"name": "data"}, "spec": {"storageClassName": "fast"}},
        {"metadata": {"name": "wal"}, "spec": {"storageClassName": "slow"}}
    ]);
    let found = findings(vec![
        s,
        good_pdb("db"),
        storage_class("fast", "ebs.csi.aws.com", false),
        snapshot_class("ebs.csi.aws.com"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "StatefulSet/shop/db");
    assert!(
        found[0]
            .2
            .starts_with("volumeClaimTemplate `wal`: StorageClass slow is not in the repository")
    );
}

#[test]
fn an_annotation_suppresses_a_rule_with_its_reason() {
    let mut d = good_deployment("web");
    d["spec"]["replicas"] = json!(1);
    d["metadata"]["annotations"] = json!({ANNOTATION_AUDIT_IGNORE: "single-replica=leader-elected singleton, one is enough, no-disruption-budget = drained by hand"});
    let report = audit(&manifest(vec![d]), None).expect("audit");
    assert_eq!(report.findings, vec![]);
    assert_eq!(report.exit_code(), 0);
    let reasons: Vec<(&str, &str)> = report
        .suppressed
        .iter()
        .map(|s| (s.finding.rule, s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("single-replica", "leader-elected singleton, one is enough"),
            ("no-disruption-budget", "drained by hand")
        ]
    );
    assert!(render_text(&report).contains(
        "apps/x.yaml:1: Deployment/shop/web: suppressed single-replica: leader-elected singleton, one is enough"
    ));
    assert!(
        render_junit(&report)
            .contains("<skipped message=\"suppressed: leader-elected singleton, one is enough\"/>")
    );
}

#[test]
fn a_suppression_without_reason_or_of_an_unknown_rule_is_an_error() {
    for (value, problem) in [
        (
            "single-replica",
            "`single-replica` is suppressed without a reason",
        ),
        (
            "single-replica=",
            "`single-replica` is suppressed without a reason",
        ),
        ("no-such-rule=because", "unknown rule `no-such-rule`"),
        (
            "single-replica=a singleton, no-spread",
            "`no-spread` is suppressed without a reason",
        ),
        ("leader, elected", "unknown rule `leader`"),
    ] {
        let mut d = good_deployment("web");
        d["metadata"]["annotations"] = json!({ANNOTATION_AUDIT_IGNORE: value});
        let Err(AuditError::Suppressions(bad)) = audit(&manifest(vec![good_pdb("web"), d]), None)
        else {
            panic!("{value}: accepted");
        };
        let text = bad[0].to_string();
        assert!(
            text.starts_with(&format!(
                "Deployment/shop/web (apps/x.yaml:11): {ANNOTATION_AUDIT_IGNORE}: {problem}"
            )),
            "{text}"
        );
    }
}

fn live(endpoints: usize, zones: &[(&str, usize)]) -> LiveState {
    LiveState {
        server: "https://127.0.0.1:6443".into(),
        apiserver_endpoints: endpoints,
        nodes_by_zone: zones.iter().map(|(z, n)| (z.to_string(), *n)).collect(),
    }
}

#[test]
fn the_control_plane_needs_three_endpoints_and_two_zones() {
    let empty = Manifest::default();
    let report = audit(&empty, Some(&live(3, &[("a", 2), ("b", 1)]))).expect("audit");
    assert_eq!(report.findings, vec![]);
    assert_eq!(report.checked.len(), 2);
    let report = audit(&empty, Some(&live(1, &[("", 2)]))).expect("audit");
    let got: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.rule, f.object.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("apiserver-endpoints", "Endpoints/default/kubernetes"),
            ("nodes-one-zone", "Node/*")
        ]
    );
    assert!(
        report.findings[0]
            .message
            .starts_with("1 API server endpoint(s)")
    );
    assert!(
        report.findings[1]
            .message
            .starts_with("none of the 2 Node(s)")
    );
    assert!(
        render_text(&report)
            .starts_with("live: Endpoints/default/kubernetes: high apiserver-endpoints:")
    );
    let none = audit(&empty, Some(&live(0, &[("a", 1), ("b", 1)]))).expect("audit");
    assert!(
        none.findings[0]
            .message
            .starts_with("the `kubernetes` Service publishes no API server endpoint")
    );
    let two = audit(&empty, Some(&live(2, &[("a", 1), ("b", 1)]))).expect("audit");
    assert_eq!(
        two.findings[0].message,
        "2 API server endpoint(s): fewer than three, so losing one leaves no spare for the next"
    );
    let one_zone = audit(&empty, Some(&live(3, &[("a", 2), ("", 1)]))).expect("audit");
    assert_eq!(
        one_zone.findings[0].message,
        "the 3 Node(s) are in one zone, a (1 without the label): a zone loss takes them all"
    );
}

#[test]
fn junit_has_a_case_per_rule_and_object_and_json_names_file_and_line() {
    let mut d = good_deployment("web");
    d["spec"]["replicas"] = json!(1);
    let report = audit(&manifest(vec![d, good_pdb("web")]), None).expect("audit");
    let xml = render_junit(&report);
    assert!(xml.contains("<testsuites name=\"rekube audit\" tests=\"6\" failures=\"1\" errors=\"0\" skipped=\"0\">"), "{xml}");
    assert!(xml.contains("<testcase classname=\"audit.single-replica\" name=\"Deployment/shop/web\" file=\"apps/x.yaml\" line=\"1\">\n      <failure type=\"high\""), "{xml}");
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["findings"][0]["source"], "apps/x.yaml:1");
    assert_eq!(json["findings"][0]["rule"], "single-replica");
    assert_eq!(json["findings"][0]["severity"], "high");
}
