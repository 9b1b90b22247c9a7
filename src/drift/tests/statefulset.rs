//! Claims a StatefulSet creates from its volumeClaimTemplates carry no owner reference (unless its
//! retention policy deletes them), yet they are the StatefulSet's, not unmanaged.

use serde_json::json;

use super::object;
use super::outside::listed;
use crate::drift::classify::unmanaged;
use crate::object::ObjectId;

#[test]
fn claims_of_a_statefulset_in_git_are_not_unmanaged() {
    let mut sts = object(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "postgres", "namespace": "shop"},
        "spec": {"replicas": 2, "volumeClaimTemplates": [{"metadata": {"name": "data"}}, {"metadata": {"name": "wal"}}]}
    }));
    sts.id = ObjectId::new("apps", "StatefulSet", Some("shop"), "postgres");
    let desired = [sts.id.clone()].into();
    let claim = |name: &str| listed("", "PersistentVolumeClaim", name, json!({}));
    let cases = [
        ("first replica", claim("data-postgres-0"), false),
        (
            "second template, a scaled-down ordinal kept by Retain",
            claim("wal-postgres-7"),
            false,
        ),
        ("another StatefulSet's", claim("data-redis-0"), true),
        ("not an ordinal", claim("data-postgres-backup"), true),
        (
            "a ConfigMap named like a claim",
            listed("", "ConfigMap", "data-postgres-0", json!({})),
            true,
        ),
    ];
    for (what, l, want) in cases {
        let found = unmanaged(std::slice::from_ref(&l), &desired);
        assert_eq!(found.len() == 1, want, "{what}");
    }
}
