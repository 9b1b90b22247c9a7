//! The ApplySet itself (KEP-3659), pure: its id, the labels of its members, the contents recorded on
//! its parent (group-kinds and namespaces) and the parent Secret's body.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    ANNOTATION_GROUP_KINDS, ANNOTATION_LOCK_HOLDER, ANNOTATION_LOCK_RENEWED, ANNOTATION_NAMESPACES,
    ANNOTATION_REPOSITORY, ANNOTATION_TOOLING, INVENTORY_NAMESPACE, InventoryError, LABEL_ID,
    LABEL_PART_OF, TOOLING,
};
use crate::keys::{ANNOTATION_RELEASES, ANNOTATION_REVISION};
use crate::object::{Object, ObjectId};

/// The ApplySet id of a parent object, as kubectl computes it (`applyset.go`, `ApplySet.ID`):
/// `applyset-` + base64url-no-padding(sha256(`<name>.<namespace>.<Kind>.<group>`)) + `-v1`.
pub fn applyset_id(name: &str, namespace: &str, kind: &str, group: &str) -> String {
    let hashed = Sha256::digest(format!("{name}.{namespace}.{kind}.{group}").as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hashed)
    )
}

/// One inventory: a named ApplySet whose parent is the Secret `rekube-<name>` in `rekube-system`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplySet {
    name: String,
}

impl ApplySet {
    /// The inventory called `name` (`--inventory`, `default` unless told).
    ///
    /// # Errors
    /// [`InventoryError::InvalidName`] when `rekube-<name>` is not a valid Secret name.
    pub fn new(name: &str) -> Result<ApplySet, InventoryError> {
        let invalid = |reason: &str| InventoryError::InvalidName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > 200 {
            return Err(invalid("it is longer than 200 characters"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        {
            return Err(invalid("use lowercase letters, digits, '-' and '.'"));
        }
        if !name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(invalid("it must end with a letter or a digit"));
        }
        Ok(ApplySet {
            name: name.to_string(),
        })
    }

    /// The inventory name, as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parent Secret's name: `rekube-<name>`.
    pub fn parent_name(&self) -> String {
        format!("rekube-{}", self.name)
    }

    /// The parent's identity, `Secret/rekube-system/rekube-<name>`: the prefix of its messages.
    pub fn parent(&self) -> ObjectId {
        ObjectId::new("", "Secret", Some(INVENTORY_NAMESPACE), &self.parent_name())
    }

    /// The value of the parent's `applyset.kubernetes.io/id` label and of every member's part-of label.
    pub fn id(&self) -> String {
        applyset_id(&self.parent_name(), INVENTORY_NAMESPACE, "Secret", "")
    }

    /// Labels every member carries (given to the apply engine and to the diff).
    pub fn member_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(LABEL_PART_OF.to_string(), self.id())])
    }

    /// The label selector of the members: `applyset.kubernetes.io/part-of=<id>`.
    pub fn selector(&self) -> String {
        format!("{LABEL_PART_OF}={}", self.id())
    }

    /// The parent Secret as rekube applies it: id label, tooling, contents, the applied revision, the
    /// Helm releases' digests, the owning repository and the lock (both lock annotations are always
    /// written, empty when free, so that an apply without them frees the lock).
    pub fn parent_body(&self, recorded: &Recorded) -> Value {
        let mut annotations = serde_json::Map::new();
        annotations.insert(ANNOTATION_TOOLING.into(), TOOLING.into());
        annotations.insert(
            ANNOTATION_GROUP_KINDS.into(),
            recorded.contents.group_kinds_annotation().into(),
        );
        annotations.insert(
            ANNOTATION_NAMESPACES.into(),
            recorded.contents.namespaces_annotation().into(),
        );
        if let Some(rev) = &recorded.revision {
            annotations.insert(ANNOTATION_REVISION.into(), rev.as_str().into());
        }
        if !recorded.releases.is_empty() {
            annotations.insert(
                ANNOTATION_RELEASES.into(),
                json!(recorded.releases).to_string().into(),
            );
        }
        if let Some(owner) = &recorded.owner {
            annotations.insert(ANNOTATION_REPOSITORY.into(), owner.as_str().into());
        }
        let (holder, renewed) = recorded
            .lock
            .as_ref()
            .map_or(("", ""), |l| (l.holder.as_str(), l.renewed.as_str()));
        annotations.insert(ANNOTATION_LOCK_HOLDER.into(), holder.into());
        annotations.insert(ANNOTATION_LOCK_RENEWED.into(), renewed.into());
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": self.parent_name(),
                "namespace": INVENTORY_NAMESPACE,
                "labels": {LABEL_ID: self.id()},
                "annotations": annotations,
            },
        })
    }

    /// Reads a live parent: it must be rekube's and carry this set's id.
    ///
    /// # Errors
    /// [`InventoryError::ForeignParent`] when another tool manages it, [`InventoryError::WrongId`] when
    /// its id label is not this set's.
    pub fn read_parent(&self, live: &Value) -> Result<Recorded, InventoryError> {
        let text = |section: &str, key: &str| {
            live.pointer(&format!("/metadata/{section}"))
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let tooling = text("annotations", ANNOTATION_TOOLING).unwrap_or_default();
        if tooling
            .rsplit_once('/')
            .map_or(tooling.as_str(), |(tool, _)| tool)
            != "rekube"
        {
            return Err(InventoryError::ForeignParent {
                parent: self.parent().to_string(),
                tooling: if tooling.is_empty() {
                    "no tooling annotation".into()
                } else {
                    tooling
                },
            });
        }
        let id = text("labels", LABEL_ID).unwrap_or_default();
        if id != self.id() {
            return Err(InventoryError::WrongId {
                parent: self.parent().to_string(),
                found: id,
                want: self.id(),
            });
        }
        Ok(Recorded {
            contents: Contents::parse(
                text("annotations", ANNOTATION_GROUP_KINDS)
                    .as_deref()
                    .unwrap_or_default(),
                text("annotations", ANNOTATION_NAMESPACES)
                    .as_deref()
                    .unwrap_or_default(),
            ),
            revision: text("annotations", ANNOTATION_REVISION),
            // Unreadable means unknown: the next apply runs upgrade hooks, the safe side.
            releases: text("annotations", ANNOTATION_RELEASES)
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
            owner: text("annotations", ANNOTATION_REPOSITORY).filter(|o| !o.is_empty()),
            lock: text("annotations", ANNOTATION_LOCK_HOLDER)
                .filter(|h| !h.is_empty())
                .map(|holder| Lock {
                    holder,
                    renewed: text("annotations", ANNOTATION_LOCK_RENEWED).unwrap_or_default(),
                }),
        })
    }
}

