//! The scheduler loop and the work done for one object: get live → dry-run → write only on change →
//! wait for readiness.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinSet;

use super::object::desired;
use super::ready::wait_ready;
use super::schedule::Schedule;
use super::{Action, ApplyOptions, Change, ChangeSet, Dag, Journal};
use crate::cluster::wait::Verdict;
use crate::cluster::{Cluster, ClusterError, Informers, LiveIndex};
use crate::diff::{self, Decision, Ignored, Sync, SyncOptions};
use crate::keys::ANNOTATION_RECREATE;
use crate::object::{Object, ObjectId};
use crate::readiness;

/// Progress, reported as it happens (the change set comes at the end).
#[derive(Debug, Clone)]
pub enum ApplyEvent {
    /// Object `index` started: its dependencies are ready.
    Started(usize),
    /// Object `index` is done with this action (ready, unless it failed).
    Finished(usize, Action),
    /// Object `index` is applied and not ready yet: why (its readiness, e.g. the message of a health
    /// rule that cannot be evaluated yet). Sent again only when the reason changes.
    Waiting(usize, String),
    /// A resumed run skips the objects its journal records as done.
    Resumed {
        skipped: usize,
        journal: std::path::PathBuf,
    },
    /// A Helm hook ran (or failed): `what` says which event of which release.
    Hook { change: Change, what: String },
}

/// Shared by every per-object task.
pub(super) struct Ctx {
    pub(super) cluster: Cluster,
    pub(super) objects: Arc<Vec<Object>>,
    pub(super) opts: ApplyOptions,
    pub(super) informers: Informers,
    journal: Option<Arc<Journal>>,
    /// StorageClass name → `WaitForFirstConsumer`, from the repository.
    pub(super) storage_classes: HashMap<String, bool>,
    /// The cluster's objects of the plan's kinds when the run started (one LIST per kind).
    live: LiveIndex,
    /// Why an applied object is not ready yet, to the scheduler loop (which reports it).
    pub(super) waiting: tokio::sync::mpsc::UnboundedSender<(usize, String)>,
}

