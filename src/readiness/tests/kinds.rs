//! The other kinds, Services behind webhooks, and the predicates.

use serde_json::{Value, json};

use super::*;

#[test]
fn storage_network_and_apis() {
    let pvc = |phase: &str| json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": {"storageClassName": "local"}, "status": {"phase": phase}});
    let svc = |spec: Value, status: Value| json!({"apiVersion": "v1", "kind": "Service", "spec": spec, "status": status});
    let crd = |conds: Vec<Value>| json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "status": {"conditions": conds}});
    let lb = svc(
        json!({"type": "LoadBalancer", "clusterIP": "10.0.0.9"}),
        json!({"loadBalancer": {}}),
    );
    run(vec![
        case("pvc bound", pvc("Bound"), Status::Current, "Bound"),
        case("pvc pending", pvc("Pending"), Status::InProgress, "Pending"),
        with(
            Context {
                wait_for_first_consumer: true,
                ..Context::default()
            },
            case(
                "pvc pending, WaitForFirstConsumer",
                pvc("Pending"),
                Status::Current,
                "WaitForFirstConsumer",
            ),
        ),
        case("pvc lost", pvc("Lost"), Status::Failed, "Lost"),
        case(
            "namespace active",
            json!({"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Active"}}),
            Status::Current,
            "Active",
        ),
        case(
            "namespace terminating",
            json!({"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Terminating"}}),
            Status::Terminating,
            "Terminating",
        ),
        case(
            "service with cluster IP",
            svc(
                json!({"type": "ClusterIP", "clusterIP": "10.0.0.1"}),
                json!({}),
            ),
            Status::Current,
            "cluster IP",
        ),
        case(
            "headless service",
            svc(json!({"clusterIP": "None"}), json!({})),
            Status::Current,
            "cluster IP",
        ),
        case(
            "service without cluster IP yet",
            svc(json!({"type": "ClusterIP"}), json!({})),
            Status::InProgress,
            "no cluster IP",
        ),
        case(
            "ExternalName",
            svc(
                json!({"type": "ExternalName", "externalName": "db.example.com"}),
                json!({}),
            ),
            Status::Current,
            "ExternalName",
        ),
        case(
            "load balancer does not block by default",
            lb.clone(),
            Status::Current,
            "cluster IP",
        ),
        with(
            Context {
                wait_for_load_balancer: true,
                ..Context::default()
            },
            case(
                "load balancer awaited when asked",
                lb,
                Status::InProgress,
                "load-balancer",
            ),
        ),
        case(
            "crd established",
            crd(vec![
                cond("NamesAccepted", "True", "NoConflicts", ""),
                cond("Established", "True", "InitialNamesAccepted", ""),
            ]),
            Status::Current,
            "Established",
        ),
        case(
            "crd installing",
            crd(vec![cond("Established", "False", "Installing", "")]),
            Status::InProgress,
            "not Established",
        ),
        case(
            "crd names conflict",
            crd(vec![cond(
                "NamesAccepted",
                "False",
                "MultipleConflicts",
                "\"widgets\" is already in use",
            )]),
            Status::Failed,
            "already in use",
        ),
        case(
            "crd without status",
            crd(vec![]),
            Status::InProgress,
            "not Established",
        ),
        case(
            "volume snapshot ready",
            json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "status": {"readyToUse": true}}),
            Status::Current,
            "readyToUse",
        ),
        case(
            "volume snapshot error is retried",
            json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "status": {"readyToUse": false, "error": {"message": "driver busy"}}}),
            Status::InProgress,
            "driver busy",
        ),
        case(
            "pdb observed",
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"generation": 1}, "status": {"observedGeneration": 1}}),
            Status::Current,
            "computed",
        ),
        case(
            "pdb not observed",
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"generation": 1}}),
            Status::InProgress,
            "not observed",
        ),
    ]);
}

fn webhook(client_config: Value) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "policy"},
        "webhooks": [
            {"name": "a.policy.example.com", "clientConfig": client_config.clone()},
            {"name": "b.policy.example.com", "clientConfig": client_config},
        ],
    })
}

fn apiservice(available: &str) -> Value {
    json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}},
        "status": {"conditions": [cond("Available", available, "Passed", "all checks passed")]},
    })
}

