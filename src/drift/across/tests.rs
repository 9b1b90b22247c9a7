//! Comparing clusters of one role: states, live content, what Git intends to differ, rendering.

use serde_json::{Value, json};

use super::*;
use crate::drift::{Finding, InSync};

fn id(kind: &str, name: &str) -> ObjectId {
    ObjectId::new("", kind, Some("web"), name)
}

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "web"}, "data": data})
}

/// What the cluster holds of `desired`: `live` with rekube's managedFields entry and server noise.
fn live(mut v: Value, uid: &str) -> Value {
    v["metadata"]["uid"] = json!(uid);
    v["metadata"]["resourceVersion"] = json!("7");
    v["metadata"]["managedFields"] = json!([{"manager": "rekube", "operation": "Apply",
        "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:mode": {}}}}]);
    v
}

fn report(in_sync: &[ObjectId], findings: Vec<Finding>) -> DriftReport {
    DriftReport {
        origin: "repo".into(),
        revision: None,
        dirty: false,
        server: "https://a".into(),
        inventory: "default".into(),
        checked: in_sync.len(),
        in_sync: in_sync
            .iter()
            .map(|i| InSync {
                id: i.clone(),
                source: "apps/settings.yaml:1".into(),
            })
            .collect(),
        findings,
        fail_on: Class::ALL.into(),
        warnings: Vec::new(),
        seconds: 0.0,
    }
}

/// A cluster holding one ConfigMap: `desired` from Git, `held` live (None: missing), in `state`.
fn view(
    cluster: &str,
    role: &str,
    desired: Value,
    held: Option<Value>,
    state: Option<Class>,
) -> View {
    let i = id("ConfigMap", "settings");
    let (in_sync, findings) = match state {
        None => (vec![i.clone()], Vec::new()),
        Some(c) => (Vec::new(), vec![Finding::new(c, i.clone())]),
    };
    let seen = vec![Seen {
        id: i,
        desired,
        live: held,
    }];
    View::new(cluster, role, &report(&in_sync, findings), seen)
}

#[test]
fn clusters_differ_by_state_or_by_live_content() {
    let git = cm(json!({"mode": "fast"}));
    let same = || live(cm(json!({"mode": "fast"})), "u1");
    let mut annotated = live(cm(json!({"mode": "fast"})), "u2");
    annotated["metadata"]["annotations"] = json!({"owner": "someone"});
    if let Some(m) = annotated["metadata"]["managedFields"].as_array_mut() {
        m.push(json!({"manager": "kubectl-annotate", "operation": "Update",
            "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:annotations": {"f:owner": {}}}}}));
    }
    // (name, one cluster, the other, the states when they differ, the differing fields)
    type Case = (
        &'static str,
        View,
        View,
        Option<Vec<State>>,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "alike: only uid and resourceVersion differ",
            view("eu", "primary", git.clone(), Some(same()), None),
            view(
                "us",
                "primary",
                git.clone(),
                Some(live(cm(json!({"mode": "fast"})), "u9")),
                None,
            ),
            None,
            vec![],
        ),
        (
            "modified in one cluster",
            view("eu", "primary", git.clone(), Some(same()), None),
            view(
                "us",
                "primary",
                git.clone(),
                Some(live(cm(json!({"mode": "slow"})), "u2")),
                Some(Class::Modified),
            ),
            Some(vec![State::InSync, State::Modified]),
            vec!["data.mode"],
        ),
        (
            "missing in one cluster",
            view("eu", "primary", git.clone(), Some(same()), None),
            view("us", "primary", git.clone(), None, Some(Class::Missing)),
            Some(vec![State::InSync, State::Missing]),
            vec![],
        ),
        (
            "modified alike in both: each differs from Git, not from the other",
            view(
                "eu",
                "primary",
                git.clone(),
                Some(live(cm(json!({"mode": "slow"})), "u1")),
                Some(Class::Modified),
            ),
            view(
                "us",
                "primary",
                git.clone(),
                Some(live(cm(json!({"mode": "slow"})), "u2")),
                Some(Class::Modified),
            ),
            None,
            vec![],
        ),
        (
            "a field Git does not set, added by hand in one: both in sync with Git",
            view("eu", "primary", git.clone(), Some(same()), None),
            view("us", "primary", git.clone(), Some(annotated), None),
            Some(vec![State::InSync, State::InSync]),
            vec!["metadata.annotations.owner"],
        ),
        (
            "Git sets the field differently per cluster (an overlay): intended",
            view("eu", "primary", git.clone(), Some(same()), None),
            view(
                "us",
                "primary",
                cm(json!({"mode": "slow"})),
                Some(live(cm(json!({"mode": "slow"})), "u2")),
                None,
            ),
            None,
            vec![],
        ),
    ];
    for (name, a, b, want_states, want_fields) in cases {
        let groups = compare(&[a, b], &[]);
        assert_eq!(groups.len(), 1, "{name}");
        let g = &groups[0];
        assert_eq!(g.compared, 1, "{name}");
        match want_states {
            None => {
                assert!(g.differing.is_empty(), "{name}: {:?}", g.differing);
                assert_eq!(exit_code(&groups), 0, "{name}");
            }
            Some(states) => {
                assert_eq!(g.differing.len(), 1, "{name}");
                let row = &g.differing[0];
                let got: Vec<State> = ["eu", "us"].iter().map(|c| row.states[*c]).collect();
                assert_eq!(got, states, "{name}");
                let fields: Vec<String> = row.fields.iter().map(|f| f.path.to_string()).collect();
                assert_eq!(fields, want_fields, "{name}");
                assert_eq!(exit_code(&groups), 1, "{name}");
            }
        }
    }
}

