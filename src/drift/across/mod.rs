//! Active/active: clusters of one role compared with each other, object by object. Pure: each cluster's
//! drift report and what it holds of every object of Git come from [`crate::ops::drift::drift_seen`].
//!
//! Clusters of one role ([`crate::manifest::clusters::Role::kind`]) differ on an object when they depart
//! from each other in a way Git does not intend:
//! 1. its **state** differs among the clusters Git declares it for: in sync in one, modified, missing or
//!    unverifiable in another. An object Git declares for none of them differs when one cluster holds it
//!    (orphaned, unmanaged) and another does not.
//! 2. its **live content** differs: the live objects, normalised ([`crate::diff::normalize`]: status,
//!    managedFields, uid, resourceVersion… left out), without the ignored fields (`ignore:` rules), the
//!    fields each cluster allocates for itself ([`mask::PER_CLUSTER`]: a Service's cluster IP, a PVC's
//!    volume, an injected caBundle…) and the fields Git itself sets differently per cluster (overlays,
//!    held replicas). This catches what drift against Git cannot: a field Git does not set, changed by
//!    hand in one cluster (`kubectl set env`, an annotation). Each differing field names, per cluster,
//!    the field manager other than rekube that last set it.
//!
//! A cluster Git does not declare an object for (a cluster's extra layer) takes no part in comparing it:
//! that difference is Git's intent. Secret values are never shown: only states and field paths.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{Class, DriftReport};
use crate::diff::{Attribution, FieldPath, Segment, changed_paths, normalize};
use crate::object::ObjectId;

pub mod mask;
mod render;

pub use render::{render_junit, render_text};

/// The field manager rekube applies with: its fields are Git's, not a hand change.
const MANAGER: &str = "rekube";

/// An object's state in one cluster: in sync with Git, a class of drift, or absent (neither declared
/// for the cluster nor found in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    InSync,
    Modified,
    Missing,
    Orphaned,
    Unmanaged,
    Unverifiable,
    Absent,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::InSync => "in sync",
            State::Modified => "modified",
            State::Missing => "missing",
            State::Orphaned => "orphaned",
            State::Unmanaged => "unmanaged",
            State::Unverifiable => "unverifiable",
            State::Absent => "absent",
        }
    }
}

impl From<Class> for State {
    fn from(c: Class) -> State {
        match c {
            Class::Modified => State::Modified,
            Class::Missing => State::Missing,
            Class::Orphaned => State::Orphaned,
            Class::Unmanaged => State::Unmanaged,
            Class::Unverifiable => State::Unverifiable,
        }
    }
}

/// An object of Git as one cluster holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub id: ObjectId,
    /// The object as Git declares it for this cluster.
    pub desired: Value,
    /// The live object without its ignored fields; `None` when absent or unreadable.
    pub live: Option<Value>,
}

/// One cluster's side of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub cluster: String,
    /// `primary` or `standby`: clusters of one role are compared.
    pub role: String,
    objects: BTreeMap<ObjectId, Entry>,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    state: State,
    source: Option<String>,
    /// Normalised; `None` when Git does not declare the object for this cluster.
    desired: Option<Value>,
    /// Normalised and masked, for comparing.
    live: Option<Value>,
    /// The live object's `metadata.managedFields`, for naming who changed a differing field.
    managed: Value,
}

impl View {
    /// The cluster's drift report and its objects of Git (`seen`).
    pub fn new(cluster: &str, role: &str, report: &DriftReport, seen: Vec<Seen>) -> View {
        let mut objects = BTreeMap::new();
        for s in seen {
            let managed = s
                .live
                .as_ref()
                .and_then(|l| l.pointer("/metadata/managedFields"))
                .cloned()
                .unwrap_or(Value::Null);
            let entry = Entry {
                state: State::InSync,
                source: None,
                desired: Some(normalize(&s.desired)),
                live: s.live.map(|l| mask::per_cluster(&s.id, &normalize(&l))),
                managed,
            };
            objects.insert(s.id, entry);
        }
        for s in &report.in_sync {
            if let Some(e) = objects.get_mut(&s.id) {
                e.source = Some(s.source.clone());
            }
        }
        for f in &report.findings {
            let e = objects.entry(f.id.clone()).or_insert_with(|| Entry {
                state: State::Absent,
                source: None,
                desired: None,
                live: None,
                managed: Value::Null,
            });
            e.state = f.class.into();
            e.source.clone_from(&f.source);
        }
        View {
            cluster: cluster.to_string(),
            role: role.to_string(),
            objects,
        }
    }
}

/// Clusters of one role, compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub role: String,
    /// The clusters compared, in the order given.
    pub clusters: Vec<String>,
    /// Clusters of this role whose drift could not be observed: left out of the comparison.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<String>,
    /// Objects compared: declared for, or found in, any of the clusters.
    pub compared: usize,
    /// The objects on which the clusters differ, by id.
    pub differing: Vec<Row>,
    /// The objects on which they agree: `(id, where Git declares it)`.
    #[serde(skip)]
    pub alike: Vec<(ObjectId, Option<String>)>,
}

/// An object on which clusters of one role differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub id: ObjectId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Its state in each cluster.
    pub states: BTreeMap<String, State>,
    /// Fields whose live content differs between the clusters Git declares it for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Differing>,
}

/// A field whose live content differs, and who set it by hand in which cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Differing {
    pub path: FieldPath,
    /// Per cluster, the field manager other than rekube that owns the field there.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub changed_by: BTreeMap<String, Attribution>,
}

