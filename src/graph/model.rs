//! The graph's vocabulary: nodes (objects and virtual barriers), edges with their rule, external references.

use std::fmt;

use serde::Serialize;

use crate::helm::HookStage;
use crate::object::{ObjectId, SourceLoc};

/// Index of a node in a [`Graph`](super::Graph). Objects come first (layer order, then [`ObjectId`]),
/// barriers after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct NodeId(pub usize);

impl NodeId {
    pub fn index(self) -> usize {
        self.0
    }
}

/// Why an edge exists: one variant per rule, each implemented by one `add_*_edges` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Rule {
    /// A namespaced object waits for its Namespace.
    Namespace,
    /// A custom resource waits for the CustomResourceDefinition serving its group and kind.
    CustomResourceDefinition,
    /// A RoleBinding or ClusterRoleBinding waits for the Role or ClusterRole it grants.
    RoleRef,
    /// A binding waits for its ServiceAccount subjects.
    Subject,
    /// A pod template (or a service-account token Secret) waits for its ServiceAccount.
    ServiceAccount,
    ConfigMap,
    Secret,
    PersistentVolumeClaim,
    PriorityClass,
    RuntimeClass,
    StorageClass,
    VolumeSnapshot,
    VolumeSnapshotClass,
    /// A StatefulSet waits for the Service named by `spec.serviceName`.
    GoverningService,
    IngressClass,
    IngressBackend,
    IngressTls,
    /// A webhook configuration or APIService waits for every other object of its layer and wave.
    WebhookLast,
    /// A webhook configuration or APIService waits for the Service that serves it.
    WebhookService,
    /// The `config.kubernetes.io/depends-on` annotation.
    DependsOn,
    /// The `argocd.argoproj.io/sync-wave` annotation: a wave waits for every lower wave of its layer.
    SyncWave,
    /// Layer `dependsOn`: every object of a layer waits for every object of the layers it depends on.
    Layer,
    /// Helm hooks: a chart's objects wait for its pre hooks; its post hooks wait for them to be ready.
    Hook,
    /// `helm.sh/hook-weight`: a hook waits for the hooks of lower weight of its chart and stage.
    HookWeight,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Namespace => "Namespace",
            Rule::CustomResourceDefinition => "CustomResourceDefinition",
            Rule::RoleRef => "RoleRef",
            Rule::Subject => "Subject",
            Rule::ServiceAccount => "ServiceAccount",
            Rule::ConfigMap => "ConfigMap",
            Rule::Secret => "Secret",
            Rule::PersistentVolumeClaim => "PersistentVolumeClaim",
            Rule::PriorityClass => "PriorityClass",
            Rule::RuntimeClass => "RuntimeClass",
            Rule::StorageClass => "StorageClass",
            Rule::VolumeSnapshot => "VolumeSnapshot",
            Rule::VolumeSnapshotClass => "VolumeSnapshotClass",
            Rule::GoverningService => "GoverningService",
            Rule::IngressClass => "IngressClass",
            Rule::IngressBackend => "IngressBackend",
            Rule::IngressTls => "IngressTls",
            Rule::WebhookLast => "WebhookLast",
            Rule::WebhookService => "WebhookService",
            Rule::DependsOn => "DependsOn",
            Rule::SyncWave => "SyncWave",
            Rule::Layer => "Layer",
            Rule::Hook => "Hook",
            Rule::HookWeight => "HookWeight",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `from` (the dependent) waits for `to` (the dependency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    pub rule: Rule,
    /// Where the reference is made, e.g. `volume config` or `env api.DB_PASSWORD`.
    pub detail: String,
}

/// A reference to an object that is not in the repository: not an edge, reported by `plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct External {
    pub from: NodeId,
    /// The missing object. For a custom resource without its CRD, the name is the group kind served.
    pub target: ObjectId,
    pub rule: Rule,
    pub detail: String,
}

/// An object of the repository, placed in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectNode {
    pub id: ObjectId,
    /// Index into [`Graph::layers`](super::Graph::layers).
    pub layer: usize,
    pub source: SourceLoc,
    /// Position of the object in the slice given to [`build`](super::build), to reach its body.
    pub input: usize,
    /// Its `argocd.argoproj.io/sync-wave` (0 when absent).
    pub wave: i64,
    /// `sha256:` of the object's canonical JSON (sorted keys).
    pub digest: String,
    /// SOPS-encrypted in the repository (`rekube.dev/sops`): `plan` shows it sealed.
    pub sops: bool,
    /// Set when the node is a Helm hook run (then `input` is its position in its release's hooks).
    pub hook: Option<HookNode>,
}

/// A Helm hook in the graph: one node per stage the hook runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct HookNode {
    /// Index into the releases given to [`build_with_releases`](super::build_with_releases).
    pub release: usize,
    /// Index into the release's hooks.
    pub hook: usize,
    pub stage: HookStage,
    pub weight: i64,
}

/// What a virtual node stands for. Barriers keep layer and wave ordering linear in the number of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum BarrierKind {
    /// Every object of the layer (and, through their own barriers, of the layers it depends on).
    Layer,
    /// Every object of the layer whose sync wave is at most `wave`.
    Wave,
    /// Every object of the layer's wave `wave` except the webhook configurations and APIServices.
    BeforeWebhooks,
    /// A chart's pre hooks (of weight at most `wave`, for the weight barriers).
    PreHooks,
    /// A chart's objects (other than hooks), ready: what its post hooks wait for.
    Release,
    /// A chart's post hooks of weight at most `wave`.
    PostHooks,
}

/// A virtual node: done when everything it waits for is done. Never applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barrier {
    pub kind: BarrierKind,
    pub layer: usize,
    pub wave: i64,
    /// Human label, also the barrier's identity in the plan digest: `layer tools`, `layer tools wave <= 1`.
    pub label: String,
    /// Set on the barrier closing every hook of a release's stage: `(release, stage)`. When it is
    /// reached, the stage's hooks that asked for it are deleted (`hook-succeeded`).
    pub closes: Option<(usize, HookStage)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Object(ObjectNode),
    Barrier(Barrier),
}

impl Node {
    pub fn as_object(&self) -> Option<&ObjectNode> {
        match self {
            Node::Object(o) => Some(o),
            Node::Barrier(_) => None,
        }
    }

    pub fn layer(&self) -> usize {
        match self {
            Node::Object(o) => o.layer,
            Node::Barrier(b) => b.layer,
        }
    }

    /// The object id (`Kind/namespace/name`) or the barrier label.
    pub fn label(&self) -> String {
        match self {
            Node::Object(o) => o.id.to_string(),
            Node::Barrier(b) => b.label.clone(),
        }
    }

    /// A name unique in the graph, including the group: identity in the plan digest.
    pub fn key(&self) -> String {
        match self {
            Node::Object(ObjectNode {
                hook: Some(h), id, ..
            }) => format!("hook:{}:{}", h.stage.as_str(), object_key(id)),
            Node::Object(o) => object_key(&o.id),
            Node::Barrier(b) => format!("barrier:{}", b.label),
        }
    }
}

/// `group/kind/namespace/name`, unambiguous across groups (unlike the `Display` of [`ObjectId`]).
pub fn object_key(id: &ObjectId) -> String {
    format!(
        "{}/{}/{}/{}",
        id.group,
        id.kind,
        id.namespace.as_deref().unwrap_or(""),
        id.name
    )
}