#[test]
fn a_hand_change_names_its_cluster_and_manager() {
    let git = cm(json!({"mode": "fast"}));
    let mut patched = live(cm(json!({"mode": "slow"})), "u2");
    patched["metadata"]["managedFields"] = json!([{"manager": "kubectl-patch", "operation": "Update",
        "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {"f:mode": {}}}}]);
    let eu = view(
        "eu",
        "primary",
        git.clone(),
        Some(live(git.clone(), "u1")),
        None,
    );
    let us = view("us", "primary", git, Some(patched), Some(Class::Modified));
    let groups = compare(&[eu, us], &[]);
    let f = &groups[0].differing[0].fields[0];
    assert_eq!(f.changed_by.keys().collect::<Vec<_>>(), ["us"]);
    assert_eq!(f.changed_by["us"].manager, "kubectl-patch");
    let text = render_text(&groups);
    assert!(
        text.contains("ConfigMap/web/settings  in sync       modified"),
        "{text}"
    );
    assert!(
        text.contains("data.mode: live content differs; set in us by kubectl-patch (Update)"),
        "{text}"
    );
    assert!(text.contains("CLUSTERS DIFFER: 1 of 1 object(s)"), "{text}");
    let junit = render_junit(&groups);
    assert!(
        junit.contains("<testsuite name=\"clusters of role primary\" tests=\"1\" failures=\"1\""),
        "{junit}"
    );
    assert!(junit.contains("message=\"ConfigMap/web/settings differs between clusters: eu in sync, us modified; data.mode\""), "{junit}");
    let json = serde_json::to_value(&groups).unwrap_or_default();
    assert_eq!(
        json[0]["differing"][0]["states"],
        json!({"eu": "in-sync", "us": "modified"})
    );
    assert_eq!(
        json[0]["differing"][0]["fields"][0]["changedBy"]["us"]["manager"],
        "kubectl-patch"
    );
}

#[test]
fn roles_are_compared_apart_and_alone_is_not_compared() {
    let git = cm(json!({"mode": "fast"}));
    let v =
        |c: &str, r: &str, held: Option<Value>, s: Option<Class>| view(c, r, git.clone(), held, s);
    let views = [
        v("eu", "primary", Some(live(git.clone(), "1")), None),
        v("dr", "standby", None, Some(Class::Missing)),
        v("us", "primary", Some(live(git.clone(), "2")), None),
    ];
    let groups = compare(&views, &[("ap".into(), "primary".into())]);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].clusters, ["eu", "us"]);
    assert_eq!(groups[0].not_compared, ["ap"]);
    assert!(render_text(&groups).contains("not compared (drift failed): ap"));
    assert_eq!(exit_code(&groups), 0);
}

#[test]
fn objects_git_declares_for_some_clusters_only() {
    let git = cm(json!({"mode": "fast"}));
    let eu = view(
        "eu",
        "primary",
        git.clone(),
        Some(live(git.clone(), "1")),
        None,
    );
    // Not declared for us (an extra layer of eu): absent there, as Git intends.
    let us = View::new("us", "primary", &report(&[], Vec::new()), Vec::new());
    assert!(compare(&[eu.clone(), us], &[])[0].differing.is_empty());
    // Declared for none, left in one as an orphan: differs.
    let orphan = Finding::new(Class::Orphaned, id("ConfigMap", "old"));
    let eu2 = View::new("eu", "primary", &report(&[], vec![orphan]), Vec::new());
    let us2 = View::new("us", "primary", &report(&[], Vec::new()), Vec::new());
    let groups = compare(&[eu2, us2], &[]);
    let row = &groups[0].differing[0];
    assert_eq!(row.states["eu"], State::Orphaned);
    assert_eq!(row.states["us"], State::Absent);
}

#[test]
fn per_cluster_fields_are_left_out() {
    let svc = |ip: &str, port: u16| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": "web"},
            "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"name": "http", "port": 80, "nodePort": port}]}})
    };
    let sid = id("Service", "api");
    assert_eq!(
        mask::per_cluster(&sid, &svc("10.0.0.1", 30001)),
        mask::per_cluster(&sid, &svc("10.0.0.2", 30002))
    );
    let mut other = svc("10.0.0.2", 30002);
    other["spec"]["ports"][0]["port"] = json!(81);
    assert_ne!(
        mask::per_cluster(&sid, &svc("10.0.0.1", 30001)),
        mask::per_cluster(&sid, &other)
    );
}

