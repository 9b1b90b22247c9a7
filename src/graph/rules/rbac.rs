//! RBAC: a binding waits for the role it grants and for its ServiceAccount subjects.

use crate::graph::builder::{Builder, Ref};
use crate::graph::model::Rule;

use super::{group_kind, items, str_at};

const RBAC: &str = "rbac.authorization.k8s.io";

/// RoleBinding → Role (same namespace) or ClusterRole; ClusterRoleBinding → ClusterRole.
pub fn add_role_ref_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        let namespace = match group_kind(o) {
            (RBAC, "RoleBinding") => o.namespace(),
            (RBAC, "ClusterRoleBinding") => None,
            _ => continue,
        };
        let (Some(kind), Some(name)) = (
            str_at(&o.body, "/roleRef/kind"),
            str_at(&o.body, "/roleRef/name"),
        ) else {
            continue;
        };
        let target = match kind {
            "Role" => Ref::new(RBAC, "Role", namespace, name),
            "ClusterRole" => Ref::new(RBAC, "ClusterRole", None, name),
            _ => continue,
        };
        b.reference(n, target, Rule::RoleRef, "roleRef");
    }
}

/// A binding waits for its `ServiceAccount` subjects (users and groups are not objects).
pub fn add_subject_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        let default_ns = match group_kind(o) {
            (RBAC, "RoleBinding") => o.namespace(),
            (RBAC, "ClusterRoleBinding") => None,
            _ => continue,
        };
        for (i, s) in items(&o.body, "/subjects").enumerate() {
            if str_at(s, "/kind") != Some("ServiceAccount") {
                continue;
            }
            let (Some(name), Some(ns)) =
                (str_at(s, "/name"), str_at(s, "/namespace").or(default_ns))
            else {
                continue;
            };
            b.reference(
                n,
                Ref::new("", "ServiceAccount", Some(ns), name),
                Rule::Subject,
                format!("subjects[{i}]"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::graph::testutil::{Case, check_cases, object};

    fn rbac(kind: &str, ns: Option<&str>, name: &str, extra: Value) -> crate::object::Object {
        let mut body = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name}});
        if let Some(ns) = ns {
            body["metadata"]["namespace"] = json!(ns);
        }
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        object("cluster", body)
    }

    fn role_ref(kind: &str, name: &str) -> Value {
        json!({"roleRef": {"apiGroup": RBAC, "kind": kind, "name": name}})
    }

    #[test]
    fn role_ref_edges() {
        let cases = vec![
            Case::new(
                "RoleBinding to a Role of its namespace",
                vec![
                    rbac("Role", Some("a"), "r", json!({})),
                    rbac("RoleBinding", Some("a"), "rb", role_ref("Role", "r")),
                ],
            )
            .edges(&["RoleBinding/a/rb -> Role/a/r: RoleRef (roleRef)"]),
            Case::new(
                "RoleBinding to a ClusterRole",
                vec![
                    rbac("ClusterRole", None, "r", json!({})),
                    rbac("RoleBinding", Some("a"), "rb", role_ref("ClusterRole", "r")),
                ],
            )
            .edges(&["RoleBinding/a/rb -> ClusterRole/r: RoleRef (roleRef)"]),
            Case::new(
                "Role of another namespace is not it",
                vec![
                    rbac("Role", Some("b"), "r", json!({})),
                    rbac("RoleBinding", Some("a"), "rb", role_ref("Role", "r")),
                ],
            )
            .externals(&["RoleBinding/a/rb -> Role/a/r: RoleRef (roleRef)"]),
            Case::new(
                "ClusterRoleBinding to a built-in ClusterRole",
                vec![rbac(
                    "ClusterRoleBinding",
                    None,
                    "crb",
                    role_ref("ClusterRole", "cluster-admin"),
                )],
            ),
        ];
        check_cases(cases, add_role_ref_edges);
    }

    #[test]
    fn subject_edges() {
        let sa = |ns: &str| {
            object(
                "cluster",
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "op", "namespace": ns}}),
            )
        };
        let subjects = json!({"subjects": [
            {"kind": "ServiceAccount", "name": "op"},
            {"kind": "User", "name": "alice"},
            {"kind": "ServiceAccount", "name": "op", "namespace": "b"}
        ]});
        let cases = vec![
            Case::new(
                "RoleBinding subject defaults to its namespace",
                vec![
                    sa("a"),
                    sa("b"),
                    rbac("RoleBinding", Some("a"), "rb", subjects.clone()),
                ],
            )
            .edges(&[
                "RoleBinding/a/rb -> ServiceAccount/a/op: Subject (subjects[0])",
                "RoleBinding/a/rb -> ServiceAccount/b/op: Subject (subjects[2])",
            ]),
            Case::new(
                "ClusterRoleBinding subject needs a namespace",
                vec![sa("b"), rbac("ClusterRoleBinding", None, "crb", subjects)],
            )
            .edges(&["ClusterRoleBinding/crb -> ServiceAccount/b/op: Subject (subjects[2])"]),
        ];
        check_cases(cases, add_subject_edges);
    }
}
