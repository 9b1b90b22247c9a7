//! Drift as it happens: every sighting of a managed object (from the watches, or a periodic resync) is
//! compared with what the applied revision wants; a drifted object is re-applied at once in enforce mode
//! (server-side apply of that one object, with per-object [`Backoff`]) or reported in observe mode (log,
//! `rekube_drifted_objects`, an Event on the object).
//!
//! The comparison is the one sync decision ([`diff::decide`]) that apply, diff and drift use; a dry-run
//! that proved an object in sync is remembered for that exact live state, so status updates cost nothing. Whole-revision applies hold [`Healer::gate`]: no object
//! is healed against a half-applied revision.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use super::backoff::Backoff;
use super::events::{Events, reason};
use super::server::Health;
use super::target::{Managed, Target, changes, short};
use super::watch::{Queue, Seen, Watches};
use super::{Mode, say};
use crate::cluster::{Cluster, ClusterError, Live};
use crate::diff::{self, Decision, Proof, Sync, SyncOptions};
use crate::inventory::GroupKind;
use crate::object::{Object, ObjectId};

/// Why an object is drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Modified,
    Missing,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Modified => "modified",
            Class::Missing => "missing",
        }
    }
}

#[derive(Default)]
struct State {
    target: Arc<Target>,
    drifted: BTreeMap<ObjectId, Class>,
    backoff: HashMap<ObjectId, Backoff>,
    /// Object → (desired digest, live digest) last proved in sync by a dry-run.
    verified: HashMap<ObjectId, (String, String)>,
    /// Objects with a check scheduled for when their backoff ends.
    deferred: HashSet<ObjectId>,
}

/// Watches, compares and heals the managed objects of the current [`Target`].
pub struct Healer {
    cluster: Cluster,
    mode: Mode,
    selector: String,
    health: Arc<Health>,
    events: Events,
    queue: Arc<Queue>,
    /// Held while a whole revision is applied.
    pub gate: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    watches: tokio::sync::Mutex<Watches>,
}

