//! Table-driven tests of the storage, network, webhook and barrier rules.

use serde_json::{Value, json};

use super::*;
use crate::graph::testutil::{Case, check_cases, object};
use crate::object::Object;

fn obj(layer: &str, api: &str, kind: &str, name: &str, extra: Value) -> Object {
    let mut body = json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}});
    if !matches!(
        kind,
        "StorageClass"
            | "VolumeSnapshotClass"
            | "IngressClass"
            | "ValidatingWebhookConfiguration"
            | "APIService"
            | "Namespace"
    ) {
        body["metadata"]["namespace"] = json!("a");
    }
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    object(layer, body)
}

fn pvc(name: &str, spec: Value) -> Object {
    obj(
        "apps",
        "v1",
        "PersistentVolumeClaim",
        name,
        json!({"spec": spec}),
    )
}

#[test]
fn storage_edges() {
    let sc = obj(
        "cluster",
        "storage.k8s.io/v1",
        "StorageClass",
        "local",
        json!({}),
    );
    let sts = obj(
        "apps",
        "apps/v1",
        "StatefulSet",
        "db",
        json!({"spec": {
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"storageClassName": "local"}}],
        "template": {"spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "shared"}}]}}}}),
    );
    check_cases(
        vec![
            Case::new("PVC and StatefulSet templates", vec![sc, pvc("shared", json!({"storageClassName": "local"})), sts.clone()])
                .edges(&[
                    "PersistentVolumeClaim/a/shared -> StorageClass/local: StorageClass (storageClassName)",
                    "StatefulSet/a/db -> StorageClass/local: StorageClass (volumeClaimTemplate data)",
                ]),
            Case::new("empty class means default", vec![pvc("p", json!({"storageClassName": ""}))]),
        ],
        add_storage_class_edges,
    );
    let snap = obj(
        "apps",
        "snapshot.storage.k8s.io/v1",
        "VolumeSnapshot",
        "s1",
        json!({"spec": {"volumeSnapshotClassName": "csi", "source": {"persistentVolumeClaimName": "shared"}}}),
    );
    let restore = pvc(
        "restored",
        json!({"dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s1"}}),
    );
    let clone = pvc(
        "clone",
        json!({"dataSourceRef": {"kind": "PersistentVolumeClaim", "name": "shared"}}),
    );
    check_cases(
        vec![
            Case::new("pod volume, clone and snapshot source", vec![pvc("shared", json!({})), sts, clone, snap.clone()])
                .edges(&[
                    "PersistentVolumeClaim/a/clone -> PersistentVolumeClaim/a/shared: PersistentVolumeClaim (dataSourceRef)",
                    "StatefulSet/a/db -> PersistentVolumeClaim/a/shared: PersistentVolumeClaim (volume v)",
                    "VolumeSnapshot/a/s1 -> PersistentVolumeClaim/a/shared: PersistentVolumeClaim (source)",
                ]),
        ],
        add_pvc_edges,
    );
    check_cases(
        vec![Case::new("restore from snapshot", vec![snap.clone(), restore])
            .edges(&["PersistentVolumeClaim/a/restored -> VolumeSnapshot/a/s1: VolumeSnapshot (dataSource)"])],
        add_volume_snapshot_edges,
    );
    let class = obj(
        "cluster",
        "snapshot.storage.k8s.io/v1",
        "VolumeSnapshotClass",
        "csi",
        json!({}),
    );
    check_cases(
        vec![Case::new("snapshot class", vec![class, snap])
            .edges(&["VolumeSnapshot/a/s1 -> VolumeSnapshotClass/csi: VolumeSnapshotClass (volumeSnapshotClassName)"])],
        add_volume_snapshot_class_edges,
    );
}

#[test]
fn network_edges() {
    let svc = |name: &str| obj("apps", "v1", "Service", name, json!({}));
    let sts = obj(
        "apps",
        "apps/v1",
        "StatefulSet",
        "db",
        json!({"spec": {"serviceName": "db"}}),
    );
    check_cases(
        vec![
            Case::new("governing Service", vec![svc("db"), sts])
                .edges(&["StatefulSet/a/db -> Service/a/db: GoverningService (serviceName)"]),
        ],
        add_governing_service_edges,
    );
    let class = obj(
        "cluster",
        "networking.k8s.io/v1",
        "IngressClass",
        "nginx",
        json!({}),
    );
    let tls = obj("apps", "v1", "Secret", "tls", json!({}));
    let ingress = obj(
        "apps",
        "networking.k8s.io/v1",
        "Ingress",
        "web",
        json!({"spec": {
        "ingressClassName": "nginx",
        "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
        "tls": [{"hosts": ["shop.example.com"], "secretName": "tls"}],
        "rules": [{"host": "shop.example.com", "http": {"paths": [
            {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 80}}}},
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}
        ]}}]}}),
    );
    check_cases(
        vec![
            Case::new(
                "class, backends, TLS",
                vec![class, tls, svc("api"), svc("web"), ingress],
            )
            .edges(&[
                "Ingress/a/web -> IngressClass/nginx: IngressClass (ingressClassName)",
                "Ingress/a/web -> Secret/a/tls: IngressTls (tls)",
                "Ingress/a/web -> Service/a/api: IngressBackend (shop.example.com/api)",
                "Ingress/a/web -> Service/a/web: IngressBackend (shop.example.com/)",
            ])
            .externals(&["Ingress/a/web -> Service/a/fallback: IngressBackend (defaultBackend)"]),
        ],
        add_ingress_edges,
    );
}

