//! The text rendering: layers, waves with their objects, what each object waits for and why, external
//! references, and the digest.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::graph::Plan;
use crate::graph::model::{Edge, Node, NodeId};

/// At most this many referrers are named per external reference; the rest are counted.
const MAX_REFERRERS: usize = 3;

pub fn text(plan: &Plan) -> String {
    let g = plan.graph();
    let mut out = String::new();
    let _ = writeln!(out, "Plan {}", plan.digest());
    let hooks = g.objects().filter(|(_, o)| o.hook.is_some()).count();
    let objects = g.object_count() - hooks;
    let hooks = match hooks {
        0 => String::new(),
        1 => ", 1 hook run".to_string(),
        n => format!(", {n} hook runs"),
    };
    let _ = writeln!(
        out,
        "{objects} objects{hooks}, {} edges, {} waves",
        g.edges().len(),
        plan.waves().len()
    );
    out.push_str("\nLayers:\n");
    let mut counts = vec![0usize; g.layers().len()];
    for (_, o) in g.objects() {
        counts[o.layer] += 1;
    }
    for (layer, count) in g.layers().iter().zip(counts) {
        let _ = write!(out, "  {} ({}/): {count} objects", layer.name, layer.path);
        if !layer.depends_on.is_empty() {
            let _ = write!(out, ", depends on {}", layer.depends_on.join(", "));
        }
        out.push('\n');
    }
    for (w, wave) in plan.waves().iter().enumerate() {
        let _ = writeln!(out, "\nWave {w}:");
        for &n in wave {
            let Node::Object(o) = g.node(n) else { continue };
            let layer = g.layers().get(o.layer).map_or("", |l| l.name.as_str());
            let sealed = if o.sops { "  (SOPS-encrypted)" } else { "" };
            match &o.hook {
                Some(h) => {
                    let what = g.describe_hook(h);
                    let _ = writeln!(out, "  {}  [{layer}] {what} {}{sealed}", o.id, o.source);
                }
                None => {
                    let _ = writeln!(out, "  {}  [{layer}] {}{sealed}", o.id, o.source);
                }
            }
            for e in g.dependencies(n) {
                let _ = writeln!(out, "    waits for {}", waits_for(plan, e));
            }
        }
    }
    let barriers: Vec<(usize, &Node)> = g
        .nodes()
        .iter()
        .enumerate()
        .skip(g.object_count())
        .collect();
    if !barriers.is_empty() {
        out.push_str("\nBarriers (virtual, never applied):\n");
        for (i, node) in barriers {
            let _ = writeln!(out, "  {}", node.label());
            let deps = g.dependencies(NodeId(i));
            let objects = deps
                .iter()
                .filter(|e| g.node(e.to).as_object().is_some())
                .count();
            if objects > 0 {
                let _ = writeln!(out, "    waits for {objects} objects ({})", deps[0].rule);
            }
            for e in deps.iter().filter(|e| g.node(e.to).as_object().is_none()) {
                let _ = writeln!(out, "    waits for {}", waits_for(plan, e));
            }
        }
    }
    externals(plan, &mut out);
    out
}

/// `Kind/ns/name (Rule: detail)`.
fn waits_for(plan: &Plan, e: &Edge) -> String {
    let target = plan.graph().node(e.to).label();
    if e.detail.is_empty() {
        format!("{target} ({})", e.rule)
    } else {
        format!("{target} ({}: {})", e.rule, e.detail)
    }
}

/// External references grouped by target: they must exist in the cluster before apply.
fn externals(plan: &Plan, out: &mut String) {
    let g = plan.graph();
    if g.externals().is_empty() {
        out.push_str("\nExternal references: none\n");
        return;
    }
    let mut by_target: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for x in g.externals() {
        let key = (x.target.to_string(), x.rule.to_string());
        by_target
            .entry(key)
            .or_default()
            .push(g.node(x.from).label());
    }
    let _ = writeln!(
        out,
        "\nExternal references (not in the repository, must exist in the cluster): {}",
        by_target.len()
    );
    for ((target, rule), mut from) in by_target {
        from.dedup();
        let more = from.len().saturating_sub(MAX_REFERRERS);
        from.truncate(MAX_REFERRERS);
        let _ = write!(out, "  {target} ({rule}) referenced by {}", from.join(", "));
        if more > 0 {
            let _ = write!(out, " and {more} more");
        }
        out.push('\n');
    }
}
