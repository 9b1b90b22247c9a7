use serde_json::json;

use super::*;

fn claim(extra_spec: Value, annotations: Value) -> PersistentVolumeClaim {
    let mut spec = json!({
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "standard",
        "resources": {"requests": {"storage": "5Gi"}},
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        spec.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "metadata": {"name": "data", "namespace": "db", "uid": "u1", "annotations": annotations},
        "spec": spec,
        "status": {"phase": "Pending"},
    }))
    .unwrap()
}

fn class(mode: &str, provisioner: &str) -> StorageClass {
    serde_json::from_value(json!({
        "metadata": {"name": "standard"},
        "provisioner": provisioner,
        "volumeBindingMode": mode,
    }))
    .unwrap()
}

fn provisioned(plan: ClaimPlan) -> Value {
    match plan {
        ClaimPlan::Provision(pv) => serde_json::to_value(pv).unwrap(),
        other => panic!("expected a volume, got {other:?}"),
    }
}

#[test]
fn an_immediate_claim_gets_a_prebound_volume_of_its_size() {
    let class = class("Immediate", "ebs.csi.aws.com");
    let pv = provisioned(plan_claim(
        &claim(json!({}), json!({})),
        Some(&class),
        |_, _| false,
    ));
    assert_eq!(pv["metadata"]["name"], "pvc-u1");
    assert_eq!(
        pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
        "ebs.csi.aws.com"
    );
    assert_eq!(pv["spec"]["capacity"]["storage"], "5Gi");
    assert_eq!(pv["spec"]["claimRef"]["uid"], "u1");
    assert_eq!(pv["spec"]["claimRef"]["namespace"], "db");
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
    assert!(pv["spec"].get("nodeAffinity").is_none());
}

#[test]
fn wait_for_first_consumer_waits_for_the_scheduler_then_pins_the_node() {
    let class = class("WaitForFirstConsumer", PROVISIONER);
    let waiting = plan_claim(&claim(json!({}), json!({})), Some(&class), |_, _| true);
    assert!(matches!(waiting, ClaimPlan::Wait(_)), "{waiting:?}");
    let chosen = claim(json!({}), json!({SELECTED_NODE: "kwok-node-1"}));
    let pv = provisioned(plan_claim(&chosen, Some(&class), |_, _| true));
    let term = &pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0];
    assert_eq!(term["matchExpressions"][0]["values"][0], "kwok-node-1");
}

#[test]
fn claims_that_are_not_the_provisioners_business_are_ignored() {
    let immediate = class("Immediate", PROVISIONER);
    let cases = [
        (
            "bound to a named volume",
            claim(json!({"volumeName": "pv-1"}), json!({})),
        ),
        (
            "with a selector",
            claim(json!({"selector": {"matchLabels": {"a": "b"}}}), json!({})),
        ),
        (
            "without a class",
            claim(json!({"storageClassName": ""}), json!({})),
        ),
    ];
    for (what, c) in cases {
        assert!(
            matches!(
                plan_claim(&c, Some(&immediate), |_, _| true),
                ClaimPlan::Ignore
            ),
            "{what}"
        );
    }
    let manual = class("Immediate", NO_PROVISIONER);
    assert!(matches!(
        plan_claim(&claim(json!({}), json!({})), Some(&manual), |_, _| true),
        ClaimPlan::Ignore
    ));
    assert!(matches!(
        plan_claim(&claim(json!({}), json!({})), None, |_, _| true),
        ClaimPlan::Wait(_)
    ));
}

#[test]
fn a_restored_claim_waits_for_its_snapshot() {
    let immediate = class("Immediate", PROVISIONER);
    let restored = claim(
        json!({"dataSource": {"apiGroup": SNAPSHOT_GROUP, "kind": "VolumeSnapshot", "name": "snap"}}),
        json!({}),
    );
    assert_eq!(restored_from(&restored), Some((None, "snap".to_owned())));
    let plan = plan_claim(&restored, Some(&immediate), |ns, name| {
        ns == "db" && name == "other"
    });
    assert!(matches!(plan, ClaimPlan::Wait(_)), "{plan:?}");
    let pv = provisioned(plan_claim(&restored, Some(&immediate), |ns, name| {
        ns == "db" && name == "snap"
    }));
    let note = pv["metadata"]["annotations"][SIMULATED_ANNOTATION]
        .as_str()
        .unwrap();
    assert!(note.contains("restored from VolumeSnapshot snap"), "{note}");
}

fn snapshot(source: Value, status: Value) -> Value {
    json!({
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {"name": "snap", "namespace": "db", "uid": "s1"},
        "spec": {"volumeSnapshotClassName": "csi", "source": source},
        "status": status,
    })
}

#[test]
fn a_snapshot_is_ready_once_its_claim_is_bound() {
    let snap = snapshot(json!({"persistentVolumeClaimName": "data"}), json!({}));
    let pending = claim(json!({}), json!({}));
    assert!(matches!(
        plan_snapshot(&snap, Some(&pending), None, "t"),
        SnapshotPlan::Wait(_)
    ));
    assert!(matches!(
        plan_snapshot(&snap, None, None, "t"),
        SnapshotPlan::Wait(_)
    ));
    let bound: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "data", "namespace": "db"},
        "spec": {"volumeName": "pvc-u1"},
        "status": {"phase": "Bound", "capacity": {"storage": "5Gi"}},
    }))
    .unwrap();
    let SnapshotPlan::Bind { content, status } =
        plan_snapshot(&snap, Some(&bound), Some("ebs.csi.aws.com"), "t")
    else {
        panic!("expected a binding");
    };
    let content = content.unwrap();
    assert_eq!(content["metadata"]["name"], "snapcontent-s1");
    assert_eq!(content["spec"]["driver"], "ebs.csi.aws.com");
    assert_eq!(content["spec"]["source"]["volumeHandle"], "pvc-u1");
    assert_eq!(content["spec"]["volumeSnapshotClassName"], "csi");
    assert_eq!(status["readyToUse"], true);
    assert_eq!(status["restoreSize"], "5Gi");
    assert_eq!(status["boundVolumeSnapshotContentName"], "snapcontent-s1");
}

#[test]
fn ready_and_pre_provisioned_snapshots() {
    let ready = snapshot(
        json!({"persistentVolumeClaimName": "data"}),
        json!({"readyToUse": true}),
    );
    assert_eq!(plan_snapshot(&ready, None, None, "t"), SnapshotPlan::Ignore);
    let pre = snapshot(json!({"volumeSnapshotContentName": "existing"}), json!({}));
    let SnapshotPlan::Bind { content, status } = plan_snapshot(&pre, None, None, "t") else {
        panic!("expected a binding");
    };
    assert!(content.is_none());
    assert_eq!(status["boundVolumeSnapshotContentName"], "existing");
}
