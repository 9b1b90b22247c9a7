//! Table-driven tests of the pod template rules.

use serde_json::{Value, json};

use super::*;
use crate::graph::testutil::{Case, check_cases, object};
use crate::object::Object;

fn cm(name: &str) -> Object {
    object(
        "apps",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "a"}}),
    )
}

fn secret(name: &str) -> Object {
    object(
        "apps",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "a"}}),
    )
}

/// A workload of `kind` whose pod spec is `spec`.
fn workload(api: &str, kind: &str, spec: Value) -> Object {
    let mut body =
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": "w", "namespace": "a"}});
    body["spec"] = match kind {
        "Pod" => spec,
        "CronJob" => json!({"jobTemplate": {"spec": {"template": {"spec": spec}}}}),
        _ => json!({"template": {"spec": spec}}),
    };
    object("apps", body)
}

#[test]
fn service_account_edges() {
    let sa = object(
        "apps",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "a"}}),
    );
    let spec = json!({"serviceAccountName": "sa", "containers": []});
    let mut cases = Vec::new();
    for (api, kind) in [
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
    ] {
        let (edges, _) = crate::graph::testutil::run_rule(
            &[sa.clone(), workload(api, kind, spec.clone())],
            add_service_account_edges,
        );
        assert_eq!(
            edges,
            vec![format!(
                "{kind}/a/w -> ServiceAccount/a/sa: ServiceAccount (serviceAccountName)"
            )],
            "{kind}"
        );
    }
    cases.push(
        Case::new(
            "deprecated serviceAccount field",
            vec![
                sa.clone(),
                workload("v1", "Pod", json!({"serviceAccount": "sa"})),
            ],
        )
        .edges(&["Pod/a/w -> ServiceAccount/a/sa: ServiceAccount (serviceAccountName)"]),
    );
    cases.push(Case::new(
        "default ServiceAccount is built in",
        vec![workload(
            "v1",
            "Pod",
            json!({"serviceAccountName": "default"}),
        )],
    ));
    cases.push(
        Case::new(
            "absent ServiceAccount is external",
            vec![workload("v1", "Pod", json!({"serviceAccountName": "x"}))],
        )
        .externals(&["Pod/a/w -> ServiceAccount/a/x: ServiceAccount (serviceAccountName)"]),
    );
    let token = object(
        "apps",
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "t", "namespace": "a", "annotations": {"kubernetes.io/service-account.name": "sa"}}}),
    );
    cases.push(
        Case::new("token Secret waits for its ServiceAccount", vec![sa, token])
            .edges(&["Secret/a/t -> ServiceAccount/a/sa: ServiceAccount (service-account token)"]),
    );
    check_cases(cases, add_service_account_edges);
}

#[test]
fn config_map_edges() {
    let spec = json!({
        "volumes": [
            {"name": "v", "configMap": {"name": "c1"}},
            {"name": "p", "projected": {"sources": [{"configMap": {"name": "c2"}}, {"secret": {"name": "s"}}]}},
            {"name": "o", "configMap": {"name": "gone", "optional": true}}
        ],
        "initContainers": [{"name": "init", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "c3", "key": "k"}}}]}],
        "containers": [{"name": "app", "envFrom": [{"configMapRef": {"name": "c4"}}, {"configMapRef": {"name": "c1"}}]}],
        "ephemeralContainers": [{"name": "debug", "envFrom": [{"configMapRef": {"name": "absent"}}]}]
    });
    let cases = vec![
        Case::new("volumes, projected, env, envFrom, init and ephemeral containers", vec![
            cm("c1"), cm("c2"), cm("c3"), cm("c4"), workload("apps/v1", "Deployment", spec),
        ])
        .edges(&[
            "Deployment/a/w -> ConfigMap/a/c1: ConfigMap (volume v, envFrom app)",
            "Deployment/a/w -> ConfigMap/a/c2: ConfigMap (projected volume p)",
            "Deployment/a/w -> ConfigMap/a/c3: ConfigMap (env init.X)",
            "Deployment/a/w -> ConfigMap/a/c4: ConfigMap (envFrom app)",
        ])
        .externals(&["Deployment/a/w -> ConfigMap/a/absent: ConfigMap (envFrom debug)"]),
        Case::new("CronJob template", vec![cm("c1"), workload("batch/v1", "CronJob", json!({"volumes": [{"name": "v", "configMap": {"name": "c1"}}]}))])
            .edges(&["CronJob/a/w -> ConfigMap/a/c1: ConfigMap (volume v)"]),
        Case::new("ConfigMap of another namespace is not it", vec![
            object("apps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1", "namespace": "b"}})),
            workload("v1", "Pod", json!({"volumes": [{"name": "v", "configMap": {"name": "c1"}}]})),
        ])
        .externals(&["Pod/a/w -> ConfigMap/a/c1: ConfigMap (volume v)"]),
        Case::new("kube-root-ca.crt is built in", vec![
            workload("v1", "Pod", json!({"volumes": [{"name": "v", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}]}}]})),
        ]),
    ];
    check_cases(cases, add_config_map_edges);
}

