//! Storage: PersistentVolumeClaims, StorageClasses, VolumeSnapshots and their classes.

use crate::graph::builder::{Builder, Ref};
use crate::graph::model::Rule;

use super::pod::pod_spec;
use super::{group_kind, items, str_at};

const SNAPSHOT: &str = "snapshot.storage.k8s.io";

/// Pod template volumes → PVC; PVC `dataSource`/`dataSourceRef` of kind PersistentVolumeClaim (a clone)
/// → that PVC; VolumeSnapshot `spec.source.persistentVolumeClaimName` → the PVC it snapshots.
pub fn add_pvc_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        let ns = o.namespace();
        if let Some(spec) = pod_spec(o) {
            for v in items(spec, "/volumes") {
                if let Some(claim) = str_at(v, "/persistentVolumeClaim/claimName") {
                    let detail = format!("volume {}", str_at(v, "/name").unwrap_or("?"));
                    b.reference(
                        n,
                        Ref::new("", "PersistentVolumeClaim", ns, claim),
                        Rule::PersistentVolumeClaim,
                        detail,
                    );
                }
            }
            continue;
        }
        match group_kind(o) {
            ("", "PersistentVolumeClaim") => {
                for field in ["dataSource", "dataSourceRef"] {
                    let source = o.get(&format!("/spec/{field}"));
                    let Some(source) = source else { continue };
                    if str_at(source, "/kind") == Some("PersistentVolumeClaim")
                        && str_at(source, "/apiGroup").is_none()
                        && let Some(name) = str_at(source, "/name")
                    {
                        let target = Ref::new("", "PersistentVolumeClaim", ns, name);
                        b.reference(n, target, Rule::PersistentVolumeClaim, field);
                    }
                }
            }
            (SNAPSHOT, "VolumeSnapshot") => {
                if let Some(claim) = str_at(&o.body, "/spec/source/persistentVolumeClaimName") {
                    let target = Ref::new("", "PersistentVolumeClaim", ns, claim);
                    b.reference(n, target, Rule::PersistentVolumeClaim, "source");
                }
            }
            _ => {}
        }
    }
}

/// PVC, PersistentVolume and StatefulSet `volumeClaimTemplates` → their `storageClassName`.
pub fn add_storage_class_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        let mut classes = Vec::new();
        match group_kind(o) {
            ("", "PersistentVolumeClaim" | "PersistentVolume") => {
                classes.extend(
                    str_at(&o.body, "/spec/storageClassName")
                        .map(|c| (c, "storageClassName".to_string())),
                );
            }
            ("apps", "StatefulSet") => {
                for t in items(&o.body, "/spec/volumeClaimTemplates") {
                    if let Some(c) = str_at(t, "/spec/storageClassName") {
                        let template = str_at(t, "/metadata/name").unwrap_or("?");
                        classes.push((c, format!("volumeClaimTemplate {template}")));
                    }
                }
            }
            _ => continue,
        }
        for (class, detail) in classes {
            b.reference(
                n,
                Ref::new("storage.k8s.io", "StorageClass", None, class),
                Rule::StorageClass,
                detail,
            );
        }
    }
}

/// PVC `dataSource`/`dataSourceRef` of kind VolumeSnapshot → that VolumeSnapshot (restore from snapshot).
pub fn add_volume_snapshot_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        if group_kind(o) != ("", "PersistentVolumeClaim") {
            continue;
        }
        for field in ["dataSource", "dataSourceRef"] {
            let Some(source) = o.get(&format!("/spec/{field}")) else {
                continue;
            };
            if str_at(source, "/kind") == Some("VolumeSnapshot")
                && str_at(source, "/apiGroup") == Some(SNAPSHOT)
                && let Some(name) = str_at(source, "/name")
            {
                let ns = str_at(source, "/namespace").or(o.namespace());
                b.reference(
                    n,
                    Ref::new(SNAPSHOT, "VolumeSnapshot", ns, name),
                    Rule::VolumeSnapshot,
                    field,
                );
            }
        }
    }
}

/// VolumeSnapshot → `spec.volumeSnapshotClassName`.
pub fn add_volume_snapshot_class_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        if group_kind(o) != (SNAPSHOT, "VolumeSnapshot") {
            continue;
        }
        if let Some(class) = str_at(&o.body, "/spec/volumeSnapshotClassName") {
            let target = Ref::new(SNAPSHOT, "VolumeSnapshotClass", None, class);
            b.reference(
                n,
                target,
                Rule::VolumeSnapshotClass,
                "volumeSnapshotClassName",
            );
        }
    }
}
