//! Attribution against managedFields as a real API server writes them (`testdata/`).

use serde_json::{Value, json};

use super::*;
use crate::diff::path::changed_paths;
use crate::diff::{FieldPath, normalize};

fn drifted() -> Value {
    let text = include_str!("../testdata/deployment-drifted.yaml");
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("testdata/deployment-drifted.yaml: {e}"))
}

/// The path named `text` among those that differ between the live object and a changed copy.
fn path_in(live: &Value, change: impl Fn(&mut Value), text: &str) -> FieldPath {
    let mut desired = live.clone();
    change(&mut desired);
    let paths = changed_paths(&normalize(live), &normalize(&desired));
    let found = paths.iter().find(|p| p.to_string() == text).cloned();
    found.unwrap_or_else(|| {
        panic!(
            "{text} not among {:?}",
            paths.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    })
}

/// A change made to the desired copy.
type Change = Box<dyn Fn(&mut Value)>;
/// `(manager, operation, subresource)`.
type Owner = Option<(&'static str, &'static str, Option<&'static str>)>;

#[test]
fn who_changed_what() {
    let live = drifted();
    let managed = &live["metadata"]["managedFields"];
    let container = "/spec/template/spec/containers/0";
    let set = |pointer: &'static str, v: Value| -> Change {
        Box::new(move |d: &mut Value| {
            if let Some(slot) = d.pointer_mut(pointer) {
                *slot = v.clone();
            }
        })
    };
    let cases: Vec<(&str, Change, &str, Owner)> = vec![
        (
            "kubectl scale",
            set("/spec/replicas", json!(3)),
            "spec.replicas",
            Some(("kubectl", "Update", Some("scale"))),
        ),
        (
            "kubectl edit of the image, inside a list keyed by name",
            set(
                "/spec/template/spec/containers/0/image",
                json!("ghcr.io/example/api:1.5.0"),
            ),
            "spec.template.spec.containers[name=app].image",
            Some(("kubectl-edit", "Update", None)),
        ),
        (
            "rekube's own field, in a list keyed by port and protocol, not by name",
            set(
                "/spec/template/spec/containers/0/ports/0/containerPort",
                json!(9090),
            ),
            "spec.template.spec.containers[name=app].ports[name=http].containerPort",
            Some(("rekube", "Apply", None)),
        ),
        (
            "an atomic list is owned whole",
            set(
                "/spec/template/spec/containers/0/args/0",
                json!("--listen=:9090"),
            ),
            "spec.template.spec.containers[name=app].args[0]",
            Some(("rekube", "Apply", None)),
        ),
        (
            "an atomic map is owned whole",
            set("/spec/selector/matchLabels/app", json!("api2")),
            "spec.selector.matchLabels.app",
            Some(("rekube", "Apply", None)),
        ),
        (
            "a label",
            set("/metadata/labels/app", json!("api2")),
            "metadata.labels.app",
            Some(("rekube", "Apply", None)),
        ),
        (
            "a defaulted field has no manager",
            set("/spec/strategy/type", json!("Recreate")),
            "spec.strategy.type",
            None,
        ),
        (
            "a field only the desired side has",
            Box::new(move |d: &mut Value| {
                if let Some(c) = d.pointer_mut(container).and_then(Value::as_object_mut) {
                    c.insert("workingDir".into(), json!("/srv"));
                }
            }),
            "spec.template.spec.containers[name=app].workingDir",
            None,
        ),
    ];
    for (name, change, text, want) in cases {
        let path = path_in(&live, change, text);
        let got = attribute(managed, &path);
        let got = got.as_ref().map(|a| {
            (
                a.manager.as_str(),
                a.operation.as_str(),
                a.subresource.as_deref(),
            )
        });
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn time_and_status() {
    let live = drifted();
    let managed = &live["metadata"]["managedFields"];
    let path = FieldPath(vec![
        Segment::Field("status".into()),
        Segment::Field("replicas".into()),
    ]);
    let a = attribute(managed, &path);
    assert_eq!(
        a.as_ref().map(|a| a.manager.as_str()),
        Some("kube-controller-manager")
    );
    assert_eq!(
        a.and_then(|a| a.time),
        Some("2025-05-03T17:02:31Z".to_string())
    );
}

#[test]
fn edge_cases() {
    let replicas = FieldPath(vec![
        Segment::Field("spec".into()),
        Segment::Field("replicas".into()),
    ]);
    let entry = |manager: &str, time: &str| json!({"manager": manager, "operation": "Apply", "time": time, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}});
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        (
            "shared ownership: the most recent manager",
            json!([
                entry("a", "2025-01-01T00:00:00Z"),
                entry("b", "2025-02-01T00:00:00Z"),
                entry("c", "2024-12-01T00:00:00Z")
            ]),
            Some("b"),
        ),
        (
            "unknown fieldsType is skipped",
            json!([{"manager": "x", "operation": "Update", "fieldsType": "FieldsV2", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]),
            None,
        ),
        (
            "an empty root owns nothing",
            json!([{"manager": "x", "operation": "Update", "fieldsV1": {}}]),
            None,
        ),
        ("not a list", json!({"manager": "x"}), None),
        (
            "an entry without manager",
            json!([{"operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]),
            None,
        ),
    ];
    for (name, managed, want) in cases {
        assert_eq!(
            attribute(&managed, &replicas).map(|a| a.manager).as_deref(),
            want,
            "{name}"
        );
    }
}

#[test]
fn set_items() {
    let managed = json!([{"manager": "finalizer-bot", "operation": "Update", "fieldsV1": {"f:metadata": {"f:finalizers": {".": {}, "v:\"example.com/cleanup\"": {}}}}}]);
    let path = FieldPath(vec![
        Segment::Field("metadata".into()),
        Segment::Field("finalizers".into()),
        Segment::Item {
            name: String::new(),
            item: json!("example.com/cleanup"),
        },
    ]);
    assert_eq!(
        attribute(&managed, &path).map(|a| a.manager).as_deref(),
        Some("finalizer-bot")
    );
}
