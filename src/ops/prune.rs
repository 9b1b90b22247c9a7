//! `prune`: the inventory around an apply. [`prepare`] runs before it (take the set's lock, plan the
//! prune, refuse over `--max-prune`, record the union of old and new contents); [`finish`] runs after it
//! (delete what left Git, rank by rank, waiting for each object to be gone; detach the objects that
//! asked to be kept; record what is left and the revision, and free the lock). Between the two, the
//! caller renews the lock ([`crate::ops::apply`]).
//!
//! Only members of the set (listed by their part-of label) are touched, and each deletion is
//! conditioned on the uid that was listed: an object re-created since is never deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions, PropagationPolicy};
use serde_json::{Value, json};

use crate::apply::{Action, Change, ChangeSet};
use crate::cluster::wait::Verdict;
use crate::cluster::{Cluster, ClusterError};
use crate::inventory::{
    self, ApplySet, Contents, Inventory, InventoryError, KeepReason, LABEL_PART_OF, LockOptions,
    Member, PruneOptions, PrunePlan,
};
use crate::manifest::Manifest;
use crate::object::ObjectId;
use crate::source::Identity;

/// Options of [`prepare`] and [`finish`]; `Default` is `rekube apply` without flags.
#[derive(Debug, Clone)]
pub struct PruneRunOptions {
    /// Inventory name (`--inventory`, `rekube.yaml`, or derived: [`inventory_name`]).
    pub inventory: String,
    /// Who applies (holder, owner repository, take-over) and how long to wait for another applier.
    pub lock: LockOptions,
    /// Delete what left Git; off (`--no-prune`), the set is still recorded and nothing is deleted.
    pub enabled: bool,
    pub prune: PruneOptions,
    /// How long each deletion may take.
    pub timeout: Duration,
    /// Deletions in flight at once, within a rank.
    pub concurrency: usize,
}

impl Default for PruneRunOptions {
    fn default() -> Self {
        PruneRunOptions {
            inventory: "default".into(),
            lock: LockOptions::default(),
            enabled: true,
            prune: PruneOptions::default(),
            timeout: Duration::from_secs(300),
            concurrency: 16,
        }
    }
}

/// The inventory, ready for an apply.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub inventory: Inventory,
    /// What the prune after the apply will do.
    pub plan: PrunePlan,
    /// Labels for every applied object (`ApplyOptions.labels`).
    pub labels: BTreeMap<String, String>,
    /// The members found in the cluster before the apply (listed when pruning or when there are charts).
    pub present: BTreeSet<ObjectId>,
}

/// Before an apply: takes the set's lock (checking which repository owns it), plans the prune and
/// checks `--max-prune` (before anything is written but the lock), then records the union of the old
/// and new contents on the parent. The lock is held until [`finish`].
///
/// # Errors
/// The parent belongs to another tool or repository, another applier holds it for longer than the
/// wait, the prune is refused ([`InventoryError::PruneRefused`]), or the cluster cannot be read or
/// written. The lock is freed again.
pub async fn prepare(
    cluster: &Cluster,
    manifest: &Manifest,
    opts: &PruneRunOptions,
) -> Result<Prepared, InventoryError> {
    let set = ApplySet::new(&opts.inventory)?;
    let labels = set.member_labels();
    let mut inventory = Inventory::lock(cluster, set, &opts.lock).await?;
    match plan_and_record(cluster, &mut inventory, manifest, opts).await {
        Ok((plan, present)) => Ok(Prepared {
            inventory,
            plan,
            labels,
            present,
        }),
        Err(e) => {
            if let Err(unlock) = inventory.unlock(cluster, None).await {
                tracing::warn!("{}", crate::error::render(&unlock));
            }
            Err(e)
        }
    }
}

