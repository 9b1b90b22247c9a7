use std::collections::{BTreeMap, BTreeSet};

use super::*;

fn member(
    group: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
    annotations: &[(&str, &str)],
) -> Member {
    Member {
        id: ObjectId::new(group, kind, ns, name),
        api_version: if group.is_empty() {
            "v1".into()
        } else {
            format!("{group}/v1")
        },
        uid: Some(format!("uid-{name}")),
        annotations: annotations
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn names(plan: &PrunePlan) -> Vec<Vec<String>> {
    plan.delete
        .iter()
        .map(|rank| rank.iter().map(|m| m.id.to_string()).collect())
        .collect()
}

#[test]
fn guards() {
    let cases = [
        ("rekube's own", ("rekube.dev/prune", "disabled"), true),
        (
            "rekube's, other value",
            ("rekube.dev/prune", "enabled"),
            false,
        ),
        (
            "Flux",
            ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
            true,
        ),
        (
            "Argo CD alone",
            ("argocd.argoproj.io/sync-options", "Prune=false"),
            true,
        ),
        (
            "Argo CD among others",
            (
                "argocd.argoproj.io/sync-options",
                "ServerSideApply=true, Prune=false",
            ),
            true,
        ),
        (
            "Argo CD, prune allowed",
            ("argocd.argoproj.io/sync-options", "Prune=true"),
            false,
        ),
        (
            "cli-utils",
            ("client.lifecycle.config.k8s.io/deletion", "detach"),
            true,
        ),
        ("Helm", ("helm.sh/resource-policy", "keep"), true),
        ("unrelated", ("example.com/keep", "true"), false),
    ];
    for (name, annotation, kept) in cases {
        let m = member("", "ConfigMap", Some("a"), "c", &[annotation]);
        assert_eq!(guard(&m).is_some(), kept, "{name}");
    }
}

#[test]
fn planning() {
    let members = vec![
        member("", "Namespace", None, "web", &[]),
        member("apps", "Deployment", Some("web"), "api", &[]),
        member("", "Service", Some("web"), "api", &[]),
        member(
            "",
            "ConfigMap",
            Some("web"),
            "kept",
            &[("helm.sh/resource-policy", "keep")],
        ),
        member("", "PersistentVolumeClaim", Some("web"), "data", &[]),
        member("example.com", "Widget", Some("web"), "w", &[]),
        member("rbac.authorization.k8s.io", "Role", Some("web"), "r", &[]),
        member(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            None,
            "v",
            &[],
        ),
        member(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            None,
            "widgets.example.com",
            &[],
        ),
        member(
            "apiregistration.k8s.io",
            "APIService",
            None,
            "v1.metrics.example.com",
            &[],
        ),
        member("", "ConfigMap", Some("web"), "still-in-git", &[]),
    ];
    let desired: BTreeSet<ObjectId> =
        [ObjectId::new("", "ConfigMap", Some("web"), "still-in-git")].into();

    let p = plan(&members, &desired, &PruneOptions::default());
    assert_eq!(p.set_size, 11);
    assert_eq!(
        names(&p),
        vec![
            vec![
                "ValidatingWebhookConfiguration/v",
                "APIService/v1.metrics.example.com"
            ],
            vec!["Widget/web/w"],
            vec!["Deployment/web/api"],
            vec!["Service/web/api"],
            vec!["Role/web/r"],
        ],
        "webhooks and APIServices (whose backends go later), custom resources, workloads, Services, \
         RBAC; protected kinds kept"
    );
    let kept: Vec<String> = p
        .kept
        .iter()
        .map(|k| format!("{} {}", k.member.id, k.reason))
        .collect();
    assert_eq!(kept.len(), 4, "{kept:?}");
    assert!(
        kept[0].starts_with("ConfigMap/web/kept annotated helm.sh/resource-policy: keep"),
        "{kept:?}"
    );
    assert!(
        kept.iter()
            .any(|k| k.starts_with("Namespace/web a protected kind")),
        "{kept:?}"
    );

    let all = plan(
        &members,
        &desired,
        &PruneOptions {
            protected: true,
            max_percent: 100,
        },
    );
    let order = names(&all);
    assert_eq!(
        order.last(),
        Some(&vec!["Namespace/web".to_string()]),
        "Namespaces go last"
    );
    assert_eq!(
        order[order.len() - 2],
        vec!["CustomResourceDefinition/widgets.example.com"],
        "CRDs after their custom resources"
    );
    assert!(
        order[3].contains(&"PersistentVolumeClaim/web/data".to_string()),
        "{order:?}"
    );
    assert_eq!(all.kept.len(), 1, "annotations win over --prune-protected");
}

#[test]
fn max_prune() {
    let set: Vec<Member> = (0..8)
        .map(|i| member("", "ConfigMap", Some("a"), &format!("c{i}"), &[]))
        .collect();
    let keep =
        |n: usize| -> BTreeSet<ObjectId> { set.iter().take(n).map(|m| m.id.clone()).collect() };
    let cases = [
        ("nothing to prune", 8, 25, true),
        ("2 of 8 is exactly 25%", 6, 25, true),
        ("3 of 8 is above 25%", 5, 25, false),
        ("everything, with 100%", 0, 100, true),
        ("everything, default", 0, 25, false),
        ("one object, with 0%", 7, 0, false),
    ];
    for (name, in_git, max, ok) in cases {
        let p = plan(&set, &keep(in_git), &PruneOptions::default());
        assert_eq!(p.check(max).is_ok(), ok, "{name}");
    }
    let err = plan(&set, &keep(2), &PruneOptions::default())
        .check(25)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("6 of the 8 objects"), "{err}");
    assert!(err.contains("75% > --max-prune 25%"), "{err}");
    assert!(
        err.contains("\n  ConfigMap/a/c7"),
        "lists what would go: {err}"
    );
}

#[test]
fn empty_set_prunes_nothing() {
    let p = plan(&[], &BTreeSet::new(), &PruneOptions::default());
    assert_eq!(p.deletions(), 0);
    assert!(p.check(0).is_ok());
}