#[test]
fn fields_git_sets_differently_are_left_out_whole_lists_by_position() {
    let a = json!({"spec": {"args": ["a", "b"], "containers": [{"name": "x", "image": "1"}, {"name": "y", "image": "2"}], "keep": 1}});
    let b = json!({"spec": {"args": ["a"], "containers": [{"name": "x", "image": "9"}, {"name": "y", "image": "2"}], "keep": 1}});
    let paths = changed_paths(&a, &b);
    let out = mask::without(&a, &paths);
    assert_eq!(
        out,
        json!({"spec": {"containers": [{"name": "x"}, {"name": "y", "image": "2"}], "keep": 1}})
    );
    assert_eq!(out, mask::without(&b, &paths));
}

#[test]
fn an_env_var_set_by_hand_in_one_cluster_names_its_manager() {
    let deployment = |env: Option<Value>| {
        let mut c = json!({"name": "web", "image": "web:1"});
        if let Some(e) = env {
            c["env"] = e;
        }
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "web"},
            "spec": {"template": {"spec": {"containers": [c]}}}})
    };
    let i = ObjectId::new("apps", "Deployment", Some("web"), "web");
    let mut set = deployment(Some(json!([{"name": "DEBUG", "value": "1"}])));
    set["metadata"]["managedFields"] = json!([{"manager": "kubectl-set", "operation": "Update",
        "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
            "f:env": {".": {}, "k:{\"name\":\"DEBUG\"}": {".": {}, "f:name": {}, "f:value": {}}}}}}}}}}]);
    let view = |c: &str, live: Value| {
        let seen = vec![Seen {
            id: i.clone(),
            desired: deployment(None),
            live: Some(live),
        }];
        View::new(
            c,
            "primary",
            &report(std::slice::from_ref(&i), Vec::new()),
            seen,
        )
    };
    let groups = compare(&[view("eu", deployment(None)), view("us", set)], &[]);
    let f = &groups[0].differing[0].fields;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0].path.to_string(),
        "spec.template.spec.containers[name=web].env[name=DEBUG]"
    );
    assert_eq!(f[0].changed_by["us"].manager, "kubectl-set");
}
