//! Health rules: the user's CEL rules and the built-in table, case by case.

use serde_json::{Value, json};

use super::super::builtin;
use super::*;

fn rule(
    group: &str,
    kind: &str,
    in_progress: Option<&str>,
    failed: Option<&str>,
    current: &str,
) -> HealthRule {
    let parse = |s: &str| Expr::parse(s).expect(s);
    HealthRule {
        api_version: format!("{group}/v1"),
        group: group.to_string(),
        kind: kind.to_string(),
        current: parse(current),
        in_progress: in_progress.map(parse),
        failed: failed.map(parse),
        origin: RuleOrigin::Config {
            file: "rekube.yaml".into(),
            line: 7,
        },
    }
}

fn user(rules: Vec<HealthRule>) -> Context {
    Context {
        health: HealthRules::new(rules),
        ..Context::default()
    }
}

fn widget(status: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "generation": 2}, "status": status})
}

fn phase_rule() -> HealthRule {
    rule(
        "example.com",
        "Widget",
        Some("status.phase == 'Provisioning'"),
        Some("status.phase == 'Broken'"),
        "status.phase == 'Ready'",
    )
}

#[test]
fn user_rules() {
    let ctx = user(vec![phase_rule()]);
    run(vec![
        with(
            ctx.clone(),
            case(
                "current expression true",
                widget(json!({"phase": "Ready"})),
                Status::Current,
                "current is true (health rule rekube.yaml:7 (Widget.example.com))",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "failed expression true",
                widget(json!({"phase": "Broken"})),
                Status::Failed,
                "failed is true",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "inProgress is evaluated first",
                widget(json!({"phase": "Provisioning"})),
                Status::InProgress,
                "inProgress is true",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "none true: in progress",
                widget(json!({"phase": "Pending"})),
                Status::InProgress,
                "current is not true yet",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "an evaluation error is in progress, its message shown",
                widget(json!({})),
                Status::InProgress,
                "health rule rekube.yaml:7 (Widget.example.com) cannot be evaluated: inProgress: No such key: phase",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "an unobserved generation is in progress without evaluating",
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"generation": 3}, "status": {"observedGeneration": 2, "phase": "Ready"}}),
                Status::InProgress,
                "generation 3 not observed",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "deletion comes before the rule",
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}, "status": {"phase": "Ready"}}),
                Status::Terminating,
                "deletion",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "a rule replaces the generic conditions: Stalled does not fail it",
                widget(
                    json!({"phase": "Ready", "conditions": [cond("Stalled", "True", "Old", "stale condition")]}),
                ),
                Status::Current,
                "current is true",
            ),
        ),
        with(
            ctx.clone(),
            case(
                "the Ready condition is quoted while waiting",
                widget(
                    json!({"phase": "Pending", "conditions": [cond("Ready", "False", "Waiting", "no capacity")]}),
                ),
                Status::InProgress,
                "Ready False: Waiting: no capacity",
            ),
        ),
        case(
            "without the rule: generic, current once it exists",
            widget(json!({"phase": "Pending"})),
            Status::Current,
            "exists",
        ),
    ]);
}

#[test]
fn user_rules_override_builtin_and_kind_rules() {
    let cert = json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}, "status": {"conditions": [cond("Ready", "False", "DoesNotExist", "")]}});
    let ctx = user(vec![rule(
        "cert-manager.io",
        "Certificate",
        None,
        None,
        "true",
    )]);
    run(vec![
        case(
            "built-in rule",
            cert.clone(),
            Status::InProgress,
            "built-in (Certificate.cert-manager.io)",
        ),
        with(
            ctx,
            case("user rule wins", cert, Status::Current, "rekube.yaml:7"),
        ),
    ]);
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "generation": 1}, "spec": {"replicas": 3}, "status": {"observedGeneration": 1}});
    let ctx = user(vec![rule(
        "apps",
        "Deployment",
        None,
        None,
        "has(spec.replicas)",
    )]);
    run(vec![with(
        ctx,
        case(
            "even over a kstatus kind rule",
            deploy,
            Status::Current,
            "rekube.yaml:7",
        ),
    )]);
}

#[test]
fn judge_names_the_rule_and_its_evaluations() {
    let ctx = user(vec![phase_rule()]);
    let j = judge(&widget(json!({"phase": "Pending"})), &ctx);
    let JudgedBy::HealthRule { rule, evaluations } = &j.judged_by else {
        panic!("judged by {:?}", j.judged_by);
    };
    assert_eq!(rule, "rekube.yaml:7 (Widget.example.com)");
    let got: Vec<(&str, Option<Result<bool, String>>)> = evaluations
        .iter()
        .map(|e| (e.field, e.result.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("inProgress", Some(Ok(false))),
            ("failed", Some(Ok(false))),
            ("current", Some(Ok(false)))
        ]
    );
    let j = judge(&widget(json!({"phase": "Provisioning"})), &ctx);
    let JudgedBy::HealthRule { evaluations, .. } = &j.judged_by else {
        panic!()
    };
    assert_eq!(evaluations[0].result, Some(Ok(true)));
    assert_eq!(evaluations[1].result, None, "not evaluated once decided");

    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
    assert_eq!(
        judge(&deploy, &ctx).judged_by,
        JudgedBy::Kind {
            rule: "apps/Deployment".into()
        }
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    assert_eq!(judge(&cm, &ctx).judged_by, JudgedBy::Generic);
}

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
