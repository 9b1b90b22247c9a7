//! The inventory's I/O: read and write the parent Secret, list the members of the set.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::{
    ANNOTATION_REPOSITORY, ApplySet, Contents, GroupKind, INVENTORY_NAMESPACE, InventoryError,
    LABEL_ID, LABEL_PART_OF, Member, Recorded,
};
use crate::cluster::{Cluster, ClusterError, FIELD_MANAGER, Resolved, RetryPolicy};
use crate::object::{Object, ObjectId, SourceLoc};

/// An inventory as found in the cluster: the set, and what its parent records (`None`: no parent yet).
#[derive(Debug, Clone)]
pub struct Inventory {
    pub set: ApplySet,
    pub recorded: Option<Recorded>,
    /// The parent's resourceVersion as last read or written: every write is conditioned on it, so that
    /// two appliers never overwrite each other's record.
    pub(super) resource_version: Option<String>,
    /// The lock holder, while this inventory holds its lock ([`Inventory::lock`]).
    pub(super) held: Option<String>,
    /// Who took the lock over from this inventory, once it was lost.
    pub(super) lost_to: Option<String>,
    /// The owner the next [`Inventory::record`] writes (the repository applying).
    pub(super) owner_wanted: Option<String>,
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
        let recorded = live.as_ref().map(|v| set.read_parent(v)).transpose()?;
        let resource_version = live.as_ref().and_then(resource_version);
        Ok(Inventory {
            set,
            recorded,
            resource_version,
            held: None,
            lost_to: None,
            owner_wanted: None,
        })
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

    /// The repository that owns the set, when recorded.
    pub fn owner(&self) -> Option<&str> {
        self.recorded.as_ref().and_then(|r| r.owner.as_deref())
    }

    /// Writes the contents (and, when given, the revision and the release digests) on the parent, with
    /// the owner of the repository applying (once locked), keeping the lock. `revision: None` keeps the
    /// revision already recorded, `releases: None` the release digests.
    ///
    /// # Errors
    /// The parent changed since it was read ([`InventoryError::Conflict`]), the lock was taken over
    /// ([`InventoryError::LockLost`]), or the cluster refuses.
    pub async fn record(
        &mut self,
        cluster: &Cluster,
        contents: Contents,
        revision: Option<&str>,
        releases: Option<&BTreeMap<String, String>>,
    ) -> Result<(), InventoryError> {
        let owner = self.owner_wanted.clone();
        let change = |r: Recorded| Recorded {
            contents: contents.clone(),
            revision: revision.map(str::to_string).or(r.revision.clone()),
            releases: releases.cloned().unwrap_or_else(|| r.releases.clone()),
            owner: owner.clone().or(r.owner.clone()),
            ..r
        };
        if self.held.is_some() {
            return self.write_held(cluster, change).await;
        }
        let wanted = change(self.recorded.clone().unwrap_or_default());
        self.write(cluster, wanted).await
    }

