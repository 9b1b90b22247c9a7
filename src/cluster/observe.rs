//! Observation: for each desired object, the live object and the server-side dry-run result, gathered
//! concurrently (bounded) and returned in input order. The diff and drift stages compare them.

use std::collections::HashSet;

use futures::StreamExt;
use serde_json::Value;

use super::{Cluster, ClusterError, Live, LiveIndex};
use crate::object::{Object, ObjectId};

/// What the cluster says about one desired object.
#[derive(Debug)]
pub struct Observation {
    /// The live object, `None` when it does not exist.
    pub live: Option<Value>,
    pub dry_run: DryRun,
}

/// The server's answer to a dry-run apply.
#[derive(Debug)]
pub enum DryRun {
    /// What the server would store.
    Ok(Value),
    /// It cannot be verified yet, but it is an expected creation: its CRD or Namespace is in the plan and
    /// not installed yet. `reason` says which.
    Pending { reason: String },
    /// The server refused: never counted as in sync.
    Failed(ClusterError),
}

/// What [`observe`] needs to know about the plan to tell "not installed yet" from errors.
#[derive(Debug, Default)]
pub struct PlanContext {
    /// `(group, kind)` of every CRD in the plan.
    pub planned_kinds: HashSet<(String, String)>,
    /// Namespaces created by the plan.
    pub planned_namespaces: HashSet<String>,
}

impl PlanContext {
    pub fn from_objects(objects: &[Object]) -> PlanContext {
        let mut ctx = PlanContext::default();
        for o in objects {
            match (o.id.group.as_str(), o.id.kind.as_str()) {
                ("", "Namespace") => {
                    ctx.planned_namespaces.insert(o.id.name.clone());
                }
                ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                    let group = o
                        .get("/spec/group")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let kind = o
                        .get("/spec/names/kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    ctx.planned_kinds
                        .insert((group.to_string(), kind.to_string()));
                }
                _ => {}
            }
        }
        ctx
    }
}

impl Cluster {
    /// Observes every object (`bodies[i]` is what would be applied for `objects[i]`), `concurrency` at a
    /// time, in input order.
    pub async fn observe(
        &self,
        objects: &[Object],
        bodies: &[Value],
        plan: &PlanContext,
        concurrency: usize,
    ) -> Vec<Observation> {
        let live = self.list_live(objects, concurrency).await;
        let live = &live;
        futures::stream::iter(objects.iter().zip(bodies))
            .map(|(obj, body)| self.observe_one(obj, body, plan, live))
            .buffered(concurrency.max(1))
            .collect()
            .await
    }

    async fn observe_one(
        &self,
        obj: &Object,
        body: &Value,
        plan: &PlanContext,
        index: &LiveIndex,
    ) -> Observation {
        let looked_up = match index.lookup(&obj.id) {
            Live::Present(v) => Ok(Some(v.clone())),
            Live::Absent => Ok(None),
            Live::Unknown => self.get(&obj.id, &obj.api_version).await,
        };
        let live = match looked_up {
            Ok(live) => live,
            Err(ClusterError::UnknownKind { .. }) if planned_kind(plan, &obj.id) => {
                return Observation {
                    live: None,
                    dry_run: DryRun::Pending {
                        reason: format!(
                            "its CustomResourceDefinition ({}) is not installed yet",
                            obj.id.group_kind()
                        ),
                    },
                };
            }
            Err(e) => {
                return Observation {
                    live: None,
                    dry_run: DryRun::Failed(e),
                };
            }
        };
        // The no-op fast path: applied from this very object and untouched since, so the dry-run result
        // would be the live object itself.
        if let Some(l) = &live
            && crate::diff::in_sync(l, body)
        {
            return Observation {
                dry_run: DryRun::Ok(l.clone()),
                live,
            };
        }
        let dry_run = match self.apply(obj, body, true).await {
            Ok(v) => DryRun::Ok(v),
            Err(e) if live.is_none() && namespace_missing(&e) && planned_namespace(plan, obj) => {
                DryRun::Pending {
                    reason: format!(
                        "its Namespace {} is not created yet",
                        obj.namespace().unwrap_or_default()
                    ),
                }
            }
            Err(e) => DryRun::Failed(e),
        };
        Observation { live, dry_run }
    }
}

fn planned_kind(plan: &PlanContext, id: &ObjectId) -> bool {
    plan.planned_kinds
        .contains(&(id.group.clone(), id.kind.clone()))
}

fn planned_namespace(plan: &PlanContext, obj: &Object) -> bool {
    obj.namespace()
        .is_some_and(|ns| plan.planned_namespaces.contains(ns))
}

/// A dry-run create in a namespace that does not exist answers 404 naming the namespace.
fn namespace_missing(e: &ClusterError) -> bool {
    e.status_code() == Some(404) && e.api_message().is_some_and(|m| m.contains("namespaces \""))
}
