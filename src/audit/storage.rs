//! Whether the data of a claim can be snapshotted with what the repository declares: its StorageClass
//! is in the repository, with a VolumeSnapshotClass of the same driver.

use serde_json::Value;

use super::rules::Index;
use crate::object::Object;

pub(super) fn no_snapshot_class(o: &Object, index: &Index) -> Option<Vec<String>> {
    let claims: Vec<(String, Option<&Value>)> = match (o.id.group.as_str(), o.kind()) {
        ("", "PersistentVolumeClaim") => vec![(String::new(), o.get("/spec/storageClassName"))],
        ("apps", "StatefulSet") => o
            .get("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())?
            .iter()
            .map(|t| {
                let name = t.pointer("/metadata/name").and_then(Value::as_str);
                (
                    format!("volumeClaimTemplate `{}`: ", name.unwrap_or("?")),
                    t.pointer("/spec/storageClassName"),
                )
            })
            .collect(),
        _ => return None,
    };
    Some(
        claims
            .into_iter()
            .filter_map(|(what, class)| Some(format!("{what}{}", snapshot_gap(class, index)?)))
            .collect(),
    )
}

/// Why a claim of StorageClass `class` cannot be snapshotted with what the repository declares.
fn snapshot_gap(class: Option<&Value>, index: &Index) -> Option<String> {
    let name = match class.map(|c| c.as_str()) {
        Some(Some("")) => {
            return Some(
                "storageClassName \"\" binds a pre-provisioned volume: nothing can snapshot it"
                    .into(),
            );
        }
        Some(Some(name)) => name,
        _ => match index.default_class {
            Some(d) => d,
            None => {
                return Some("no storageClassName, and the repository declares no default StorageClass: which driver holds the data (and whether it can snapshot) is left to the cluster".into());
            }
        },
    };
    let Some(provisioner) = index.classes.get(name) else {
        return Some(format!(
            "StorageClass {name} is not in the repository: a rebuilt cluster may not have it, and no VolumeSnapshotClass can be matched to its driver"
        ));
    };
    (!index.snapshot_drivers.contains(provisioner)).then(|| {
        format!("StorageClass {name} (provisioner {provisioner}) has no VolumeSnapshotClass of driver {provisioner} in the repository: its data cannot be snapshotted")
    })
}
