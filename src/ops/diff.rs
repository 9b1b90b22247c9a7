//! `diff`: observe every desired object (live + server-side dry-run) and compare.

use serde::Serialize;

use crate::cluster::Cluster;
use crate::diff::{self as d, DiffOptions, DryRun, ObjectDiff};
use crate::manifest::Manifest;
use crate::object::ObjectId;

/// Options of [`diff`].
#[derive(Debug, Clone, Default)]
pub struct DiffRunOptions {
    pub diff: DiffOptions,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Labels rekube adds on apply (the ApplySet part-of label), so they are not reported as changes.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The outcome for one object.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// In sync.
    Unchanged,
    /// Would be created or updated.
    Changed { diff: ObjectDiff },
    /// Would be created once what it needs exists (its CRD or Namespace is created by the same plan).
    Pending { reason: String, diff: ObjectDiff },
    /// The server refused the dry-run, or the object could not be read: never "in sync".
    Error { message: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffEntry {
    pub id: ObjectId,
    /// `path:line`.
    pub source: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Every object of the manifest, in manifest order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffReport {
    pub entries: Vec<DiffEntry>,
}

impl DiffReport {
    pub fn changed(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Changed { .. } | Outcome::Pending { .. }))
            .count()
    }

    pub fn errors(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Error { .. }))
            .count()
    }

    /// `kubectl diff` exit codes: 0 in sync, 1 differences, 2 errors.
    pub fn exit_code(&self) -> i32 {
        if self.errors() > 0 {
            2
        } else if self.changed() > 0 {
            1
        } else {
            0
        }
    }
}

/// Compares the manifest with the cluster.
pub async fn diff(cluster: &Cluster, manifest: &Manifest, opts: &DiffRunOptions) -> DiffReport {
    let observations =
        super::observe::observe_manifest(cluster, manifest, &opts.labels, opts.concurrency, false)
            .await;
    let entries = manifest
        .objects
        .iter()
        .zip(observations)
        .map(|(obj, obs)| {
            let outcome = match obs.dry_run {
                DryRun::InSync => Outcome::Unchanged,
                DryRun::Ok(dry) => {
                    match d::compare(&obj.id, obs.live.as_ref(), Some(&dry), &opts.diff) {
                        Ok(diff) if diff.action == d::Action::Unchanged => Outcome::Unchanged,
                        Ok(diff) => Outcome::Changed { diff },
                        Err(e) => Outcome::Error {
                            message: e.to_string(),
                        },
                    }
                }
                DryRun::Pending { reason } => {
                    let body = super::observe::desired_body(manifest, obj, &opts.labels);
                    match d::compare(&obj.id, None, Some(&body), &opts.diff) {
                        Ok(diff) => Outcome::Pending { reason, diff },
                        Err(e) => Outcome::Error {
                            message: e.to_string(),
                        },
                    }
                }
                DryRun::Failed(e) => Outcome::Error {
                    message: crate::error::render(e.as_ref()),
                },
            };
            DiffEntry {
                id: obj.id.clone(),
                source: obj.source.to_string(),
                outcome,
            }
        })
        .collect();
    DiffReport { entries }
}
