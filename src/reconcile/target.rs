//! The revision heals compare against: each managed object with the body an apply writes, and how a
//! drift is described (which fields, changed by which manager).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::diff::{self, IgnoreRules, Ignored};
use crate::object::{Object, ObjectId};

/// One managed object, as rekube applies it.
#[derive(Debug)]
pub struct Managed {
    /// The object with the body rekube applies (labels and provenance added): one copy, not two.
    pub object: Object,
    /// `rekube.dev/digest`-style digest of that body, for remembering dry-runs.
    pub digest: String,
    /// Fields other controllers own: never drift, never reset by a heal.
    pub ignored: Ignored,
}

/// What the cluster should hold: the objects of one revision.
#[derive(Debug, Default)]
pub struct Target {
    pub commit: String,
    pub objects: BTreeMap<ObjectId, Arc<Managed>>,
}

impl Target {
    /// The objects of `commit`, with the labels and provenance an apply of it writes, and the fields
    /// `ignore` leaves to other controllers.
    pub fn new(
        commit: &str,
        objects: &[Object],
        labels: &BTreeMap<String, String>,
        ignore: &IgnoreRules,
    ) -> Target {
        let objects = objects
            .iter()
            .map(|o| {
                let ignored = ignore.for_object(&o.id, &o.body);
                let body = crate::apply::desired(o, Some(commit), labels);
                let digest = diff::digest(&body);
                let object = Object {
                    id: o.id.clone(),
                    api_version: o.api_version.clone(),
                    body,
                    source: o.source.clone(),
                };
                let managed = Managed {
                    object,
                    digest,
                    ignored,
                };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::SourceLoc;
    use serde_json::json;

    fn deployment(image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a"},
            "spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}
        })
    }

    #[test]
    fn targets_hold_the_applied_body_with_labels_and_revision() {
        let obj = Object {
            id: ObjectId::new("apps", "Deployment", Some("a"), "web"),
            api_version: "apps/v1".into(),
            body: deployment("nginx:1"),
            source: SourceLoc {
                layer: "apps".into(),
                path: "apps/web.yaml".into(),
                line: 1,
                document: 0,
            },
        };
        let labels = BTreeMap::from([("applyset.kubernetes.io/part-of".into(), "x".into())]);
        let t = Target::new(
            "abc",
            std::slice::from_ref(&obj),
            &labels,
            &IgnoreRules::default(),
        );
        let m = &t.objects[&obj.id];
        assert_eq!(
            m.object.body["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
            "x"
        );
        assert_eq!(
            m.object.body["metadata"]["annotations"]["rekube.dev/revision"],
            "abc"
        );
        assert_eq!(m.digest, diff::digest(&m.object.body));
    }

    #[test]
    fn changes_name_the_field_and_who_changed_it() {
        let mut live = deployment("drifted:6");
        live["metadata"]["managedFields"] = json!([{
            "manager": "kubectl-set", "operation": "Update", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"main\"}": {"f:image": {}}}}}}}
        }]);
        let text = changes(&live, &deployment("nginx:1"));
        assert!(
            text.contains("image changed by kubectl-set (Update)"),
            "{text}"
        );
        assert_eq!(changes(&live, &live), "fields differ");
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
    }
}
