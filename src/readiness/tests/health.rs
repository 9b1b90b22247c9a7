//! Health rules: the user's CEL rules and the built-in table, case by case.

use serde_json::{Value, json};

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
