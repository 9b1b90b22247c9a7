//! Drift: how the live cluster departs from Git, in five classes, and its renderings. Pure: the
//! observations come from [`crate::ops::drift`].
//!
//! 1. **modified**: the server-side dry-run of the Git object differs from the live object; each
//!    drifted field names the field manager that last changed it ([`crate::diff::attribute`]).
//! 2. **missing**: in Git, not in the cluster.
//! 3. **orphaned**: in the inventory (labelled part-of the set), no longer in Git.
//! 4. **unmanaged**: in a namespace rekube manages, neither in Git nor owned by another object, and not
//!    one of the objects Kubernetes, its controllers or Helm create by themselves ([`generated::RULES`]).
//! 5. **unverifiable**: the dry-run failed, so nothing can be said: never counted as in sync.
//!
//! Exit codes follow `kubectl diff`: 0 in sync, 1 drift, 2 when a failing object could not be
//! verified. `--fail-on` chooses the classes that fail; the others are reported only.
//!
//! [`across`] compares clusters of one role with each other (active/active), from their reports.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::diff::{Attribution, FieldPath};
use crate::object::ObjectId;

pub mod across;
pub mod classify;
pub mod generated;
mod junit;
mod text;

pub use classify::managed_namespaces;
pub use generated::is_generated_kind;
pub use junit::render_junit;
pub use text::render_text;

/// A class of drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Modified,
    Missing,
    Orphaned,
    Unmanaged,
    Unverifiable,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Class::Modified,
        Class::Missing,
        Class::Orphaned,
        Class::Unmanaged,
        Class::Unverifiable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Modified => "modified",
            Class::Missing => "missing",
            Class::Orphaned => "orphaned",
            Class::Unmanaged => "unmanaged",
            Class::Unverifiable => "unverifiable",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A drifted field of a modified object, and who changed it last.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftedField {
    pub path: FieldPath,
    /// The manager owning the live value; `None` when the live object lacks the field (removed).
    pub changed_by: Option<Attribution>,
}

/// One drifted object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub class: Class,
    pub id: ObjectId,
    /// Where it is declared in Git (`path:line`); for an orphan, where it was (`layer/path#document`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Modified: the fields that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<DriftedField>,
    /// Modified: unified diff live → Git, Secret values masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Unmanaged: who created it (the oldest managedFields entry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Attribution>,
    /// One line of explanation: the dry-run error, what prune would do with an orphan…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Finding {
    pub fn new(class: Class, id: ObjectId) -> Finding {
        Finding {
            class,
            id,
            source: None,
            fields: Vec::new(),
            diff: None,
            created_by: None,
            message: None,
        }
    }
}

/// An object of Git found in sync.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InSync {
    pub id: ObjectId,
    pub source: String,
}

/// The drift of one cluster against one revision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    /// The repository (folder or URL).
    pub origin: String,
    /// The commit compared, when the repository is a Git repository.
    pub revision: Option<String>,
    /// A work tree with uncommitted changes was read.
    pub dirty: bool,
    pub server: String,
    pub inventory: String,
    /// Objects of Git checked.
    pub checked: usize,
    pub in_sync: Vec<InSync>,
    /// Sorted by class, then id.
    pub findings: Vec<Finding>,
    /// Classes that fail the check.
    pub fail_on: BTreeSet<Class>,
    /// What could not be looked at (a kind that cannot be listed…): the report may be incomplete.
    pub warnings: Vec<String>,
    pub seconds: f64,
}

impl DriftReport {
    /// Findings of a failing class.
    pub fn failing(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| self.fail_on.contains(&f.class))
    }

    pub fn counts(&self) -> BTreeMap<Class, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.class).or_insert(0) += 1;
        }
        m
    }

    /// 0 in sync (or only non-failing classes), 1 drift, 2 a failing object could not be verified.
    pub fn exit_code(&self) -> i32 {
        if self.failing().any(|f| f.class == Class::Unverifiable) {
            2
        } else if self.failing().next().is_some() {
            1
        } else {
            0
        }
    }

    /// `2 modified, 1 orphaned`, or `none`.
    pub fn summary(&self) -> String {
        let counts = self.counts();
        if counts.is_empty() {
            return "none".into();
        }
        counts
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests;
