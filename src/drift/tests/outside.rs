//! Objects that are not in Git: orphans of the inventory and unmanaged objects (with the tables of
//! what Kubernetes and controllers make by themselves).

use serde_json::{Value, json};

use super::*;
fn member(kind: &str, name: &str, annotations: &[(&str, &str)]) -> Member {
    Member {
        id: ObjectId::new("", kind, Some("shop"), name),
        api_version: "v1".into(),
        uid: None,
        annotations: annotations
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    }
}

#[test]
fn orphans_say_where_they_were_and_what_prune_does() {
    let members = vec![
        member("ConfigMap", "in-git", &[]),
        member(
            "ConfigMap",
            "old",
            &[
                ("rekube.dev/source", "apps/apps/old.yaml#0"),
                ("rekube.dev/revision", "0123456789abcdef0123"),
            ],
        ),
        member("ConfigMap", "keep", &[("helm.sh/resource-policy", "keep")]),
        member("PersistentVolumeClaim", "data", &[]),
    ];
    let desired: BTreeSet<ObjectId> =
        [ObjectId::new("", "ConfigMap", Some("shop"), "in-git")].into();
    let found = orphans(&members, &desired);
    let lines: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f.id,
                f.source.clone().unwrap_or_default(),
                f.message.clone().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(found.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("ConfigMap/shop/old apps/apps/old.yaml#0 at 0123456789ab"),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("the next apply prunes it"), "{lines:?}");
    assert!(
        lines[1].contains("prune keeps it: annotated helm.sh/resource-policy"),
        "{lines:?}"
    );
    assert!(lines[2].contains("--prune-protected"), "{lines:?}");
}

pub(super) fn listed(group: &str, kind: &str, name: &str, meta: Value) -> Listed {
    let mut m = meta;
    m["name"] = json!(name);
    m["namespace"] = json!("shop");
    Listed {
        id: ObjectId::new(group, kind, Some("shop"), name),
        api_version: "v1".into(),
        meta: serde_json::from_value(m).unwrap_or_default(),
    }
}

#[test]
fn unmanaged_objects() {
    let owned = json!({"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u"}]});
    let cases = [
        (
            "made by hand",
            listed("apps", "Deployment", "handmade", json!({})),
            true,
        ),
        (
            "in Git",
            listed("apps", "Deployment", "web", json!({})),
            false,
        ),
        (
            "a Pod of a managed ReplicaSet",
            listed("", "Pod", "web-1-x", owned.clone()),
            false,
        ),
        (
            "an owned ReplicaSet",
            listed("apps", "ReplicaSet", "web-1", owned),
            false,
        ),
        (
            "default ServiceAccount",
            listed("", "ServiceAccount", "default", json!({})),
            false,
        ),
        (
            "another ServiceAccount",
            listed("", "ServiceAccount", "robot", json!({})),
            true,
        ),
        (
            "root CA",
            listed("", "ConfigMap", "kube-root-ca.crt", json!({})),
            false,
        ),
        (
            "token Secret",
            listed(
                "",
                "Secret",
                "t",
                json!({"annotations": {"kubernetes.io/service-account.name": "robot"}}),
            ),
            false,
        ),
        ("an Event", listed("", "Event", "e", json!({})), false),
        (
            "an EndpointSlice",
            listed("discovery.k8s.io", "EndpointSlice", "s", json!({})),
            false,
        ),
        (
            "Endpoints",
            listed("", "Endpoints", "web", json!({})),
            false,
        ),
        (
            "a Lease",
            listed("coordination.k8s.io", "Lease", "l", json!({})),
            false,
        ),
        (
            "a claim of a StatefulSet's volumeClaimTemplate",
            listed("", "PersistentVolumeClaim", "data-db-0", json!({})),
            false,
        ),
        (
            "a claim of a template with dashes, ordinal 12",
            listed("", "PersistentVolumeClaim", "wal-log-db-12", json!({})),
            false,
        ),
        (
            "a claim named like one of no StatefulSet",
            listed("", "PersistentVolumeClaim", "data-other-0", json!({})),
            true,
        ),
        (
            "a claim made by hand",
            listed("", "PersistentVolumeClaim", "db-0", json!({})),
            true,
        ),
        (
            "a Helm release Secret",
            listed(
                "",
                "Secret",
                "sh.helm.release.v1.cache.v3",
                json!({"labels": {"owner": "helm", "name": "cache"}}),
            ),
            false,
        ),
        (
            "a Helm release ConfigMap (configmap driver)",
            listed(
                "",
                "ConfigMap",
                "sh.helm.release.v1.cache.v1",
                json!({"labels": {"owner": "helm"}}),
            ),
            false,
        ),
        (
            "a Secret named like a release, not Helm's",
            listed("", "Secret", "sh.helm.release.v1.cache.v1", json!({})),
            true,
        ),
        (
            "a member of this set (an orphan, not unmanaged)",
            listed(
                "",
                "ConfigMap",
                "m",
                json!({"labels": {"applyset.kubernetes.io/part-of": "applyset-x-v1"}}),
            ),
            false,
        ),
        (
            "another ApplySet's parent",
            listed(
                "",
                "Secret",
                "p",
                json!({"labels": {"applyset.kubernetes.io/id": "applyset-y-v1"}}),
            ),
            false,
        ),
    ];
    let desired: BTreeSet<ObjectId> = [
        ObjectId::new("apps", "Deployment", Some("shop"), "web"),
        ObjectId::new("apps", "StatefulSet", Some("shop"), "db"),
    ]
    .into();
    for (name, l, want) in cases {
        let found = unmanaged(std::slice::from_ref(&l), &desired);
        assert_eq!(found.len() == 1, want, "{name}");
    }
    let by = unmanaged(
        &[listed(
            "apps",
            "Deployment",
            "handmade",
            json!({"managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "time": "2026-01-02T00:00:00Z", "subresource": "status"},
                {"manager": "kubectl-create", "operation": "Update", "time": "2026-01-01T00:00:00Z"}
            ]}),
        )],
        &desired,
    );
    assert_eq!(
        by[0].created_by.as_ref().map(|a| a.manager.as_str()),
        Some("kubectl-create")
    );
}

#[test]
fn claims_of_a_live_statefulset_are_not_unmanaged() {
    // An operator's StatefulSet (owned by its custom resource) is not in Git, and its claims are not
    // owned by anything: the StatefulSet found in the namespace accounts for them.
    let owned = json!({"ownerReferences": [{"apiVersion": "example.com/v1", "kind": "Cache", "name": "c", "uid": "u"}]});
    let found = unmanaged(
        &[
            listed("apps", "StatefulSet", "cache", owned),
            listed("", "PersistentVolumeClaim", "data-cache-2", json!({})),
            listed("", "PersistentVolumeClaim", "data-cache", json!({})),
        ],
        &BTreeSet::new(),
    );
    let names: Vec<&str> = found.iter().map(|f| f.id.name.as_str()).collect();
    assert_eq!(names, vec!["data-cache"]);
}

#[test]
fn managed_namespaces_skip_built_in_ones() {
    let ns = |name: &str| Object {
        id: ObjectId::new("", "Namespace", None, name),
        ..object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    };
    let got = managed_namespaces(
        &[ns("shop"), ns("kube-system")],
        &Contents::parse("", "default,payments"),
    );
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        vec!["payments", "shop"]
    );
}