#[test]
fn webhooks_and_apiservices() {
    let svc = json!({"service": {"namespace": "policy", "name": "webhook", "path": "/validate", "port": 443}});
    let ready = |r| Context {
        services_ready: Some(r),
        ..Context::default()
    };
    run(vec![
        case(
            "webhook endpoints not checked",
            webhook(svc.clone()),
            Status::InProgress,
            "Service/policy/webhook not checked",
        ),
        with(
            ready(false),
            case(
                "webhook without ready endpoints",
                webhook(svc.clone()),
                Status::InProgress,
                "waiting",
            ),
        ),
        with(
            ready(true),
            case(
                "webhook with ready endpoints",
                webhook(svc),
                Status::Current,
                "ready",
            ),
        ),
        case(
            "webhook calling a URL",
            webhook(json!({"url": "https://policy.example.com/validate"})),
            Status::Current,
            "URL",
        ),
        case(
            "apiservice available",
            apiservice("True"),
            Status::Current,
            "Available",
        ),
        case(
            "apiservice unavailable",
            apiservice("False"),
            Status::InProgress,
            "not Available",
        ),
        with(
            ready(false),
            case(
                "apiservice available, endpoints gone",
                apiservice("True"),
                Status::InProgress,
                "metrics-server",
            ),
        ),
    ]);
    // A simulated cluster judges an APIService by its Service's endpoints: Available never comes there.
    let simulated = |r: Option<bool>| Context {
        services_ready: r,
        simulated: true,
        ..Context::default()
    };
    run(vec![
        with(
            simulated(Some(true)),
            case(
                "simulated: unavailable, endpoints ready",
                apiservice("False"),
                Status::Current,
                "Available not checked: simulated cluster",
            ),
        ),
        with(
            simulated(Some(false)),
            case(
                "simulated: no ready endpoints",
                apiservice("True"),
                Status::InProgress,
                "waiting for ready endpoints",
            ),
        ),
        with(
            ready(true),
            case(
                "a real cluster still needs Available",
                apiservice("False"),
                Status::InProgress,
                "not Available",
            ),
        ),
    ]);
    assert_eq!(
        service_refs(&webhook(
            json!({"service": {"namespace": "policy", "name": "webhook"}})
        )),
        vec![crate::ObjectId::new(
            "",
            "Service",
            Some("policy"),
            "webhook"
        )],
        "two webhooks calling one Service name it once"
    );
    assert_eq!(service_refs(&apiservice("True")).len(), 1);
    assert!(service_refs(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).is_empty());
}

#[test]
fn endpoint_slices() {
    let slice = |endpoints: Value| json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "endpoints": endpoints});
    let cases: Vec<(&str, Vec<Value>, bool)> = vec![
        ("no slices", vec![], false),
        ("slice without endpoints", vec![slice(json!(null))], false),
        (
            "ready endpoint",
            vec![slice(
                json!([{"addresses": ["10.1.0.4"], "conditions": {"ready": true}}]),
            )],
            true,
        ),
        (
            "ready unknown counts as ready",
            vec![slice(
                json!([{"addresses": ["10.1.0.4"], "conditions": {}}]),
            )],
            true,
        ),
        (
            "only terminating endpoints",
            vec![slice(
                json!([{"addresses": ["10.1.0.4"], "conditions": {"ready": false, "terminating": true}}]),
            )],
            false,
        ),
        (
            "one ready among several slices",
            vec![
                slice(json!([{"addresses": ["10.1.0.4"], "conditions": {"ready": false}}])),
                slice(json!([{"addresses": ["10.1.0.5"]}])),
            ],
            true,
        ),
    ];
    for (name, slices, want) in cases {
        assert_eq!(service_has_ready_endpoints(&slices), want, "{name}");
    }
}

#[test]
fn predicates() {
    let crd = json!({"status": {"conditions": [cond("Established", "True", "", "")]}});
    assert!(is_crd_established(&crd));
    assert!(!is_crd_established(&json!({})));
    assert!(is_job_completed(&job(
        json!({"conditions": [cond("Complete", "True", "", "")]})
    )));
    assert!(is_job_failed(&job(
        json!({"conditions": [cond("Failed", "True", "", "")]})
    )));
    assert!(!is_job_completed(&job(json!({"active": 1}))));
    assert!(is_pod_ready(&pod(
        "Always",
        json!({"conditions": [cond("Ready", "True", "", "")]})
    )));
    assert!(is_namespace_active(&json!({"status": {"phase": "Active"}})));
    assert!(is_pvc_bound(&json!({"status": {"phase": "Bound"}})));
    assert!(is_apiservice_available(&apiservice("True")));
    assert_eq!(
        pvc_storage_class(&json!({"spec": {"storageClassName": "fast"}})),
        Some("fast")
    );
    assert!(is_wait_for_first_consumer(
        &json!({"kind": "StorageClass", "volumeBindingMode": "WaitForFirstConsumer"})
    ));
    assert_eq!(Readiness::not_found().status, Status::NotFound);
    assert_eq!(
        Readiness::in_progress("1 of 3 replicas available").to_string(),
        "InProgress: 1 of 3 replicas available"
    );
}
