use serde_json::{Value, json};

use super::fields::{get, overlay};
use super::*;
use crate::object::{Object, SourceLoc};

fn ptr(s: &str) -> Field {
    parse_pointer(s).expect(s)
}

#[test]
fn pointers() {
    let cases: &[(&str, Result<Vec<&str>, &str>)] = &[
        ("/spec/replicas", Ok(vec!["spec", "replicas"])),
        (
            "/metadata/annotations/example.com~1owner",
            Ok(vec!["metadata", "annotations", "example.com/owner"]),
        ),
        ("/a~0b", Ok(vec!["a~b"])),
        (
            "/spec/template/spec/containers/0/image",
            Ok(vec!["spec", "template", "spec", "containers", "0", "image"]),
        ),
        ("spec/replicas", Err("must start with /")),
        ("/a~2", Err("~ must be followed by 0 or 1")),
        ("/a~", Err("~ must be followed by 0 or 1")),
    ];
    for (text, want) in cases {
        match (parse_pointer(text), want) {
            (Ok(Field(steps)), Ok(tokens)) => {
                let got: Vec<Step> = tokens.iter().map(|t| Step::Token(t.to_string())).collect();
                assert_eq!(steps, got, "{text}");
                assert_eq!(Field(steps).to_string(), *text, "{text}: round trip");
            }
            (Err(e), Err(part)) => assert!(e.contains(part), "{text}: {e}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
    for identity in ["/metadata/name", "/kind", "/metadata"] {
        assert!(check_pointer(identity).is_err(), "{identity}");
    }
    assert!(check_pointer("/metadata/labels").is_ok());
    assert!(check_manager("rekube").is_err());
    assert!(check_manager("").is_err());
    assert!(check_manager("kube-controller-manager").is_ok());
}

fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "annotations": {"rekube.dev/digest": "d1", "team": "a"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [
            {"name": "app", "image": image},
            {"name": "proxy", "image": "envoy:1"},
        ]}}},
    })
}

#[test]
fn strip_and_overlay() {
    let live = deployment(4, "web:2");
    let body = deployment(2, "web:1");
    let replicas = ptr("/spec/replicas");
    assert_eq!(
        get(&strip(&live, std::slice::from_ref(&replicas)), &replicas),
        None
    );
    // The live value wins for an ignored field; everything else is the body's.
    let out = overlay(&body, &live, std::slice::from_ref(&replicas));
    assert_eq!(out["spec"]["replicas"], 4);
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["image"],
        "web:1"
    );
    // A field the body does not set is not claimed.
    let out = overlay(&body, &live, &[ptr("/spec/paused")]);
    assert_eq!(out, body);
    // A field the live object lost is left out of the body.
    let mut no_replicas = live.clone();
    no_replicas["spec"]
        .as_object_mut()
        .map(|s| s.remove("replicas"));
    let out = overlay(&body, &no_replicas, std::slice::from_ref(&replicas));
    assert_eq!(get(&out, &replicas), None);
    // List items by index and by key.
    let by_index = ptr("/spec/template/spec/containers/1/image");
    assert_eq!(get(&live, &by_index), Some(&json!("envoy:1")));
    let by_key = Field(vec![
        Step::Token("spec".into()),
        Step::Token("template".into()),
        Step::Token("spec".into()),
        Step::Token("containers".into()),
        Step::Keyed(
            json!({"name": "app"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        ),
        Step::Token("image".into()),
    ]);
    assert_eq!(get(&live, &by_key), Some(&json!("web:2")));
    let stripped = strip(&live, &[by_key]);
    assert_eq!(
        stripped["spec"]["template"]["spec"]["containers"][0],
        json!({"name": "app"})
    );
}

#[test]
fn fields_of_a_manager() {
    let fields_v1 = json!({
        "f:metadata": {"f:annotations": {".": {}, "f:deployment.kubernetes.io/revision": {}}},
        "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}},
            "k:{\"name\":\"app\"}": {"f:resources": {"f:limits": {"f:cpu": {}}}},
        }}}},
        "f:status": {"f:conditions": {".": {}, "v:\"x\"": {}}},
    });
    let got: Vec<String> = managed_fields(&fields_v1)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        vec![
            "/metadata/annotations/deployment.kubernetes.io~1revision",
            "/spec/replicas",
            "/spec/template/spec/containers/[{\"name\":\"sidecar\"}]",
            "/spec/template/spec/containers/[{\"name\":\"app\"}]/resources/limits/cpu",
            "/status/conditions/[\"x\"]",
        ]
    );
}

