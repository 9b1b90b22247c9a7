//! Shared watches for readiness: one watch per resource type (not one per object), started on first use,
//! feeding a channel per object. A rebuild of a thousand Deployments waits on one connection, not a thousand.
//! The watch is re-established after the API server drops it or restarts ([`Watch`]); waiters see a
//! permanent failure at once and a transient one in their timeout message.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;
use serde_json::Value;
use tokio::sync::watch;

use super::discovery::Resolved;
use super::wait::Verdict;
use super::watch::Watch;
use super::{Cluster, ClusterError};
use crate::object::ObjectId;

type Key = (Option<String>, String);
type Slot = watch::Sender<Option<Arc<Value>>>;

/// The latest state of every object of one resource type, as one watch sees it.
struct Store {
    objects: Mutex<HashMap<Key, Slot>>,
    /// True once the initial list is complete: from then on, an empty slot means "does not exist".
    synced: watch::Sender<bool>,
    /// Set while the watch fails for a reason waiting will not cure (e.g. RBAC forbids it); waiters
    /// report it.
    failure: Mutex<Option<String>>,
    /// The last error while the watch is failing and being retried, for timeout messages.
    trouble: Arc<Mutex<Option<String>>>,
}

impl Store {
    fn slot(&self, key: &Key) -> watch::Receiver<Option<Arc<Value>>> {
        let mut objects = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        objects
            .entry(key.clone())
            .or_insert_with(|| watch::channel(None).0)
            .subscribe()
    }

    fn set(&self, key: Key, value: Option<Arc<Value>>) {
        let mut objects = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        match objects.get(&key) {
            Some(tx) => {
                tx.send_replace(value);
            }
            None => {
                objects.insert(key, watch::channel(value).0);
            }
        }
    }

    fn set_failure(&self, failure: Option<String>) {
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = failure;
        // Wake the waiters, so that they see it.
        self.synced.send_modify(|_| {});
    }

    fn keys(&self) -> Vec<Key> {
        let objects = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        objects.keys().cloned().collect()
    }
}

/// The set of shared watches of one cluster connection.
#[derive(Clone, Default)]
pub struct Informers {
    stores: Arc<Mutex<HashMap<String, Arc<Store>>>>,
    tasks: Arc<Tasks>,
    /// Optional label selector restricting every watch (the ApplySet part-of label).
    selector: Option<String>,
}

impl Informers {
    /// Watches restricted to objects carrying `selector` (e.g. `applyset.kubernetes.io/part-of=…`).
    pub fn with_selector(selector: Option<String>) -> Informers {
        Informers {
            stores: Arc::default(),
            tasks: Arc::default(),
            selector,
        }
    }

