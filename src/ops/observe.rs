//! Observation, for diff and drift: for each desired object, the live object and the [sync
//! decision](crate::diff::decide), gathered concurrently (bounded) and returned in input order.

use std::collections::HashSet;

use futures::StreamExt;
use serde_json::Value;

use crate::cluster::{Cluster, ClusterError, LiveIndex};
use crate::diff::{DryRun, IgnoreRules, Ignored, Observation, SyncOptions};
use crate::object::{Object, ObjectId};

/// What the plan creates, to tell "not installed yet" from errors.
#[derive(Debug, Default)]
struct PlanContext {
    /// `(group, kind)` of every CRD in the plan.
    planned_kinds: HashSet<(String, String)>,
    /// Namespaces created by the plan.
    planned_namespaces: HashSet<String>,
}

impl PlanContext {
    fn from_objects(objects: &[Object]) -> PlanContext {
        let mut ctx = PlanContext::default();
        for o in objects {
            match (o.id.group.as_str(), o.id.kind.as_str()) {
                ("", "Namespace") => {
                    ctx.planned_namespaces.insert(o.id.name.clone());
                }
                ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                    let field = |p| o.get(p).and_then(Value::as_str).unwrap_or_default();
                    ctx.planned_kinds.insert((
                        field("/spec/group").to_string(),
                        field("/spec/names/kind").to_string(),
                    ));
                }
                _ => {}
            }
        }
        ctx
    }

    fn has_kind(&self, id: &ObjectId) -> bool {
        self.planned_kinds
            .contains(&(id.group.clone(), id.kind.clone()))
    }

    fn has_namespace(&self, obj: &Object) -> bool {
        obj.namespace()
            .is_some_and(|ns| self.planned_namespaces.contains(ns))
    }
}

/// The repository's objects as rekube would apply them (provenance and `labels`, [`desired_body`]),
/// each observed, in the manifest's order. What diff and drift share. `keep_live` keeps the live object
/// of objects in sync too (drift of several clusters compares them with each other).
pub async fn observe_manifest(
    cluster: &Cluster,
    manifest: &crate::manifest::Manifest,
    labels: &std::collections::BTreeMap<String, String>,
    concurrency: usize,
    keep_live: bool,
) -> Vec<Observation> {
    let body = |o: &Object| desired_body(manifest, o, labels);
    observe(
        cluster,
        &manifest.objects,
        body,
        &manifest.rules.ignore,
        concurrency,
        keep_live,
    )
    .await
}

/// What would be applied for `obj` of `manifest`: its body with provenance and `labels`.
pub fn desired_body(
    manifest: &crate::manifest::Manifest,
    obj: &Object,
    labels: &std::collections::BTreeMap<String, String>,
) -> Value {
    crate::apply::desired(obj, manifest.revision.commit.as_deref(), labels)
}

/// Observes every object (`body(obj)` is what would be applied for it, made when it is observed and
/// dropped after), `concurrency` at a time, in input order. Each live object is moved out of the
/// index as it is observed, and kept only when it is not in sync (or `keep_live`): the peak holds about
/// one copy.
pub async fn observe(
    cluster: &Cluster,
    objects: &[Object],
    body: impl Fn(&Object) -> Value,
    ignore: &IgnoreRules,
    concurrency: usize,
    keep_live: bool,
) -> Vec<Observation> {
    let plan = PlanContext::from_objects(objects);
    let live = cluster.list_live(objects, concurrency).await;
    let (plan, live, body) = (&plan, &live, &body);
    futures::stream::iter(objects)
        .map(|obj| {
            let ignored = ignore.for_object(&obj.id, &obj.body);
            let keep = keep_live;
            async move { observe_one(cluster, obj, &body(obj), &ignored, plan, live, keep).await }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

async fn observe_one(
    cluster: &Cluster,
    obj: &Object,
    body: &Value,
    ignored: &Ignored,
    plan: &PlanContext,
    index: &LiveIndex,
    keep_live: bool,
) -> Observation {
    let (live, fresh) = match cluster.live(index, obj).await {
        Ok(found) => found,
        Err(ClusterError::UnknownKind { .. }) if plan.has_kind(&obj.id) => {
            let reason = format!(
                "its CustomResourceDefinition ({}) is not installed yet",
                obj.id.group_kind()
            );
            return pending(reason);
        }
        Err(e) => return failed(e),
    };
    let absent = live.is_none();
    let opts = SyncOptions {
        dry_run_create: true,
        fresh,
    };
    match crate::apply::decide(cluster, obj, body, ignored, live, opts).await {
        Ok(d) if keep_live => Observation::keeping(d, body),
        Ok(d) => Observation::of(d, body),
        Err(e) if absent && namespace_missing(&e) && plan.has_namespace(obj) => {
            let ns = obj.namespace().unwrap_or_default();
            pending(format!("its Namespace {ns} is not created yet"))
        }
        // The live object is not kept: a refused dry-run is reported by its error alone.
        Err(e) => failed(e),
    }
}

fn pending(reason: String) -> Observation {
    Observation {
        live: None,
        dry_run: DryRun::Pending { reason },
    }
}

fn failed(e: ClusterError) -> Observation {
    Observation {
        live: None,
        dry_run: DryRun::Failed(Box::new(e)),
    }
}

/// A dry-run create in a namespace that does not exist answers 404 naming the namespace.
fn namespace_missing(e: &ClusterError) -> bool {
    e.status_code() == Some(404) && e.api_message().is_some_and(|m| m.contains("namespaces \""))
}