fn id(group: &str, kind: &str, ns: Option<&str>, name: &str) -> ObjectId {
    ObjectId::new(group, kind, ns, name)
}

fn config_rule(selector: Selector, pointers: &[&str], managers: &[&str]) -> IgnoreRule {
    IgnoreRule {
        selector,
        json_pointers: pointers.iter().map(|p| p.to_string()).collect(),
        fields: pointers.iter().map(|p| ptr(p)).collect(),
        managed_fields_managers: managers.iter().map(|m| m.to_string()).collect(),
        origin: IgnoreOrigin::Config {
            file: "rekube.yaml".into(),
            line: 9,
        },
    }
}

#[test]
fn selectors() {
    let web = id("apps", "Deployment", Some("shop"), "web");
    let cases = [
        ("everything", Selector::default(), true),
        (
            "group and kind",
            Selector {
                group: Some("apps".into()),
                kind: Some("Deployment".into()),
                ..Selector::default()
            },
            true,
        ),
        (
            "core group is empty",
            Selector {
                group: Some(String::new()),
                ..Selector::default()
            },
            false,
        ),
        (
            "namespace glob",
            Selector {
                namespace: Some("sh*".into()),
                ..Selector::default()
            },
            true,
        ),
        (
            "name glob misses",
            Selector {
                name: Some("api-*".into()),
                ..Selector::default()
            },
            false,
        ),
        (
            "other kind",
            Selector {
                kind: Some("StatefulSet".into()),
                ..Selector::default()
            },
            false,
        ),
    ];
    for (name, selector, want) in cases {
        assert_eq!(selector.matches(&web), want, "{name}");
    }
    let cluster_scoped = id("rbac.authorization.k8s.io", "ClusterRole", None, "view");
    let ns_rule = Selector {
        namespace: Some("shop".into()),
        ..Selector::default()
    };
    assert!(!ns_rule.matches(&cluster_scoped));
}

#[test]
fn ignored_for_an_object_and_the_sync_decision() {
    let rules = IgnoreRules::new(vec![
        config_rule(
            Selector {
                kind: Some("Deployment".into()),
                ..Selector::default()
            },
            &["/spec/replicas"],
            &[],
        ),
        config_rule(
            Selector {
                kind: Some("ConfigMap".into()),
                ..Selector::default()
            },
            &["/data"],
            &[],
        ),
    ]);
    let web = id("apps", "Deployment", Some("shop"), "web");
    let mut desired = deployment(2, "web:1");
    desired["metadata"]["annotations"][ANNOTATION_IGNORE_FIELDS] =
        json!("/metadata/annotations/team, manager:vpa-recommender");
    let ignored = rules.for_object(&web, &desired);
    assert_eq!(
        ignored.reasons(),
        &[
            "/spec/replicas (rekube.yaml:9)".to_string(),
            "/metadata/annotations/team (annotation rekube.dev/ignore-fields)".to_string(),
            "fields of manager vpa-recommender (annotation rekube.dev/ignore-fields)".to_string(),
        ]
    );

    let mut live = deployment(4, "web:1");
    live["metadata"]["annotations"]["team"] = json!("b");
    live["metadata"]["annotations"][ANNOTATION_IGNORE_FIELDS] =
        desired["metadata"]["annotations"][ANNOTATION_IGNORE_FIELDS].clone();
    live["metadata"]["managedFields"] = json!([
        {"manager": "vpa-recommender", "operation": "Update", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {"f:resources": {}}}}}}}},
    ]);
    live["spec"]["template"]["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "200m"}});

    // The dry-run of Git resets replicas, the team annotation and the recommender's resources: none of
    // it counts.
    let dry = {
        let mut d = desired.clone();
        d["metadata"]["managedFields"] = live["metadata"]["managedFields"].clone();
        d
    };
    assert!(ignored.same(&dry, &live), "only ignored fields differ");
    assert!(
        ignored.in_sync(&live, &desired),
        "fast path without the ignored values"
    );
    assert!(!Ignored::default().same(&dry, &live));
    assert!(!Ignored::default().in_sync(&live, &desired));

    // An unignored change still counts.
    let mut edited = live.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:9");
    assert!(!ignored.same(&dry, &edited));
    assert!(!ignored.in_sync(&edited, &desired));

    // A write carries the live values of the ignored fields, and rekube's own annotations.
    let body = ignored.overlay(&desired, &live);
    assert_eq!(body["spec"]["replicas"], 4);
    assert_eq!(body["metadata"]["annotations"]["team"], "b");
    assert_eq!(body["metadata"]["annotations"]["rekube.dev/digest"], "d1");

    // Another object of another kind: nothing ignored.
    let cm = id("", "Secret", Some("shop"), "s");
    assert!(rules.for_object(&cm, &json!({})).is_empty());
}