/// Applies `objects` along `dag`, `on_event` seeing progress (by object index). Never fails as a whole:
/// per-object failures are entries of the change set.
pub async fn apply<F>(
    cluster: &Cluster,
    objects: &[Object],
    dag: &Dag,
    opts: &ApplyOptions,
    journal: Option<Arc<Journal>>,
    mut on_event: F,
) -> ChangeSet
where
    F: FnMut(ApplyEvent),
{
    let start = Instant::now();
    let storage_classes = objects
        .iter()
        .filter(|o| o.id.kind == "StorageClass" && o.id.group == "storage.k8s.io")
        .map(|o| {
            (
                o.id.name.clone(),
                readiness::is_wait_for_first_consumer(&o.body),
            )
        })
        .collect();
    // A write decision reads managedFields only for fields ignored by their manager.
    let by_manager: HashSet<&ObjectId> = objects
        .iter()
        .filter(|o| opts.ignore.for_object(&o.id, &o.body).names_managers())
        .map(|o| &o.id)
        .collect();
    let live = cluster
        .list_live_with(objects, 8, |id| by_manager.contains(id))
        .await;
    let (waiting, mut waiting_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, String)>();
    let ctx = Arc::new(Ctx {
        waiting,
        live,
        cluster: cluster.clone(),
        objects: Arc::new(objects.to_vec()),
        opts: opts.clone(),
        informers: Informers::default(),
        journal,
        storage_classes,
    });
    let mut changes: Vec<Option<Change>> = vec![None; objects.len()];
    let mut hook_changes: Vec<Change> = Vec::new();
    let mut hook_starts = vec![Duration::ZERO; dag.deps.len()];
    let mut schedule = Schedule::new(&dag.deps);
    let mut tasks: JoinSet<(usize, Result<Action, String>)> = JoinSet::new();
    let mut starts = vec![Duration::ZERO; objects.len()];

    // Tasks say when their object is written, so what only needs it applied can start before it is ready.
    let (applied_tx, mut applied_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let mut ready: Vec<usize> = schedule.initial();
    loop {
        // Barriers are virtual: they complete as soon as they start, unblocking what waits on them.
        while let Some(node) = ready.pop() {
            if let Some(step) = dag.hook.get(node).copied().flatten() {
                match super::hooks::task(cluster, opts, step) {
                    Some(work) => {
                        hook_starts[node] = start.elapsed();
                        tasks.spawn(async move { (node, work.await) });
                    }
                    None => ready.extend(schedule.complete(node)),
                }
                continue;
            }
            let Some(i) = dag.object[node] else {
                ready.extend(schedule.complete(node));
                continue;
            };
            starts[i] = start.elapsed();
            on_event(ApplyEvent::Started(i));
            let ctx = ctx.clone();
            let applied = applied_tx.clone();
            tasks.spawn(async move {
                // The loop outlives every task, so the receiver is still there.
                let on_applied = || {
                    let _ = applied.send(node);
                };
                (node, apply_one(&ctx, i, on_applied).await)
            });
        }
        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            Some(node) = applied_rx.recv() => {
                ready = schedule.applied(node);
                continue;
            }
            Some((i, why)) = waiting_rx.recv() => {
                on_event(ApplyEvent::Waiting(i, why));
                continue;
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let (node, result) = match joined {
            Ok(r) => r,
            // A panicking task is a bug; its object is unknown here, so carry on with the rest.
            Err(e) => {
                tracing::error!("apply task failed: {e}");
                continue;
            }
        };
        // A hook step has no object: it is recorded after the objects, and named by what it ran.
        let (i, label) = match dag.object[node] {
            Some(i) => (Some(i), objects[i].id.to_string()),
            None => {
                let step = dag.hook.get(node).copied().flatten();
                let span = (hook_starts[node], start.elapsed());
                let (change, what) =
                    super::hooks::finished(opts, step, &result, span, &mut on_event);
                hook_changes.extend(change);
                (None, what)
            }
        };
        let (action, error) = match result {
            Ok(action) => {
                ready = schedule.complete(node);
                (action, None)
            }
            Err(message) => {
                for b in schedule.fail(node) {
                    let Some(bi) = dag.object[b] else { continue };
                    changes[bi] = Some(Change::of(
                        &objects[bi],
                        Action::Blocked,
                        Some(format!("not applied: {label} failed")),
                        (start.elapsed(), start.elapsed()),
                    ));
                    on_event(ApplyEvent::Finished(bi, Action::Blocked));
                }
                (Action::Failed, Some(message))
            }
        };
        let Some(i) = i else { continue };
        let obj = &objects[i];
        changes[i] = Some(Change::of(obj, action, error, (starts[i], start.elapsed())));
        on_event(ApplyEvent::Finished(i, action));
    }
    ChangeSet {
        changes: changes
            .into_iter()
            .chain(hook_changes.into_iter().map(Some))
            .enumerate()
            .map(|(i, c)| {
                c.unwrap_or_else(|| {
                    Change::of(
                        &objects[i],
                        Action::Blocked,
                        Some("never started".into()),
                        (Duration::ZERO, Duration::ZERO),
                    )
                })
            })
            .collect(),
        elapsed: start.elapsed(),
        // Counted by the caller, which knows the connection's totals.
        retries: Default::default(),
    }
}

/// One object: write it if it differs from the live object, then wait until it is ready.
async fn apply_one(ctx: &Ctx, i: usize, on_applied: impl FnOnce()) -> Result<Action, String> {
    let obj = &ctx.objects[i];
    let body = desired(obj, ctx.opts.revision.as_deref(), &ctx.opts.labels);
    let digest = crate::diff::digest(&obj.body);
    if let Some(j) = &ctx.journal
        && j.is_done(&obj.id, &digest)
    {
        return Ok(Action::Skipped);
    }
    // Writing is bounded like waiting: a frozen API server must not hold the object forever.
    let (action, applied) = tokio::time::timeout(ctx.opts.timeout, write(ctx, obj, &body))
        .await
        .unwrap_or_else(|_| {
            Err(ClusterError::Timeout {
                object: obj.id.to_string(),
                timeout: ctx.opts.timeout,
                status: "not written: the API server did not answer in time".into(),
            })
        })
        .map_err(|e| crate::error::render(&e))?;
    on_applied();
    if ctx.opts.wait {
        wait_ready(ctx, i, &applied)
            .await
            .map_err(|e| crate::error::render(&e))?;
    }
    if let Some(j) = &ctx.journal {
        j.record(&obj.id, &digest)
            .map_err(|e| crate::error::render(&e))?;
    }
    Ok(action)
}

/// Creates, configures or leaves the object alone ([`diff::decide`]); returns what the server now holds.
async fn write(ctx: &Ctx, obj: &Object, body: &Value) -> Result<(Action, Value), ClusterError> {
    let cluster = &ctx.cluster;
    let (live, fresh) = cluster.live(&ctx.live, obj).await?;
    let opts = SyncOptions {
        dry_run_create: false,
        fresh,
    };
    let ignored = ctx.opts.ignore.for_object(&obj.id, &obj.body);
    match decide(cluster, obj, body, &ignored, live, opts).await {
        Ok(Decision {
            sync: Sync::InSync(_),
            live: Some(live),
        }) => Ok((Action::Unchanged, live)),
        Ok(Decision {
            sync: Sync::Create(_),
            ..
        }) => Ok((Action::Created, cluster.apply(obj, body, false).await?)),
        // What another controller owns is written back as it is live, never reset.
        Ok(Decision {
            live: Some(live), ..
        }) => {
            let body = ignored.overlay(body, &live);
            Ok((Action::Configured, cluster.apply(obj, &body, false).await?))
        }
        Ok(_) => Ok((Action::Configured, cluster.apply(obj, body, false).await?)),
        Err(e) if is_immutable_error(&e) && recreate_allowed(ctx, obj) => {
            cluster.delete(&obj.id, &obj.api_version).await?;
            let resolved = cluster.resolve(&obj.id, &obj.api_version).await?;
            ctx.informers
                .wait(cluster, &resolved, &obj.id, ctx.opts.timeout, |v| match v {
                    None => Verdict::Done,
                    Some(_) => Verdict::Pending("still being deleted".into()),
                })
                .await?;
            Ok((Action::Recreated, cluster.apply(obj, body, false).await?))
        }
        Err(e) if is_immutable_error(&e) => Err(ClusterError::Failed {
            object: obj.id.to_string(),
            message: format!(
                "{} (an immutable field changed: allow re-creation with --recreate or the annotation {ANNOTATION_RECREATE}: allowed)",
                e.api_message().unwrap_or("immutable field changed")
            ),
        }),
        Err(e) => Err(e),
    }
}

/// The sync decision ([`diff::decide`]) of one object against the cluster: `live` is what a list or a
/// cache said (see [`SyncOptions::fresh`]), `body` what would be applied, `ignored` the fields other
/// controllers own.
///
/// # Errors
/// Reading the object or the dry-run failed.
pub async fn decide(
    cluster: &Cluster,
    obj: &Object,
    body: &Value,
    ignored: &Ignored,
    live: Option<Value>,
    opts: SyncOptions,
) -> Result<Decision, ClusterError> {
    diff::decide(
        live,
        body,
        ignored,
        opts,
        || cluster.get(&obj.id, &obj.api_version),
        |b| async move { cluster.apply(obj, &b, true).await },
    )
    .await
}

fn recreate_allowed(ctx: &Ctx, obj: &Object) -> bool {
    ctx.opts.recreate || obj.annotation(ANNOTATION_RECREATE) == Some("allowed")
}

/// The API server's ways of saying an immutable field changed.
pub(crate) fn is_immutable_error(e: &ClusterError) -> bool {
    e.status_code() == Some(422)
        && e.api_message().is_some_and(|m| {
            m.contains("immutable")
                || m.contains("may not change once set")
                || m.contains("updates to statefulset spec for fields other than")
        })
}
