//! `drill`: a DR rehearsal. A fresh local control plane, a rebuild of the repository into it, a drift
//! check that must come out empty, the recovery-time report, and the teardown. "A recovery plan is only
//! as good as its last test."
//!
//! The fresh control plane is simulated (pods run on kwok's fake Nodes): admission webhooks are not
//! called, aggregated APIs are judged by their Service's ready endpoints, volumes and snapshots come
//! from a simulated provisioner. The report lists every object whose readiness was judged that way
//! ([`crate::report::RebuildReport::simulated`]), so a green drill says what it could not prove.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::apply::{Action, ApplyEvent, ApplyOptions, Dag};
use crate::cluster::{Cluster, ClusterError, ClusterOptions};
use crate::controlplane::{ControlPlane, ControlPlaneError, ControlPlaneOptions};
use crate::drift::{Class, DriftReport};
use crate::inventory::InventoryError;
use crate::manifest::Manifest;
use crate::object::ObjectId;
use crate::ops::apply::ApplyRunOptions;
use crate::ops::drift::{DriftOptions, drift};
use crate::ops::prune::PruneRunOptions;
use crate::ops::rebuild::{RebuildError, RebuildOptions, rebuild};
use crate::ops::simulation::{self, SimulationError};
use crate::report::RebuildReport;

/// Options of [`drill`].
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub control_plane: ControlPlaneOptions,
    /// How long each object may take to become ready.
    pub timeout: Duration,
    pub rto_budget: Option<Duration>,
    pub concurrency: usize,
}

impl Default for DrillOptions {
    fn default() -> Self {
        DrillOptions {
            control_plane: ControlPlaneOptions::default(),
            timeout: Duration::from_secs(300),
            rto_budget: None,
            concurrency: 32,
        }
    }
}