/// Compares the views of each role that has at least two; `failed` (cluster, role) are the clusters
/// whose drift could not be observed. Groups come in the order of their first cluster.
pub fn compare(views: &[View], failed: &[(String, String)]) -> Vec<Group> {
    let mut roles: Vec<&str> = Vec::new();
    for v in views {
        if !roles.contains(&v.role.as_str()) {
            roles.push(&v.role);
        }
    }
    roles
        .into_iter()
        .filter_map(|role| {
            let members: Vec<&View> = views.iter().filter(|v| v.role == role).collect();
            (members.len() >= 2).then(|| group(role, &members, failed))
        })
        .collect()
}

/// 1 when clusters of some role differ, else 0.
pub fn exit_code(groups: &[Group]) -> i32 {
    i32::from(groups.iter().any(|g| !g.differing.is_empty()))
}

fn group(role: &str, views: &[&View], failed: &[(String, String)]) -> Group {
    let ids: BTreeSet<&ObjectId> = views.iter().flat_map(|v| v.objects.keys()).collect();
    let mut differing = Vec::new();
    let mut alike = Vec::new();
    for id in &ids {
        let entries: Vec<(&str, Option<&Entry>)> = views
            .iter()
            .map(|v| (v.cluster.as_str(), v.objects.get(*id)))
            .collect();
        let source = entries
            .iter()
            .find_map(|(_, e)| e.and_then(|e| e.source.clone()));
        let (differs, fields) = judge(&entries);
        if differs {
            let states = entries
                .iter()
                .map(|(c, e)| (c.to_string(), e.map_or(State::Absent, |e| e.state)))
                .collect();
            differing.push(Row {
                id: (*id).clone(),
                source,
                states,
                fields,
            });
        } else {
            alike.push(((*id).clone(), source));
        }
    }
    Group {
        role: role.to_string(),
        clusters: views.iter().map(|v| v.cluster.clone()).collect(),
        not_compared: failed
            .iter()
            .filter(|(_, r)| r == role)
            .map(|(c, _)| c.clone())
            .collect(),
        compared: ids.len(),
        differing,
        alike,
    }
}

/// Whether the clusters differ on one object, and the live fields that do.
fn judge(entries: &[(&str, Option<&Entry>)]) -> (bool, Vec<Differing>) {
    let declared: Vec<(&str, &Entry)> = entries
        .iter()
        .filter_map(|(c, e)| e.filter(|e| e.desired.is_some()).map(|e| (*c, e)))
        .collect();
    if declared.is_empty() {
        // Declared for none: one cluster holds it (orphaned, unmanaged) and another does not.
        let states: BTreeSet<State> = entries
            .iter()
            .map(|(_, e)| e.map_or(State::Absent, |e| e.state))
            .collect();
        return (states.len() > 1, Vec::new());
    }
    let states: BTreeSet<State> = declared.iter().map(|(_, e)| e.state).collect();
    let fields = content(&declared);
    (states.len() > 1 || !fields.is_empty(), fields)
}

/// The live fields that differ between the clusters holding the object, once the fields Git sets
/// differently per cluster are left out.
fn content(declared: &[(&str, &Entry)]) -> Vec<Differing> {
    let Some((_, first)) = declared.first() else {
        return Vec::new();
    };
    let mut intended: Vec<FieldPath> = Vec::new();
    for (_, e) in &declared[1..] {
        if let (Some(a), Some(b)) = (&first.desired, &e.desired) {
            intended.extend(changed_paths(a, b));
        }
    }
    let lives: Vec<(&str, &Entry, Value)> = declared
        .iter()
        .filter_map(|(c, e)| {
            let live = e.live.as_ref()?;
            Some((*c, *e, mask::without(live, &intended)))
        })
        .collect();
    let Some((_, _, reference)) = lives.first() else {
        return Vec::new();
    };
    let mut paths: Vec<FieldPath> = Vec::new();
    for (_, _, live) in &lives[1..] {
        for p in differing_paths(reference, live) {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let changed_by = lives
                .iter()
                .filter_map(|(c, e, _)| {
                    let by = crate::diff::attribute(&e.managed, &path)?;
                    (by.manager != MANAGER).then(|| (c.to_string(), by))
                })
                .collect();
            Differing { path, changed_by }
        })
        .collect()
}

/// [`changed_paths`], a map or a list of named items present on one side only named by its keys or
/// items: a label added by hand is `metadata.labels.team`, an env var set by hand
/// `…containers[name=web].env[name=DEBUG]`, whose manager can be named.
fn differing_paths(a: &Value, b: &Value) -> Vec<FieldPath> {
    let empty = Value::Object(serde_json::Map::new());
    let mut out = Vec::new();
    for p in changed_paths(a, b) {
        let child = |segment: Segment| {
            let mut segments = p.segments().to_vec();
            segments.push(segment);
            FieldPath(segments)
        };
        match (mask::at(a, &p), mask::at(b, &p)) {
            (None, Some(m @ Value::Object(_))) | (Some(m @ Value::Object(_)), None) => {
                out.extend(changed_paths(&empty, m).into_iter().map(|sub| {
                    FieldPath(p.segments().iter().chain(sub.segments()).cloned().collect())
                }));
            }
            (None, Some(Value::Array(items))) | (Some(Value::Array(items)), None)
                if !items.is_empty()
                    && items
                        .iter()
                        .all(|i| i.get("name").is_some_and(Value::is_string)) =>
            {
                out.extend(items.iter().map(|item| {
                    child(Segment::Item {
                        name: item["name"].as_str().unwrap_or_default().to_string(),
                        item: item.clone(),
                    })
                }));
            }
            _ => out.push(p),
        }
    }
    out
}

#[cfg(test)]
mod tests;
