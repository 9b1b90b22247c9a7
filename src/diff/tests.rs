//! `compare` end to end: a live object from `testdata/` against a dry-run result, with the unified
//! diff pinned as a snapshot.

use serde_json::{Value, json};

use super::*;

fn live() -> Value {
    let text = include_str!("testdata/deployment-drifted.yaml");
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("testdata/deployment-drifted.yaml: {e}"))
}

/// What a dry-run of the Git version returns: replicas and image back, fresh provenance.
fn dry_run() -> Value {
    let mut d = live();
    d["spec"]["replicas"] = json!(3);
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("ghcr.io/example/api:1.5.0");
    d["metadata"]["annotations"]["rekube.dev/revision"] = json!("9f00aa");
    d["metadata"]["resourceVersion"] = json!("48999");
    d
}

fn id() -> ObjectId {
    ObjectId::new("apps", "Deployment", Some("web"), "api")
}

fn secret(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "web", "uid": "1"}, "type": "Opaque", "data": data})
}

#[test]
fn update_of_a_drifted_deployment() {
    let d = compare(
        &id(),
        Some(&live()),
        Some(&dry_run()),
        &DiffOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.action, Action::Update);
    let changed: Vec<String> = d.changed.iter().map(ToString::to_string).collect();
    assert_eq!(
        changed,
        [
            "spec.replicas",
            "spec.template.spec.containers[name=app].image"
        ]
    );
    let want = "\
--- live Deployment/web/api
+++ desired
@@ -10,7 +10,7 @@
   namespace: web
 spec:
   progressDeadlineSeconds: 600
-  replicas: 5
+  replicas: 3
   revisionHistoryLimit: 10
   selector:
     matchLabels:
@@ -28,7 +28,7 @@
       containers:
       - args:
         - --listen=:8080
-        image: ghcr.io/example/api:1.5.0-debug
+        image: ghcr.io/example/api:1.5.0
         imagePullPolicy: IfNotPresent
         name: app
         ports:
";
    assert_eq!(d.unified, want);
}

#[test]
fn classification() {
    let opts = DiffOptions::default();
    let cases: Vec<(&str, Option<Value>, Option<Value>, Action)> = vec![
        ("absent live object", None, Some(dry_run()), Action::Create),
        ("absent desired object", Some(live()), None, Action::Delete),
        (
            "only server fields and provenance differ",
            Some(live()),
            Some({
                let mut d = live();
                d["metadata"]["resourceVersion"] = json!("1");
                d["metadata"]["annotations"]["rekube.dev/revision"] = json!("other");
                d["status"] = json!({});
                d
            }),
            Action::Unchanged,
        ),
        (
            "key order does not matter",
            Some(json!({"a": 1, "b": 2})),
            Some(json!({"b": 2, "a": 1})),
            Action::Unchanged,
        ),
        ("nothing at all", None, None, Action::Unchanged),
    ];
    for (name, before, after, want) in cases {
        let d = compare(&id(), before.as_ref(), after.as_ref(), &opts)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.action, want, "{name}");
        assert_eq!(d.unified.is_empty(), want == Action::Unchanged, "{name}");
    }
}

#[test]
fn created_objects_render_whole() {
    let d = compare(
        &id(),
        None,
        Some(&json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}})),
        &DiffOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        d.unified,
        "--- live Deployment/web/api\n+++ desired\n@@ -0,0 +1,4 @@\n+apiVersion: v1\n+data:\n+  a: \"1\"\n+kind: ConfigMap\n"
    );
}

#[test]
fn secrets_are_masked_unless_asked() {
    let sid = ObjectId::new("", "Secret", Some("web"), "db");
    let before = secret(json!({"password": "b2xk", "user": "YWRtaW4="}));
    let after = secret(json!({"password": "bmV3", "user": "YWRtaW4="}));
    let masked = compare(&sid, Some(&before), Some(&after), &DiffOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(masked.action, Action::Update);
    assert_eq!(
        masked
            .changed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["data.password"]
    );
    assert!(
        !masked.unified.contains("b2xk") && !masked.unified.contains("bmV3"),
        "{}",
        masked.unified
    );
    let want = "\
--- live Secret/web/db
+++ desired
@@ -1,6 +1,6 @@
 apiVersion: v1
 data:
-  password: \"*** (before)\"
+  password: \"*** (after)\"
   user: \"***\"
 kind: Secret
 metadata:
";
    assert_eq!(masked.unified, want);

    let shown = DiffOptions {
        show_secrets: true,
        ..DiffOptions::default()
    };
    let plain =
        compare(&sid, Some(&before), Some(&after), &shown).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        plain.unified.contains("-  password: b2xk") && plain.unified.contains("+  password: bmV3"),
        "{}",
        plain.unified
    );
}

#[test]
fn serialises_for_json_output() {
    let d = compare(
        &id(),
        Some(&live()),
        Some(&dry_run()),
        &DiffOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let v = serde_json::to_value(&d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["action"], "Update");
    assert_eq!(v["changed"][0], "spec.replicas");
    assert_eq!(v["id"]["kind"], "Deployment");
}
