//! Cluster-scoped or namespaced: built-in knowledge of Kubernetes 1.34, CustomResourceDefinitions found in
//! the repository, and whatever a later stage learns from discovery ([`Scopes::insert`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::builtin::is_builtin_group;
use crate::object::Object;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// The volume-snapshot group: CRDs, but installed by every CSI setup, so their scopes are well known.
const SNAPSHOT_GROUP: &str = "snapshot.storage.k8s.io";

/// Built-in cluster-scoped kinds (`kubectl api-resources --namespaced=false` on 1.34).
const BUILTIN_CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "ComponentStatus"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "DeviceTaintRule"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("snapshot.storage.k8s.io", "VolumeSnapshotClass"),
    ("snapshot.storage.k8s.io", "VolumeSnapshotContent"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
];

/// Scope of a built-in kind; `None` for kinds of other groups (custom resources).
pub fn builtin_scope(group: &str, kind: &str) -> Option<Scope> {
    if BUILTIN_CLUSTER_SCOPED.contains(&(group, kind)) {
        Some(Scope::Cluster)
    } else if is_builtin_group(group) || group == SNAPSHOT_GROUP {
        Some(Scope::Namespaced)
    } else {
        None
    }
}

/// Scopes known beyond the built-in table: from discovery, or from CustomResourceDefinitions.
/// Entries win over the built-in table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    known: BTreeMap<(String, String), Scope>,
}

impl Scopes {
    /// Records the scope of `group`/`kind` (e.g. from discovery), replacing what was known.
    pub fn insert(&mut self, group: &str, kind: &str, scope: Scope) {
        self.known
            .insert((group.to_string(), kind.to_string()), scope);
    }

    /// The scope of `group`/`kind`: learnt entries, then built-in knowledge; `None` when unknown.
    pub fn scope_of(&self, group: &str, kind: &str) -> Option<Scope> {
        self.known
            .get(&(group.to_string(), kind.to_string()))
            .copied()
            .or_else(|| builtin_scope(group, kind))
    }

    /// Learns the scope of the custom resources that `crd` (a CustomResourceDefinition) defines.
    /// Returns false when the object is not a well-formed CRD.
    pub fn insert_crd(&mut self, crd: &Object) -> bool {
        match crd_scope(crd) {
            Some((group, kind, scope)) => {
                self.insert(&group, &kind, scope);
                true
            }
            None => false,
        }
    }
}

/// `(spec.group, spec.names.kind, spec.scope)` of a CustomResourceDefinition.
pub fn crd_scope(crd: &Object) -> Option<(String, String, Scope)> {
    if crd.id.group != "apiextensions.k8s.io" || crd.id.kind != "CustomResourceDefinition" {
        return None;
    }
    let group = crd.get("/spec/group")?.as_str()?;
    let kind = crd.get("/spec/names/kind")?.as_str()?;
    let scope = match crd.get("/spec/scope")?.as_str()? {
        "Namespaced" => Scope::Namespaced,
        "Cluster" => Scope::Cluster,
        _ => return None,
    };
    Some((group.to_string(), kind.to_string(), scope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{ObjectId, SourceLoc};

    #[test]
    fn builtin_table() {
        let cases = [
            ("", "Namespace", Some(Scope::Cluster)),
            ("", "ConfigMap", Some(Scope::Namespaced)),
            ("apps", "Deployment", Some(Scope::Namespaced)),
            (
                "rbac.authorization.k8s.io",
                "ClusterRoleBinding",
                Some(Scope::Cluster),
            ),
            (
                "snapshot.storage.k8s.io",
                "VolumeSnapshot",
                Some(Scope::Namespaced),
            ),
            ("argoproj.io", "Application", None),
        ];
        for (group, kind, want) in cases {
            assert_eq!(builtin_scope(group, kind), want, "{group}/{kind}");
        }
    }

    #[test]
    fn crds_and_discovery_override() {
        let crd = Object {
            id: ObjectId::new(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                None,
                "widgets.example.com",
            ),
            api_version: "apiextensions.k8s.io/v1".into(),
            body: serde_json::json!({"spec": {"group": "example.com", "names": {"kind": "Widget"}, "scope": "Cluster"}}),
            source: SourceLoc {
                layer: "l".into(),
                path: "p".into(),
                line: 1,
                document: 0,
            },
        };
        let mut scopes = Scopes::default();
        assert_eq!(scopes.scope_of("example.com", "Widget"), None);
        assert!(scopes.insert_crd(&crd));
        assert_eq!(
            scopes.scope_of("example.com", "Widget"),
            Some(Scope::Cluster)
        );
        scopes.insert("", "ConfigMap", Scope::Cluster);
        assert_eq!(scopes.scope_of("", "ConfigMap"), Some(Scope::Cluster));
    }
}
