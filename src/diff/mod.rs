//! Diff: what applying would change, and who changed what. Pure.
//!
//! 1. [`normalize`] removes what the API server or rekube adds (managedFields, `status`,
//!    resourceVersion, uid, generation, timestamps, provenance annotations).
//! 2. [`compare`] classifies a live object against the server-side dry-run result ([`Action`]),
//!    lists the [`FieldPath`]s that differ, and renders a unified YAML diff, Secrets masked
//!    ([`mask_pair`]) unless asked otherwise.
//! 3. [`attribute`] names the field manager behind a drifted field, from the live managedFields.
//! 4. [`immutable_changes`] finds changes the API server would refuse, from a table.
//! 5. [`digest`] is the `rekube.dev/digest` of a desired object.
//! 6. [`decide`] is the one sync decision (digest fast path, else server-side dry-run, normalise,
//!    compare, stale check) that diff, drift, apply and heal all use; [`Observation`] is its outcome as
//!    diff and drift read it.
//! 7. [`ignore`]: fields another controller owns (`ignore:` rules, the annotation
//!    `rekube.dev/ignore-fields`, an autoscaler's replicas), left out of every comparison and never
//!    reset by a write.

mod attribution;
mod covers;
pub mod ignore;
mod immutable;
mod mask;
mod normalize;
mod observation;
mod path;
mod render;
pub mod sync;

use serde::Serialize;
use serde_json::Value;

use crate::object::ObjectId;

pub use attribution::{Attribution, attribute};
pub use covers::{covers, in_sync};
pub use ignore::{IgnoreRule, IgnoreRules, Ignored};
pub use immutable::immutable_changes;
pub use mask::{MASK, MASK_AFTER, MASK_BEFORE, mask_pair, mask_secrets};
pub use normalize::{IGNORED_ANNOTATIONS, canonical, digest, normalize};
pub use observation::{DryRun, Observation};
pub use path::{FieldPath, Segment, changed_paths};
pub use render::{to_yaml, unified};
pub use sync::{Decision, Proof, Sync, SyncOptions, decide};

/// An error of the diff stage.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{object}: cannot render as YAML")]
    Render {
        object: String,
        #[source]
        source: serde_saphyr::SerializeError,
    },
}

/// What applying the desired object would do to the live one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Delete,
}

/// Options of [`compare`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOptions {
    /// Show Secret values instead of `***` markers (`--show-secrets`).
    pub show_secrets: bool,
    /// Unchanged lines around each change in the unified diff.
    pub context_lines: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            show_secrets: false,
            context_lines: 3,
        }
    }
}

/// The difference between a live object and what applying would make of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDiff {
    pub id: ObjectId,
    pub action: Action,
    /// Fields that differ, for [`Action::Update`] (empty otherwise: the whole object changes).
    pub changed: Vec<FieldPath>,
    /// Unified diff of the YAML renderings, headed `--- live Kind/ns/name` and `+++ desired`;
    /// empty when unchanged.
    pub unified: String,
}

/// Compares `before` (the live object, `None` if absent) with `after` (the server-side dry-run
/// result, `None` if the object is to be deleted). Both are normalised here, so raw API objects can
/// be passed; Secret values are masked in the rendering unless `opts.show_secrets`, while the
/// action and the changed paths are always computed on the real values.
///
/// # Errors
/// [`DiffError::Render`] if an object cannot be rendered as YAML.
pub fn compare(
    id: &ObjectId,
    before: Option<&Value>,
    after: Option<&Value>,
    opts: &DiffOptions,
) -> Result<ObjectDiff, DiffError> {
    let before = before.map(normalize);
    let after = after.map(normalize);
    let (action, changed) = match (&before, &after) {
        (None, Some(_)) => (Action::Create, Vec::new()),
        (Some(_), None) => (Action::Delete, Vec::new()),
        (Some(b), Some(a)) if b != a => (Action::Update, changed_paths(b, a)),
        _ => (Action::Unchanged, Vec::new()),
    };
    let unified = if action == Action::Unchanged {
        String::new()
    } else {
        let (b, a) = if opts.show_secrets {
            (before, after)
        } else {
            mask_pair(before.as_ref(), after.as_ref())
        };
        let render = |v: Option<Value>| match v {
            Some(v) => to_yaml(&v).map_err(|source| DiffError::Render {
                object: id.to_string(),
                source,
            }),
            None => Ok(String::new()),
        };
        let header = format!("live {id}");
        unified(
            &render(b)?,
            &render(a)?,
            &header,
            "desired",
            opts.context_lines,
        )
    };
    Ok(ObjectDiff {
        id: id.clone(),
        action,
        changed,
        unified,
    })
}

#[cfg(test)]
mod tests;