/// What a live parent records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub contents: Contents,
    /// The last revision applied with this inventory.
    pub revision: Option<String>,
    /// Helm releases (`namespace/name`) and the digest of the rendering last applied completely.
    pub releases: BTreeMap<String, String>,
    /// The repository that owns the set (its identity: normalised remote URL and folder, or path).
    pub owner: Option<String>,
    /// The applier working on the set now, if any.
    pub lock: Option<Lock>,
}

/// Who holds an inventory's lock, and when it last renewed it (its own clock: for messages only;
/// others judge staleness by how long the parent has not changed, on their own clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lock {
    /// `<host>-<pid>-<nonce>`, with what it applies.
    pub holder: String,
    /// RFC 3339.
    pub renewed: String,
}

/// A kind and its API group, without version: what `contains-group-kinds` lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl GroupKind {
    pub fn of(id: &ObjectId) -> GroupKind {
        GroupKind {
            group: id.group.clone(),
            kind: id.kind.clone(),
        }
    }

    /// Parses `Kind.group` (kinds have no dots, groups do), or `Kind` for the core group.
    pub fn parse(s: &str) -> GroupKind {
        let (kind, group) = s.split_once('.').unwrap_or((s, ""));
        GroupKind {
            group: group.to_string(),
            kind: kind.to_string(),
        }
    }
}

/// `Kind.group`, or `Kind` for the core group (kubectl's `GroupKind.String`).
impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// Where the members of a set can be: their group-kinds, and their namespaces other than the parent's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Contents {
    pub group_kinds: BTreeSet<GroupKind>,
    pub namespaces: BTreeSet<String>,
}

impl Contents {
    /// What a list of objects needs recorded.
    pub fn of<'a>(ids: impl IntoIterator<Item = &'a ObjectId>) -> Contents {
        let mut c = Contents::default();
        for id in ids {
            c.group_kinds.insert(GroupKind::of(id));
            if let Some(ns) = id
                .namespace
                .as_deref()
                .filter(|ns| *ns != INVENTORY_NAMESPACE)
            {
                c.namespaces.insert(ns.to_string());
            }
        }
        c
    }

    /// What a manifest needs recorded.
    pub fn of_objects(objects: &[Object]) -> Contents {
        Contents::of(objects.iter().map(|o| &o.id))
    }

    /// Both sets together: what the parent records before an apply, so that an interrupted run never
    /// loses track of a member (kubectl's "superset" update).
    pub fn union(&self, other: &Contents) -> Contents {
        Contents {
            group_kinds: self
                .group_kinds
                .union(&other.group_kinds)
                .cloned()
                .collect(),
            namespaces: self.namespaces.union(&other.namespaces).cloned().collect(),
        }
    }

    /// From the two annotations' values (comma-separated, empty for none).
    pub fn parse(group_kinds: &str, namespaces: &str) -> Contents {
        let items = |s: &str| {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        Contents {
            group_kinds: items(group_kinds)
                .iter()
                .map(|s| GroupKind::parse(s))
                .collect(),
            namespaces: items(namespaces).into_iter().collect(),
        }
    }

    /// `contains-group-kinds`: sorted as text, as kubectl writes it.
    pub fn group_kinds_annotation(&self) -> String {
        let mut v: Vec<String> = self.group_kinds.iter().map(ToString::to_string).collect();
        v.sort();
        v.join(",")
    }

    /// `additional-namespaces`: sorted.
    pub fn namespaces_annotation(&self) -> String {
        self.namespaces
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
#[path = "applyset_tests.rs"]
mod tests;
