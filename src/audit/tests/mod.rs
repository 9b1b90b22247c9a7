//! Rule by rule: a case that is found, a case that is not, suppressions and bad annotations.

use serde_json::{Value, json};

use super::*;

mod storage_live;
use crate::object::SourceLoc;

fn object(line: usize, body: Value) -> Object {
    let api = body["apiVersion"].as_str().unwrap_or_default().to_string();
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    let ns = body.pointer("/metadata/namespace").and_then(Value::as_str);
    let id = ObjectId::new(
        group,
        body["kind"].as_str().unwrap_or_default(),
        ns,
        body.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    Object {
        id,
        api_version: api,
        body,
        source: SourceLoc {
            layer: "apps".into(),
            path: "apps/x.yaml".into(),
            line,
            document: 0,
        },
    }
}

fn manifest(bodies: Vec<Value>) -> Manifest {
    Manifest {
        objects: bodies
            .into_iter()
            .enumerate()
            .map(|(i, b)| object(i * 10 + 1, b))
            .collect(),
        ..Manifest::default()
    }
}

/// A Deployment of three replicas that passes every object rule (with [`good_pdb`]).
fn good_deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "tier": "web"}},
                "spec": {
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": name}}}],
                    "containers": [{
                        "name": "main",
                        "image": "registry.example/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}
                    }]
                }
            }
        }
    })
}

fn budget(name: &str, selector: Value, spec: Value) -> Value {
    let mut b = json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": selector}
    });
    if let (Some(s), Some(extra)) = (b["spec"].as_object_mut(), spec.as_object()) {
        s.extend(extra.clone());
    }
    b
}

fn good_pdb(name: &str) -> Value {
    budget(
        name,
        json!({"matchLabels": {"app": name}}),
        json!({"maxUnavailable": 1}),
    )
}

/// The (rule, object, message) of every finding.
fn findings(bodies: Vec<Value>) -> Vec<(String, String, String)> {
    let report = audit(&manifest(bodies), None).expect("audit");
    report
        .findings
        .into_iter()
        .map(|f| (f.rule.to_string(), f.object, f.message))
        .collect()
}

fn rules_of(bodies: Vec<Value>) -> Vec<String> {
    findings(bodies).into_iter().map(|(r, _, _)| r).collect()
}

#[test]
fn a_well_kept_deployment_has_no_finding() {
    let report = audit(
        &manifest(vec![good_deployment("web"), good_pdb("web")]),
        None,
    )
    .expect("audit");
    assert_eq!(report.findings, vec![]);
    assert_eq!(report.exit_code(), 0);
    // single-replica, no-disruption-budget, budget-blocks-eviction, no-spread, readiness, requests, image.
    assert_eq!(report.checked.len(), 7);
}

#[test]
fn rule_ids_are_unique() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
}

#[test]
fn single_replica_is_found_with_file_and_line() {
    let mut d = good_deployment("web");
    d["spec"]["replicas"] = json!(1);
    let report = audit(&manifest(vec![d, good_pdb("web")]), None).expect("audit");
    let f = &report.findings[0];
    assert_eq!(f.rule, "single-replica");
    assert_eq!(f.object, "Deployment/shop/web");
    assert_eq!(f.source.as_deref(), Some("apps/x.yaml:1"));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(report.exit_code(), 1);
    // Without `replicas` the default is one.
    let mut d = good_deployment("web");
    d["spec"].as_object_mut().map(|s| s.remove("replicas"));
    assert!(rules_of(vec![d, good_pdb("web")]).contains(&"single-replica".to_string()));
}

#[test]
fn an_autoscaler_decides_the_replicas() {
    let mut d = good_deployment("web");
    d["spec"]["replicas"] = json!(1);
    let hpa = |min: i64| {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": min, "maxReplicas": 5}})
    };
    assert_eq!(
        rules_of(vec![d.clone(), good_pdb("web"), hpa(2)]),
        Vec::<String>::new()
    );
    let found = findings(vec![d, good_pdb("web"), hpa(1)]);
    assert_eq!(found[0].0, "single-replica");
    assert!(
        found[0]
            .2
            .contains("HorizontalPodAutoscaler/shop/web keeps minReplicas 1")
    );
}

