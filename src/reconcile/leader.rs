//! Leader election on a `coordination.k8s.io/v1` Lease (through `kube-lease-manager`): of all replicas,
//! exactly one holds the Lease and reconciles; the others stand by.
//!
//! - The holder renews the Lease a third of its duration before it expires; a follower takes it over once
//!   it has expired (a killed leader is replaced within the lease duration and about a second).
//! - A follower also watches the Lease: when the holder releases it (graceful shutdown), the follower
//!   re-reads it at once instead of sleeping until the old expiry, so the hand-over is immediate.
//! - A leader that cannot make progress gives the Lease up ([`Election::step_down`]) and stands aside
//!   for a lease duration, so another replica takes over at once.
//! - Any error while holding the Lease steps down first (the state is re-read, and the Lease taken
//!   again if it is still ours): two leaders at once is worse than a second without one.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseParams};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::ReconcileError;

/// Which Lease, for how long, and who this replica is.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    pub name: String,
    pub namespace: String,
    /// How long a holder that stopped renewing keeps the Lease (whole seconds, at least 2).
    pub duration: Duration,
    /// This replica's holder identity (the Pod name in a cluster).
    pub identity: String,
}

/// A running election: `leader()` follows whether this replica holds the Lease.
pub struct Election {
    state: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    step_down: mpsc::UnboundedSender<()>,
    task: JoinHandle<()>,
}

impl Election {
    /// Creates the Lease (and its namespace) if needed and starts competing for it.
    ///
    /// # Errors
    /// The duration is shorter than 2 s, or the Lease can be neither read nor created.
    pub async fn start(
        client: kube::Client,
        opts: &LeaseOptions,
    ) -> Result<Election, ReconcileError> {
        let duration = opts.duration.as_secs();
        if duration < 2 {
            return Err(ReconcileError::Options(format!(
                "--lease-duration {}s is too short: use at least 2s",
                opts.duration.as_secs_f64()
            )));
        }
        ensure_namespace(&client, &opts.namespace).await;
        let manager = build(&client, opts).await?;
        let (tx, state) = watch::channel(false);
        let (stop, stop_rx) = watch::channel(false);
        let (step_down, step_down_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(
            client,
            opts.clone(),
            manager,
            tx,
            Signals {
                stop: stop_rx,
                step_down: step_down_rx,
            },
        ));
        Ok(Election {
            state,
            stop,
            step_down,
            task,
        })
    }

    /// Gives the Lease up, when held, so that another replica takes it at once, then stands aside for a
    /// lease duration before competing again (a leader that cannot make progress).
    pub fn step_down(&self) {
        let _ = self.step_down.send(());
    }

    /// True while this replica holds the Lease.
    pub fn leader(&self) -> watch::Receiver<bool> {
        self.state.clone()
    }

    /// Releases the Lease if held (a follower takes over at once) and stops competing.
    pub async fn release(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .is_err()
        {
            tracing::warn!("releasing the Lease took more than 10s: giving up");
        }
    }
}

/// Renews a third of the duration before expiry.
fn params(opts: &LeaseOptions) -> LeaseParams {
    let duration = opts.duration.as_secs().max(2);
    let grace = (duration / 3).max(1);
    LeaseParams::new(opts.identity.clone(), duration, grace)
        .with_field_manager(format!("rekube-lease-{}", opts.identity))
}

async fn build(client: &kube::Client, opts: &LeaseOptions) -> Result<LeaseManager, ReconcileError> {
    LeaseManager::new(
        client.clone(),
        &opts.name,
        &opts.namespace,
        params(opts),
        LeaseCreateMode::AutoCreate,
    )
    .await
    .map_err(|source| ReconcileError::Lease {
        lease: format!("{}/{}", opts.namespace, opts.name),
        source,
    })
}

/// What the election task is told by its [`Election`].
struct Signals {
    stop: watch::Receiver<bool>,
    step_down: mpsc::UnboundedReceiver<()>,
}

async fn run(
    client: kube::Client,
    opts: LeaseOptions,
    mut manager: LeaseManager,
    tx: watch::Sender<bool>,
    signals: Signals,
) {
    let Signals {
        mut stop,
        mut step_down,
    } = signals;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &opts.namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={}", opts.name));
    let mut lease_events = watcher(leases, config).default_backoff().boxed();
    loop {
        let leading = *tx.borrow();
        // Decide in the select, act after it: nothing borrowed by a branch lives across an await.
        let step = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => Step::Stop,
            Some(()) = step_down.recv() => Step::Resign,
            changed = manager.changed() => Step::Changed(changed),
            Some(event) = lease_events.next(), if !leading => {
                // Released (or deleted): read it afresh now rather than at the old expiry.
                match &event {
                    Ok(watcher::Event::Apply(lease) | watcher::Event::InitApply(lease)) => {
                        Step::Watched { released: lease.spec.as_ref().is_none_or(|s| s.holder_identity.is_none()) }
                    }
                    Ok(watcher::Event::Delete(_)) => Step::Watched { released: true },
                    _ => Step::Watched { released: false },
                }
            }
        };
        match step {
            Step::Stop => {
                if let Err(e) = manager.release().await {
                    tracing::warn!("releasing Lease {}/{}: {e}", opts.namespace, opts.name);
                }
                tx.send_replace(false);
                return;
            }
            Step::Resign => {
                if let Err(e) = manager.release().await {
                    tracing::warn!("releasing Lease {}/{}: {e}", opts.namespace, opts.name);
                }
                tx.send_replace(false);
                super::say(&format!(
                    "{} gave up the Lease; standing aside for {}s",
                    opts.identity,
                    opts.duration.as_secs()
                ));
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    _ = tokio::time::sleep(opts.duration) => {}
                }
                while step_down.try_recv().is_ok() {}
                if let Ok(m) = build(&client, &opts).await {
                    manager = m;
                }
            }
            Step::Changed(Ok(now)) => {
                if now != leading {
                    let what = if now {
                        "became the leader"
                    } else {
                        "is no longer the leader"
                    };
                    super::say(&format!("{} {what}", opts.identity));
                }
                tx.send_replace(now);
            }
            Step::Changed(Err(e)) => {
                tracing::warn!("Lease {}/{}: {e}", opts.namespace, opts.name);
                if leading {
                    super::say(&format!(
                        "{} steps down: the Lease cannot be renewed ({e})",
                        opts.identity
                    ));
                    tx.send_replace(false);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok(m) = build(&client, &opts).await {
                    manager = m;
                }
            }
            Step::Watched { released } => {
                if released && let Ok(m) = build(&client, &opts).await {
                    manager = m;
                }
            }
        }
    }
}

enum Step {
    Stop,
    Resign,
    Changed(Result<bool, kube_lease_manager::LeaseManagerError>),
    Watched { released: bool },
}

/// The Lease's namespace exists (a missing one is created; a refusal is left for the Lease to report).
async fn ensure_namespace(client: &kube::Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if let Ok(Some(_)) = namespaces.get_opt(name).await {
        return;
    }
    let ns = Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    if let Err(e) = namespaces.create(&PostParams::default(), &ns).await {
        tracing::debug!("creating namespace {name}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_a_third_of_the_duration() {
        let opts = |secs| LeaseOptions {
            name: "l".into(),
            namespace: "n".into(),
            duration: Duration::from_secs(secs),
            identity: "me".into(),
        };
        // LeaseParams panics unless 0 < grace < duration: every accepted duration must satisfy it.
        for secs in [2, 3, 15, 60] {
            let _ = params(&opts(secs));
        }
    }
}
