//! The live state of every kind the plan holds, read with one paginated LIST per kind (per namespace when
//! the plan touches few) instead of one GET per object.

use std::collections::{BTreeSet, HashMap, HashSet};

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::discovery::Resolved;
use super::{Cluster, ClusterError};
use crate::object::{Object, ObjectId};

/// Namespaced kinds spread over more namespaces than this are listed cluster-wide.
const MAX_NAMESPACE_LISTS: usize = 8;
const PAGE: u32 = 500;

/// What the cluster held when the index was read.
#[derive(Debug, Default)]
pub struct LiveIndex {
    listed: HashSet<(String, String)>,
    objects: HashMap<ObjectId, Value>,
}

/// The answer of [`LiveIndex::lookup`].
#[derive(Debug)]
pub enum Live<'a> {
    Present(&'a Value),
    Absent,
    /// The kind was not listed (not served yet, or the list failed): ask the server.
    Unknown,
}

impl LiveIndex {
    pub fn lookup(&self, id: &ObjectId) -> Live<'_> {
        if !self.listed.contains(&(id.group.clone(), id.kind.clone())) {
            return Live::Unknown;
        }
        self.objects.get(id).map_or(Live::Absent, Live::Present)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

impl Cluster {
    /// `obj` as `index` holds it, or read from the server when its kind was not listed; `true` when it
    /// was read just now (it cannot be stale).
    ///
    /// # Errors
    /// The read failed (an unknown kind among them).
    pub async fn live(
        &self,
        index: &LiveIndex,
        obj: &Object,
    ) -> Result<(Option<Value>, bool), ClusterError> {
        match index.lookup(&obj.id) {
            Live::Present(v) => Ok((Some(v.clone()), false)),
            Live::Absent => Ok((None, false)),
            Live::Unknown => Ok((self.get(&obj.id, &obj.api_version).await?, true)),
        }
    }

    /// Lists every kind of `objects` that the cluster serves. Kinds it does not serve yet are left out
    /// ([`Live::Unknown`]); a failed list only loses the fast path for that kind.
    pub async fn list_live(&self, objects: &[Object], concurrency: usize) -> LiveIndex {
        // (apiVersion, kind) → namespaces touched (None: cluster-scoped or too many).
        let mut kinds: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
        for o in objects {
            let e = kinds
                .entry((o.api_version.clone(), o.id.kind.clone()))
                .or_default();
            if let Some(ns) = o.namespace() {
                e.insert(ns.to_string());
            }
        }
        let mut jobs = Vec::new();
        for ((api_version, kind), namespaces) in kinds {
            let Some(resolved) = self.resources.resolve(&api_version, &kind).await else {
                continue;
            };
            jobs.push((resolved, kind, namespaces));
        }
        let lists = futures::stream::iter(jobs)
            .map(|(resolved, kind, namespaces)| async move {
                let scopes: Vec<Option<String>> =
                    if resolved.namespaced && namespaces.len() <= MAX_NAMESPACE_LISTS {
                        namespaces.into_iter().map(Some).collect()
                    } else {
                        vec![None]
                    };
                let mut all = Vec::new();
                for ns in scopes {
                    match self.list_all(&resolved, &kind, ns.as_deref(), None).await {
                        Ok(items) => all.extend(items),
                        Err(e) => {
                            tracing::debug!(
                                "listing {kind}: {e}; falling back to one GET per object"
                            );
                            return None;
                        }
                    }
                }
                Some((resolved, kind, all))
            })
            .buffer_unordered(concurrency.clamp(1, 8))
            .collect::<Vec<_>>()
            .await;
        let mut index = LiveIndex::default();
        for (resolved, kind, items) in lists.into_iter().flatten() {
            let group = resolved.resource.group.clone();
            index.listed.insert((group.clone(), kind.clone()));
            for item in items {
                let ns = item
                    .metadata
                    .namespace
                    .clone()
                    .filter(|_| resolved.namespaced);
                let name = item.metadata.name.clone().unwrap_or_default();
                let id = ObjectId {
                    group: group.clone(),
                    kind: kind.clone(),
                    namespace: ns,
                    name,
                };
                if let Ok(mut v) = serde_json::to_value(item) {
                    // LIST items carry no apiVersion/kind; put them back so they read like a GET.
                    if let Some(m) = v.as_object_mut() {
                        m.insert(
                            "apiVersion".into(),
                            Value::String(resolved.resource.api_version.clone()),
                        );
                        m.insert("kind".into(), Value::String(kind.clone()));
                    }
                    index.objects.insert(id, v);
                }
            }
        }
        index
    }

    /// Every object of one kind (in `namespace`, or everywhere; by label `selector`), as GET returns
    /// them (with apiVersion and kind), keyed by id.
    ///
    /// # Errors
    /// The list fails after retries; the error names `Kind/namespace/*`.
    pub async fn list_objects(
        &self,
        resolved: &Resolved,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Vec<(ObjectId, Value)>, ClusterError> {
        let r = &resolved.resource;
        let items = self
            .list_all(resolved, &r.kind, namespace, selector)
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|item| {
                let ns = item
                    .metadata
                    .namespace
                    .clone()
                    .filter(|_| resolved.namespaced);
                let name = item.metadata.name.clone().unwrap_or_default();
                let mut v = serde_json::to_value(item).ok()?;
                let m = v.as_object_mut()?;
                m.insert("apiVersion".into(), Value::String(r.api_version.clone()));
                m.insert("kind".into(), Value::String(r.kind.clone()));
                Some((ObjectId::new(&r.group, &r.kind, ns.as_deref(), &name), v))
            })
            .collect())
    }

    async fn list_all(
        &self,
        resolved: &Resolved,
        kind: &str,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Vec<DynamicObject>, ClusterError> {
        let api: Api<DynamicObject> = self.api(resolved, namespace);
        let id = ObjectId::new(&resolved.resource.group, kind, namespace, "*");
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = ListParams::default().limit(PAGE);
            if let Some(s) = selector {
                params = params.labels(s);
            }
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let page = self.request(&id, "list", || api.list(&params)).await?;
            token = page.metadata.continue_.clone().filter(|t| !t.is_empty());
            out.extend(page.items);
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}