#[test]
fn a_budget_must_select_the_pods_in_the_same_namespace() {
    assert_eq!(
        rules_of(vec![good_deployment("web")]),
        vec!["no-disruption-budget"]
    );
    let other = budget(
        "x",
        json!({"matchLabels": {"app": "other"}}),
        json!({"maxUnavailable": 1}),
    );
    assert_eq!(
        rules_of(vec![good_deployment("web"), other]),
        vec!["no-disruption-budget"]
    );
    let mut elsewhere = good_pdb("web");
    elsewhere["metadata"]["namespace"] = json!("other");
    assert_eq!(
        rules_of(vec![good_deployment("web"), elsewhere]),
        vec!["no-disruption-budget"]
    );
    let by_expression = budget(
        "x",
        json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}, {"key": "canary", "operator": "DoesNotExist"}]}),
        json!({"maxUnavailable": 1}),
    );
    assert_eq!(
        rules_of(vec![good_deployment("web"), by_expression]),
        Vec::<String>::new()
    );
}

#[test]
fn a_budget_that_allows_no_eviction_is_found() {
    let cases = [
        (json!({"maxUnavailable": 0}), true),
        (json!({"maxUnavailable": "0%"}), true),
        (json!({"minAvailable": 3}), true),
        (json!({"minAvailable": "100%"}), true),
        // ceil(3 × 90%) = 3: still every replica.
        (json!({"minAvailable": "90%"}), true),
        (json!({"minAvailable": 2}), false),
        (json!({"minAvailable": "50%"}), false),
        (json!({"maxUnavailable": "25%"}), false),
    ];
    for (spec, found) in cases {
        let pdb = budget("web", json!({"matchLabels": {"app": "web"}}), spec.clone());
        let rules = findings(vec![good_deployment("web"), pdb]);
        let expected: Vec<String> = if found {
            vec!["budget-blocks-eviction".into()]
        } else {
            vec![]
        };
        let got: Vec<String> = rules.iter().map(|(r, _, _)| r.clone()).collect();
        assert_eq!(got, expected, "{spec}");
        if found {
            assert!(
                rules[0]
                    .2
                    .starts_with("PodDisruptionBudget/shop/web (apps/x.yaml:11)"),
                "{}",
                rules[0].2
            );
        }
    }
}

#[test]
fn replicas_need_spread_or_anti_affinity() {
    let mut d = good_deployment("web");
    d["spec"]["template"]["spec"]
        .as_object_mut()
        .map(|s| s.remove("topologySpreadConstraints"));
    assert_eq!(
        rules_of(vec![d.clone(), good_pdb("web")]),
        vec!["no-spread"]
    );
    d["spec"]["template"]["spec"]["affinity"] = json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}});
    assert_eq!(
        rules_of(vec![d.clone(), good_pdb("web")]),
        Vec::<String>::new()
    );
    // One replica: single-replica says it, spread does not apply.
    d["spec"]["template"]["spec"]
        .as_object_mut()
        .map(|s| s.remove("affinity"));
    d["spec"]["replicas"] = json!(1);
    assert_eq!(rules_of(vec![d, good_pdb("web")]), vec!["single-replica"]);
}

#[test]
fn containers_need_probes_requests_and_digests() {
    let mut d = good_deployment("web");
    d["spec"]["template"]["spec"]["containers"][0] =
        json!({"name": "main", "image": "nginx:1.27", "resources": {"requests": {"cpu": "10m"}}});
    d["spec"]["template"]["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox@sha256:00", "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]);
    let found = findings(vec![d, good_pdb("web")]);
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|(r, _, m)| (r.as_str(), m.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "no-readiness-probe",
                "container `main` has no readinessProbe: a replacement gets traffic before it can serve"
            ),
            (
                "no-resource-requests",
                "container `main` requests no memory: the scheduler cannot tell where its pods fit after a node loss"
            ),
            (
                "image-not-pinned",
                "container `main` image `nginx:1.27` is not pinned by digest: a rebuild may run other bits"
            ),
        ]
    );
}

#[test]
fn jobs_and_cron_jobs_need_no_readiness_probe() {
    let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "run", "image": "tool:1"}]}}}}}});
    assert_eq!(
        rules_of(vec![cron]),
        vec!["no-resource-requests", "image-not-pinned"]
    );
}
