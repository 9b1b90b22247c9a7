//! The revision heals compare against: each managed object with the body an apply writes, and how a
//! drift is described (which fields, changed by which manager).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::diff;
use crate::object::{Object, ObjectId};

/// One managed object, as rekube applies it.
#[derive(Debug)]
pub struct Managed {
    /// The object with the body rekube applies (labels and provenance added): one copy, not two.
    pub object: Object,
    /// `rekube.dev/digest`-style digest of that body, for remembering dry-runs.
    pub digest: String,
}

/// What the cluster should hold: the objects of one revision.
#[derive(Debug, Default)]
pub struct Target {
    pub commit: String,
    pub objects: BTreeMap<ObjectId, Arc<Managed>>,
}

impl Target {
    /// The objects of `commit`, with the labels and provenance an apply of it writes.
    pub fn new(commit: &str, objects: &[Object], labels: &BTreeMap<String, String>) -> Target {
        let objects = objects
            .iter()
            .map(|o| {
                let body = crate::apply::desired(o, Some(commit), labels);
                let digest = diff::digest(&body);
                let object = Object {
                    id: o.id.clone(),
                    api_version: o.api_version.clone(),
                    body,
                    source: o.source.clone(),
                };
                let managed = Managed { object, digest };
                (o.id.clone(), Arc::new(managed))
            })
            .collect();
        Target {
            commit: commit.to_string(),
            objects,
        }
    }
}

/// What differs between the live object and the dry-run, and who changed it: up to three fields.
pub fn changes(live: &Value, dry: &Value) -> String {
    let paths = diff::changed_paths(&diff::normalize(live), &diff::normalize(dry));
    let managed = live
        .pointer("/metadata/managedFields")
        .cloned()
        .unwrap_or(Value::Null);
    let mut parts: Vec<String> = paths
        .iter()
        .take(3)
        .map(|p| match diff::attribute(&managed, p) {
            Some(a) if a.manager != crate::cluster::FIELD_MANAGER => {
                format!("{p} changed by {} ({})", a.manager, a.operation)
            }
            _ => format!("{p} changed"),
        })
        .collect();
    if paths.len() > 3 {
        parts.push(format!("{} more", paths.len() - 3));
    }
    if parts.is_empty() {
        "fields differ".into()
    } else {
        parts.join(", ")
    }
}

/// The first 12 characters of a commit id.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