async fn plan_and_record(
    cluster: &Cluster,
    inventory: &mut Inventory,
    manifest: &Manifest,
    opts: &PruneRunOptions,
) -> Result<(PrunePlan, BTreeSet<ObjectId>), InventoryError> {
    let current = Contents::of_objects(&manifest.objects);
    // Two inventories holding one object would delete it as soon as either repository drops it.
    let ids: Vec<ObjectId> = manifest.objects.iter().map(|o| o.id.clone()).collect();
    // Charts need the members too: which hooks run depends on what the set already holds. Both lists
    // are read at once.
    let want_members = opts.enabled || !manifest.releases.is_empty();
    let (held, members) = tokio::join!(inventory.held_elsewhere(cluster, &ids), async {
        if want_members {
            inventory.members(cluster, &current).await
        } else {
            Ok(Vec::new())
        }
    });
    let (held, members) = (held?, members?);
    if !held.is_empty() {
        let objects: String = held
            .iter()
            .map(|(id, other)| format!("\n  {id} (in {other})"))
            .collect();
        if !opts.lock.take_over {
            return Err(InventoryError::HeldElsewhere {
                parent: inventory.set.parent().to_string(),
                count: held.len(),
                objects,
            });
        }
        tracing::warn!(
            "{}: taking over from other inventories (--take-over-inventory):{objects}",
            inventory.set.parent()
        );
    }
    let plan = if opts.enabled {
        let desired: BTreeSet<ObjectId> = manifest.objects.iter().map(|o| o.id.clone()).collect();
        let plan = inventory::plan(&members, &desired, &opts.prune);
        plan.check(opts.prune.max_percent)?;
        plan
    } else {
        PrunePlan::default()
    };
    let union = inventory.contents().union(&current);
    inventory.record(cluster, union, None, None).await?;
    Ok((plan, members.into_iter().map(|m| m.id).collect()))
}

/// The inventory's name: `--inventory` when given, else `inventory:` in `rekube.yaml`, else derived
/// from the repository's identity; and where it came from, for the message that prints it.
pub fn inventory_name(
    flag: Option<&str>,
    manifest: &Manifest,
    identity: &Identity,
) -> (String, &'static str) {
    match (flag, &manifest.inventory) {
        (Some(name), _) => (name.to_string(), "--inventory"),
        (None, Some(name)) => (name.clone(), "rekube.yaml"),
        (None, None) => (identity.name.clone(), "derived from the repository"),
    }
}

/// After an apply: when it `succeeded`, prunes (if enabled) and records the contents and revision.
/// After a failed apply nothing is deleted and the parent keeps the union. The entries' times count
/// from `origin`.
///
/// # Errors
/// The parent cannot be written. Deletion failures are entries of the change set.
pub async fn finish(
    cluster: &Cluster,
    mut prepared: Prepared,
    manifest: &Manifest,
    succeeded: bool,
    opts: &PruneRunOptions,
    origin: Instant,
) -> Result<ChangeSet, InventoryError> {
    if !succeeded {
        prepared.inventory.unlock(cluster, None).await?;
        return Ok(ChangeSet::default());
    }
    let revision = manifest.revision.commit.as_deref();
    let current = Contents::of_objects(&manifest.objects);
    if !opts.enabled {
        let union = prepared.inventory.contents().union(&current);
        let releases = release_digests(manifest);
        prepared
            .inventory
            .unlock(cluster, Some((union, revision, Some(&releases))))
            .await?;
        return Ok(ChangeSet::default());
    }
    // Still ours before anything is deleted (an applier that lost the lock prunes nothing).
    if let Err(e) = prepared.inventory.renew(cluster).await {
        let _ = prepared.inventory.unlock(cluster, None).await;
        return Err(e);
    }
    let mut changes = Vec::new();
    let mut remaining: Vec<ObjectId> = Vec::new();
    for kept in &prepared.plan.kept {
        let started = origin.elapsed();
        let error = match &kept.reason {
            KeepReason::Annotation { .. } => match detach(cluster, &kept.member).await {
                Ok(()) => kept.reason.to_string(),
                Err(e) => {
                    remaining.push(kept.member.id.clone());
                    format!(
                        "{}; detaching it failed: {}",
                        kept.reason,
                        crate::error::render(&e)
                    )
                }
            },
            KeepReason::Protected => {
                remaining.push(kept.member.id.clone());
                kept.reason.to_string()
            }
        };
        changes.push(entry(
            &kept.member,
            Action::Kept,
            Some(error),
            started,
            origin.elapsed(),
        ));
    }
    let mut failed: Option<ObjectId> = None;
    for rank in &prepared.plan.delete {
        if let Some(f) = &failed {
            for m in rank {
                let why = format!("not deleted: {f} could not be deleted");
                changes.push(entry(
                    m,
                    Action::Blocked,
                    Some(why),
                    origin.elapsed(),
                    origin.elapsed(),
                ));
                remaining.push(m.id.clone());
            }
            continue;
        }
        // Waiting for deletions can be long: the lock is renewed between ranks.
        if let Err(e) = prepared.inventory.renew(cluster).await {
            let _ = prepared.inventory.unlock(cluster, None).await;
            return Err(e);
        }
        let results: Vec<(Duration, Result<(), ClusterError>)> = futures::stream::iter(rank)
            .map(|m| async move { (origin.elapsed(), delete(cluster, m, opts.timeout).await) })
            .buffered(opts.concurrency.max(1))
            .collect()
            .await;
        for (m, (started, result)) in rank.iter().zip(results) {
            match result {
                Ok(()) => changes.push(entry(m, Action::Deleted, None, started, origin.elapsed())),
                Err(e) => {
                    failed.get_or_insert_with(|| m.id.clone());
                    remaining.push(m.id.clone());
                    let message = crate::error::render(&e);
                    changes.push(entry(
                        m,
                        Action::Failed,
                        Some(message),
                        started,
                        origin.elapsed(),
                    ));
                }
            }
        }
    }
    // The set now holds what Git holds and what stayed; after a failure, the union (kubectl's superset),
    // so that nothing left behind is forgotten.
    let contents = if failed.is_some() {
        prepared.inventory.contents().union(&current)
    } else {
        current.union(&Contents::of(remaining.iter()))
    };
    prepared
        .inventory
        .unlock(
            cluster,
            Some((contents, revision, Some(&release_digests(manifest)))),
        )
        .await?;
    Ok(ChangeSet {
        changes,
        elapsed: origin.elapsed(),
        ..ChangeSet::default()
    })
}

