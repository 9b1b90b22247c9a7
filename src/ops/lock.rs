//! `rekube lock`: pins every remote chart of `rekube.yaml` by the digest of what its repository serves
//! now, in `rekube.lock`. Every other command checks charts against that file and fails when a
//! repository serves something else under the same version.

use std::path::Path;

use serde::Serialize;

use crate::helm::lock::{LockFile, Locked};
use crate::helm::remote::{self, RemoteChart};
use crate::helm::{Helm, HelmError};
use crate::manifest::charts::{self, ChartSource};
use crate::manifest::{Diagnostics, layers};

/// Why the lock file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(transparent)]
    Invalid(#[from] Diagnostics),
    #[error(transparent)]
    Helm(#[from] HelmError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// One remote chart and what happened to its pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pinned {
    pub locked: Locked,
    /// The digest the lock file held before, when it differs (or `None` when unchanged or new).
    pub previous: Option<String>,
    pub new: bool,
}

/// Pulls every remote chart declared in the repository folder `root` and writes `rekube.lock` there
/// (entries of charts no longer declared are dropped).
///
/// # Errors
/// `rekube.yaml` is invalid, a chart cannot be pulled, or the file cannot be written.
pub fn lock(root: &Path) -> Result<Vec<Pinned>, LockError> {
    let invalid = |errors| Diagnostics {
        errors,
        warnings: Vec::new(),
    };
    let root = std::fs::canonicalize(root).map_err(|source| LockError::Write {
        path: root.display().to_string(),
        source,
    })?;
    let layers = layers::resolve(&root).map_err(invalid)?;
    let declared = charts::declared(&root, &layers);
    if !declared.errors.is_empty() {
        return Err(invalid(declared.errors).into());
    }
    let specs = declared.specs;
    let mut wanted: Vec<RemoteChart> = specs
        .into_iter()
        .filter_map(|s| match s.source {
            ChartSource::Remote(r) => Some(r),
            ChartSource::Folder(_) => None,
        })
        .collect();
    wanted.sort();
    wanted.dedup();
    let old = LockFile::read(&root).ok().flatten().unwrap_or_default();
    let mut pinned = Vec::new();
    if !wanted.is_empty() {
        let helm = Helm::locate()?;
        for chart in wanted {
            let (_, digest) = remote::pull(&helm, &chart)?;
            let before = old
                .find(&chart.repository, &chart.chart, &chart.version)
                .map(|l| l.digest.clone());
            pinned.push(Pinned {
                new: before.is_none(),
                previous: before.filter(|d| *d != digest),
                locked: Locked {
                    repository: chart.repository,
                    chart: chart.chart,
                    version: chart.version,
                    digest,
                },
            });
        }
    }
    let file = LockFile {
        charts: pinned.iter().map(|p| p.locked.clone()).collect(),
    };
    file.write(&root).map_err(|source| LockError::Write {
        path: root
            .join(crate::helm::lock::LOCK_FILE)
            .display()
            .to_string(),
        source,
    })?;
    Ok(pinned)
}
