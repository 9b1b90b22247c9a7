//! Who changed a field: the field manager that owns it in the live object's `metadata.managedFields`.
//!
//! Each entry's `fieldsV1` is a tree of the fields that manager owns: `f:<field>` for a map key,
//! `k:<json>` for an item of an associative list (`k:{"name":"app"}`), `v:<json>` for an item of a
//! set, `.` for the node itself; `{}` is a leaf, and a leaf above the path (an atomic map or list,
//! such as `f:selector: {}` or `f:args: {}`) owns everything under it. When an update changes a
//! field, server-side apply moves its ownership to the updater, so the owner is who last set it.

use serde::Serialize;
use serde_json::{Map, Value};

use super::path::{FieldPath, Segment};

/// The manager that owns a field, from its managedFields entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribution {
    /// Field manager: `kubectl`, `kube-controller-manager`, `helm`, `rekube`…
    pub manager: String,
    /// `Apply` (server-side apply) or `Update` (create, update, patch).
    pub operation: String,
    /// When the manager last changed its set of fields (RFC 3339), if recorded.
    pub time: Option<String>,
    /// `scale`, `status`…, when the change went through a subresource.
    pub subresource: Option<String>,
}

/// The manager owning `path` in `managed_fields` (the `metadata.managedFields` list). Several owners
/// (equal values applied by several managers) resolve to the most recent one. `None` when no entry
/// owns it, e.g. the field is absent from the live object.
///
/// A plain list index (`args[2]`) cannot name an item of a set or associative list, so there the
/// owner of the list answers.
pub fn attribute(managed_fields: &Value, path: &FieldPath) -> Option<Attribution> {
    let mut best: Option<Attribution> = None;
    for entry in managed_fields.as_array()?.iter() {
        if entry
            .get("fieldsType")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "FieldsV1")
        {
            continue;
        }
        let Some(fields) = entry.get("fieldsV1") else {
            continue;
        };
        if !owns(fields, path.segments()) {
            continue;
        }
        let Some(candidate) = attribution(entry) else {
            continue;
        };
        // RFC 3339 times of managedFields are UTC with second precision: they sort as text.
        if best.as_ref().is_none_or(|b| candidate.time > b.time) {
            best = Some(candidate);
        }
    }
    best
}

fn attribution(entry: &Value) -> Option<Attribution> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
    Some(Attribution {
        manager: text("manager")?,
        operation: text("operation").unwrap_or_default(),
        time: text("time"),
        subresource: text("subresource").filter(|s| !s.is_empty()),
    })
}

/// Whether the `fieldsV1` tree contains `path`, or a leaf above it.
fn owns(fields: &Value, path: &[Segment]) -> bool {
    let mut node = fields;
    for (depth, segment) in path.iter().enumerate() {
        let Some(map) = node.as_object() else {
            return false;
        };
        if map.is_empty() {
            // A leaf above the path: an atomic value owned as a whole (the root is never a leaf).
            return depth > 0;
        }
        let child = match segment {
            Segment::Field(key) => map.get(&format!("f:{key}")),
            Segment::Item { item, .. } => keyed_item(map, item),
            Segment::Index(_) => return true,
        };
        match child {
            Some(c) => node = c,
            None => return false,
        }
    }
    true
}

/// The `k:{…}` child whose key fields all equal the item's, or the `v:…` child equal to it.
fn keyed_item<'a>(map: &'a Map<String, Value>, item: &Value) -> Option<&'a Value> {
    map.iter().find_map(|(key, child)| {
        if let Some(json) = key.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(json).ok()?;
            let matches = !keys.is_empty() && keys.iter().all(|(k, v)| item.get(k) == Some(v));
            return matches.then_some(child);
        }
        let json = key.strip_prefix("v:")?;
        let value: Value = serde_json::from_str(json).ok()?;
        (value == *item).then_some(child)
    })
}

#[cfg(test)]
mod tests;