/// An error that stops a drill before it can report (the objects' own failures are in the report).
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("drill: the fresh control plane did not start")]
    ControlPlane(#[from] ControlPlaneError),
    #[error("drill: cannot connect to the fresh control plane")]
    Connect(#[from] ClusterError),
    #[error("drill: the rebuild could not start")]
    Rebuild(#[from] RebuildError),
    #[error("drill: the simulated cluster could not be prepared")]
    Simulation(#[from] SimulationError),
    #[error("drill: the drift check could not run")]
    Drift(#[from] InventoryError),
    #[error("drill: no temporary folder for the rebuild journal")]
    TempDir(#[source] std::io::Error),
}

/// An object that never became ready, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotReady {
    pub id: ObjectId,
    pub source: String,
    /// The wait's error: the object, the timeout and its last status.
    pub error: String,
    /// What the cluster says beyond the object's status (its unready Pod, its latest Warning event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
}

/// What a drill proves.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub origin: String,
    pub revision: Option<String>,
    pub passed: bool,
    /// Seconds until the fresh control plane answered (not part of the recovery time).
    pub cluster_seconds: f64,
    /// The recovery time: the rebuild, from preflight to the last object ready.
    pub rto_seconds: f64,
    pub rto_budget_seconds: Option<f64>,
    pub within_budget: bool,
    /// Seconds the drift check took (`None`: not run, the rebuild failed).
    pub drift_seconds: Option<f64>,
    pub teardown_seconds: f64,
    pub not_ready: Vec<NotReady>,
    /// Objects not applied because something they depend on failed.
    pub blocked: usize,
    /// Why the drill failed, one line each; empty when it passed.
    pub problems: Vec<String>,
    /// What the simulated cluster was given for this repository (e.g. the VolumeSnapshot CRDs).
    pub simulation: Vec<String>,
    pub rebuild: RebuildReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftReport>,
}

/// Runs a drill of `manifest` (ordered by `dag`) in a fresh local control plane, torn down at the end.
///
/// # Errors
/// The control plane does not start, or the rebuild or drift check cannot run at all.
pub async fn drill<F>(
    manifest: &Manifest,
    dag: &Dag,
    opts: &DrillOptions,
    on_event: F,
) -> Result<DrillReport, DrillError>
where
    F: FnMut(ApplyEvent),
{
    let cp = ControlPlane::start(opts.control_plane.clone()).await?;
    let cluster_seconds = cp.ready_in().as_secs_f64();
    let cluster_opts = ClusterOptions {
        concurrency: opts.concurrency,
        ..ClusterOptions::default()
    };
    let cluster =
        Cluster::from_client(cp.client()?, cp.server_url().to_string(), &cluster_opts).await?;
    let result = match simulation::prepare(&cluster, manifest, opts.timeout).await {
        Ok(notes) => rehearse(&cluster, manifest, dag, opts, on_event)
            .await
            .map(|r| (r, notes)),
        Err(e) => Err(e.into()),
    };
    let stopping = Instant::now();
    if let Err(e) = cp.stop() {
        tracing::warn!("stopping the drill's control plane: {e}");
    }
    let teardown = stopping.elapsed().as_secs_f64();
    let ((rebuild, drift_report, drift_seconds, not_ready), notes) = result?;
    let mut report = assemble(
        manifest,
        opts,
        cluster_seconds,
        teardown,
        rebuild,
        drift_report,
        drift_seconds,
        not_ready,
    );
    report.simulation = notes;
    Ok(report)
}

pub(super) type Rehearsal = (
    RebuildReport,
    Option<DriftReport>,
    Option<f64>,
    Vec<NotReady>,
);

/// Rebuild, then (when it succeeded) the drift check; failures diagnosed while the cluster is up.
pub(super) async fn rehearse<F>(
    cluster: &Cluster,
    manifest: &Manifest,
    dag: &Dag,
    opts: &DrillOptions,
    on_event: F,
) -> Result<Rehearsal, DrillError>
where
    F: FnMut(ApplyEvent),
{
    let journal = tempfile::tempdir().map_err(DrillError::TempDir)?;
    let ropts = RebuildOptions {
        run: ApplyRunOptions {
            apply: ApplyOptions {
                timeout: opts.timeout,
                simulated: true,
                ..ApplyOptions::default()
            },
            prune: Some(PruneRunOptions {
                timeout: opts.timeout,
                concurrency: opts.concurrency,
                ..PruneRunOptions::default()
            }),
            journal: None,
        },
        adopt: false,
        resume: false,
        rto_budget: opts.rto_budget,
        cache_dir: Some(journal.path().to_path_buf()),
    };
    let report = rebuild(cluster, manifest, dag, &ropts, Instant::now(), on_event).await?;
    let mut not_ready = Vec::new();
    for c in report
        .changes
        .changes
        .iter()
        .filter(|c| c.action == Action::Failed)
    {
        let diagnosis = match manifest.get(&c.id) {
            Some(obj) => crate::ops::diagnose::why_not_ready(cluster, obj).await,
            None => None,
        };
        not_ready.push(NotReady {
            id: c.id.clone(),
            source: c.source.clone(),
            error: c.error.clone().unwrap_or_default(),
            diagnosis,
        });
    }
    if !report.succeeded {
        return Ok((report, None, None, not_ready));
    }
    let started = Instant::now();
    let dopts = DriftOptions {
        concurrency: opts.concurrency,
        fail_on: Class::ALL.into(),
        ..DriftOptions::default()
    };
    let drift_report = drift(cluster, manifest, &dopts).await?;
    Ok((
        report,
        Some(drift_report),
        Some(started.elapsed().as_secs_f64()),
        not_ready,
    ))
}

#[allow(clippy::too_many_arguments)] // One assembly step, of a drill and of each failover site.
pub(super) fn assemble(
    manifest: &Manifest,
    opts: &DrillOptions,
    cluster_seconds: f64,
    teardown_seconds: f64,
    rebuild: RebuildReport,
    drift: Option<DriftReport>,
    drift_seconds: Option<f64>,
    not_ready: Vec<NotReady>,
) -> DrillReport {
    let mut problems = Vec::new();
    for n in &not_ready {
        let mut line = format!("never became ready: {} ({})", n.error, n.source);
        if let Some(d) = &n.diagnosis {
            line.push_str(&format!("; {d}"));
        }
        problems.push(line);
    }
    let blocked: Vec<String> = rebuild
        .changes
        .changes
        .iter()
        .filter(|c| c.action == Action::Blocked)
        .map(|c| c.id.to_string())
        .collect();
    if !blocked.is_empty() {
        let shown = crate::report::abbreviate(&blocked, 5);
        problems.push(format!(
            "{} object(s) not applied because something they depend on failed: {shown}",
            blocked.len()
        ));
    }
    if let Some(d) = drift.as_ref().filter(|d| d.exit_code() != 0) {
        problems.push(format!("drift right after the rebuild: {}", d.summary()));
    }
    if !rebuild.within_budget {
        problems.push(format!(
            "recovery time {:.2}s is over the budget of {:.0}s",
            rebuild.rto_seconds,
            opts.rto_budget.map_or(0.0, |b| b.as_secs_f64())
        ));
    }
    DrillReport {
        origin: manifest.revision.origin.clone(),
        revision: manifest.revision.commit.clone(),
        passed: problems.is_empty() && rebuild.succeeded && drift.is_some(),
        cluster_seconds: round(cluster_seconds),
        rto_seconds: rebuild.rto_seconds,
        rto_budget_seconds: rebuild.rto_budget_seconds,
        within_budget: rebuild.within_budget,
        drift_seconds: drift_seconds.map(round),
        teardown_seconds: round(teardown_seconds),
        not_ready,
        blocked: blocked.len(),
        problems,
        simulation: Vec::new(),
        rebuild,
        drift,
    }
}

pub(super) fn round(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

#[cfg(test)]
#[path = "drill_tests.rs"]
mod tests;