    /// Writes `wanted` on the parent, conditioned on the resourceVersion last seen (a parent that does
    /// not exist yet is created, which fails if another applier created it first). Creates
    /// `rekube-system` if needed. Writes nothing when the parent already records exactly this.
    ///
    /// # Errors
    /// [`InventoryError::Conflict`] when the parent changed (or appeared) meanwhile; the cluster refuses.
    pub(super) async fn write(
        &mut self,
        cluster: &Cluster,
        wanted: Recorded,
    ) -> Result<(), InventoryError> {
        // A no-op must make no write: the parent already says exactly this.
        if self.recorded.as_ref() == Some(&wanted) {
            return Ok(());
        }
        let mut body = self.set.parent_body(&wanted);
        let parent = self.set.parent();
        let resolved = cluster.resolve(&parent, "v1").await?;
        let api = cluster.api(&resolved, Some(INVENTORY_NAMESPACE));
        let written = match &self.resource_version {
            Some(rv) => {
                body["metadata"]["resourceVersion"] = json!(rv);
                let params = PatchParams::apply(FIELD_MANAGER).force();
                let patch = Patch::Apply(&body);
                conditional(&parent, "apply", || {
                    api.patch(&parent.name, &params, &patch)
                })
                .await?
            }
            None => {
                ensure_namespace(cluster).await?;
                let object: DynamicObject = serde_json::from_value(body.clone())
                    .map_err(|e| request_error(&parent, "encode", kube::Error::SerdeError(e)))?;
                let params = PostParams {
                    field_manager: Some(FIELD_MANAGER.to_string()),
                    ..PostParams::default()
                };
                conditional(&parent, "create", || api.create(&params, &object)).await?
            }
        };
        self.resource_version = written.metadata.resource_version.clone();
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
        let resolved = kinds.iter().filter_map(|gk| {
            let found = served.get(gk);
            if found.is_none() {
                tracing::debug!("{gk} is not served: no member of that kind can exist");
            }
            found
        });
        // One list per kind, several in flight: a round trip each would add up on a remote cluster.
        let lists: Vec<_> = futures::stream::iter(resolved)
            .map(|r| list_meta(cluster, r, None, Some(&selector)))
            .buffered(8)
            .collect()
            .await;
        let mut members = Vec::new();
        for listed in lists {
            for listed in listed? {
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

impl Inventory {
    /// The objects of `wanted` that another ApplySet holds (labelled part-of another id), each with that
    /// set's parent (`Secret/rekube-system/rekube-<name>`, with its owner when recorded), or its id when
    /// no parent of rekube's carries it. Sorted by id.
    ///
    /// # Errors
    /// A list request fails.
    pub async fn held_elsewhere(
        &self,
        cluster: &Cluster,
        wanted: &[ObjectId],
    ) -> Result<Vec<(ObjectId, String)>, InventoryError> {
        let kinds: BTreeSet<GroupKind> = wanted.iter().map(GroupKind::of).collect();
        let wanted: BTreeSet<&ObjectId> = wanted.iter().collect();
        let served = served_kinds(cluster).await;
        let selector = format!("{LABEL_PART_OF},{LABEL_PART_OF}!={}", self.set.id());
        let lists: Vec<_> = futures::stream::iter(kinds.iter().filter_map(|gk| served.get(gk)))
            .map(|r| list_meta(cluster, r, None, Some(&selector)))
            .buffered(8)
            .collect()
            .await;
        let mut held = Vec::new();
        for listed in lists {
            for l in listed? {
                let other = l.meta.labels.as_ref().and_then(|m| m.get(LABEL_PART_OF));
                if let (true, Some(other)) = (wanted.contains(&l.id), other) {
                    held.push((l.id, other.clone()));
                }
            }
        }
        if held.is_empty() {
            return Ok(held);
        }
        let parents = self.parents_by_id(cluster, &served).await?;
        held.sort();
        Ok(held
            .into_iter()
            .map(|(id, set)| {
                let named = parents.get(&set).cloned().unwrap_or(set);
                (id, named)
            })
            .collect())
    }

    /// rekube's inventory parents by ApplySet id: `Secret/rekube-system/<name>` and its owner.
    async fn parents_by_id(
        &self,
        cluster: &Cluster,
        served: &HashMap<GroupKind, Resolved>,
    ) -> Result<HashMap<String, String>, InventoryError> {
        let secret = GroupKind {
            group: String::new(),
            kind: "Secret".into(),
        };
        let Some(resolved) = served.get(&secret) else {
            return Ok(HashMap::new());
        };
        let listed =
            list_meta(cluster, resolved, Some(INVENTORY_NAMESPACE), Some(LABEL_ID)).await?;
        Ok(listed
            .into_iter()
            .filter_map(|l| {
                let id = l.meta.labels.as_ref()?.get(LABEL_ID)?.clone();
                let owner = l
                    .meta
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(ANNOTATION_REPOSITORY))
                    .map(|o| format!(" of repository {o}"))
                    .unwrap_or_default();
                Some((id, format!("{}{owner}", l.id)))
            })
            .collect())
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

/// One write of the parent, retried on transient failures; a 409 is the precondition failing (or the
/// parent existing already), never retried: [`InventoryError::Conflict`].
async fn conditional<T, F, Fut>(
    parent: &ObjectId,
    verb: &'static str,
    mut call: F,
) -> Result<T, InventoryError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let retry = RetryPolicy::default();
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                return Err(InventoryError::Conflict {
                    parent: parent.to_string(),
                });
            }
            // Every failure counts as an attempt here, 429s included: the parent's few writes stay
            // bounded by the tries alone.
            Err(e) => match retry.next_delay(attempt, std::time::Duration::ZERO, &e) {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return Err(request_error(parent, verb, e).into()),
            },
        }
    }
}

fn request_error(parent: &ObjectId, verb: &'static str, source: kube::Error) -> ClusterError {
    ClusterError::Request {
        object: parent.to_string(),
        verb,
        source,
    }
}

fn resource_version(live: &serde_json::Value) -> Option<String> {
    live.pointer("/metadata/resourceVersion")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
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
