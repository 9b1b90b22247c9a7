//! The inventory's lock: one applier at a time works on a set, from reading its members to recording
//! what is left, so two appliers (CI and the in-cluster reconciler) never interleave their prune plans.
//!
//! The lock is two annotations of the parent (`rekube.dev/lock-holder`, `rekube.dev/lock-renewed`),
//! taken, renewed and freed by writes conditioned on the parent's resourceVersion: of two appliers that
//! read the same parent, only one write goes through. The holder renews it while it works; a lock whose
//! parent has not changed for [`LockOptions::stale_after`], measured on the waiter's own clock (no
//! clock skew between machines matters), belongs to an applier that died and is taken over.
//!
//! The parent also records the repository that owns the set: an applier of another repository is
//! refused unless it takes the set over explicitly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{ApplySet, Inventory, InventoryError, Lock, Recorded};
use crate::cluster::Cluster;

/// What [`Inventory::unlock`] records last: the contents, the revision and the Helm releases' digests
/// (`None`: kept as recorded).
pub type Last<'a> = (
    super::Contents,
    Option<&'a str>,
    Option<&'a std::collections::BTreeMap<String, String>>,
);

/// How often a waiter looks at the parent again.
const POLL: Duration = Duration::from_secs(1);

/// Options of [`Inventory::lock`].
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// What applies, for the holder's name (`rekube apply`); each [`Inventory::lock`] call makes its
    /// own holder out of it, unique among all appliers.
    pub applier: String,
    /// How long to wait while another applier holds the lock.
    pub wait: Duration,
    /// A lock whose parent has not changed for this long is taken over; its holder renews at a third
    /// of it.
    pub stale_after: Duration,
    /// The repository applying (its identity), recorded as the set's owner; `None` neither checks nor
    /// records ownership.
    pub owner: Option<String>,
    /// Take the set over from the repository that owns it (`--take-over-inventory`).
    pub take_over: bool,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            applier: "rekube".into(),
            wait: Duration::from_secs(300),
            stale_after: Duration::from_secs(30),
            owner: None,
            take_over: false,
        }
    }
}

impl LockOptions {
    /// How often the holder renews the lock.
    pub fn renew_every(&self) -> Duration {
        (self.stale_after / 3).max(Duration::from_millis(100))
    }
}

/// A holder name unique to this call: `<host>-<pid>-<n> <applier>`.
fn holder(applier: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "rekube".into());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{host}-{}-{n} {applier}", std::process::id())
}

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

