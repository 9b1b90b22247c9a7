//! `promote`: a standby cluster starts serving. The repository, loaded promoted (the whole of it, nothing
//! held), goes through the one apply operation ([`super::apply::apply`]): a warm standby's held workloads
//! get Git's replicas and lose their hold annotation, a pilot light gets the layers it lacked; in
//! dependency order, waiting for readiness. The promotion is then recorded on the inventory's parent
//! ([`crate::inventory::record_promotion`]) so that later applies keep the cluster serving.
//!
//! A promote only adds: it never prunes and never re-creates. It runs during an outage, and deleting
//! what the standby held (or anything the inventory lists) is the opposite of recovering; what left Git
//! is pruned by the next ordinary apply.

use std::collections::BTreeSet;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::apply::{Action, ApplyEvent, Dag};
use crate::cluster::{Cluster, ClusterError};
use crate::diff::ignore::{IgnoreRule, IgnoreRules, Selector};
use crate::inventory::{ApplySet, InventoryError, record_promotion};
use crate::keys::ANNOTATION_STANDBY_REPLICAS;
use crate::manifest::Manifest;
use crate::manifest::clusters::{Role, is_held_kind};
use crate::object::{Object, ObjectId};
use crate::report::RebuildReport;

use super::apply::{ApplyRunOptions, apply};

const REPLICAS: &str = "/spec/replicas";

/// Options of [`promote`]: the apply operation's (its prune is turned off, recreation too).
#[derive(Debug, Clone, Default)]
pub struct PromoteOptions {
    pub run: ApplyRunOptions,
    /// When the promotion started (RFC 3339), recorded on the inventory's parent.
    pub at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error(
        "the repository was not loaded for a cluster of rekube.yaml: promote needs --cluster NAME"
    )]
    NoCluster,
    #[error("cluster {cluster:?} is a primary: only a standby is promoted")]
    Primary { cluster: String },
    #[error("cluster {cluster:?}: the repository was not loaded promoted")]
    NotPromoted { cluster: String },
    #[error("promote: the standby's workloads cannot be read")]
    Read(#[source] ClusterError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
}

/// A warm standby's workload that the promotion scaled up.
#[derive(Debug, Clone, Serialize)]
pub struct Released {
    pub id: ObjectId,
    /// Git's replicas, as the standby recorded them.
    pub replicas: String,
}

/// What a promotion did, and how long it took.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromoteReport {
    pub cluster: String,
    /// `standby (warm)`, `standby (pilot light: …)`.
    pub role: String,
    pub succeeded: bool,
    /// When the promotion started, as recorded on the inventory (an earlier promotion's time when the
    /// cluster was promoted already); `None` when it could not be recorded.
    pub promoted_at: Option<String>,
    /// The recovery time: from the start of the command to the last object ready.
    pub recovery_seconds: f64,
    /// Workloads that were held at zero and got Git's replicas.
    pub released: Vec<Released>,
    /// Objects the standby did not have (a pilot light's missing layers).
    pub created: usize,
    /// Why the promotion is not complete, one line each.
    pub problems: Vec<String>,
    /// Per-layer timings, the slowest objects, the critical path and every change.
    pub apply: RebuildReport,
}

