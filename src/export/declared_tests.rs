use serde_json::{Value, json};

use super::*;

/// A Deployment as the API server holds it after `rekube apply`: rekube's fields (server-side apply),
/// the controller's annotation and status, server metadata.
fn applied_by_rekube() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "42", "generation": 2,
            "creationTimestamp": "2026-11-30T10:00:00Z",
            "labels": {"app": "web", "applyset.kubernetes.io/part-of": "applyset-abc-v1"},
            "annotations": {
                "deployment.kubernetes.io/revision": "1",
                "rekube.dev/source": "apps/web.yaml#0", "rekube.dev/revision": "0123", "rekube.dev/digest": "d"
            },
            "managedFields": [
                {"manager": "rekube", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:app": {}, "f:applyset.kubernetes.io/part-of": {}},
                        "f:annotations": {"f:rekube.dev/source": {}, "f:rekube.dev/revision": {}, "f:rekube.dev/digest": {}}},
                    "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:name": {}, "f:image": {}}},
                                   "f:volumes": {"k:{\"name\":\"cache\"}": {".": {}, "f:name": {}, "f:emptyDir": {}}}}}}}},
                {"manager": "kube-controller-manager", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {
                    "f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}}}},
                {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:replicas": {}}}}
            ]
        },
        "spec": {
            "replicas": 2, "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{"name": "web", "image": "web:1.0", "imagePullPolicy": "IfNotPresent",
                                    "terminationMessagePath": "/dev/termination-log"}],
                    "volumes": [{"name": "cache", "emptyDir": {}}],
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always"
                }
            }
        },
        "status": {"replicas": 2}
    })
}

#[test]
fn server_side_applied_object_keeps_what_was_applied() {
    let got = declared(&applied_by_rekube()).expect("declared");
    assert_eq!(
        got,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{"name": "web", "image": "web:1.0"}],
                        "volumes": [{"name": "cache", "emptyDir": {}}]
                    }
                }
            }
        })
    );
}

#[test]
fn created_object_loses_the_servers_defaults_and_assigned_values() {
    // `kubectl create service clusterip`: an Update that owns what the server defaulted and assigned.
    let live = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "db", "namespace": "shop", "uid": "u",
            "managedFields": [{"manager": "kubectl-create", "operation": "Update", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:clusterIP": {}, "f:clusterIPs": {}, "f:ipFamilies": {}, "f:ipFamilyPolicy": {},
                    "f:internalTrafficPolicy": {}, "f:sessionAffinity": {}, "f:type": {},
                    "f:ports": {"k:{\"port\":5432,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}},
                    "f:selector": {}}}}]},
        "spec": {"clusterIP": "10.0.0.12", "clusterIPs": ["10.0.0.12"], "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster", "sessionAffinity": "None",
            "type": "ClusterIP", "ports": [{"port": 5432, "protocol": "TCP", "targetPort": 5432}],
            "selector": {"app": "db"}}
    });
    assert_eq!(
        declared(&live),
        Some(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"ports": [{"port": 5432}], "selector": {"app": "db"}}
        }))
    );
}

#[test]
fn objects_nobody_declared_are_not_exported() {
    let cases = [
        (
            "made by a controller",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt",
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                    "fieldsV1": {"f:data": {"f:ca.crt": {}}}}]}, "data": {"ca.crt": "x"}}),
        ),
        (
            "no managedFields at all",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        ),
    ];
    for (name, live) in cases {
        assert_eq!(declared(&live), None, "{name}");
    }
}

#[test]
fn a_deliberate_non_default_value_stays() {
    let mut live = applied_by_rekube();
    live["spec"]["revisionHistoryLimit"] = json!(3);
    let fields = &mut live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"];
    fields["f:revisionHistoryLimit"] = json!({});
    fields["f:progressDeadlineSeconds"] = json!({});
    let got = declared(&live).expect("declared");
    assert_eq!(got["spec"]["revisionHistoryLimit"], 3);
    assert!(got["spec"].get("progressDeadlineSeconds").is_none());
}

#[test]
fn controllers_are_recognised_by_prefix() {
    assert!(is_controller("kube-controller-manager"));
    assert!(is_controller("kwok-controller"));
    assert!(!is_controller("kubectl-client-side-apply"));
    assert!(!is_controller("rekube"));
    assert!(!is_controller("helm"));
    assert!(is_controller("clusterrole-aggregation-controller"));
    assert!(
        !is_controller("kustomize-controller"),
        "Flux applies what Git declares"
    );
}
