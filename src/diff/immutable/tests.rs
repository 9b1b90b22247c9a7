//! One case per kind of rule; `before` is the live object, `after` the dry-run result or the
//! desired object as written.

use serde_json::{Value, json};

use super::*;

struct Case {
    name: &'static str,
    group: &'static str,
    kind: &'static str,
    before: Value,
    after: Value,
    want: Vec<&'static str>,
}

fn job_live() -> Value {
    json!({"spec": {
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "7d1c"}},
        "template": {
            "metadata": {"labels": {"app": "migrate", "batch.kubernetes.io/controller-uid": "7d1c", "job-name": "migrate"}},
            "spec": {"containers": [{"name": "m", "image": "migrate:1", "terminationMessagePath": "/dev/termination-log"}], "restartPolicy": "Never"},
        },
    }})
}

fn job_desired(image: &str) -> Value {
    json!({"spec": {"template": {
        "metadata": {"labels": {"app": "migrate"}},
        "spec": {"containers": [{"name": "m", "image": image}], "restartPolicy": "Never"},
    }}})
}

fn svc(spec: Value) -> Value {
    json!({"spec": spec})
}

#[test]
fn cases() {
    let cases = vec![
        Case {
            name: "job template as written, unchanged: server additions are not changes",
            group: "batch",
            kind: "Job",
            before: job_live(),
            after: job_desired("migrate:1"),
            want: vec![],
        },
        Case {
            name: "job image changed",
            group: "batch",
            kind: "Job",
            before: job_live(),
            after: job_desired("migrate:2"),
            want: vec!["spec.template"],
        },
        Case {
            name: "deployment selector changed",
            group: "apps",
            kind: "Deployment",
            before: json!({"spec": {"selector": {"matchLabels": {"app": "api"}}, "replicas": 1}}),
            after: json!({"spec": {"selector": {"matchLabels": {"app": "api", "tier": "web"}}, "replicas": 3}}),
            want: vec!["spec.selector"],
        },
        Case {
            name: "deployment replicas are mutable",
            group: "apps",
            kind: "Deployment",
            before: json!({"spec": {"selector": {"matchLabels": {"app": "api"}}, "replicas": 1}}),
            after: json!({"spec": {"selector": {"matchLabels": {"app": "api"}}, "replicas": 3}}),
            want: vec![],
        },
        Case {
            name: "statefulset claim template and service name",
            group: "apps",
            kind: "StatefulSet",
            before: json!({"spec": {"serviceName": "db", "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}]}}),
            after: json!({"spec": {"serviceName": "db-headless", "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "2Gi"}}}}]}}),
            want: vec!["spec.serviceName", "spec.volumeClaimTemplates"],
        },
        Case {
            name: "service: empty cluster IP is not a change",
            group: "",
            kind: "Service",
            before: svc(
                json!({"clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"], "ipFamilies": ["IPv4"]}),
            ),
            after: svc(json!({"clusterIP": ""})),
            want: vec![],
        },
        Case {
            name: "service: another cluster IP is",
            group: "",
            kind: "Service",
            before: svc(json!({"clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"]})),
            after: svc(json!({"clusterIP": "10.96.0.13", "clusterIPs": ["10.96.0.13"]})),
            want: vec!["spec.clusterIP", "spec.clusterIPs"],
        },
        Case {
            name: "service: headless to cluster IP",
            group: "",
            kind: "Service",
            before: svc(json!({"clusterIP": "None"})),
            after: svc(json!({"clusterIP": "10.96.0.13"})),
            want: vec!["spec.clusterIP"],
        },
        Case {
            name: "service: adding a second IP family is allowed",
            group: "",
            kind: "Service",
            before: svc(json!({"ipFamilies": ["IPv4"], "clusterIPs": ["10.96.0.12"]})),
            after: svc(
                json!({"ipFamilies": ["IPv4", "IPv6"], "clusterIPs": ["10.96.0.12", "fd00::12"]}),
            ),
            want: vec![],
        },
        Case {
            name: "pvc: a default class filled in later is not a change, another class is",
            group: "",
            kind: "PersistentVolumeClaim",
            before: json!({"spec": {"storageClassName": "standard", "volumeName": "pvc-91ab", "accessModes": ["ReadWriteOnce"]}}),
            after: json!({"spec": {"storageClassName": "fast", "accessModes": ["ReadWriteOnce"]}}),
            want: vec!["spec.storageClassName"],
        },
        Case {
            name: "pvc access modes",
            group: "",
            kind: "PersistentVolumeClaim",
            before: json!({"spec": {"accessModes": ["ReadWriteOnce"]}}),
            after: json!({"spec": {"accessModes": ["ReadWriteMany"]}}),
            want: vec!["spec.accessModes"],
        },
        Case {
            name: "immutable configmap data",
            group: "",
            kind: "ConfigMap",
            before: json!({"immutable": true, "data": {"a": "1"}}),
            after: json!({"immutable": true, "data": {"a": "2"}}),
            want: vec!["data"],
        },
        Case {
            name: "immutable cannot be unset",
            group: "",
            kind: "ConfigMap",
            before: json!({"immutable": true, "data": {"a": "1"}}),
            after: json!({"immutable": false, "data": {"a": "1"}}),
            want: vec!["immutable"],
        },
        Case {
            name: "mutable configmap data",
            group: "",
            kind: "ConfigMap",
            before: json!({"data": {"a": "1"}}),
            after: json!({"immutable": true, "data": {"a": "2"}}),
            want: vec![],
        },
        Case {
            name: "secret type",
            group: "",
            kind: "Secret",
            before: json!({"type": "Opaque", "data": {}}),
            after: json!({"type": "kubernetes.io/tls", "data": {}}),
            want: vec!["type"],
        },
        Case {
            name: "role binding roleRef",
            group: "rbac.authorization.k8s.io",
            kind: "RoleBinding",
            before: json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read"}, "subjects": []}),
            after: json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "read"}, "subjects": [{"kind": "User", "name": "ana"}]}),
            want: vec!["roleRef"],
        },
        Case {
            name: "storage class: defaulted reclaimPolicy left out is not a change",
            group: "storage.k8s.io",
            kind: "StorageClass",
            before: json!({"provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}),
            after: json!({"provisioner": "rancher.io/local-path", "volumeBindingMode": "Immediate"}),
            want: vec!["volumeBindingMode"],
        },
        Case {
            name: "priority class value",
            group: "scheduling.k8s.io",
            kind: "PriorityClass",
            before: json!({"value": 1000}),
            after: json!({"value": 2000, "description": "more"}),
            want: vec!["value"],
        },
        Case {
            name: "crd scope",
            group: "apiextensions.k8s.io",
            kind: "CustomResourceDefinition",
            before: json!({"spec": {"scope": "Namespaced"}}),
            after: json!({"spec": {"scope": "Cluster"}}),
            want: vec!["spec.scope"],
        },
        Case {
            name: "kinds without rules",
            group: "",
            kind: "ServiceAccount",
            before: json!({"a": 1}),
            after: json!({"a": 2}),
            want: vec![],
        },
    ];
    for c in cases {
        assert_eq!(
            immutable_changes(c.group, c.kind, &c.before, &c.after),
            c.want,
            "{}",
            c.name
        );
    }
}
