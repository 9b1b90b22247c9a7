//! The built-in health rules of well-known custom resources, case by case.

use serde_json::{Value, json};

use super::super::builtin;
use super::*;

fn obj(api_version: &str, kind: &str, status: Value) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "generation": 2}, "status": status})
}

fn conds(list: &[(&str, &str, &str)]) -> Value {
    let items: Vec<Value> = list.iter().map(|(t, s, r)| json!({"type": t, "status": s, "reason": r, "message": "", "observedGeneration": 2})).collect();
    json!({"conditions": items})
}

#[test]
fn builtin_table_parses() {
    let ctx = Context::default();
    assert_eq!(
        builtin::rules().len(),
        builtin::table_len(),
        "every built-in rule parses"
    );
    assert!(ctx.health.user_rules().is_empty());
}

#[test]
fn builtin_rules() {
    let cm = "cert-manager.io/v1";
    run(vec![
        case(
            "Certificate: fresh, no conditions",
            obj(cm, "Certificate", json!({})),
            Status::InProgress,
            "not true yet",
        ),
        case(
            "Certificate: issuing",
            obj(
                cm,
                "Certificate",
                conds(&[
                    ("Ready", "False", "DoesNotExist"),
                    ("Issuing", "True", "Issuing"),
                ]),
            ),
            Status::InProgress,
            "inProgress is true",
        ),
        case(
            "Certificate: issuance failed",
            obj(
                cm,
                "Certificate",
                conds(&[
                    ("Ready", "False", "DoesNotExist"),
                    ("Issuing", "False", "Failed"),
                ]),
            ),
            Status::Failed,
            "failed is true",
        ),
        case(
            "Certificate: ready",
            obj(cm, "Certificate", conds(&[("Ready", "True", "Ready")])),
            Status::Current,
            "current is true",
        ),
        case(
            "Certificate: Ready of an older generation",
            obj(
                cm,
                "Certificate",
                json!({"conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1}]}),
            ),
            Status::InProgress,
            "not true yet",
        ),
        case(
            "Issuer: not ready, retried",
            obj(cm, "Issuer", conds(&[("Ready", "False", "ErrInitIssuer")])),
            Status::InProgress,
            "ErrInitIssuer",
        ),
        case(
            "ClusterIssuer: ready",
            obj(
                cm,
                "ClusterIssuer",
                conds(&[("Ready", "True", "KeyPairVerified")]),
            ),
            Status::Current,
            "current is true",
        ),
        case(
            "Rollout: healthy",
            obj(
                "argoproj.io/v1alpha1",
                "Rollout",
                json!({"phase": "Healthy", "observedGeneration": "2"}),
            ),
            Status::Current,
            "current",
        ),
        case(
            "Rollout: healthy at an old generation",
            obj(
                "argoproj.io/v1alpha1",
                "Rollout",
                json!({"phase": "Healthy", "observedGeneration": "1"}),
            ),
            Status::InProgress,
            "not true yet",
        ),
        case(
            "Rollout: progressing",
            obj(
                "argoproj.io/v1alpha1",
                "Rollout",
                json!({"phase": "Progressing", "observedGeneration": "2"}),
            ),
            Status::InProgress,
            "not true yet",
        ),
        case(
            "Rollout: degraded",
            obj(
                "argoproj.io/v1alpha1",
                "Rollout",
                json!({"phase": "Degraded", "observedGeneration": "2"}),
            ),
            Status::Failed,
            "failed is true",
        ),
        case(
            "HelmRelease: reconciling",
            obj(
                "helm.toolkit.fluxcd.io/v2",
                "HelmRelease",
                conds(&[
                    ("Reconciling", "True", "Progressing"),
                    ("Ready", "Unknown", "Progressing"),
                ]),
            ),
            Status::InProgress,
            "inProgress is true",
        ),
        case(
            "HelmRelease: stalled",
            obj(
                "helm.toolkit.fluxcd.io/v2",
                "HelmRelease",
                conds(&[
                    ("Stalled", "True", "RetriesExceeded"),
                    ("Ready", "False", "UpgradeFailed"),
                ]),
            ),
            Status::Failed,
            "failed is true",
        ),
        case(
            "HelmRelease: ready",
            obj(
                "helm.toolkit.fluxcd.io/v2",
                "HelmRelease",
                conds(&[("Ready", "True", "UpgradeSucceeded")]),
            ),
            Status::Current,
            "current",
        ),
        case(
            "Kustomization: Ready False retried",
            obj(
                "kustomize.toolkit.fluxcd.io/v1",
                "Kustomization",
                conds(&[("Ready", "False", "BuildFailed")]),
            ),
            Status::InProgress,
            "BuildFailed",
        ),
        case(
            "GitRepository: ready (any version)",
            obj(
                "source.toolkit.fluxcd.io/v1beta2",
                "GitRepository",
                conds(&[("Ready", "True", "Succeeded")]),
            ),
            Status::Current,
            "current",
        ),
        case(
            "Prometheus: available and reconciled",
            obj(
                "monitoring.coreos.com/v1",
                "Prometheus",
                conds(&[("Available", "True", ""), ("Reconciled", "True", "")]),
            ),
            Status::Current,
            "current",
        ),
        case(
            "Prometheus: degraded",
            obj(
                "monitoring.coreos.com/v1",
                "Prometheus",
                conds(&[
                    ("Available", "Degraded", "SomePodsNotReady"),
                    ("Reconciled", "True", ""),
                ]),
            ),
            Status::InProgress,
            "not true yet",
        ),
        case(
            "Alertmanager: not reconciled",
            obj(
                "monitoring.coreos.com/v1",
                "Alertmanager",
                conds(&[
                    ("Available", "True", ""),
                    ("Reconciled", "False", "InvalidConfiguration"),
                ]),
            ),
            Status::InProgress,
            "not true yet",
        ),
        case(
            "Crossplane managed resource: ready and synced",
            obj(
                "s3.aws.upbound.io/v1beta1",
                "Bucket",
                conds(&[
                    ("Ready", "True", "Available"),
                    ("Synced", "True", "ReconcileSuccess"),
                ]),
            ),
            Status::Current,
            "*.upbound.io",
        ),
        case(
            "Crossplane managed resource: not synced",
            obj(
                "ec2.aws.crossplane.io/v1alpha1",
                "VPC",
                conds(&[
                    ("Ready", "True", "Available"),
                    ("Synced", "False", "ReconcileError"),
                ]),
            ),
            Status::InProgress,
            "not true yet",
        ),
        case(
            "Crossplane provider: installed and healthy",
            obj(
                "pkg.crossplane.io/v1",
                "Provider",
                conds(&[("Installed", "True", ""), ("Healthy", "True", "")]),
            ),
            Status::Current,
            "pkg.crossplane.io",
        ),
        case(
            "Crossplane provider: installing",
            obj(
                "pkg.crossplane.io/v1",
                "Provider",
                conds(&[
                    ("Installed", "True", ""),
                    ("Healthy", "False", "UnhealthyPackageRevision"),
                ]),
            ),
            Status::InProgress,
            "not true yet",
        ),
    ]);
}
