//! Prune planning, pure: which members of the set are no longer in Git, which of those are kept (and
//! why), in which order the rest is deleted, and whether the share to delete is too large.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::{InventoryError, Member};
use crate::object::ObjectId;

/// Options of [`plan`]; `Default` is what `rekube apply` does without flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneOptions {
    /// Also prune Namespaces, PVCs, PVs and CRDs (`--prune-protected`).
    pub protected: bool,
    /// Refuse to delete more than this share of the set, in percent (`--max-prune`).
    pub max_percent: u8,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            protected: false,
            max_percent: 25,
        }
    }
}

/// Whether an annotation's value keeps the object.
type Keeps = fn(&str) -> bool;

/// Annotations that keep an object out of a prune, each the convention of a tool people migrate from:
/// (key, does this value keep it).
const KEEP_ANNOTATIONS: &[(&str, Keeps)] = &[
    (crate::keys::ANNOTATION_PRUNE, |v| v == "disabled"),
    ("kustomize.toolkit.fluxcd.io/prune", |v| v == "disabled"),
    ("argocd.argoproj.io/sync-options", |v| {
        v.split(',').any(|o| o.trim() == "Prune=false")
    }),
    ("client.lifecycle.config.k8s.io/deletion", |v| v == "detach"),
    ("helm.sh/resource-policy", |v| v == "keep"),
];

/// Kinds whose deletion loses data or takes everything inside along: pruned only with
/// `--prune-protected`.
const PROTECTED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "PersistentVolumeClaim"),
    ("", "PersistentVolume"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
];

/// Why a member that left Git is not deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "lowercase")]
pub enum KeepReason {
    /// The object asks to be kept: it is detached from the set (its part-of label removed), as Flux and
    /// cli-utils do, so it is not reported again.
    Annotation { key: String, value: String },
    /// A protected kind without `--prune-protected`: it stays in the set until pruned or back in Git.
    Protected,
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Annotation { key, value } => {
                write!(f, "annotated {key}: {value} (detached from the inventory)")
            }
            KeepReason::Protected => {
                f.write_str("a protected kind, pruned only with --prune-protected")
            }
        }
    }
}

/// A member that left Git and stays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kept {
    pub member: Member,
    pub reason: KeepReason,
}

/// What a prune will do.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PrunePlan {
    /// Members of the set found in the cluster.
    pub set_size: usize,
    /// To delete, rank by rank: every member of `delete[i]` is gone before `delete[i + 1]` starts.
    pub delete: Vec<Vec<Member>>,
    pub kept: Vec<Kept>,
}

impl PrunePlan {
    /// How many objects would be deleted.
    pub fn deletions(&self) -> usize {
        self.delete.iter().map(Vec::len).sum()
    }

    /// The objects to delete, in order.
    pub fn to_delete(&self) -> impl Iterator<Item = &Member> {
        self.delete.iter().flatten()
    }

    /// Refuses a prune of more than `max_percent` of the set.
    ///
    /// # Errors
    /// [`InventoryError::PruneRefused`], listing what would go.
    pub fn check(&self, max_percent: u8) -> Result<(), InventoryError> {
        let n = self.deletions();
        if n == 0 || n * 100 <= usize::from(max_percent) * self.set_size {
            return Ok(());
        }
        let percent = (n * 100).div_ceil(self.set_size.max(1));
        Err(InventoryError::PruneRefused {
            count: n,
            set_size: self.set_size,
            percent,
            max: max_percent,
            objects: self.to_delete().map(|m| format!("\n  {}", m.id)).collect(),
        })
    }
}

/// Plans the prune of `members` (the set as listed from the cluster) against the objects in Git.
pub fn plan(members: &[Member], desired: &BTreeSet<ObjectId>, opts: &PruneOptions) -> PrunePlan {
    let unique: BTreeMap<&ObjectId, &Member> = members.iter().map(|m| (&m.id, m)).collect();
    let mut ranks: BTreeMap<u8, Vec<Member>> = BTreeMap::new();
    let mut kept = Vec::new();
    for (id, member) in &unique {
        if desired.contains(id) {
            continue;
        }
        let reason = guard(member)
            .or_else(|| (is_protected(id) && !opts.protected).then_some(KeepReason::Protected));
        match reason {
            Some(reason) => kept.push(Kept {
                member: (*member).clone(),
                reason,
            }),
            None => ranks.entry(rank(id)).or_default().push((*member).clone()),
        }
    }
    PrunePlan {
        set_size: unique.len(),
        delete: ranks.into_values().collect(),
        kept,
    }
}

/// The annotation that keeps this member, if any.
pub fn guard(member: &Member) -> Option<KeepReason> {
    KEEP_ANNOTATIONS.iter().find_map(|(key, keeps)| {
        let value = member.annotations.get(*key)?;
        keeps(value).then(|| KeepReason::Annotation {
            key: (*key).to_string(),
            value: value.clone(),
        })
    })
}

pub fn is_protected(id: &ObjectId) -> bool {
    PROTECTED
        .iter()
        .any(|(g, k)| id.group == *g && id.kind == *k)
}

/// Deletion order, the reverse of what creation needs (the objects are no longer in the graph, so the
/// order comes from their kinds). Webhook configurations and APIServices go first: they are created
/// last, and once their backend is deleted a `failurePolicy: Fail` webhook or an unavailable aggregated
/// API blocks every later deletion it covers. Then custom resources (while their controllers still run
/// to finalize them), workloads, Services and configuration, RBAC, CRDs, and Namespaces last.
pub fn rank(id: &ObjectId) -> u8 {
    let kind = id.kind.as_str();
    match id.group.as_str() {
        "admissionregistration.k8s.io" | "apiregistration.k8s.io" => 0,
        "" if kind == "Namespace" => 6,
        "apiextensions.k8s.io" => 5,
        "rbac.authorization.k8s.io" => 4,
        "" if kind == "ServiceAccount" => 4,
        "" if matches!(kind, "Pod" | "ReplicationController") => 2,
        // Services, configuration and storage.
        "" | "storage.k8s.io" | "scheduling.k8s.io" | "node.k8s.io" => 3,
        "networking.k8s.io" if kind == "IngressClass" => 3,
        g if !crate::builtin::is_builtin_group(g) => 1,
        // Workloads and what hangs off them: apps, batch, autoscaling, policy, Ingress, NetworkPolicy.
        _ => 2,
    }
}

#[cfg(test)]
#[path = "prune_tests.rs"]
mod tests;
