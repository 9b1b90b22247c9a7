//! Whole-graph tests: layers, cycles, determinism, traversal orders, errors.

use serde_json::json;

use super::testutil::{edge_lines, fixture, layer, object};
use super::*;
use crate::object::Object;

fn cm(layer: &str, name: &str, depends_on: Option<&str>) -> Object {
    let mut body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "a"}});
    if let Some(d) = depends_on {
        body["metadata"]["annotations"] = json!({"config.kubernetes.io/depends-on": d});
    }
    object(layer, body)
}

#[test]
fn layer_edges_go_through_one_barrier() {
    let layers = vec![
        layer("cluster", &[]),
        layer("tools", &["cluster"]),
        layer("apps", &["tools", "cluster"]),
    ];
    let objects = vec![
        cm("cluster", "c", None),
        cm("apps", "a1", None),
        cm("apps", "a2", None),
    ];
    let g = build(&layers, &objects, &GraphOptions::default()).unwrap();
    assert_eq!(
        edge_lines(&g),
        vec![
            "ConfigMap/a/a1 -> layer cluster: Layer (layer apps depends on cluster)",
            "ConfigMap/a/a1 -> layer tools: Layer (layer apps depends on tools)",
            "ConfigMap/a/a2 -> layer cluster: Layer (layer apps depends on cluster)",
            "ConfigMap/a/a2 -> layer tools: Layer (layer apps depends on tools)",
            "layer cluster -> ConfigMap/a/c: Layer ()",
            "layer tools -> layer cluster: Layer ()",
        ],
        "the empty tools layer still passes the order on"
    );
    let a1 = g.find(&objects[1].id).unwrap();
    let c = g.find(&objects[0].id).unwrap();
    assert_eq!(g.object_dependencies(a1), vec![c]);
    let plan = Plan::new(g);
    assert_eq!(plan.waves().len(), 2);
}

#[test]
fn cycles_are_errors() {
    let cases: Vec<(&str, Vec<Layer>, Vec<Object>, &str)> = vec![
        (
            "self dependency",
            vec![layer("apps", &[])],
            vec![cm("apps", "x", Some("/namespaces/a/ConfigMap/x"))],
            "dependency cycle: ConfigMap/a/x -> ConfigMap/a/x\n  \
             ConfigMap/a/x -> ConfigMap/a/x: DependsOn (config.kubernetes.io/depends-on)",
        ),
        (
            "multi-edge cycle in graph is an error",
            vec![layer("apps", &[])],
            vec![
                cm("apps", "a", Some("/namespaces/a/ConfigMap/b")),
                cm("apps", "b", Some("/namespaces/a/ConfigMap/c")),
                cm("apps", "c", Some("/namespaces/a/ConfigMap/a")),
                cm("apps", "d", Some("/namespaces/a/ConfigMap/a")),
            ],
            "dependency cycle: ConfigMap/a/a -> ConfigMap/a/b -> ConfigMap/a/c -> ConfigMap/a/a\n  \
             ConfigMap/a/a -> ConfigMap/a/b: DependsOn (config.kubernetes.io/depends-on)\n  \
             ConfigMap/a/b -> ConfigMap/a/c: DependsOn (config.kubernetes.io/depends-on)\n  \
             ConfigMap/a/c -> ConfigMap/a/a: DependsOn (config.kubernetes.io/depends-on)",
        ),
        (
            "cycle through a layer",
            vec![layer("cluster", &[]), layer("apps", &["cluster"])],
            vec![
                cm("cluster", "early", Some("/namespaces/a/ConfigMap/late")),
                cm("apps", "late", None),
            ],
            "dependency cycle: ConfigMap/a/early -> ConfigMap/a/late -> layer cluster -> ConfigMap/a/early\n  \
             ConfigMap/a/early -> ConfigMap/a/late: DependsOn (config.kubernetes.io/depends-on)\n  \
             ConfigMap/a/late -> layer cluster: Layer (layer apps depends on cluster)\n  \
             layer cluster -> ConfigMap/a/early: Layer",
        ),
    ];
    for (name, layers, objects, want) in cases {
        match build(&layers, &objects, &GraphOptions::default()) {
            Err(GraphError::Cycle(e)) => assert_eq!(e.to_string(), want, "{name}"),
            other => panic!("{name}: expected a cycle, got {other:?}"),
        }
    }
}

