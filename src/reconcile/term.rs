//! A leader's term: the reconcile loop run while this replica holds the Lease. Each pass fetches the
//! ref; a new commit is loaded and (enforce mode) applied and pruned, or (observe mode) only compared.
//! A rejected commit is reported once and skipped until the ref moves; a failed apply is retried at the
//! next pass (the engine writes only what differs, so a retry is cheap).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::watch;

use super::events::{Events, reason};
use super::git::{Desired, Rejected};
use super::heal::Healer;
use super::server::Health;
use super::target::{Target, short};
use super::{Mode, ReconcileOptions, say};
use crate::apply::Action;
use crate::cluster::Cluster;
use crate::inventory::{ApplySet, Inventory};
use crate::object::Object;
use crate::ops::{
    self,
    apply::{Applied, ApplyRunOptions},
};

pub struct Term {
    cluster: Cluster,
    opts: ReconcileOptions,
    set: ApplySet,
    health: Arc<Health>,
    events: Events,
    healer: Arc<Healer>,
    /// A commit that loaded and validated but did not apply completely: retried at the next pass.
    desired: Option<Arc<Desired>>,
    /// The commit last applied completely (or, in observe mode, recorded on the inventory).
    applied: Option<String>,
    /// The last commit rejected, reported once.
    rejected: Option<String>,
    /// The last fetch error, reported once per streak.
    fetch_failed: bool,
}

