//! `drill --failover`: the recovery models of `clusters:` measured on the user's own repository. One
//! fresh local control plane per cluster; the primary rebuilt cold (its recovery time is the cold RTO,
//! measured as [`super::drill`] measures it) and each standby built by its model (warm: everything,
//! workloads held at zero; pilot light: its layers), each checked for zero drift; then the primary is
//! destroyed, a standby promoted ([`super::promote`]) and checked for zero drift against the whole
//! repository. The promotion's time is the failover RTO, reported next to the cold one.

use std::time::Instant;

use serde::Serialize;

use crate::apply::{ApplyEvent, ApplyOptions, Dag};
use crate::cluster::{Cluster, ClusterOptions};
use crate::controlplane::ControlPlane;
use crate::drift::{Class, DriftReport};
use crate::manifest::Manifest;
use crate::manifest::clusters::Role;
use crate::ops::apply::ApplyRunOptions;
use crate::ops::drift::{DriftOptions, drift};
use crate::ops::prune::PruneRunOptions;
use crate::ops::simulation;

use super::drill::{DrillError, DrillOptions, DrillReport, assemble, rehearse, round};
use super::promote::{PromoteError, PromoteOptions, PromoteReport, promote};

/// One cluster of the drill: the repository as loaded for it.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub manifest: &'a Manifest,
    pub dag: &'a Dag,
}

/// What [`failover`] builds: every cluster, and the standby to promote loaded promoted.
#[derive(Debug, Clone)]
pub struct FailoverPlan<'a> {
    /// In `clusters:` order; the first primary is the one destroyed.
    pub sites: Vec<Site<'a>>,
    /// Index in `sites` of the standby to promote.
    pub promote: usize,
    /// That standby's repository, loaded promoted.
    pub promoted: Site<'a>,
}

#[derive(Debug, thiserror::Error)]
pub enum FailoverError {
    #[error("drill --failover: {0}")]
    Plan(String),
    #[error(transparent)]
    Drill(#[from] DrillError),
    #[error("drill --failover: the promotion could not run")]
    Promote(#[from] PromoteError),
}

/// One cluster's build, as a drill reports it.
#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    pub cluster: String,
    pub role: String,
    pub build: DrillReport,
}

/// What a failover drill proves.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverReport {
    pub origin: String,
    pub revision: Option<String>,
    pub passed: bool,
    /// The primary destroyed, and the standby promoted (with its model).
    pub primary: String,
    pub promoted: String,
    pub model: String,
    /// The cold-rebuild recovery time of the primary.
    pub cold_rto_seconds: f64,
    /// The failover recovery time: the promotion, from its start to the last object ready.
    pub failover_rto_seconds: f64,
    /// Seconds to destroy the primary (its control plane stopped).
    pub destroy_seconds: f64,
    pub clusters: Vec<SiteReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<PromoteReport>,
    /// The promoted standby against the whole repository (`None`: the promotion failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftReport>,
    pub drift_seconds: Option<f64>,
    /// Why the drill failed, one line each.
    pub problems: Vec<String>,
}

/// Runs a failover drill of `plan`; every control plane is torn down at the end.
///
/// # Errors
/// The plan has no primary or promotes a primary; a control plane does not start; a rebuild, the
/// promotion or a drift check cannot run at all. Object failures are in the report.
pub async fn failover<F>(
    plan: &FailoverPlan<'_>,
    opts: &DrillOptions,
    mut on_event: F,
) -> Result<FailoverReport, FailoverError>
where
    F: FnMut(ApplyEvent),
{
    let role = |s: &Site| s.manifest.cluster.as_ref().map(|c| c.spec.role.clone());
    let primary = plan
        .sites
        .iter()
        .position(|s| role(s) == Some(Role::Primary))
        .ok_or_else(|| FailoverError::Plan("rekube.yaml's `clusters:` has no primary".into()))?;
    if !matches!(
        plan.sites.get(plan.promote).and_then(role),
        Some(Role::Standby(_))
    ) {
        return Err(FailoverError::Plan("only a standby is promoted".into()));
    }
    let mut planes: Vec<Option<(ControlPlane, Cluster)>> = Vec::new();
    let built = build(plan, opts, &mut planes, &mut on_event).await;
    let result = match built {
        Ok(clusters) => finish(plan, opts, primary, clusters, &mut planes, &mut on_event).await,
        Err(e) => Err(e),
    };
    for (cp, _) in planes.into_iter().flatten() {
        if let Err(e) = cp.stop() {
            tracing::warn!("stopping a failover drill's control plane: {e}");
        }
    }
    result
}

