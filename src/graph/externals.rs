//! References to objects absent from the repository, summarised one line per missing object with who
//! needs it: `plan`, `apply` and friends show them as warnings (errors with `--strict`), the reconciler
//! logs them. Built-in namespaces every cluster has are left out.

use std::collections::BTreeMap;

use super::{Graph, Node};

/// `Namespace/x is not in the repository (must exist in the cluster); needed by A (path:1, rule) and 2
/// more`, one per missing object, in object order.
pub fn external_summary(graph: &Graph) -> Vec<String> {
    let mut by_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for x in graph.externals() {
        let builtin_ns = x.target.kind == "Namespace"
            && x.target.group.is_empty()
            && crate::builtin::is_builtin_namespace(&x.target.name);
        if builtin_ns {
            continue;
        }
        if let Node::Object(o) = graph.node(x.from) {
            let why = if x.detail.is_empty() {
                x.rule.to_string()
            } else {
                format!("{}: {}", x.rule, x.detail)
            };
            by_target
                .entry(x.target.to_string())
                .or_default()
                .push(format!("{} ({}, {why})", o.id, o.source));
        }
    }
    by_target
        .iter()
        .map(|(target, users)| {
            let shown: Vec<&str> = users.iter().take(3).map(String::as_str).collect();
            let more = match users.len() - shown.len() {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            format!(
                "{target} is not in the repository (must exist in the cluster); needed by {}{more}",
                shown.join(", ")
            )
        })
        .collect()
}