/// Aborts the task when dropped (an aborted term stops its heals too).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Term {
    pub fn new(
        cluster: Cluster,
        opts: ReconcileOptions,
        set: ApplySet,
        health: Arc<Health>,
        events: Events,
    ) -> Term {
        let healer = Healer::new(
            cluster.clone(),
            opts.mode,
            set.selector(),
            health.clone(),
            events.clone(),
        );
        Term {
            cluster,
            opts,
            set,
            health,
            events,
            healer,
            desired: None,
            applied: None,
            rejected: None,
            fetch_failed: false,
        }
    }

    /// Passes every `interval` until `stop` turns true (the pass in flight is finished first).
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let _heals = AbortOnDrop(tokio::spawn(self.healer.clone().run()));
        self.applied = self.recorded_revision().await;
        if let Some(rev) = &self.applied {
            self.health.metrics.set_applied(rev);
        }
        let mut next_resync = Instant::now() + self.opts.resync;
        loop {
            let started = Instant::now();
            if self.pass().await {
                self.health.progressed(self.opts.stall_bound());
            }
            self.health
                .metrics
                .reconcile_seconds
                .observe(started.elapsed().as_secs_f64());
            self.health.synced.store(true, Ordering::Relaxed);
            if Instant::now() >= next_resync {
                self.healer.resync().await;
                next_resync = Instant::now() + self.opts.resync;
            }
            release_freed_memory();
            tokio::select! {
                _ = tokio::time::sleep(self.opts.interval) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// One pass; false when the fetch failed (no progress).
    async fn pass(&mut self) -> bool {
        let head = match self.opts.follow.head().await {
            Ok(h) => {
                self.fetch_failed = false;
                self.health.progressed(self.opts.load_window());
                h
            }
            Err(e) => {
                self.health.metrics.git_errors.inc();
                let message = crate::error::render(&e);
                say(&format!("fetch failed: {message}"));
                self.health.failing(format!("fetch failed: {message}"));
                if !std::mem::replace(&mut self.fetch_failed, true) {
                    self.parent_event(false, reason::GIT_FAILED, message).await;
                }
                return false;
            }
        };
        if self.opts.mode == Mode::Observe {
            self.applied = self.recorded_revision().await;
            if let Some(rev) = &self.applied {
                self.health.metrics.set_applied(rev);
            }
        }
        self.health.metrics.set_head(&head, self.applied.as_deref());
        if self.rejected.as_deref() != Some(head.as_str()) {
            self.health.accepted();
        }
        // Done when heals already follow the head and (enforce) it applied completely. A new term has no
        // target yet: its first pass always applies, which doubles as a resync.
        let following = self.healer.target().commit == head;
        let applied = self.applied.as_deref() == Some(head.as_str());
        if following && (self.opts.mode == Mode::Observe || applied) {
            return true;
        }
        if self.rejected.as_deref() == Some(head.as_str()) {
            return true;
        }
        let desired = match self.desired.take().filter(|d| d.commit == head) {
            Some(d) => d,
            None => match self.opts.follow.load(&head).await {
                Ok(d) => d,
                Err(rejected) => {
                    self.reject(&head, rejected).await;
                    return true;
                }
            },
        };
        self.rejected = None;
        self.health.refuse(None);
        match self.opts.mode {
            Mode::Enforce => self.apply(&desired).await,
            Mode::Observe => self.observe(&desired).await,
        }
        // The loaded revision stays in memory only while an apply of it is to be retried.
        if self.opts.mode == Mode::Enforce && self.applied.as_deref() != Some(head.as_str()) {
            self.desired = Some(desired);
        }
        self.health.metrics.set_head(&head, self.applied.as_deref());
        true
    }

    async fn reject(&mut self, commit: &str, rejected: Rejected) {
        match &rejected {
            Rejected::Source(_) => self.health.metrics.git_errors.inc(),
            Rejected::Invalid { .. } => self.health.metrics.invalid_revisions.inc(),
            Rejected::Untrusted(_) => self.health.metrics.untrusted_revisions.inc(),
        };
        self.health.rejected(commit, rejected.reason());
        let keeping = self.applied.as_deref().map_or_else(
            || "nothing applied yet".into(),
            |a| format!("keeping {}", short(a)),
        );
        let message = format!(
            "commit {} rejected ({keeping}, nothing pruned): {}",
            short(commit),
            rejected.summary()
        );
        say(&message);
        if let Rejected::Invalid { lines, .. } = &rejected {
            for l in lines {
                say(&format!("  {l}"));
            }
        }
        let why = match &rejected {
            Rejected::Untrusted(_) => reason::UNTRUSTED,
            _ => reason::INVALID,
        };
        self.health
            .refuse(matches!(rejected, Rejected::Untrusted(_)).then(|| message.clone()));
        self.parent_event(false, why, message).await;
        self.rejected = Some(commit.to_string());
    }

    /// Applies a revision along the DAG and prunes ([`ops::apply`]), heals waiting meanwhile.
    async fn apply(&mut self, desired: &Desired) {
        let healer = self.healer.clone();
        let _gate = healer.gate.lock().await;
        let manifest = &desired.manifest;
        let opts = ApplyRunOptions {
            apply: self.opts.apply.clone(),
            prune: Some(self.opts.prune.clone()),
            journal: None,
        };
        let started = Instant::now();
        // Each object applied or ready is progress; none may take longer than --timeout.
        let (health, window) = (self.health.clone(), self.opts.apply_window());
        health.progressed(window);
        let progress = |_| health.progressed(window);
        let applied =
            match ops::apply::apply(&self.cluster, manifest, &desired.dag, &opts, progress).await {
                Ok(a) => a,
                Err(e) => {
                    self.health.metrics.api_errors.inc();
                    let message = format!(
                        "commit {} not applied: {}",
                        short(&desired.commit),
                        crate::error::render(&e)
                    );
                    say(&message);
                    self.parent_event(false, reason::APPLY_FAILED, message)
                        .await;
                    return;
                }
            };
        self.health
            .metrics
            .apply_seconds
            .observe(started.elapsed().as_secs_f64());
        // Objects that did not apply are left out of the heal target: the next pass retries them in
        // order, rather than heals applying them out of it.
        let heal: Vec<Object> = applied.applied(&manifest.objects).cloned().collect();
        self.healer
            .set_target(Target::new(
                &desired.commit,
                &heal,
                &applied.labels,
                &manifest.rules.ignore,
            ))
            .await;
        self.report(desired, &applied, started).await;
    }

    /// Logs, metrics and Events for one applied revision; a complete apply becomes the applied one.
    async fn report(&mut self, desired: &Desired, applied: &Applied, started: Instant) {
        if let Some(e) = &applied.inventory_error {
            self.health.metrics.api_errors.inc();
            say(&format!("prune failed: {}", crate::error::render(e)));
        }
        let changes = &applied.changes;
        let manifest = &desired.manifest;
        for c in &changes.changes {
            if let (Action::Failed, Some(error)) = (c.action, &c.error) {
                self.health.metrics.api_errors.inc();
                say(&format!("{} failed ({}): {error}", c.id, c.source));
                let api_version = manifest.get(&c.id).map_or("v1", |o| o.api_version.as_str());
                self.events
                    .warning(&c.id, api_version, reason::APPLY_FAILED, error.clone())
                    .await;
            } else if c.action == Action::Deleted {
                say(&format!("pruned {} ({})", c.id, c.source));
            }
        }
        let summary = format!(
            "commit {}: {} in {:.2}s",
            short(&desired.commit),
            changes.summary(),
            started.elapsed().as_secs_f64()
        );
        if applied.succeeded() {
            self.applied = Some(desired.commit.clone());
            self.health.metrics.set_applied(&desired.commit);
            say(&format!("applied {summary}"));
            if changes.changes.iter().any(|c| c.action.wrote()) {
                self.parent_event(true, reason::APPLIED, summary).await;
            }
        } else {
            say(&format!("apply failed, retrying next pass: {summary}"));
            self.parent_event(false, reason::APPLY_FAILED, summary)
                .await;
        }
    }

    /// Observe mode: the new revision becomes what drift is measured against; nothing is written.
    async fn observe(&mut self, desired: &Desired) {
        let labels = self.set.member_labels();
        self.healer
            .set_target(Target::new(
                &desired.commit,
                &desired.manifest.objects,
                &labels,
                &desired.manifest.rules.ignore,
            ))
            .await;
        self.healer.resync().await;
        say(&format!(
            "observing commit {} ({} objects)",
            short(&desired.commit),
            desired.manifest.objects.len()
        ));
    }

    /// The revision the inventory parent records (`None` when there is none or it cannot be read).
    async fn recorded_revision(&self) -> Option<String> {
        match Inventory::load(&self.cluster, self.set.clone()).await {
            Ok(inv) => inv.revision().map(str::to_string),
            Err(e) => {
                self.health.metrics.api_errors.inc();
                say(&format!(
                    "reading the inventory: {}",
                    crate::error::render(&e)
                ));
                None
            }
        }
    }

    async fn parent_event(&self, normal: bool, why: &str, note: String) {
        let parent = self.set.parent();
        if normal {
            self.events.normal(&parent, "v1", why, note).await;
        } else {
            self.events.warning(&parent, "v1", why, note).await;
        }
    }
}

/// Hands memory freed by a pass (parsed YAML, listed objects, dry-run results) back to the system: glibc
/// keeps it otherwise, and a long-running reconciler would sit at its peak forever.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