/// Promotes the standby `manifest` was loaded for (promoted) on `cluster`. `started` is when the user's
/// clock started.
///
/// # Errors
/// The manifest is not a promoted standby's; the live workloads cannot be read; the inventory cannot be
/// prepared (nothing was applied). Object failures are in the report.
pub async fn promote<F>(
    cluster: &Cluster,
    manifest: &Manifest,
    dag: &Dag,
    opts: &PromoteOptions,
    started: Instant,
    on_event: F,
) -> Result<PromoteReport, PromoteError>
where
    F: FnMut(ApplyEvent),
{
    let for_cluster = manifest.cluster.as_ref().ok_or(PromoteError::NoCluster)?;
    let name = for_cluster.spec.name.clone();
    if for_cluster.spec.role == Role::Primary {
        return Err(PromoteError::Primary { cluster: name });
    }
    if !for_cluster.promoted {
        return Err(PromoteError::NotPromoted { cluster: name });
    }
    let released = held(cluster, &manifest.objects).await?;
    let held_ids: BTreeSet<ObjectId> = released.iter().map(|r| r.id.clone()).collect();
    // The held replicas are written even where an autoscaler owns them: it does not scale a workload
    // at zero, so keeping the live value would leave it at zero for good.
    let mut promoted = manifest.clone();
    promoted.rules.ignore = release_replicas(&manifest.rules.ignore, &manifest.objects, &held_ids);
    let mut run = opts.run.clone();
    run.apply.recreate = false;
    if let Some(p) = &mut run.prune {
        p.enabled = false;
    }
    let preflight = started.elapsed();
    let applied = apply(cluster, &promoted, dag, &run, on_event).await?;
    let mut problems = Vec::new();
    let promoted_at = match &run.prune {
        Some(p) => match record(cluster, &p.inventory, &opts.at).await {
            Ok(at) => Some(at),
            Err(e) => {
                problems.push(format!(
                    "the promotion was not recorded: {}",
                    crate::error::render(&e)
                ));
                None
            }
        },
        None => None,
    };
    if let Some(e) = &applied.inventory_error {
        problems.push(crate::error::render(e));
    }
    let created = applied
        .changes
        .changes
        .iter()
        .filter(|c| c.action == Action::Created)
        .count();
    let layers: Vec<String> = manifest.layers.iter().map(|l| l.name.clone()).collect();
    let mut report = RebuildReport::new(
        applied.changes,
        &layers,
        preflight,
        None,
        manifest.revision.commit.clone(),
        cluster.server().to_string(),
    );
    let simulated = run.apply.simulated.then_some(&manifest.rules.health);
    report.analyse(dag, &manifest.objects, simulated);
    if !report.succeeded {
        problems.push(format!(
            "not every object is ready: {}",
            report.changes.summary()
        ));
    }
    Ok(PromoteReport {
        cluster: name,
        role: for_cluster.spec.role.describe(),
        succeeded: problems.is_empty(),
        promoted_at,
        recovery_seconds: report.rto_seconds,
        released,
        created,
        problems,
        apply: report,
    })
}

async fn record(cluster: &Cluster, inventory: &str, at: &str) -> Result<String, InventoryError> {
    let set = ApplySet::new(inventory)?;
    record_promotion(cluster, &set, at).await
}

/// The repository's Deployments and StatefulSets that the cluster holds at zero (their live object
/// carries [`ANNOTATION_STANDBY_REPLICAS`]).
async fn held(cluster: &Cluster, objects: &[Object]) -> Result<Vec<Released>, PromoteError> {
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| is_held_kind(o)) {
        let live = match cluster.get(&o.id, &o.api_version).await {
            Ok(live) => live,
            Err(ClusterError::UnknownKind { .. }) => None,
            Err(e) => return Err(PromoteError::Read(e)),
        };
        let replicas = live
            .as_ref()
            .and_then(|l| l.pointer("/metadata/annotations"))
            .and_then(|a| a.get(ANNOTATION_STANDBY_REPLICAS))
            .and_then(Value::as_str);
        if let Some(replicas) = replicas {
            out.push(Released {
                id: o.id.clone(),
                replicas: replicas.to_string(),
            });
        }
    }
    Ok(out)
}