#[test]
fn diamond_is_not_a_cycle() {
    let objects = vec![
        cm(
            "apps",
            "top",
            Some("/namespaces/a/ConfigMap/l,/namespaces/a/ConfigMap/r"),
        ),
        cm("apps", "l", Some("/namespaces/a/ConfigMap/bottom")),
        cm("apps", "r", Some("/namespaces/a/ConfigMap/bottom")),
        cm("apps", "bottom", None),
    ];
    let plan = plan(&[layer("apps", &[])], &objects, &GraphOptions::default()).unwrap();
    let labels: Vec<Vec<String>> = plan
        .waves()
        .iter()
        .map(|w| w.iter().map(|&n| plan.graph().node(n).label()).collect())
        .collect();
    assert_eq!(
        labels,
        vec![
            vec!["ConfigMap/a/bottom"],
            vec!["ConfigMap/a/l", "ConfigMap/a/r"],
            vec!["ConfigMap/a/top"]
        ]
    );
}

#[test]
fn digest_is_deterministic() {
    let (layers, objects) = fixture();
    let a = plan(&layers, &objects, &GraphOptions::default()).unwrap();

    // Another read order, and keys in another order in every body: the same plan.
    let mut shuffled: Vec<Object> = objects.iter().rev().cloned().collect();
    shuffled.rotate_left(5);
    for o in &mut shuffled {
        let reversed: serde_json::Map<String, serde_json::Value> = o
            .body
            .as_object()
            .unwrap()
            .iter()
            .rev()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        o.body = serde_json::Value::Object(reversed);
    }
    let b = plan(&layers, &shuffled, &GraphOptions::default()).unwrap();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(render::text(&a), render::text(&b));
    assert_eq!(render::json(&a), render::json(&b));

    // Any change of an object changes the digest.
    let mut changed = objects.clone();
    changed[9].body["data"] = json!({"k": "v"});
    let c = plan(&layers, &changed, &GraphOptions::default()).unwrap();
    assert_ne!(a.digest(), c.digest());
}

#[test]
fn orders_respect_every_edge() {
    let (layers, objects) = fixture();
    let g = build(&layers, &objects, &GraphOptions::default()).unwrap();
    let order = g.topological_order();
    assert_eq!(order.len(), g.nodes().len());
    let mut position = vec![0; order.len()];
    for (i, n) in order.iter().enumerate() {
        position[n.0] = i;
    }
    for e in g.edges() {
        assert!(position[e.to.0] < position[e.from.0], "{e:?}");
    }
    let reverse = g.reverse_topological_order();
    assert_eq!(reverse.first(), order.last());
    for n in 0..g.nodes().len() {
        for e in g.dependents(NodeId(n)) {
            assert_eq!(e.to, NodeId(n));
            assert!(g.dependencies(e.from).contains(e));
        }
    }
}

#[test]
fn fixture_ordering() {
    let (layers, objects) = fixture();
    let plan = plan(&layers, &objects, &GraphOptions::default()).unwrap();
    let g = plan.graph();
    let wave = |kind: &str, name: &str| {
        let (n, _) = g
            .objects()
            .find(|(_, o)| o.id.kind == kind && o.id.name == name)
            .unwrap();
        plan.wave_of(n)
    };
    assert_eq!(wave("Namespace", "shop"), 0);
    assert!(
        wave("CustomResourceDefinition", "backups.platform.example.com")
            < wave("Backup", "nightly")
    );
    assert!(
        wave("Deployment", "web") < wave("Backup", "nightly"),
        "depends-on"
    );
    assert!(
        wave("Deployment", "operator") < wave("ValidatingWebhookConfiguration", "operator"),
        "webhook last"
    );
    assert!(
        wave("ValidatingWebhookConfiguration", "operator") < wave("ConfigMap", "web"),
        "layers"
    );
    assert!(
        wave("Deployment", "web") < wave("Job", "smoke"),
        "sync wave"
    );
}

#[test]
fn input_errors() {
    let objects = vec![cm("apps", "x", None), cm("apps", "x", None)];
    let err = build(&[layer("apps", &[])], &objects, &GraphOptions::default()).unwrap_err();
    assert!(matches!(err, GraphError::DuplicateObject { .. }), "{err}");
    let err = build(
        &[layer("tools", &[])],
        &objects[..1],
        &GraphOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ConfigMap/a/x (apps/configmap-x.yaml:1): unknown layer \"apps\""
    );
    let err = build(&[layer("apps", &["nope"])], &[], &GraphOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "layer apps: unknown layer \"nope\"");
    let bad_wave = object(
        "apps",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a",
            "annotations": {"argocd.argoproj.io/sync-wave": "soon"}}}),
    );
    let err = build(&[layer("apps", &[])], &[bad_wave], &GraphOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid argocd.argoproj.io/sync-wave \"soon\""),
        "{err}"
    );
}
