//! Classification, one function per source of findings: objects of Git against their observation,
//! members of the inventory against Git, and objects found in managed namespaces.

use std::collections::BTreeSet;

use serde_json::Value;

use super::generated::{self, Context};
use super::{Class, DriftedField, Finding};
use crate::diff::{self, Attribution, DiffOptions, DryRun, Observation};
use crate::inventory::{
    self, Contents, INVENTORY_NAMESPACE, LABEL_ID, LABEL_PART_OF, Listed, Member,
};
use crate::object::{Object, ObjectId};

/// An object of Git against what the cluster says: `None` when in sync.
pub fn desired(obj: &Object, obs: &Observation, opts: &DiffOptions) -> Option<Finding> {
    let mut f = Finding::new(Class::Missing, obj.id.clone());
    f.source = Some(obj.source.to_string());
    match (&obs.dry_run, &obs.live) {
        (DryRun::InSync, _) => return None,
        (DryRun::Failed(e), _) => {
            f.class = Class::Unverifiable;
            f.message = Some(crate::error::render(e.as_ref()));
        }
        (DryRun::Pending { reason }, _) => f.message = Some(format!("not created yet: {reason}")),
        (DryRun::Ok(_), None) => {}
        (DryRun::Ok(dry), Some(live)) => {
            match diff::compare(&obj.id, Some(live), Some(dry), opts) {
                Ok(d) if d.action == diff::Action::Unchanged => return None,
                Ok(d) => {
                    f.class = Class::Modified;
                    let managed = live
                        .pointer("/metadata/managedFields")
                        .unwrap_or(&Value::Null);
                    f.fields = d
                        .changed
                        .into_iter()
                        .map(|path| DriftedField {
                            changed_by: diff::attribute(managed, &path),
                            path,
                        })
                        .collect();
                    f.diff = Some(d.unified);
                }
                Err(e) => {
                    f.class = Class::Unverifiable;
                    f.message = Some(e.to_string());
                }
            }
        }
    }
    Some(f)
}

/// Members of the set that are no longer in Git, with what a prune would do to each.
pub fn orphans(members: &[Member], desired: &BTreeSet<ObjectId>) -> Vec<Finding> {
    members
        .iter()
        .filter(|m| !desired.contains(&m.id))
        .map(|m| {
            let mut f = Finding::new(Class::Orphaned, m.id.clone());
            f.source = m.declared().map(|d| match m.revision() {
                Some(rev) => format!("{d} at {}", short(rev)),
                None => d.to_string(),
            });
            f.message = Some(match inventory::guard(m) {
                Some(reason) => format!("no longer in Git; prune keeps it: {reason}"),
                None if inventory::is_protected(&m.id) => {
                    "no longer in Git; prune deletes it only with --prune-protected".into()
                }
                None => "no longer in Git; the next apply prunes it".into(),
            });
            f
        })
        .collect()
}

/// Namespaces whose every object should come from Git: the repository's Namespaces and those the
/// inventory records, except the built-in ones, which always hold objects no one declared.
pub fn managed_namespaces(objects: &[Object], recorded: &Contents) -> BTreeSet<String> {
    objects
        .iter()
        .filter(|o| o.id.group.is_empty() && o.id.kind == "Namespace")
        .map(|o| o.id.name.clone())
        .chain(recorded.namespaces.iter().cloned())
        // Namespaces Kubernetes and rekube create and fill by themselves are never scanned.
        .filter(|ns| {
            !crate::builtin::is_builtin_namespace(ns) && ns.as_str() != INVENTORY_NAMESPACE
        })
        .collect()
}

/// Objects listed in managed namespaces that nothing accounts for: not in Git, not in this set (those
/// are orphans) nor another ApplySet, not owned by another object, not made by Kubernetes, its
/// controllers or Helm ([`generated::RULES`]).
pub fn unmanaged(listed: &[Listed], desired: &BTreeSet<ObjectId>) -> Vec<Finding> {
    let ctx = Context::new(listed, desired);
    listed
        .iter()
        .filter(|l| !desired.contains(&l.id))
        .filter(|l| l.meta.owner_references.as_ref().is_none_or(Vec::is_empty))
        .filter(|l| generated::generated_by(l, &ctx).is_none())
        .filter(|l| {
            // Members of this set are orphans; members and parents of other sets belong to their tools.
            l.meta
                .labels
                .as_ref()
                .is_none_or(|m| !m.contains_key(LABEL_PART_OF) && !m.contains_key(LABEL_ID))
        })
        .map(|l| {
            let mut f = Finding::new(Class::Unmanaged, l.id.clone());
            f.created_by = creator(l);
            f.message = Some("not in Git and not owned by another object".into());
            f
        })
        .collect()
}

/// The oldest managedFields entry of the main resource (status and scale updates come from
/// controllers, after creation): whoever created the object.
fn creator(l: &Listed) -> Option<Attribution> {
    let entries = l.meta.managed_fields.as_ref()?;
    let values: Vec<Value> = entries
        .iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect();
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    values
        .iter()
        .filter_map(|v| {
            Some(Attribution {
                manager: text(v, "manager")?,
                operation: text(v, "operation").unwrap_or_default(),
                time: text(v, "time"),
                subresource: text(v, "subresource").filter(|s| !s.is_empty()),
            })
        })
        .min_by(|a, b| (a.subresource.is_some(), &a.time).cmp(&(b.subresource.is_some(), &b.time)))
}

/// The first 12 characters of a commit id.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
