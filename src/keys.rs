//! The annotation and label keys rekube writes and reads on objects: one table, so that apply, diff,
//! inventory, prune and drift agree on them.

/// `layer/path#document` where the object is declared.
pub const ANNOTATION_SOURCE: &str = "rekube.dev/source";
/// The Git commit it was applied from.
pub const ANNOTATION_REVISION: &str = "rekube.dev/revision";
/// sha256 of the normalised desired object.
pub const ANNOTATION_DIGEST: &str = "rekube.dev/digest";
/// `allowed`: the object may be deleted and re-created when an immutable field changes.
pub const ANNOTATION_RECREATE: &str = "rekube.dev/recreate";
/// `disabled`: never pruned, even when it leaves Git.
pub const ANNOTATION_PRUNE: &str = "rekube.dev/prune";
/// On the inventory parent: the digest each Helm release was last applied with (a JSON object keyed by
/// `namespace/name`), to tell an upgrade from a no-op.
pub const ANNOTATION_RELEASES: &str = "rekube.dev/releases";
/// Fields of this object that other controllers own: JSON pointers and `manager:NAME` entries,
/// separated by commas or newlines. Left out of diffs and drift, never reset by an apply.
pub const ANNOTATION_IGNORE_FIELDS: &str = "rekube.dev/ignore-fields";
/// `RULE=reason` entries, comma-separated: rules of `rekube audit` this object breaks on purpose.
pub const ANNOTATION_AUDIT_IGNORE: &str = "rekube.dev/audit-ignore";
/// On a Deployment or StatefulSet of a warm standby: the replicas Git declares, held at zero until
/// `rekube promote`.
pub const ANNOTATION_STANDBY_REPLICAS: &str = "rekube.dev/standby-replicas";
/// On the inventory parent of a standby cluster: when `rekube promote` made it serve (RFC 3339). From
/// then on the cluster gets the whole repository, nothing held, as a primary.
pub const ANNOTATION_PROMOTED: &str = "rekube.dev/promoted";

/// The provenance annotations rekube adds to every applied object: not part of what Git declares, so
/// diffs and digests leave them out.
pub const PROVENANCE: [&str; 3] = [ANNOTATION_SOURCE, ANNOTATION_REVISION, ANNOTATION_DIGEST];

/// JSON pointers to the provenance annotations (`/` in a key is `~1`).
pub const POINTER_DIGEST: &str = "/metadata/annotations/rekube.dev~1digest";
pub const POINTER_REVISION: &str = "/metadata/annotations/rekube.dev~1revision";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_name_the_annotations() {
        let v = serde_json::json!({"metadata": {"annotations": {
            ANNOTATION_DIGEST: "d", ANNOTATION_REVISION: "r"
        }}});
        assert_eq!(v.pointer(POINTER_DIGEST), Some(&"d".into()));
        assert_eq!(v.pointer(POINTER_REVISION), Some(&"r".into()));
    }
}
