//! The apply operation, the one that `apply`, `rebuild`, `drill` and `reconcile` all run:
//!
//! 1. prepare the inventory: take the ApplySet's lock (one applier at a time; the owning repository
//!    checked), plan the prune and refuse over `--max-prune` before anything is written, record the union
//!    of old and new contents ([`prune::prepare`]); the lock is renewed while the objects are applied;
//! 2. apply along the DAG, each object as soon as what it needs is ready ([`crate::apply::apply`]),
//!    running the Helm hooks of charts that are new (install) or changed (upgrade)
//!    ([`crate::helm::operations`]);
//! 3. after a complete apply, prune what left Git and record the contents and the revision, freeing the
//!    lock ([`prune::finish`]).
//!
//! Each caller adds only what is its own: `rebuild` a preflight and a journal, `reconcile` its heal
//! target and Events, the commands their rendering.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::apply::{self, Action, ApplyEvent, ApplyOptions, ChangeSet, Dag, HookRuns, Journal};
use crate::cluster::{Cluster, ClusterError};
use crate::helm::operations;
use crate::inventory::{Inventory, InventoryError};
use crate::manifest::Manifest;
use crate::object::Object;

use super::prune::{self, PruneRunOptions};

/// Options of [`apply`]; `Default` is `rekube apply` without flags.
#[derive(Debug, Clone, Default)]
pub struct ApplyRunOptions {
    /// How each object is applied and awaited. The revision recorded on objects is the manifest's.
    pub apply: ApplyOptions,
    /// The inventory to record and prune; `None` leaves inventories alone (and adds no member label).
    pub prune: Option<PruneRunOptions>,
    /// Objects a journal records as done are skipped (`rebuild --resume`); finished ones are recorded.
    pub journal: Option<Arc<Journal>>,
}

/// The outcome of [`apply`].
#[derive(Debug)]
pub struct Applied {
    /// One entry per object of the manifest, in its order, then one per pruned or kept member.
    pub changes: ChangeSet,
    /// The labels every applied object carries (the ApplySet member label).
    pub labels: BTreeMap<String, String>,
    /// The objects were applied, but the prune or the inventory record after them failed.
    pub inventory_error: Option<InventoryError>,
}

impl Applied {
    /// Every object applied and ready, the prune done and the inventory recorded.
    pub fn succeeded(&self) -> bool {
        self.changes.succeeded() && self.inventory_error.is_none()
    }

    /// The manifest's objects that were applied (not failed, not blocked): `objects` is the manifest's.
    pub fn applied<'a>(&self, objects: &'a [Object]) -> impl Iterator<Item = &'a Object> {
        objects
            .iter()
            .zip(&self.changes.changes)
            .filter(|(_, c)| !matches!(c.action, Action::Failed | Action::Blocked))
            .map(|(o, _)| o)
    }
}

/// Applies `manifest` along `dag`, then prunes and records the inventory; `on_event` sees the progress.
///
/// # Errors
/// The inventory cannot be prepared (it belongs to another tool, the prune is refused, the cluster
/// cannot be read or written): then nothing was applied. Object failures are entries of the change set,
/// and a failure after the objects were applied is [`Applied::inventory_error`].
pub async fn apply<F>(
    cluster: &Cluster,
    manifest: &Manifest,
    dag: &Dag,
    opts: &ApplyRunOptions,
    on_event: F,
) -> Result<Applied, InventoryError>
where
    F: FnMut(ApplyEvent),
{
    let retries = cluster.retries();
    let mut prepared = match &opts.prune {
        Some(p) => Some(prune::prepare(cluster, manifest, p).await?),
        None => None,
    };
    let mut apply_opts = opts.apply.clone();
    apply_opts.revision = manifest.revision.commit.clone();
    apply_opts.ignore = manifest.rules.ignore.clone();
    apply_opts.health = manifest.rules.health.clone();
    if let Some(p) = &prepared {
        apply_opts.labels.extend(p.labels.clone());
    }
    if !manifest.releases.is_empty() {
        // Without an inventory nothing is known of the charts: they are installed.
        let (present, recorded) = match &prepared {
            Some(p) => (p.present.clone(), p.inventory.releases().clone()),
            None => Default::default(),
        };
        apply_opts.hooks = HookRuns {
            releases: Arc::new(manifest.releases.clone()),
            operations: operations(&manifest.releases, &present, &recorded),
        };
    }
    let origin = Instant::now();
    let work = apply::apply(
        cluster,
        &manifest.objects,
        dag,
        &apply_opts,
        opts.journal.clone(),
        on_event,
    );
    let mut changes = match (prepared.as_mut(), &opts.prune) {
        (Some(p), Some(popts)) => {
            renewing(cluster, &mut p.inventory, popts.lock.renew_every(), work).await
        }
        _ => work.await,
    };
    let mut inventory_error = None;
    if let (Some(p), Some(popts)) = (prepared, &opts.prune) {
        let succeeded = changes.succeeded();
        let parent = p.inventory.set.parent().to_string();
        // Bounded like each object: a frozen API server must not hold the run after its objects.
        let finish = prune::finish(cluster, p, manifest, succeeded, popts, origin);
        match tokio::time::timeout(opts.apply.timeout, finish).await {
            Ok(Ok(pruned)) => changes.changes.extend(pruned.changes),
            Ok(Err(e)) => inventory_error = Some(e),
            Err(_) => {
                inventory_error = Some(InventoryError::Cluster(ClusterError::Timeout {
                    object: parent,
                    timeout: opts.apply.timeout,
                    status:
                        "the inventory was not recorded nor its lock freed: the API server did \
                             not answer in time (the lock is taken over once stale)"
                            .into(),
                }));
            }
        }
    }
    changes.elapsed = origin.elapsed();
    changes.retries = cluster.retries().since(retries);
    Ok(Applied {
        changes,
        labels: apply_opts.labels,
        inventory_error,
    })
}

/// Runs `work` while renewing the inventory's lock every `every`. A failed renewal is logged and tried
/// again at the next tick; a lock taken over meanwhile is found again by [`prune::finish`], which then
/// prunes nothing.
async fn renewing<T>(
    cluster: &Cluster,
    inventory: &mut Inventory,
    every: Duration,
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                // Bounded by the next tick: an unanswered renewal must not hold `work`'s result.
                match tokio::time::timeout(every, inventory.renew(cluster)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!("renewing the inventory's lock: {}", crate::error::render(&e));
                    }
                    Err(_) => tracing::warn!("renewing the inventory's lock: no answer in {every:?}"),
                }
            }
        }
    }
}
