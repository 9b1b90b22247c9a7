//! `reconcile`: the pipeline in a loop, highly available. Every replica serves `/metrics`, `/healthz` and
//! `/readyz` ([`server`]) and competes for a Lease ([`leader`]); the one holding it:
//!
//! 1. fetches the followed ref every `interval` ([`git`]); a new commit is loaded, validated and ordered,
//!    then (enforce mode) applied along the DAG, only changed objects being written, pruned, and its
//!    revision recorded on the inventory parent ([`term`]);
//! 2. a commit that does not load, validate or order is rejected: the last good state stays, nothing is
//!    pruned, and the rejection is logged, counted and sent as an Event on the inventory parent;
//! 3. watches the managed objects, one watch per kind on the ApplySet part-of label ([`watch`]), and
//!    heals drift as it happens, or only reports it in observe mode ([`heal`], [`backoff`]), with a full
//!    resync every `resync` to catch what the watches missed;
//! 4. on losing the Lease, stops at once; on SIGTERM/SIGINT, finishes the pass in flight, releases the
//!    Lease (a follower takes over at once) and returns;
//! 5. every external call has a deadline (a fetch `--git-timeout`, Kustomize, each object `--timeout`);
//!    a leader that makes no progress by the deadline of what it is doing (between passes: three
//!    intervals and a fetch) fails `/healthz` and gives up the Lease, so another replica takes over.
//!
//! Observe mode never writes to managed objects: new commits are compared, not applied, and
//! `rekube_applied_revision_info` shows the revision the inventory records.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::apply::ApplyOptions;
use crate::cluster::Cluster;
use crate::inventory::{ApplySet, InventoryError};
use crate::ops::prune::PruneRunOptions;

pub mod backoff;
pub mod events;
pub mod git;
pub mod heal;
pub mod leader;
pub mod metrics;
pub mod secrets;
pub mod server;
pub mod target;
mod term;
pub mod watch;

pub use leader::LeaseOptions;

/// What the leader does about drift (and new commits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Apply new commits and re-apply drifted objects.
    Enforce,
    /// Report only: nothing managed is written.
    Observe,
}

/// Options of [`run`]; built from `rekube reconcile`'s flags.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    pub follow: git::Follower,
    /// How often the ref is fetched.
    pub interval: Duration,
    /// How often every managed object is checked, watches or not.
    pub resync: Duration,
    pub mode: Mode,
    /// Address of the metrics and health endpoints.
    pub listen: SocketAddr,
    pub lease: LeaseOptions,
    /// Timeout and re-creation; labels and revision are filled in per revision.
    pub apply: ApplyOptions,
    /// Inventory name and prune guards.
    pub prune: PruneRunOptions,
}

impl ReconcileOptions {
    /// How long a leader may go without progress between passes before it counts as stuck: three
    /// intervals and a fetch's deadline. `/healthz` fails past it and the leader gives up the Lease.
    pub fn stall_bound(&self) -> Duration {
        self.interval
            .saturating_mul(3)
            .saturating_add(self.follow.timeout)
    }

    /// How long reading and validating a fetched commit may take.
    pub(crate) fn load_window(&self) -> Duration {
        self.follow
            .timeout
            .saturating_add(self.follow.load.kustomize_timeout)
            .saturating_add(self.interval)
    }

    /// How long an apply may go between two objects (each waits at most `--timeout`).
    pub(crate) fn apply_window(&self) -> Duration {
        self.apply.timeout.saturating_add(self.interval)
    }
}

/// An error that stops a reconciler (everything else is reported and retried).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Options(String),
    #[error("cannot serve metrics on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("leader election on Lease {lease} failed")]
    Lease {
        lease: String,
        #[source]
        source: kube_lease_manager::LeaseManagerError,
    },
    #[error(transparent)]
    Inventory(#[from] InventoryError),
}

/// Runs a replica until `shutdown` completes, then releases the Lease and returns.
///
/// # Errors
/// The inventory name is invalid, the address cannot be bound, or the Lease cannot be created.
pub async fn run(
    cluster: Cluster,
    opts: ReconcileOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ReconcileError> {
    let set = ApplySet::new(&opts.prune.inventory)?;
    let health = Arc::new(server::Health::default());
    let listener = server::bind(opts.listen)
        .await
        .map_err(|source| ReconcileError::Listen {
            addr: opts.listen,
            source,
        })?;
    let (stop_server, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(server::serve(listener, health.clone(), stopped));
    let events = events::Events::new(cluster.client().clone(), &opts.lease.identity);
    let election = leader::Election::start(cluster.client().clone(), &opts.lease).await?;
    say(&format!(
        "{} follows {}{} every {}s in {} mode (inventory {}, Lease {}/{})",
        opts.lease.identity,
        crate::source::redact_url(&opts.follow.repository),
        opts.follow
            .reference
            .as_deref()
            .map(|r| format!(" ref {r}"))
            .unwrap_or_default(),
        opts.interval.as_secs_f64(),
        match opts.mode {
            Mode::Enforce => "enforce",
            Mode::Observe => "observe",
        },
        opts.prune.inventory,
        opts.lease.namespace,
        opts.lease.name,
    ));
    let mut leading = election.leader();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            r = leading.wait_for(|l| *l) => if r.is_err() { break },
        }
        health.leader.store(true, Ordering::Relaxed);
        health.synced.store(false, Ordering::Relaxed);
        health.allow(opts.stall_bound());
        health.metrics.leader.set(1);
        let (stop_term, stop_rx) = tokio::sync::watch::channel(false);
        let term = term::Term::new(
            cluster.clone(),
            opts.clone(),
            set.clone(),
            health.clone(),
            events.clone(),
        );
        // Polled here rather than spawned: dropping it stops the term at its next await.
        let mut work = Box::pin(term.run(stop_rx));
        let end = tokio::select! {
            _ = &mut shutdown => {
                say("shutting down: finishing the pass in flight");
                let _ = stop_term.send(true);
                (&mut work).await;
                End::Shutdown
            }
            lost = leading.wait_for(|l| !*l) => {
                drop(lost);
                say("lost the Lease: stopped reconciling");
                End::Lost
            }
            _ = &mut work => End::Lost,
            _ = stuck(&health) => End::Stuck,
        };
        drop(work);
        health.leader.store(false, Ordering::Relaxed);
        health.metrics.leader.set(0);
        match end {
            End::Shutdown => break,
            End::Lost => health.stand_by(),
            End::Stuck => {
                say(&format!(
                    "no progress within {}s (3 × --interval + --git-timeout, or the deadline of the step in flight): giving up the Lease",
                    opts.stall_bound().as_secs()
                ));
                health.stalled();
                election.step_down();
                let _ = leading.wait_for(|l| !*l).await;
            }
        }
    }
    election.release().await;
    say("released the Lease; bye");
    let _ = stop_server.send(true);
    let _ = server.await;
    Ok(())
}

/// How a term ended.
enum End {
    Shutdown,
    Lost,
    /// No progress by its deadline: the Lease is given up.
    Stuck,
}

/// Completes once the leader has let the deadline of its step pass.
async fn stuck(health: &server::Health) {
    while !health.stuck() {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One line of the reconciler's log of what it did, through `tracing` (timestamped by the subscriber the
/// binary installs; `rekube reconcile` logs at info by default).
pub fn say(message: &str) {
    tracing::info!("{message}");
}