#[test]
fn ignoring_all_annotations_keeps_provenance() {
    let rules = IgnoreRules::new(vec![config_rule(
        Selector::default(),
        &["/metadata/annotations"],
        &[],
    )]);
    let desired = deployment(2, "web:1");
    let ignored = rules.for_object(&id("apps", "Deployment", Some("shop"), "web"), &desired);
    let mut live = deployment(2, "web:1");
    live["metadata"]["annotations"] = json!({"rekube.dev/digest": "d0", "owner": "x"});
    let body = ignored.overlay(&desired, &live);
    assert_eq!(
        body["metadata"]["annotations"],
        json!({"rekube.dev/digest": "d1", "owner": "x"})
    );
    assert!(
        !ignored.in_sync(&live, &desired),
        "another digest is never the fast path"
    );
}

#[test]
fn annotation_entries() {
    let got = parse_annotation("/spec/replicas,\n manager:hpa , spec/x, manager:rekube,");
    assert_eq!(got.len(), 4);
    assert!(matches!(&got[0], Ok(Entry::Pointer(_, p)) if p == "/spec/replicas"));
    assert_eq!(got[1], Ok(Entry::Manager("hpa".into())));
    assert!(
        got[2]
            .as_ref()
            .is_err_and(|e| e.contains("must start with /"))
    );
    assert!(
        got[3]
            .as_ref()
            .is_err_and(|e| e.contains("own field manager"))
    );
}

fn object(api_version: &str, kind: &str, ns: &str, name: &str, body: Value) -> Object {
    let group = crate::object::split_api_version(api_version).0;
    Object {
        id: ObjectId::new(group, kind, Some(ns), name),
        api_version: api_version.into(),
        body,
        source: SourceLoc {
            layer: "apps".into(),
            path: "apps/web.yaml".into(),
            line: 1,
            document: 0,
        },
    }
}

#[test]
fn autoscalers_ignore_their_targets_replicas() {
    let objects = vec![
        object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "shop",
            "web",
            json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
        ),
        object(
            "keda.sh/v1alpha1",
            "ScaledObject",
            "shop",
            "worker",
            json!({"spec": {"scaleTargetRef": {"name": "worker"}}}),
        ),
        object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            "shop",
            "broken",
            json!({"spec": {}}),
        ),
        object("apps/v1", "Deployment", "shop", "web", json!({})),
    ];
    let rules = IgnoreRules::new(autoscaler_rules(&objects));
    assert_eq!(rules.rules().len(), 2);
    let web = rules.for_object(&id("apps", "Deployment", Some("shop"), "web"), &json!({}));
    assert_eq!(
        web.reasons(),
        &["/spec/replicas (HorizontalPodAutoscaler/shop/web scales it)".to_string()]
    );
    let worker = rules.for_object(
        &id("apps", "Deployment", Some("shop"), "worker"),
        &json!({}),
    );
    assert!(
        !worker.is_empty(),
        "KEDA defaults the target to a Deployment"
    );
    for other in [
        id("apps", "Deployment", Some("other"), "web"),
        id("apps", "StatefulSet", Some("shop"), "web"),
    ] {
        assert!(rules.for_object(&other, &json!({})).is_empty(), "{other}");
    }
}
