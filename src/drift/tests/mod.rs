//! Classification: objects of Git, orphans, unmanaged objects, managed namespaces.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::classify::{desired, managed_namespaces, orphans, unmanaged};
use super::*;
use crate::cluster::ClusterError;
use crate::diff::DiffOptions;
use crate::diff::{DryRun, Observation};
use crate::inventory::{Contents, Listed, Member};
use crate::object::{Object, SourceLoc};

fn deployment(image: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}
    })
}

fn object(body: Value) -> Object {
    let kind = body["kind"].as_str().unwrap_or_default().to_string();
    let group = if kind == "Deployment" { "apps" } else { "" };
    Object {
        id: ObjectId::new(
            group,
            &kind,
            Some("shop"),
            body["metadata"]["name"].as_str().unwrap_or_default(),
        ),
        api_version: body["apiVersion"].as_str().unwrap_or_default().to_string(),
        body,
        source: SourceLoc {
            layer: "apps".into(),
            path: "apps/web.yaml".into(),
            line: 7,
            document: 1,
        },
    }
}

/// The live Deployment after `kubectl set image`: kubectl-set owns the image, rekube the rest.
fn drifted_live() -> Value {
    let mut live = deployment("web:hacked", 2);
    live["metadata"]["managedFields"] = json!([
        {"manager": "rekube", "operation": "Apply", "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:name": {}}}}}}}},
        {"manager": "kubectl-set", "operation": "Update", "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1",
         "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {"f:image": {}}}}}}}}
    ]);
    live
}

fn report(findings: Vec<Finding>, fail_on: BTreeSet<Class>) -> DriftReport {
    DriftReport {
        origin: "https://git.example/infra.git".into(),
        revision: Some("0123456789abcdef".into()),
        dirty: false,
        server: "https://prod:6443".into(),
        inventory: "default".into(),
        checked: 3,
        in_sync: vec![InSync {
            id: ObjectId::new("", "ConfigMap", Some("shop"), "a&b"),
            source: "apps/c.yaml:3".into(),
        }],
        findings,
        fail_on,
        warnings: Vec::new(),
        seconds: 0.5,
    }
}

#[test]
fn classification_of_git_objects() {
    let obj = object(deployment("web:1.0", 2));
    let failed = || ClusterError::Failed {
        object: "Deployment/shop/web".into(),
        message: "admission webhook denied".into(),
    };
    let cases: Vec<(&str, Observation, Option<Class>)> = vec![
        (
            "in sync",
            Observation {
                live: Some(deployment("web:1.0", 2)),
                dry_run: DryRun::Ok(deployment("web:1.0", 2)),
            },
            None,
        ),
        (
            "proved in sync without a copy",
            Observation {
                live: Some(deployment("web:1.0", 2)),
                dry_run: DryRun::InSync,
            },
            None,
        ),
        (
            "changed by hand",
            Observation {
                live: Some(drifted_live()),
                dry_run: DryRun::Ok(deployment("web:1.0", 2)),
            },
            Some(Class::Modified),
        ),
        (
            "absent",
            Observation {
                live: None,
                dry_run: DryRun::Ok(deployment("web:1.0", 2)),
            },
            Some(Class::Missing),
        ),
        (
            "its CRD is not installed yet",
            Observation {
                live: None,
                dry_run: DryRun::Pending {
                    reason: "its CustomResourceDefinition is not installed yet".into(),
                },
            },
            Some(Class::Missing),
        ),
        (
            "dry-run refused",
            Observation {
                live: Some(deployment("web:1.0", 2)),
                dry_run: DryRun::Failed(Box::new(failed())),
            },
            Some(Class::Unverifiable),
        ),
    ];
    for (name, obs, want) in cases {
        let got = desired(&obj, &obs, &DiffOptions::default());
        assert_eq!(got.as_ref().map(|f| f.class), want, "{name}");
        if let Some(f) = got {
            assert_eq!(
                f.source.as_deref(),
                Some("apps/web.yaml:7"),
                "{name}: where it is declared"
            );
        }
    }
}

#[test]
fn modified_names_the_manager() {
    let obs = Observation {
        live: Some(drifted_live()),
        dry_run: DryRun::Ok(deployment("web:1.0", 2)),
    };
    let f = desired(
        &object(deployment("web:1.0", 2)),
        &obs,
        &DiffOptions::default(),
    );
    let f = f.unwrap_or_else(|| panic!("drift expected"));
    assert_eq!(f.fields.len(), 1);
    assert_eq!(
        f.fields[0].path.to_string(),
        "spec.template.spec.containers[name=web].image"
    );
    let by = f.fields[0]
        .changed_by
        .as_ref()
        .map(|a| (a.manager.as_str(), a.operation.as_str()));
    assert_eq!(by, Some(("kubectl-set", "Update")));
    assert!(
        f.diff
            .as_deref()
            .is_some_and(|d| d.contains("-      - image: web:hacked")),
        "{:?}",
        f.diff
    );
}

mod outside;
mod render;
mod statefulset;