#[test]
fn secret_edges() {
    let spec = json!({
        "imagePullSecrets": [{"name": "pull"}],
        "volumes": [
            {"name": "v", "secret": {"secretName": "s1"}},
            {"name": "p", "projected": {"sources": [{"secret": {"name": "s2"}}]}}
        ],
        "containers": [{"name": "app",
            "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s3", "key": "pw"}}},
                    {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "x", "optional": true}}}],
            "envFrom": [{"secretRef": {"name": "s1"}}]}]
    });
    let sa = object(
        "apps",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "a"},
        "imagePullSecrets": [{"name": "pull"}]}),
    );
    let cases = vec![
        Case::new(
            "volumes, projected, env, envFrom, imagePullSecrets",
            vec![
                secret("pull"),
                secret("s1"),
                secret("s2"),
                secret("s3"),
                workload("apps/v1", "StatefulSet", spec),
            ],
        )
        .edges(&[
            "StatefulSet/a/w -> Secret/a/pull: Secret (imagePullSecrets)",
            "StatefulSet/a/w -> Secret/a/s1: Secret (volume v, envFrom app)",
            "StatefulSet/a/w -> Secret/a/s2: Secret (projected volume p)",
            "StatefulSet/a/w -> Secret/a/s3: Secret (env app.PW)",
        ]),
        Case::new("ServiceAccount imagePullSecrets", vec![secret("pull"), sa])
            .edges(&["ServiceAccount/a/sa -> Secret/a/pull: Secret (imagePullSecrets)"]),
    ];
    check_cases(cases, add_secret_edges);
}

#[test]
fn class_edges() {
    let pc = object(
        "cluster",
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"}}),
    );
    let rc = object(
        "cluster",
        json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "gvisor"}}),
    );
    let spec = json!({"priorityClassName": "high", "runtimeClassName": "gvisor"});
    check_cases(
        vec![
            Case::new(
                "PriorityClass",
                vec![pc.clone(), workload("apps/v1", "DaemonSet", spec.clone())],
            )
            .edges(&["DaemonSet/a/w -> PriorityClass/high: PriorityClass (priorityClassName)"]),
            Case::new(
                "system PriorityClass is built in",
                vec![workload(
                    "v1",
                    "Pod",
                    json!({"priorityClassName": "system-node-critical"}),
                )],
            ),
        ],
        add_priority_class_edges,
    );
    check_cases(
        vec![
            Case::new(
                "RuntimeClass",
                vec![rc, workload("apps/v1", "ReplicaSet", spec)],
            )
            .edges(&["ReplicaSet/a/w -> RuntimeClass/gvisor: RuntimeClass (runtimeClassName)"]),
        ],
        add_runtime_class_edges,
    );
}