impl Healer {
    pub fn new(
        cluster: Cluster,
        mode: Mode,
        selector: String,
        health: Arc<Health>,
        events: Events,
    ) -> Arc<Healer> {
        Arc::new(Healer {
            cluster,
            mode,
            selector,
            health,
            events,
            queue: Arc::default(),
            gate: tokio::sync::Mutex::new(()),
            state: Mutex::default(),
            watches: tokio::sync::Mutex::default(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The revision heals compare against.
    pub fn target(&self) -> Arc<Target> {
        self.state().target.clone()
    }

    /// Switches to a new revision: watches follow its kinds, drift of objects it no longer holds is
    /// forgotten.
    pub async fn set_target(&self, target: Target) {
        let mut wanted: BTreeMap<GroupKind, (String, std::collections::BTreeSet<ObjectId>)> =
            BTreeMap::new();
        for (id, m) in &target.objects {
            wanted
                .entry(GroupKind::of(id))
                .or_insert_with(|| (m.object.api_version.clone(), Default::default()))
                .1
                .insert(id.clone());
        }
        {
            let mut state = self.state();
            let target = Arc::new(target);
            state
                .drifted
                .retain(|id, _| target.objects.contains_key(id));
            state
                .backoff
                .retain(|id, _| target.objects.contains_key(id));
            state.target = target;
            self.publish_drift(&state);
        }
        let mut watches = self.watches.lock().await;
        watches
            .ensure(&self.cluster, &self.selector, wanted, &self.queue)
            .await;
    }

    /// Checks every managed object against a fresh LIST of its kind: catches what the watches missed.
    pub async fn resync(&self) {
        let target = self.target();
        let objects: Vec<Object> = target.objects.values().map(|m| m.object.clone()).collect();
        let live = self.cluster.list_live(&objects, 8).await;
        for id in target.objects.keys() {
            let seen = match live.take(id) {
                Live::Present(v) => Seen::Present(Arc::new(v)),
                Live::Absent | Live::Unknown => Seen::Gone,
            };
            self.queue.push(id.clone(), seen);
        }
    }

    /// Checks queued objects until the task is aborted.
    pub async fn run(self: Arc<Self>) {
        loop {
            let batch = self.queue.take().await;
            let _applying = self.gate.lock().await;
            for (id, seen) in batch {
                self.check(&id, seen).await;
            }
        }
    }

    async fn check(self: &Arc<Self>, id: &ObjectId, seen: Seen) {
        let Some(m) = self.target().objects.get(id).cloned() else {
            return;
        };
        let (live, fresh) = match seen {
            Seen::Present(v) => (Some(v), false),
            Seen::Gone => match self.read(&m).await {
                Ok(v) => (v, true),
                Err(e) => return self.api_error(id, &e),
            },
        };
        // A dry-run already proved this very live state in sync: status updates cost nothing.
        let key = live.as_ref().map(|l| (m.digest.clone(), diff::digest(l)));
        if key.is_some() && self.state().verified.get(id) == key.as_ref() {
            return self.back_in_sync(id);
        }
        let opts = SyncOptions {
            dry_run_create: false,
            fresh,
        };
        let decision = diff::decide(
            live,
            &m.object.body,
            &m.ignored,
            opts,
            || self.read(&m),
            |body| {
                let object = &m.object;
                async move { self.cluster.apply(object, &body, true).await }
            },
        )
        .await;
        let Decision { live, sync } = match decision {
            Ok(d) => d,
            Err(e) => return self.api_error(id, &e),
        };
        match (sync, live) {
            (Sync::InSync(proof), live) => {
                if let (Proof::DryRun, Some(l)) = (proof, live) {
                    let key = (m.digest.clone(), diff::digest(&l));
                    self.state().verified.insert(id.clone(), key);
                }
                self.back_in_sync(id)
            }
            (Sync::Update(dry), Some(live)) => {
                let detail = changes(&live, &dry);
                self.drifted(id, &m, Some(&live), Class::Modified, detail)
                    .await
            }
            (Sync::Create(_) | Sync::Update(_), _) => {
                self.drifted(id, &m, None, Class::Missing, "deleted".into())
                    .await
            }
        }
    }

    /// The object as the server holds it now.
    async fn read(&self, m: &Managed) -> Result<Option<Arc<Value>>, ClusterError> {
        let live = self
            .cluster
            .get(&m.object.id, &m.object.api_version)
            .await?;
        Ok(live.map(Arc::new))
    }

    fn back_in_sync(&self, id: &ObjectId) {
        let mut state = self.state();
        if state.drifted.remove(id).is_some() {
            say(&format!("{id} is back in sync"));
            self.publish_drift(&state);
        }
    }

    async fn drifted(
        self: &Arc<Self>,
        id: &ObjectId,
        m: &Managed,
        live: Option<&Value>,
        class: Class,
        detail: String,
    ) {
        let onset = {
            let mut state = self.state();
            let onset = state.drifted.insert(id.clone(), class) != Some(class);
            self.publish_drift(&state);
            onset
        };
        if onset {
            self.health.metrics.drift_onset(class.as_str());
            say(&format!("drift: {id} is {}: {detail}", class.as_str()));
            if self.mode == Mode::Observe {
                let note = format!("{} ({detail}); observe mode: not reverted", class.as_str());
                self.events
                    .warning(id, &m.object.api_version, reason::DRIFT, note)
                    .await;
            }
        }
        if self.mode == Mode::Enforce {
            self.heal(id, m, live, class, &detail).await;
        }
    }

    async fn heal(
        self: &Arc<Self>,
        id: &ObjectId,
        m: &Managed,
        live: Option<&Value>,
        class: Class,
        detail: &str,
    ) {
        let now = Instant::now();
        let (allowed, next) = {
            let mut state = self.state();
            let b = state.backoff.entry(id.clone()).or_default();
            (b.allows(now), b.next_allowed())
        };
        if !allowed {
            if let Some(at) = next {
                self.defer(id, at);
            }
            return;
        }
        // Fields other controllers own are written back as they are live: a heal never fights them.
        let body = match live {
            Some(l) => m.ignored.overlay(&m.object.body, l),
            None => m.object.body.clone(),
        };
        let result = self.cluster.apply(&m.object, &body, false).await;
        let streak = {
            let mut state = self.state();
            let b = state.backoff.entry(id.clone()).or_default();
            b.record(now);
            let streak = b.streak();
            if result.is_ok() {
                state.drifted.remove(id);
                self.publish_drift(&state);
            }
            streak
        };
        let api_version = &m.object.api_version;
        match result {
            Ok(_) => {
                self.health.metrics.heal(&id.kind);
                let again = if streak > 1 {
                    format!(
                        "; healed {streak} times in a row, next heal not before {}s",
                        Backoff::delay(streak).as_secs()
                    )
                } else {
                    String::new()
                };
                say(&format!(
                    "healed {id} ({}: {detail}){again}",
                    class.as_str()
                ));
                let note = format!(
                    "re-applied from {} ({}: {detail}){again}",
                    short(&self.target().commit),
                    class.as_str()
                );
                self.events
                    .normal(id, api_version, reason::HEALED, note)
                    .await;
            }
            Err(e) => {
                self.health.metrics.api_errors.inc();
                let message = crate::error::render(&e);
                say(&format!("heal of {id} failed: {message}"));
                self.events
                    .warning(id, api_version, reason::HEAL_FAILED, message)
                    .await;
            }
        }
    }

    /// Checks `id` again once its backoff ends (one timer per object).
    fn defer(self: &Arc<Self>, id: &ObjectId, at: Instant) {
        if !self.state().deferred.insert(id.clone()) {
            return;
        }
        let this = self.clone();
        let id = id.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            this.state().deferred.remove(&id);
            this.queue.push(id, Seen::Gone);
        });
    }

    fn api_error(&self, id: &ObjectId, e: &ClusterError) {
        self.health.metrics.api_errors.inc();
        say(&format!(
            "checking {id} failed: {}",
            crate::error::render(e)
        ));
    }

    fn publish_drift(&self, state: &State) {
        let modified = state
            .drifted
            .values()
            .filter(|c| **c == Class::Modified)
            .count();
        let missing = state.drifted.len() - modified;
        self.health.metrics.set_drifted(modified, missing);
    }
}