/// Starts a control plane per site and builds it by its model; `planes` gets them as they start.
async fn build<F>(
    plan: &FailoverPlan<'_>,
    opts: &DrillOptions,
    planes: &mut Vec<Option<(ControlPlane, Cluster)>>,
    on_event: &mut F,
) -> Result<Vec<SiteReport>, FailoverError>
where
    F: FnMut(ApplyEvent),
{
    let cluster_opts = ClusterOptions {
        concurrency: opts.concurrency,
        ..ClusterOptions::default()
    };
    // The budget is the failover's ([`finish`]), not each build's.
    let opts = &DrillOptions {
        rto_budget: None,
        ..opts.clone()
    };
    let mut out = Vec::new();
    for (i, site) in plan.sites.iter().enumerate() {
        let cp = ControlPlane::start(opts.control_plane.clone())
            .await
            .map_err(DrillError::from)?;
        let cluster_seconds = cp.ready_in().as_secs_f64();
        let client = cp.client().map_err(DrillError::from)?;
        let cluster = Cluster::from_client(client, cp.server_url().to_string(), &cluster_opts)
            .await
            .map_err(DrillError::from)?;
        planes.push(Some((cp, cluster.clone())));
        // The standby to promote gets what the whole repository needs of the simulation at once.
        let needs = if i == plan.promote {
            plan.promoted.manifest
        } else {
            site.manifest
        };
        let notes = simulation::prepare(&cluster, needs, opts.timeout)
            .await
            .map_err(DrillError::from)?;
        let (rebuild, drift, drift_seconds, not_ready) =
            rehearse(&cluster, site.manifest, site.dag, opts, &mut *on_event).await?;
        let mut report = assemble(
            site.manifest,
            opts,
            cluster_seconds,
            0.0,
            rebuild,
            drift,
            drift_seconds,
            not_ready,
        );
        report.simulation = notes;
        let spec = site.manifest.cluster.as_ref().map(|c| &c.spec);
        out.push(SiteReport {
            cluster: spec.map_or_else(String::new, |s| s.name.clone()),
            role: spec.map_or_else(String::new, |s| s.role.describe()),
            build: report,
        });
    }
    Ok(out)
}

/// Destroys the primary, promotes the standby and checks it for drift.
async fn finish<F>(
    plan: &FailoverPlan<'_>,
    opts: &DrillOptions,
    primary: usize,
    clusters: Vec<SiteReport>,
    planes: &mut [Option<(ControlPlane, Cluster)>],
    on_event: &mut F,
) -> Result<FailoverReport, FailoverError>
where
    F: FnMut(ApplyEvent),
{
    let mut problems: Vec<String> = Vec::new();
    for site in &clusters {
        for p in &site.build.problems {
            problems.push(format!("cluster {} ({}): {p}", site.cluster, site.role));
        }
    }
    let destroying = Instant::now();
    if let Some((cp, _)) = planes.get_mut(primary).and_then(Option::take)
        && let Err(e) = cp.stop()
    {
        tracing::warn!("destroying the primary's control plane: {e}");
    }
    let destroy_seconds = round(destroying.elapsed().as_secs_f64());
    let standby = planes
        .get(plan.promote)
        .and_then(Option::as_ref)
        .map(|(_, c)| c.clone())
        .ok_or_else(|| FailoverError::Plan("the standby's control plane is gone".into()))?;
    let run = ApplyRunOptions {
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
    };
    let popts = PromoteOptions { run, at: now() };
    let Site { manifest, dag } = plan.promoted;
    let promotion = promote(&standby, manifest, dag, &popts, Instant::now(), |e| {
        on_event(e)
    })
    .await?;
    problems.extend(promotion.problems.iter().map(|p| format!("promotion: {p}")));
    if let Some(budget) = opts.rto_budget
        && promotion.recovery_seconds > budget.as_secs_f64()
    {
        problems.push(format!(
            "failover recovery time {:.2}s is over the budget of {:.0}s",
            promotion.recovery_seconds,
            budget.as_secs_f64()
        ));
    }
    let (drift_report, drift_seconds) = if promotion.succeeded {
        let started = Instant::now();
        let dopts = DriftOptions {
            concurrency: opts.concurrency,
            fail_on: Class::ALL.into(),
            ..DriftOptions::default()
        };
        let report = drift(&standby, manifest, &dopts)
            .await
            .map_err(DrillError::from)?;
        if report.exit_code() != 0 {
            problems.push(format!(
                "drift right after the promotion: {}",
                report.summary()
            ));
        }
        (Some(report), Some(round(started.elapsed().as_secs_f64())))
    } else {
        (None, None)
    };
    let name = |i: usize| {
        clusters
            .get(i)
            .map_or_else(String::new, |s| s.cluster.clone())
    };
    Ok(FailoverReport {
        origin: manifest.revision.origin.clone(),
        revision: manifest.revision.commit.clone(),
        passed: problems.is_empty() && drift_report.is_some(),
        primary: name(primary),
        promoted: name(plan.promote),
        model: promotion.role.clone(),
        cold_rto_seconds: clusters.get(primary).map_or(0.0, |s| s.build.rto_seconds),
        failover_rto_seconds: promotion.recovery_seconds,
        destroy_seconds,
        clusters,
        promotion: Some(promotion),
        drift: drift_report,
        drift_seconds,
        problems,
    })
}

fn now() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}