fn webhook(layer: &str, name: &str, wave: Option<&str>) -> Object {
    let mut o = obj(
        layer,
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        name,
        json!({
        "webhooks": [{"name": "check.example.com", "clientConfig": {"service": {"name": "hook", "namespace": "a"}}}]}),
    );
    if let Some(w) = wave {
        o.body["metadata"]["annotations"] = json!({"argocd.argoproj.io/sync-wave": w});
    }
    o
}

fn waved(layer: &str, name: &str, wave: &str) -> Object {
    obj(
        layer,
        "v1",
        "ConfigMap",
        name,
        json!({"metadata": {"name": name, "namespace": "a",
        "annotations": {"argocd.argoproj.io/sync-wave": wave}}}),
    )
}

#[test]
fn webhook_service_edges() {
    let api = obj(
        "tools",
        "apiregistration.k8s.io/v1",
        "APIService",
        "v1beta1.metrics.k8s.io",
        json!({"spec": {"service": {"name": "metrics", "namespace": "a"}}}),
    );
    check_cases(
        vec![Case::new("webhook and APIService → Service", vec![obj("tools", "v1", "Service", "hook", json!({})), webhook("tools", "v", None), api])
            .edges(&["ValidatingWebhookConfiguration/v -> Service/a/hook: WebhookService (webhook check.example.com)"])
            .externals(&["APIService/v1beta1.metrics.k8s.io -> Service/a/metrics: WebhookService (spec.service)"])],
        add_webhook_service_edges,
    );
}

#[test]
fn webhook_last_edges() {
    let svc = obj("tools", "v1", "Service", "hook", json!({}));
    let cm = obj("tools", "v1", "ConfigMap", "c", json!({}));
    check_cases(
        vec![
            Case::new("webhook after the rest of its layer", vec![svc.clone(), cm.clone(), webhook("tools", "v", None), obj("apps", "v1", "Secret", "other", json!({}))])
                .edges(&[
                    "ValidatingWebhookConfiguration/v -> layer tools before webhooks: WebhookLast (after the rest of layer tools)",
                    "layer tools before webhooks -> ConfigMap/a/c: WebhookLast ()",
                    "layer tools before webhooks -> Service/a/hook: WebhookLast ()",
                ]),
            Case::new("a layer of webhooks only", vec![webhook("tools", "v", None)]),
            Case::new("only objects of the same wave", vec![svc, waved("tools", "late", "2"), webhook("tools", "v", None)])
                .edges(&[
                    "ValidatingWebhookConfiguration/v -> layer tools wave 0 before webhooks: WebhookLast (after the rest of layer tools)",
                    "layer tools wave 0 before webhooks -> Service/a/hook: WebhookLast ()",
                ]),
        ],
        add_webhook_last_edges,
    );
}

#[test]
fn sync_wave_edges() {
    check_cases(
        vec![
            Case::new(
                "one wave: nothing",
                vec![waved("apps", "a", "3"), waved("apps", "b", "3")],
            ),
            Case::new(
                "negative, default and positive waves chain through barriers",
                vec![
                    waved("apps", "pre", "-1"),
                    obj("apps", "v1", "Secret", "plain", json!({})),
                    waved("apps", "post", "5"),
                    waved("other", "x", "9"),
                ],
            )
            .edges(&[
                "ConfigMap/a/post -> layer apps waves <= 0: SyncWave (wave 5 after wave 0)",
                "Secret/a/plain -> layer apps waves <= -1: SyncWave (wave 0 after wave -1)",
                "layer apps waves <= -1 -> ConfigMap/a/pre: SyncWave ()",
                "layer apps waves <= 0 -> Secret/a/plain: SyncWave ()",
                "layer apps waves <= 0 -> layer apps waves <= -1: SyncWave ()",
            ]),
        ],
        add_sync_wave_edges,
    );
}