/// The ignore rules with `/spec/replicas` no longer ignored in the `held` objects, and still ignored in
/// every other object of `objects` it was ignored in (rules only ever apply to the repository's
/// objects, so naming those is exact).
fn release_replicas(
    rules: &IgnoreRules,
    objects: &[Object],
    held: &BTreeSet<ObjectId>,
) -> IgnoreRules {
    if held.is_empty() {
        return rules.clone();
    }
    let mut out = Vec::new();
    for rule in rules.rules() {
        let Some(at) = rule.json_pointers.iter().position(|p| p == REPLICAS) else {
            out.push(rule.clone());
            continue;
        };
        if !held.iter().any(|id| rule.selector.matches(id)) {
            out.push(rule.clone());
            continue;
        }
        let mut rest = rule.clone();
        rest.json_pointers.remove(at);
        rest.fields.remove(at);
        if !rest.json_pointers.is_empty() || !rest.managed_fields_managers.is_empty() {
            out.push(rest);
        }
        for o in objects
            .iter()
            .filter(|o| rule.selector.matches(&o.id) && !held.contains(&o.id))
        {
            out.push(IgnoreRule {
                selector: exact(&o.id),
                json_pointers: vec![REPLICAS.to_string()],
                fields: vec![rule.fields[at].clone()],
                managed_fields_managers: Vec::new(),
                origin: rule.origin.clone(),
            });
        }
    }
    IgnoreRules::new(out)
}

fn exact(id: &ObjectId) -> Selector {
    Selector {
        group: Some(id.group.clone()),
        kind: Some(id.kind.clone()),
        namespace: Some(id.namespace.clone().unwrap_or_default()),
        name: Some(id.name.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::ignore::{IgnoreOrigin, autoscaler_rules, parse_pointer};
    use serde_json::json;

    fn object(kind: &str, name: &str) -> Object {
        let (group, api) = match kind {
            "HorizontalPodAutoscaler" => ("autoscaling", "autoscaling/v2"),
            "Deployment" => ("apps", "apps/v1"),
            _ => ("example.com", "example.com/v1"),
        };
        let body = json!({
            "apiVersion": api, "kind": kind,
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}},
        });
        Object {
            id: ObjectId::new(group, kind, Some("shop"), name),
            api_version: api.into(),
            body,
            source: crate::object::SourceLoc {
                layer: "apps".into(),
                path: format!("apps/{name}.yaml"),
                line: 1,
                document: 0,
            },
        }
    }

    #[test]
    fn held_workloads_lose_the_autoscaler_rule_others_keep_it() {
        let objects = vec![
            object("Deployment", "web"),
            object("Deployment", "api"),
            object("Widget", "w"),
            object("HorizontalPodAutoscaler", "web"),
        ];
        let declared = IgnoreRule {
            selector: Selector {
                name: Some("*".into()),
                ..Selector::default()
            },
            json_pointers: vec!["/spec/paused".into(), REPLICAS.into()],
            fields: vec![
                parse_pointer("/spec/paused").expect("pointer"),
                parse_pointer(REPLICAS).expect("pointer"),
            ],
            managed_fields_managers: Vec::new(),
            origin: IgnoreOrigin::Config {
                file: "rekube.yaml".into(),
                line: 3,
            },
        };
        let mut rules = autoscaler_rules(&objects);
        rules.push(declared);
        let rules = IgnoreRules::new(rules);
        let held: BTreeSet<ObjectId> = [objects[0].id.clone(), objects[1].id.clone()].into();
        let out = release_replicas(&rules, &objects, &held);
        let ignores_replicas = |o: &Object| {
            out.rules()
                .iter()
                .any(|r| r.selector.matches(&o.id) && r.json_pointers.iter().any(|p| p == REPLICAS))
        };
        assert!(!ignores_replicas(&objects[0]), "{out:?}");
        assert!(!ignores_replicas(&objects[1]), "{out:?}");
        assert!(ignores_replicas(&objects[2]), "{out:?}");
        let paused = |o: &Object| {
            out.rules().iter().any(|r| {
                r.selector.matches(&o.id) && r.json_pointers.iter().any(|p| p == "/spec/paused")
            })
        };
        assert!(paused(&objects[0]) && paused(&objects[2]), "{out:?}");
        assert_eq!(release_replicas(&rules, &objects, &BTreeSet::new()), rules);
    }
}
