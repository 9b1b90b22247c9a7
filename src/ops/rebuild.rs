//! `rebuild`: preflight (the cluster is empty, unless adopting or resuming), a journal so a killed run can
//! be resumed, apply along the DAG, and the recovery-time report.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::apply::{ApplyEvent, Dag, Journal, JournalError};
use crate::cluster::{Cluster, ClusterError};
use crate::inventory::InventoryError;
use crate::manifest::Manifest;
use crate::report::RebuildReport;

use super::apply::{ApplyRunOptions, apply};

/// Options of [`rebuild`].
#[derive(Debug, Clone, Default)]
pub struct RebuildOptions {
    /// The apply operation's options (its journal is the rebuild's own).
    pub run: ApplyRunOptions,
    /// Rebuild over objects that already exist.
    pub adopt: bool,
    /// Continue from the journal of an interrupted run (implies adopting what it created).
    pub resume: bool,
    pub rto_budget: Option<Duration>,
    /// Where journals live; `None` is the user cache folder.
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(
        "preflight: the cluster is not empty, {count} object(s) of the repository exist already ({shown}); use --adopt to rebuild over them or --resume to continue an interrupted rebuild"
    )]
    NotEmpty { count: usize, shown: String },
    #[error("preflight failed")]
    Preflight(#[source] ClusterError),
    #[error("no cache folder for the rebuild journal: set REKUBE_CACHE_DIR or HOME")]
    NoCacheDir,
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
}

/// Rebuilds `manifest` into `cluster`. `started` is when the user's clock started (before loading), so
/// the recovery time covers everything.
///
/// # Errors
/// The preflight refuses (not empty, unreachable) or the journal cannot be opened. Object failures are
/// not errors: they are in the report.
pub async fn rebuild<F>(
    cluster: &Cluster,
    manifest: &Manifest,
    dag: &Dag,
    opts: &RebuildOptions,
    started: Instant,
    mut on_event: F,
) -> Result<RebuildReport, RebuildError>
where
    F: FnMut(ApplyEvent),
{
    // The preflight's retries count too.
    let retries = cluster.retries();
    let journal_path = journal_path(opts, cluster, manifest)?;
    if !opts.adopt && !opts.resume {
        preflight_empty(cluster, manifest).await?;
    }
    let journal = Arc::new(Journal::open(&journal_path, opts.resume)?);
    if opts.resume {
        on_event(ApplyEvent::Resumed {
            skipped: journal.done_count(),
            journal: journal_path.clone(),
        });
    }
    let run = ApplyRunOptions {
        journal: Some(journal),
        ..opts.run.clone()
    };
    let preflight = started.elapsed();
    let mut applied = apply(cluster, manifest, dag, &run, on_event).await?;
    if let Some(e) = applied.inventory_error {
        return Err(e.into());
    }
    applied.changes.retries = cluster.retries().since(retries);
    let layers: Vec<String> = manifest.layers.iter().map(|l| l.name.clone()).collect();
    let mut report = RebuildReport::new(
        applied.changes,
        &layers,
        preflight,
        opts.rto_budget,
        manifest.revision.commit.clone(),
        cluster.server().to_string(),
    );
    let simulated = opts.run.apply.simulated.then_some(&manifest.rules.health);
    report.analyse(dag, &manifest.objects, simulated);
    if report.succeeded {
        // A finished rebuild needs no resume: the next one starts from scratch.
        let _ = std::fs::remove_file(&journal_path);
    }
    Ok(report)
}

/// One journal per (cluster, repository): `--resume` finds the interrupted run's.
fn journal_path(
    opts: &RebuildOptions,
    cluster: &Cluster,
    manifest: &Manifest,
) -> Result<PathBuf, RebuildError> {
    let base = match &opts.cache_dir {
        Some(d) => d.clone(),
        None => crate::source::default_cache_dir().ok_or(RebuildError::NoCacheDir)?,
    };
    let mut h = Sha256::new();
    h.update(cluster.server().as_bytes());
    h.update([0]);
    h.update(manifest.revision.origin.as_bytes());
    let key = hex::encode(&h.finalize()[..12]);
    Ok(base.join("journal").join(format!("{key}.jsonl")))
}

/// A rebuild goes into an empty cluster: refuse when the repository's cluster-scoped objects (Namespaces
/// among them) already exist. Namespaced objects cannot exist without their Namespace.
async fn preflight_empty(cluster: &Cluster, manifest: &Manifest) -> Result<(), RebuildError> {
    use futures::StreamExt;
    let scoped: Vec<_> = manifest
        .objects
        .iter()
        .filter(|o| o.id.namespace.is_none())
        .collect();
    let found: Vec<Result<Option<String>, ClusterError>> = futures::stream::iter(scoped)
        .map(|o| async move {
            match cluster.get(&o.id, &o.api_version).await {
                Ok(Some(_)) => Ok(Some(o.id.to_string())),
                Ok(None) | Err(ClusterError::UnknownKind { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffered(16)
        .collect()
        .await;
    let mut present = Vec::new();
    for f in found {
        if let Some(id) = f.map_err(RebuildError::Preflight)? {
            present.push(id);
        }
    }
    if present.is_empty() {
        return Ok(());
    }
    Err(RebuildError::NotEmpty {
        count: present.len(),
        shown: crate::report::abbreviate(&present, 10),
    })
}