impl Inventory {
    /// Reads the set and takes its lock, waiting while another applier holds it (at most
    /// `opts.wait`). A set without an owner gets `opts.owner` at once; a set taken over gets it at the
    /// next [`Inventory::record`], once the prune has been allowed.
    ///
    /// # Errors
    /// [`InventoryError::Owned`] when another repository owns the set (and `take_over` is off),
    /// [`InventoryError::Locked`] when the lock stayed held for `opts.wait`, or the cluster fails.
    pub async fn lock(
        cluster: &Cluster,
        set: ApplySet,
        opts: &LockOptions,
    ) -> Result<Inventory, InventoryError> {
        let started = Instant::now();
        let me = holder(&opts.applier);
        // The other holder's lock as last seen, and since when (this process's clock).
        let mut seen: Option<(Lock, Instant)> = None;
        let mut told = false;
        loop {
            let mut inventory = Inventory::load(cluster, set.clone()).await?;
            inventory.check_owner(opts)?;
            let current = inventory.recorded.clone().unwrap_or_default();
            if let Some(other) = current.lock.clone() {
                let since = match &seen {
                    Some((l, at)) if *l == other => *at,
                    _ => {
                        seen = Some((other.clone(), Instant::now()));
                        Instant::now()
                    }
                };
                if since.elapsed() < opts.stale_after {
                    if started.elapsed() >= opts.wait {
                        return Err(InventoryError::Locked {
                            parent: set.parent().to_string(),
                            holder: other.holder,
                            renewed: other.renewed,
                            waited: opts.wait.as_secs(),
                        });
                    }
                    if !std::mem::replace(&mut told, true) {
                        tracing::warn!(
                            "{}: inventory {} is being applied by {} (renewed {}): waiting for it, up to {}s",
                            set.parent(),
                            set.name(),
                            other.holder,
                            other.renewed,
                            opts.wait.as_secs()
                        );
                    }
                    tokio::time::sleep(POLL.min(opts.wait)).await;
                    continue;
                }
                tracing::warn!(
                    "{}: taking over the lock of {}: the parent has not changed for {}s",
                    set.parent(),
                    other.holder,
                    opts.stale_after.as_secs()
                );
            }
            // A set taken over changes hands only once the apply is under way ([`Inventory::record`]),
            // not when the prune is refused.
            let wanted = Recorded {
                owner: current.owner.clone().or(opts.owner.clone()),
                lock: Some(Lock {
                    holder: me.clone(),
                    renewed: now(),
                }),
                ..current
            };
            match inventory.write(cluster, wanted).await {
                Ok(()) => {
                    inventory.held = Some(me);
                    inventory.owner_wanted = opts.owner.clone();
                    return Ok(inventory);
                }
                // Another applier wrote first: read again.
                Err(InventoryError::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn check_owner(&self, opts: &LockOptions) -> Result<(), InventoryError> {
        let (Some(owner), Some(mine)) = (self.owner(), opts.owner.as_deref()) else {
            return Ok(());
        };
        if owner == mine {
            return Ok(());
        }
        if !opts.take_over {
            return Err(InventoryError::Owned {
                parent: self.set.parent().to_string(),
                name: self.set.name().to_string(),
                owner: owner.to_string(),
                mine: mine.to_string(),
            });
        }
        tracing::warn!(
            "{}: taking inventory {} over from repository {owner} (--take-over-inventory)",
            self.set.parent(),
            self.set.name()
        );
        Ok(())
    }

    /// True while this inventory holds its lock.
    pub fn locked(&self) -> bool {
        self.held.is_some()
    }

    /// Renews the lock (a no-op when it was never taken).
    ///
    /// # Errors
    /// [`InventoryError::LockLost`] when another applier took it over (now or before), or the cluster
    /// fails.
    pub async fn renew(&mut self, cluster: &Cluster) -> Result<(), InventoryError> {
        let Some(holder) = self.held.clone() else {
            return match &self.lost_to {
                Some(other) => Err(InventoryError::LockLost {
                    parent: self.set.parent().to_string(),
                    holder: other.clone(),
                }),
                None => Ok(()),
            };
        };
        self.write_held(cluster, |r| Recorded {
            lock: Some(Lock {
                holder: holder.clone(),
                renewed: now(),
            }),
            ..r
        })
        .await
    }

    /// Frees the lock, recording `last` in the same write when given. A no-op
    /// when the lock is not held.
    ///
    /// # Errors
    /// [`InventoryError::LockLost`] when another applier took it over, or the cluster fails.
    pub async fn unlock(
        &mut self,
        cluster: &Cluster,
        last: Option<Last<'_>>,
    ) -> Result<(), InventoryError> {
        if self.held.is_none() {
            return Ok(());
        }
        let owner = self.owner_wanted.clone();
        let result = self
            .write_held(cluster, |r| match &last {
                Some((contents, revision, releases)) => Recorded {
                    contents: contents.clone(),
                    revision: revision.map(str::to_string).or(r.revision.clone()),
                    releases: releases.cloned().unwrap_or(r.releases),
                    owner: owner.clone().or(r.owner),
                    lock: None,
                },
                None => Recorded { lock: None, ..r },
            })
            .await;
        self.held = None;
        result
    }

    /// A write while holding the lock: when the parent changed meanwhile (someone annotated it, or this
    /// process's own write went through unseen), it is read again and, the lock still being ours, the
    /// change is made on the fresh parent.
    pub(super) async fn write_held(
        &mut self,
        cluster: &Cluster,
        change: impl Fn(Recorded) -> Recorded,
    ) -> Result<(), InventoryError> {
        let holder = self.held.clone().unwrap_or_default();
        for _ in 0..3 {
            let wanted = change(self.recorded.clone().unwrap_or_default());
            match self.write(cluster, wanted).await {
                Err(InventoryError::Conflict { .. }) => {}
                other => return other,
            }
            let fresh = Inventory::load(cluster, self.set.clone()).await?;
            let now_held_by = fresh
                .recorded
                .as_ref()
                .and_then(|r| r.lock.as_ref())
                .map(|l| l.holder.clone());
            if now_held_by.as_deref() != Some(holder.as_str()) {
                let other = now_held_by.unwrap_or_else(|| "nobody".into());
                self.held = None;
                self.lost_to = Some(other.clone());
                return Err(InventoryError::LockLost {
                    parent: self.set.parent().to_string(),
                    holder: other,
                });
            }
            self.recorded = fresh.recorded;
            self.resource_version = fresh.resource_version;
        }
        Err(InventoryError::Conflict {
            parent: self.set.parent().to_string(),
        })
    }
}
