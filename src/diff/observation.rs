//! What the cluster says about one desired object, as diff and drift consume it: the live object and the
//! outcome of the [sync decision](super::sync).

use serde_json::Value;

/// One desired object, observed.
#[derive(Debug)]
pub struct Observation {
    /// The live object, `None` when it does not exist.
    pub live: Option<Value>,
    pub dry_run: DryRun,
}

/// The server's answer to a dry-run apply, or the proof that none was needed.
#[derive(Debug)]
pub enum DryRun {
    /// Applying changes nothing (proved by the digest fast path or a dry-run): nothing is kept, so an
    /// in-sync object costs no copy.
    InSync,
    /// What the server would store: a creation when there is no live object, else an update.
    Ok(Value),
    /// It cannot be verified yet, but it is an expected creation: its CRD or Namespace is in the plan and
    /// not installed yet. `reason` says which.
    Pending { reason: String },
    /// The server refused, or the object could not be read: never counted as in sync.
    Failed(Box<dyn std::error::Error + Send + Sync>),
}