/// `namespace/name` → digest of every chart of the manifest: recorded once all of it was applied.
pub fn release_digests(manifest: &Manifest) -> BTreeMap<String, String> {
    manifest
        .releases
        .iter()
        .map(|r| (r.key(), r.digest.clone()))
        .collect()
}

fn entry(
    m: &Member,
    action: Action,
    error: Option<String>,
    started: Duration,
    finished: Duration,
) -> Change {
    Change {
        id: m.id.clone(),
        source: m
            .declared()
            .map_or_else(|| "not in Git".to_string(), |d| format!("was {d}")),
        layer: "prune".into(),
        action,
        error,
        started,
        finished,
    }
}

/// Deletes one member (foreground: its dependents go first) if it is still the object that was listed,
/// and waits until it is gone.
async fn delete(cluster: &Cluster, m: &Member, timeout: Duration) -> Result<(), ClusterError> {
    let resolved = cluster.resolve(&m.id, &m.api_version).await?;
    let api = cluster.api(&resolved, m.id.namespace.as_deref());
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(Preconditions {
            uid: m.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match cluster
        .request(&m.id, "delete", || api.delete(&m.id.name, &params))
        .await
    {
        Ok(_) => {}
        Err(e) if e.status_code() == Some(404) => return Ok(()),
        Err(e) if e.status_code() == Some(409) => {
            return Err(ClusterError::Failed {
                object: m.id.to_string(),
                message: "re-created since it was listed (its uid changed): not deleted".into(),
            });
        }
        Err(e) => return Err(e),
    }
    let uid = m.uid.clone();
    cluster
        .wait_for(&m.id, &m.api_version, timeout, |live| match live {
            None => Verdict::Done,
            Some(v) if v.pointer("/metadata/uid").and_then(Value::as_str) != uid.as_deref() => {
                Verdict::Done
            }
            Some(v) => Verdict::Pending(terminating(v)),
        })
        .await
}

/// Why a deleted object is still there: its finalizers.
fn terminating(v: &Value) -> String {
    let finalizers: Vec<&str> = v
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if finalizers.is_empty() {
        "Terminating".into()
    } else {
        format!(
            "Terminating: waiting for finalizers {}",
            finalizers.join(", ")
        )
    }
}

/// Removes the part-of label, so the object leaves the set without being deleted.
async fn detach(cluster: &Cluster, m: &Member) -> Result<(), ClusterError> {
    let resolved = cluster.resolve(&m.id, &m.api_version).await?;
    let api = cluster.api(&resolved, m.id.namespace.as_deref());
    let patch = Patch::Merge(json!({"metadata": {"labels": {LABEL_PART_OF: null}}}));
    let params = PatchParams::default();
    match cluster
        .request(&m.id, "detach", || api.patch(&m.id.name, &params, &patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.status_code() == Some(404) => Ok(()),
        Err(e) => Err(e),
    }
}