    fn store(&self, cluster: &Cluster, resolved: &Resolved) -> Arc<Store> {
        let key = format!(
            "{}/{}",
            resolved.resource.api_version, resolved.resource.plural
        );
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = stores.get(&key) {
            return s.clone();
        }
        let store = Arc::new(Store {
            objects: Mutex::default(),
            synced: watch::channel(false).0,
            failure: Mutex::default(),
            trouble: Arc::default(),
        });
        stores.insert(key, store.clone());
        let api: Api<DynamicObject> = Api::all_with(cluster.client().clone(), &resolved.resource);
        let mut config = watcher::Config::default().any_semantic();
        if let Some(sel) = &self.selector {
            config = config.labels(sel);
        }
        let task = tokio::spawn(run_watch(
            Watch::new(cluster, api, config).sharing_trouble(store.trouble.clone()),
            store.clone(),
            resolved.resource.clone(),
        ));
        self.tasks
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task.abort_handle());
        store
    }

    /// Waits until `judge` says the object is done or failed, or `timeout` passes. `judge` sees `None` when
    /// the object does not exist.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] naming the object and its last status, [`ClusterError::Failed`], or the
    /// watch's own failure.
    pub async fn wait<J>(
        &self,
        cluster: &Cluster,
        resolved: &Resolved,
        id: &ObjectId,
        timeout: Duration,
        mut judge: J,
    ) -> Result<(), ClusterError>
    where
        J: FnMut(Option<&Value>) -> Verdict,
    {
        let store = self.store(cluster, resolved);
        let key: Key = (
            id.namespace.clone().filter(|_| resolved.namespaced),
            id.name.clone(),
        );
        let mut rx = store.slot(&key);
        let mut synced = store.synced.subscribe();
        let mut last = String::from("not observed yet");
        let waiting = async {
            loop {
                let current = rx.borrow_and_update().clone();
                if current.is_some() || *synced.borrow_and_update() {
                    match judge(current.as_deref()) {
                        Verdict::Done => return Ok(()),
                        Verdict::Failed(message) => {
                            return Err(ClusterError::Failed {
                                object: id.to_string(),
                                message,
                            });
                        }
                        Verdict::Pending(why) => last = why,
                    }
                }
                if let Some(failure) = store
                    .failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
                {
                    return Err(ClusterError::Failed {
                        object: id.to_string(),
                        message: format!("cannot watch {}: {failure}", resolved.resource.plural),
                    });
                }
                // The store holds the senders, so a closed channel means the watch is gone: that is
                // no verdict, and never a success.
                let open = tokio::select! {
                    r = rx.changed() => r.is_ok(),
                    r = synced.changed() => r.is_ok(),
                };
                if !open {
                    return Err(ClusterError::Failed {
                        object: id.to_string(),
                        message: format!("the watch of {} stopped", resolved.resource.plural),
                    });
                }
            }
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(result) => result,
            Err(_) => {
                let trouble = store
                    .trouble
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                Err(ClusterError::Timeout {
                    object: id.to_string(),
                    timeout,
                    status: match trouble {
                        Some(t) => format!("{last} (the watch is failing: {t})"),
                        None => last,
                    },
                })
            }
        }
    }
}

/// Stops the watches when the last clone of [`Informers`] goes away.
#[derive(Default)]
struct Tasks(Mutex<Vec<tokio::task::AbortHandle>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in self.0.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            t.abort();
        }
    }
}

fn key_of(obj: &DynamicObject) -> Key {
    (
        obj.metadata.namespace.clone(),
        obj.metadata.name.clone().unwrap_or_default(),
    )
}

/// The object as JSON with its `apiVersion` and `kind`: items of a LIST response carry neither, and
/// readiness dispatches on them (without, a Job would be judged by the generic rule: ready once it exists).
/// managedFields are dropped: readiness never reads them, and they are most of what a store would hold.
fn typed(mut o: DynamicObject, resource: &kube::discovery::ApiResource) -> Option<Arc<Value>> {
    o.metadata.managed_fields = None;
    if o.types.is_none() {
        o.types = Some(kube::core::TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        });
    }
    serde_json::to_value(o).ok().map(Arc::new)
}

/// Feeds the store for as long as the informers live, through API server restarts.
async fn run_watch(mut watch: Watch, store: Arc<Store>, resource: kube::discovery::ApiResource) {
    let mut listed: HashSet<Key> = HashSet::new();
    // Whether the store reports a failure (so it is cleared once, not on every event).
    let mut failed = false;
    loop {
        let event = match watch.next().await {
            Ok(event) => event,
            Err(e) => {
                // Permanent (forbidden, not served): waiters fail now; the watch keeps trying.
                store.set_failure(Some(super::error::describe(&e)));
                failed = true;
                continue;
            }
        };
        if failed {
            store.set_failure(None);
            failed = false;
        }
        match event {
            watcher::Event::Init => listed.clear(),
            watcher::Event::InitApply(o) => {
                let key = key_of(&o);
                listed.insert(key.clone());
                store.set(key, typed(o, &resource));
            }
            watcher::Event::InitDone => {
                // Objects that vanished while the watch was down are gone now.
                for key in store.keys() {
                    if !listed.contains(&key) {
                        store.set(key, None);
                    }
                }
                store.synced.send_replace(true);
            }
            watcher::Event::Apply(o) => {
                store.set(key_of(&o), typed(o, &resource));
            }
            watcher::Event::Delete(o) => store.set(key_of(&o), None),
        }
    }
}
