//! Inventory: what rekube manages, recorded as a standard ApplySet (KEP-3659) so that kubectl and other
//! tools can read it, and the prune plan built from it.
//!
//! - The parent is the Secret `rekube-<name>` in `rekube-system`, labelled `applyset.kubernetes.io/id`
//!   ([`applyset_id`], kubectl's algorithm) and annotated with the tooling (`rekube/<version>`), the
//!   group-kinds and the additional namespaces of its members, and the revision last applied.
//! - Every member carries `applyset.kubernetes.io/part-of: <id>` ([`ApplySet::member_labels`], given to
//!   the apply engine).
//! - Before an apply, the parent records the union of what it held and what Git holds (so an
//!   interrupted run never loses track of a member); after a successful prune, exactly what is left.
//! - The parent records the repository that owns the set, and which applier works on it now
//!   ([`Inventory::lock`]): every write of it is conditioned on its resourceVersion.
//! - [`plan`] decides, without I/O, what leaves the set: guards, protected kinds, deletion order and
//!   the `--max-prune` refusal. [`Inventory`] is the I/O half: read and write the parent, list members.
//!
//! `kubectl get secret -n rekube-system -l applyset.kubernetes.io/id` lists rekube's inventories.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::ClusterError;
use crate::object::ObjectId;

mod applyset;
mod lock;
mod promotion;
mod prune;
mod store;

pub use applyset::{ApplySet, Contents, GroupKind, Lock, Recorded, applyset_id};
pub use lock::LockOptions;
pub use promotion::{PROMOTE_MANAGER, clear_promotion, promoted, record_promotion};
pub use prune::{KeepReason, Kept, PruneOptions, PrunePlan, guard, is_protected, plan, rank};
pub use store::{Inventory, Listed, list_many, list_meta, served_kinds};

/// Namespace of every inventory parent.
pub const INVENTORY_NAMESPACE: &str = "rekube-system";
/// Label of the parent: the set's id.
pub const LABEL_ID: &str = "applyset.kubernetes.io/id";
/// Label of every member: the id of the set it belongs to.
pub const LABEL_PART_OF: &str = "applyset.kubernetes.io/part-of";
/// Annotation of the parent: the tool that owns the set, `<tool>/<version>`.
pub const ANNOTATION_TOOLING: &str = "applyset.kubernetes.io/tooling";
/// Annotation of the parent: `Kind.group` of the members, comma-separated and sorted.
pub const ANNOTATION_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
/// Annotation of the parent: namespaces of the members other than the parent's, sorted.
pub const ANNOTATION_NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";
/// Annotation of the parent: the repository that owns the set (rekube's own).
pub const ANNOTATION_REPOSITORY: &str = "rekube.dev/repository";
/// Annotation of the parent: the applier holding the set's lock, empty when free (rekube's own).
pub const ANNOTATION_LOCK_HOLDER: &str = "rekube.dev/lock-holder";
/// Annotation of the parent: when the lock's holder last renewed it (rekube's own).
pub const ANNOTATION_LOCK_RENEWED: &str = "rekube.dev/lock-renewed";
/// The tooling value rekube writes.
pub const TOOLING: &str = concat!("rekube/", env!("CARGO_PKG_VERSION"));

/// An error of the inventory stage.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("inventory name {name:?} is invalid: {reason}")]
    InvalidName { name: String, reason: String },
    #[error(
        "{parent}: this ApplySet parent is managed by {tooling}, not rekube; choose another --inventory name"
    )]
    ForeignParent { parent: String, tooling: String },
    #[error("{parent}: its label applyset.kubernetes.io/id is {found:?}, expected {want:?}")]
    WrongId {
        parent: String,
        found: String,
        want: String,
    },
    #[error(
        "refusing to prune {count} of the {set_size} objects of the inventory ({percent}% > --max-prune {max}%); nothing was applied or deleted. These objects are no longer in Git:{objects}\nIf this is intended, run again with --max-prune {percent}% (or --max-prune 100%), or skip pruning with --no-prune."
    )]
    PruneRefused {
        count: usize,
        set_size: usize,
        percent: usize,
        max: u8,
        /// One `\n  Kind/ns/name` per object.
        objects: String,
    },
    #[error(
        "{parent}: inventory {name} belongs to repository {owner}, not {mine}; nothing was applied. Give this repository its own inventory (`inventory:` in rekube.yaml, or --inventory NAME), or take this one over with --take-over-inventory (then what {owner} applied and this repository does not hold is pruned)"
    )]
    Owned {
        parent: String,
        name: String,
        owner: String,
        mine: String,
    },
    #[error(
        "{parent}: another applier holds the inventory: {holder} (renewed {renewed}); waited {waited}s, nothing was applied. Run again once it is done; a holder that died is taken over once the parent has not changed for 30s"
    )]
    Locked {
        parent: String,
        holder: String,
        renewed: String,
        waited: u64,
    },
    #[error(
        "{parent}: {count} object(s) of this repository belong to another inventory; nothing was applied:{objects}\nAn object belongs to one inventory: declare it in one repository only, or move it into this inventory with --take-over-inventory (the other one then no longer prunes it)"
    )]
    HeldElsewhere {
        parent: String,
        count: usize,
        /// One `\n  Kind/ns/name (in Secret/rekube-system/rekube-other of repository …)` per object.
        objects: String,
    },
    #[error(
        "{parent}: the inventory's lock was taken over by {holder}; nothing more is pruned or recorded"
    )]
    LockLost { parent: String, holder: String },
    #[error(
        "{parent}: no such inventory parent: nothing was applied to this cluster with this inventory"
    )]
    NoParent { parent: String },
    #[error("{parent}: changed by another applier meanwhile")]
    Conflict { parent: String },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// A live member of the set, as listed (metadata only: Secret values are never read).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// Group and kind as the cluster serves them.
    pub id: ObjectId,
    pub api_version: String,
    /// Deletions are conditioned on it: a re-created object of the same name is never deleted.
    pub uid: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

impl Member {
    /// Where it was declared when last applied (`rekube.dev/source`: `layer/path#document`).
    pub fn declared(&self) -> Option<&str> {
        self.annotations
            .get(crate::keys::ANNOTATION_SOURCE)
            .map(String::as_str)
    }

    /// The commit it was last applied from (`rekube.dev/revision`).
    pub fn revision(&self) -> Option<&str> {
        self.annotations
            .get(crate::keys::ANNOTATION_REVISION)
            .map(String::as_str)
    }
}
