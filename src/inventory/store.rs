//! The inventory's I/O: read and write the parent Secret, list the members of the set.

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ListParams;
use serde_json::json;

use super::{ApplySet, Contents, GroupKind, INVENTORY_NAMESPACE, InventoryError, Member, Recorded};
use crate::cluster::{Cluster, ClusterError, Resolved};
use crate::object::{Object, ObjectId, SourceLoc};

/// An inventory as found in the cluster: the set, and what its parent records (`None`: no parent yet).
#[derive(Debug, Clone)]
pub struct Inventory {
    pub set: ApplySet,
    pub recorded: Option<Recorded>,
}

/// One listed object: its identity and metadata (never its body).
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: ObjectId,
    pub api_version: String,
    pub meta: ObjectMeta,
}

impl Inventory {
    /// Reads the parent of `set`, if there is one.
    ///
    /// # Errors
    /// The parent belongs to another tool or set, or the cluster cannot be read.
    pub async fn load(cluster: &Cluster, set: ApplySet) -> Result<Inventory, InventoryError> {
        let live = cluster.get(&set.parent(), "v1").await?;
        let recorded = live.map(|v| set.read_parent(&v)).transpose()?;
        Ok(Inventory { set, recorded })
    }

    /// What the parent records (empty when there is no parent).
    pub fn contents(&self) -> Contents {
        self.recorded
            .as_ref()
            .map(|r| r.contents.clone())
            .unwrap_or_default()
    }

    /// The revision last recorded.
    pub fn revision(&self) -> Option<&str> {
        self.recorded.as_ref().and_then(|r| r.revision.as_deref())
    }

    /// Writes the parent (server-side apply), creating `rekube-system` if needed. `revision: None`
    /// keeps the revision already recorded, `releases: None` the release digests.
    ///
    /// # Errors
    /// The cluster refuses the write.
    pub async fn record(
        &mut self,
        cluster: &Cluster,
        contents: Contents,
        revision: Option<&str>,
        releases: Option<&BTreeMap<String, String>>,
    ) -> Result<(), InventoryError> {
        let revision = revision
            .map(str::to_string)
            .or_else(|| self.revision().map(str::to_string));
        let releases = releases.cloned().unwrap_or_else(|| self.releases().clone());
        let wanted = Recorded {
            contents,
            revision,
            releases,
        };
        // A no-op apply must make no write: the parent already says exactly this.
        if self.recorded.as_ref() == Some(&wanted) {
            return Ok(());
        }
        ensure_namespace(cluster).await?;
        let body = self.set.parent_body(
            &wanted.contents,
            wanted.revision.as_deref(),
            &wanted.releases,
        );
        cluster
            .apply(&synthetic(self.set.parent(), &body), &body, false)
            .await?;
        self.recorded = Some(wanted);
        Ok(())
    }

    /// The digests of the Helm releases last applied completely (empty when none is recorded).
    pub fn releases(&self) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        self.recorded.as_ref().map_or(&NONE, |r| &r.releases)
    }

    /// The members of the set: every object labelled part-of this set, among the group-kinds the
    /// parent records and those of `also` (what Git holds now). Kinds the cluster no longer serves have
    /// no members left. Sorted by id.
    ///
    /// # Errors
    /// A list request fails.
    pub async fn members(
        &self,
        cluster: &Cluster,
        also: &Contents,
    ) -> Result<Vec<Member>, InventoryError> {
        let kinds = self.contents().union(also).group_kinds;
        let served = served_kinds(cluster).await;
        let selector = self.set.selector();
        let mut members = Vec::new();
        for gk in &kinds {
            let Some(resolved) = served.get(gk) else {
                tracing::debug!("{gk} is not served: no member of that kind can exist");
                continue;
            };
            for listed in list_meta(cluster, resolved, None, Some(&selector)).await? {
                members.push(Member {
                    uid: listed.meta.uid.clone(),
                    annotations: listed.meta.annotations.clone().unwrap_or_default(),
                    id: listed.id,
                    api_version: listed.api_version,
                });
            }
        }
        members.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(members)
    }
}

/// Every listable kind the cluster serves, by group-kind (discovery's preferred version).
pub async fn served_kinds(cluster: &Cluster) -> HashMap<GroupKind, Resolved> {
    let mut out = HashMap::new();
    for r in cluster.resources().listable().await {
        let gk = GroupKind {
            group: r.resource.group.clone(),
            kind: r.resource.kind.clone(),
        };
        out.entry(gk).or_insert(r);
    }
    out
}

/// Lists the metadata of one kind (in `namespace`, or everywhere), optionally by label selector.
///
/// # Errors
/// The request fails after retries; the error names `Kind/namespace/*`.
pub async fn list_meta(
    cluster: &Cluster,
    resolved: &Resolved,
    namespace: Option<&str>,
    selector: Option<&str>,
) -> Result<Vec<Listed>, ClusterError> {
    let r = &resolved.resource;
    let what = ObjectId::new(&r.group, &r.kind, namespace, "*");
    let api = match namespace {
        Some(ns) if resolved.namespaced => cluster.api(resolved, Some(ns)),
        _ => cluster.api(resolved, None),
    };
    let mut params = ListParams::default();
    if let Some(s) = selector {
        params = params.labels(s);
    }
    let list = cluster
        .request(&what, "list", || api.list_metadata(&params))
        .await?;
    Ok(list
        .items
        .into_iter()
        .map(|item| Listed {
            id: ObjectId::new(
                &r.group,
                &r.kind,
                item.metadata
                    .namespace
                    .as_deref()
                    .filter(|_| resolved.namespaced),
                item.metadata.name.as_deref().unwrap_or_default(),
            ),
            api_version: r.api_version.clone(),
            meta: item.metadata,
        })
        .collect())
}

/// Lists several (kind, namespace) pairs concurrently, `concurrency` at a time; results in input order.
pub async fn list_many(
    cluster: &Cluster,
    targets: Vec<(Resolved, Option<String>)>,
    concurrency: usize,
) -> Vec<Result<Vec<Listed>, ClusterError>> {
    futures::stream::iter(targets)
        .map(|(r, ns)| async move { list_meta(cluster, &r, ns.as_deref(), None).await })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// `rekube-system` exists before the parent is written into it.
async fn ensure_namespace(cluster: &Cluster) -> Result<(), ClusterError> {
    let id = ObjectId::new("", "Namespace", None, INVENTORY_NAMESPACE);
    if cluster.get(&id, "v1").await?.is_some() {
        return Ok(());
    }
    let body =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": INVENTORY_NAMESPACE}});
    cluster.apply(&synthetic(id, &body), &body, false).await?;
    Ok(())
}

/// An object that is not from the repository (the parent, its Namespace), for the cluster verbs.
fn synthetic(id: ObjectId, body: &serde_json::Value) -> Object {
    Object {
        id,
        api_version: "v1".into(),
        body: body.clone(),
        source: SourceLoc {
            layer: "inventory".into(),
            path: "(inventory)".into(),
            line: 0,
            document: 0,
        },
    }
}
