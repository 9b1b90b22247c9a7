//! Where the API serves an object: its Namespace, and for a custom resource its CustomResourceDefinition.

use crate::builtin::is_builtin_group;
use crate::graph::builder::{Builder, Ref};
use crate::graph::model::{NodeId, Rule};

/// A namespaced object waits for its Namespace.
pub fn add_namespace_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        if let Some(ns) = o.namespace() {
            b.reference(n, Ref::new("", "Namespace", None, ns), Rule::Namespace, "");
        }
    }
}

/// A custom resource waits for the CRD whose `spec.group` and `spec.names.kind` match its own.
/// Without such a CRD in the repository, a kind outside the built-in groups is an external reference.
pub fn add_crd_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        let (group, kind) = (o.id.group.as_str(), o.id.kind.as_str());
        if let Some(crd) = b.crd(group, kind) {
            b.edge(NodeId(n), NodeId(crd), Rule::CustomResourceDefinition, "");
        } else if !is_builtin_group(group) {
            let served = o.id.group_kind();
            b.reference(
                n,
                Ref::new(
                    "apiextensions.k8s.io",
                    "CustomResourceDefinition",
                    None,
                    &served,
                ),
                Rule::CustomResourceDefinition,
                "",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::graph::testutil::{Case, check_cases, object};

    #[test]
    fn namespace_edges() {
        let ns = || {
            object(
                "cluster",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            )
        };
        let cm = |ns: &str| {
            object(
                "apps",
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}}),
            )
        };
        let cases = vec![
            Case::new(
                "namespaced object waits for its namespace",
                vec![ns(), cm("shop")],
            )
            .edges(&["ConfigMap/shop/c -> Namespace/shop: Namespace ()"]),
            Case::new("absent namespace is external", vec![cm("other")])
                .externals(&["ConfigMap/other/c -> Namespace/other: Namespace ()"]),
            Case::new(
                "built-in namespace is neither",
                vec![cm("default"), cm("kube-system")],
            ),
            Case::new("cluster-scoped object waits for nothing", vec![ns()]),
        ];
        check_cases(cases, add_namespace_edges);
    }

    #[test]
    fn crd_edges() {
        let crd = || {
            object(
                "cluster",
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": "widgets.example.com"},
                    "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}}}),
            )
        };
        let cr = |api: &str, kind: &str| {
            object(
                "apps",
                json!({"apiVersion": api, "kind": kind, "metadata": {"name": "w", "namespace": "shop"}}),
            )
        };
        let cases = vec![
            Case::new("custom resource waits for its CRD", vec![crd(), cr("example.com/v1", "Widget")])
                .edges(&["Widget/shop/w -> CustomResourceDefinition/widgets.example.com: CustomResourceDefinition ()"]),
            Case::new("any version matches", vec![crd(), cr("example.com/v2beta1", "Widget")])
                .edges(&["Widget/shop/w -> CustomResourceDefinition/widgets.example.com: CustomResourceDefinition ()"]),
            Case::new("other kind of the group is external", vec![crd(), cr("example.com/v1", "Gadget")])
                .externals(&["Gadget/shop/w -> CustomResourceDefinition/Gadget.example.com: CustomResourceDefinition ()"]),
            Case::new("built-in kind needs no CRD", vec![crd(), cr("apps/v1", "Deployment")]),
        ];
        check_cases(cases, add_crd_edges);
    }
}
