//! Watches on the managed objects, one per kind, label-selected on the ApplySet part-of label, feeding a
//! queue of objects to check. The queue keeps only the latest sighting of each object, so a burst of
//! updates to one object costs one check.
//!
//! Objects that vanish while a watch is down are noticed when it re-lists: every managed object of the
//! kind that the new list lacks is queued as gone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::cluster::{Cluster, Resolved};
use crate::inventory::GroupKind;
use crate::object::ObjectId;

/// How an object was last seen.
#[derive(Debug, Clone)]
pub enum Seen {
    /// A watch event carried it.
    Present(Arc<Value>),
    /// Deleted, or no longer labelled as a member: read it again to know which.
    Gone,
}

/// Objects waiting to be checked, latest sighting first-come.
#[derive(Default)]
pub struct Queue {
    pending: Mutex<BTreeMap<ObjectId, Seen>>,
    notify: Notify,
}

impl Queue {
    pub fn push(&self, id: ObjectId, seen: Seen) {
        self.lock().insert(id, seen);
        self.notify.notify_one();
    }

    /// Waits until something is queued, then takes everything.
    pub async fn take(&self) -> BTreeMap<ObjectId, Seen> {
        loop {
            let batch = std::mem::take(&mut *self.lock());
            if !batch.is_empty() {
                return batch;
            }
            self.notify.notified().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<ObjectId, Seen>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running watches, by kind; stopped when dropped.
#[derive(Default)]
pub struct Watches {
    running: HashMap<GroupKind, (AbortHandle, Managed)>,
}

/// The managed objects of one kind, updated as revisions change.
type Managed = Arc<Mutex<BTreeSet<ObjectId>>>;

impl Watches {
    /// Watches exactly the kinds of `wanted` (kind → apiVersion and the managed names of that kind):
    /// starts the missing ones, stops those no longer wanted. A kind the cluster does not serve is
    /// skipped (its objects are checked at the next resync).
    pub async fn ensure(
        &mut self,
        cluster: &Cluster,
        selector: &str,
        wanted: BTreeMap<GroupKind, (String, BTreeSet<ObjectId>)>,
        queue: &Arc<Queue>,
    ) {
        self.running.retain(|gk, (task, _)| {
            let keep = wanted.contains_key(gk);
            if !keep {
                task.abort();
            }
            keep
        });
        for (gk, (api_version, ids)) in wanted {
            if let Some((_, managed)) = self.running.get(&gk) {
                *managed.lock().unwrap_or_else(|p| p.into_inner()) = ids;
                continue;
            }
            let probe = ObjectId::new(&gk.group, &gk.kind, None, "*");
            let resolved = match cluster.resolve(&probe, &api_version).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("cannot watch {gk}: {e}");
                    continue;
                }
            };
            let managed: Managed = Arc::new(Mutex::new(ids));
            let task = tokio::spawn(run(
                cluster.client().clone(),
                resolved,
                selector.to_string(),
                managed.clone(),
                queue.clone(),
            ));
            self.running.insert(gk, (task.abort_handle(), managed));
        }
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }
}

impl Drop for Watches {
    fn drop(&mut self) {
        for (task, _) in self.running.values() {
            task.abort();
        }
    }
}

fn id_of(resolved: &Resolved, obj: &DynamicObject) -> ObjectId {
    let r = &resolved.resource;
    ObjectId::new(
        &r.group,
        &r.kind,
        obj.metadata
            .namespace
            .as_deref()
            .filter(|_| resolved.namespaced),
        obj.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// One kind's watch, until aborted. `managed` are the names expected to exist, for the re-list check.
async fn run(
    client: kube::Client,
    resolved: Resolved,
    selector: String,
    managed: Managed,
    queue: Arc<Queue>,
) {
    let api: Api<DynamicObject> = Api::all_with(client, &resolved.resource);
    let config = watcher::Config::default().labels(&selector).any_semantic();
    let mut events = watcher(api, config).default_backoff().boxed();
    let mut listed: BTreeSet<ObjectId> = BTreeSet::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => listed.clear(),
            Ok(watcher::Event::InitApply(o)) => {
                let id = id_of(&resolved, &o);
                listed.insert(id.clone());
                push_present(&queue, &resolved, id, o);
            }
            Ok(watcher::Event::InitDone) => {
                let managed = managed.lock().unwrap_or_else(|p| p.into_inner()).clone();
                for id in managed.difference(&listed) {
                    queue.push(id.clone(), Seen::Gone);
                }
            }
            Ok(watcher::Event::Apply(o)) => {
                push_present(&queue, &resolved, id_of(&resolved, &o), o)
            }
            Ok(watcher::Event::Delete(o)) => queue.push(id_of(&resolved, &o), Seen::Gone),
            Err(e) => tracing::debug!("watch {}: {e}", resolved.resource.plural),
        }
    }
}

/// Queues a sighting; items of an initial list carry no apiVersion and kind, so they get them here and
/// read like a GET (a comparison would otherwise see them "changed").
fn push_present(queue: &Queue, resolved: &Resolved, id: ObjectId, obj: DynamicObject) {
    match serde_json::to_value(obj) {
        Ok(mut v) => {
            if let Some(m) = v.as_object_mut() {
                let r = &resolved.resource;
                m.insert("apiVersion".into(), Value::String(r.api_version.clone()));
                m.insert("kind".into(), Value::String(r.kind.clone()));
            }
            queue.push(id, Seen::Present(Arc::new(v)));
        }
        Err(_) => queue.push(id, Seen::Gone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_keeps_the_latest_sighting() {
        let q = Queue::default();
        let id = ObjectId::new("apps", "Deployment", Some("a"), "web");
        q.push(
            id.clone(),
            Seen::Present(Arc::new(serde_json::json!({"v": 1}))),
        );
        q.push(id.clone(), Seen::Gone);
        let batch = q.take().await;
        assert_eq!(batch.len(), 1);
        assert!(matches!(batch.get(&id), Some(Seen::Gone)));
    }
}
