//! DOT (Graphviz) and Mermaid renderings: objects grouped by layer, barriers as diamonds, edges labelled
//! with their rule and pointing from dependent to dependency.

use std::fmt::Write;

use crate::graph::Plan;
use crate::graph::model::Node;

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn dot(plan: &Plan) -> String {
    let g = plan.graph();
    let mut out = String::from(
        "digraph plan {\n  rankdir=RL;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for (l, layer) in g.layers().iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{l} {{\n    label=\"layer {}\";",
            escape(&layer.name)
        );
        for (n, o) in g.objects().filter(|(_, o)| o.layer == l) {
            let _ = writeln!(
                out,
                "    n{} [label=\"{}\"];",
                n.0,
                escape(&o.id.to_string())
            );
        }
        out.push_str("  }\n");
    }
    for (i, node) in g.nodes().iter().enumerate().skip(g.object_count()) {
        let _ = writeln!(
            out,
            "  n{i} [label=\"{}\", shape=diamond];",
            escape(&node.label())
        );
    }
    for e in g.edges() {
        let _ = writeln!(
            out,
            "  n{} -> n{} [label=\"{}\"];",
            e.from.0, e.to.0, e.rule
        );
    }
    out.push_str("}\n");
    out
}

fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
}

pub fn mermaid(plan: &Plan) -> String {
    let g = plan.graph();
    let mut out = String::from("flowchart RL\n");
    for (l, layer) in g.layers().iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph layer_{l}[\"layer {}\"]",
            mermaid_text(&layer.name)
        );
        for (n, o) in g.objects().filter(|(_, o)| o.layer == l) {
            let _ = writeln!(out, "    n{}[\"{}\"]", n.0, mermaid_text(&o.id.to_string()));
        }
        out.push_str("  end\n");
    }
    for (i, node) in g.nodes().iter().enumerate().skip(g.object_count()) {
        if let Node::Barrier(b) = node {
            let _ = writeln!(out, "  n{i}{{{{\"{}\"}}}}", mermaid_text(&b.label));
        }
    }
    for e in g.edges() {
        let _ = writeln!(out, "  n{} -->|{}| n{}", e.from.0, e.rule, e.to.0);
    }
    out
}
