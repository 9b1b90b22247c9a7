//! The JSON rendering, schema `rekube.dev/v1alpha1` `Plan`: keys in a fixed order, arrays in node order.

use serde_json::{Value, json};

use crate::graph::Plan;
use crate::graph::model::{Edge, Node, NodeId};

pub fn json(plan: &Plan) -> String {
    let g = plan.graph();
    let layers: Vec<Value> = g
        .layers()
        .iter()
        .map(|l| json!({"name": l.name, "path": l.path, "dependsOn": l.depends_on}))
        .collect();
    let waves: Vec<Value> = plan
        .waves()
        .iter()
        .enumerate()
        .map(|(w, nodes)| json!({"wave": w, "objects": nodes.iter().map(|&n| g.node(n).label()).collect::<Vec<_>>()}))
        .collect();
    let objects: Vec<Value> = g
        .objects()
        .map(|(n, o)| {
            let mut object = json!({
                "id": {"group": o.id.group, "kind": o.id.kind, "namespace": o.id.namespace, "name": o.id.name},
                "ref": o.id.to_string(),
                "layer": g.layers().get(o.layer).map(|l| l.name.as_str()),
                "source": o.source.to_string(),
                "wave": plan.wave_of(n),
                "syncWave": o.wave,
                "digest": o.digest,
                "waitsFor": waits_for(plan, n),
            });
            if o.sops {
                object["sops"] = json!(true);
            }
            // Only hooks carry the key: plans without charts keep their shape.
            if let (Some(h), Some(map)) = (&o.hook, object.as_object_mut()) {
                map.insert(
                    "hook".into(),
                    json!({"stage": h.stage, "weight": h.weight, "description": g.describe_hook(h)}),
                );
            }
            object
        })
        .collect();
    let barriers: Vec<Value> = g
        .nodes()
        .iter()
        .enumerate()
        .skip(g.object_count())
        .filter_map(|(i, node)| match node {
            Node::Barrier(b) => Some(json!({
                "name": b.label,
                "layer": g.layers().get(b.layer).map(|l| l.name.as_str()),
                "waitsFor": waits_for(plan, NodeId(i)),
            })),
            Node::Object(_) => None,
        })
        .collect();
    let externals: Vec<Value> = g
        .externals()
        .iter()
        .map(|x| {
            json!({"from": g.node(x.from).label(), "target": x.target.to_string(),
                "group": x.target.group, "rule": x.rule, "detail": x.detail})
        })
        .collect();
    let doc = json!({
        "apiVersion": "rekube.dev/v1alpha1",
        "kind": "Plan",
        "digest": plan.digest(),
        "layers": layers,
        "waves": waves,
        "objects": objects,
        "barriers": barriers,
        "externals": externals,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

fn waits_for(plan: &Plan, n: NodeId) -> Vec<Value> {
    let g = plan.graph();
    g.dependencies(n)
        .iter()
        .map(|e: &Edge| json!({"target": g.node(e.to).label(), "rule": e.rule, "detail": e.detail}))
        .collect()
}
