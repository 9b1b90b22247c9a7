//! The live state of every kind the plan holds, read with one paginated LIST per kind (per namespace when
//! the plan touches few) instead of one GET per object.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::discovery::Resolved;
use super::{Cluster, ClusterError};
use crate::object::{Object, ObjectId};

/// Namespaced kinds spread over more namespaces than this are listed cluster-wide.
const MAX_NAMESPACE_LISTS: usize = 8;
const PAGE: u32 = 500;

/// What the cluster held when the index was read. Each object is handed out once, by value
/// ([`LiveIndex::take`]): the index never holds a copy of what its callers hold, and it empties as they
/// go.
#[derive(Debug, Default)]
pub struct LiveIndex {
    listed: HashSet<(String, String)>,
    objects: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    held: HashMap<ObjectId, Value>,
    /// Handed out already: asked again, the server is asked.
    taken: HashSet<ObjectId>,
}

/// The answer of [`LiveIndex::take`].
#[derive(Debug, Clone, PartialEq)]
pub enum Live {
    Present(Value),
    Absent,
    /// The kind was not listed (not served yet, or the list failed), or the object was taken already:
    /// ask the server.
    Unknown,
}

impl LiveIndex {
    /// An index of `kinds` (`(group, kind)`, listed completely) holding `objects`.
    pub fn new(
        kinds: impl IntoIterator<Item = (String, String)>,
        objects: impl IntoIterator<Item = (ObjectId, Value)>,
    ) -> LiveIndex {
        LiveIndex {
            listed: kinds.into_iter().collect(),
            objects: Mutex::new(Entries {
                held: objects.into_iter().collect(),
                taken: HashSet::new(),
            }),
        }
    }

    /// Moves the object out of the index: a second call for the same id answers [`Live::Unknown`].
    pub fn take(&self, id: &ObjectId) -> Live {
        if !self.listed.contains(&(id.group.clone(), id.kind.clone())) {
            return Live::Unknown;
        }
        let mut entries = self.entries();
        match entries.held.remove(id) {
            Some(v) => {
                entries.taken.insert(id.clone());
                Live::Present(v)
            }
            None if entries.taken.contains(id) => Live::Unknown,
            None => Live::Absent,
        }
    }

    /// Objects still held (not taken yet).
    pub fn len(&self) -> usize {
        self.entries().held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves the maps consistent (single inserts and removes).
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Cluster {
    /// `obj` as `index` held it (moved out of the index), or read from the server when its kind was not
    /// listed; `true` when it was read just now (it cannot be stale).
    ///
    /// # Errors
    /// The read failed (an unknown kind among them).
    pub async fn live(
        &self,
        index: &LiveIndex,
        obj: &Object,
    ) -> Result<(Option<Value>, bool), ClusterError> {
        match index.take(&obj.id) {
            Live::Present(v) => Ok((Some(v), false)),
            Live::Absent => Ok((None, false)),
            Live::Unknown => Ok((self.get(&obj.id, &obj.api_version).await?, true)),
        }
    }

    /// Lists every kind of `objects` that the cluster serves. Kinds it does not serve yet are left out
    /// ([`Live::Unknown`]); a failed list only loses the fast path for that kind.
    pub async fn list_live(&self, objects: &[Object], concurrency: usize) -> LiveIndex {
        self.list_live_with(objects, concurrency, |_| true).await
    }

    /// [`Cluster::list_live`], keeping the managedFields only of the objects `managed_fields` names (they
    /// are most of a listed object, and only attribution and ignore rules by field manager read them).
    pub async fn list_live_with(
        &self,
        objects: &[Object],
        concurrency: usize,
        managed_fields: impl Fn(&ObjectId) -> bool,
    ) -> LiveIndex {
        let managed_fields = &managed_fields;
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
        // Each page is converted as it arrives: a kind's typed items never pile up beside the index.
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
                    let listed = self
                        .list_pages(&resolved, &kind, ns.as_deref(), None, |items| {
                            all.extend(
                                items
                                    .into_iter()
                                    .filter_map(|i| as_get(&resolved, &kind, i))
                                    .map(|(id, v)| {
                                        let v = if managed_fields(&id) {
                                            v
                                        } else {
                                            without_managed_fields(v)
                                        };
                                        (id, v)
                                    }),
                            );
                        })
                        .await;
                    if let Err(e) = listed {
                        tracing::debug!("listing {kind}: {e}; falling back to one GET per object");
                        return None;
                    }
                }
                Some(((resolved.resource.group.clone(), kind), all))
            })
            .buffer_unordered(concurrency.clamp(1, 8))
            .collect::<Vec<_>>()
            .await;
        let (kinds, items): (Vec<_>, Vec<_>) = lists.into_iter().flatten().unzip();
        LiveIndex::new(kinds, items.into_iter().flatten())
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
        let kind = &resolved.resource.kind;
        let mut all = Vec::new();
        self.list_pages(resolved, kind, namespace, selector, |items| {
            all.extend(items.into_iter().filter_map(|i| as_get(resolved, kind, i)));
        })
        .await?;
        Ok(all)
    }

    /// Lists page by page, handing each page's items to `page`.
    async fn list_pages(
        &self,
        resolved: &Resolved,
        kind: &str,
        namespace: Option<&str>,
        selector: Option<&str>,
        mut page: impl FnMut(Vec<DynamicObject>),
    ) -> Result<(), ClusterError> {
        let api: Api<DynamicObject> = self.api(resolved, namespace);
        let id = ObjectId::new(&resolved.resource.group, kind, namespace, "*");
        let mut token: Option<String> = None;
        loop {
            let mut params = ListParams::default().limit(PAGE);
            if let Some(s) = selector {
                params = params.labels(s);
            }
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let list = self.request(&id, "list", || api.list(&params)).await?;
            token = list.metadata.continue_.clone().filter(|t| !t.is_empty());
            page(list.items);
            if token.is_none() {
                return Ok(());
            }
        }
    }
}

fn without_managed_fields(mut v: Value) -> Value {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("managedFields");
    }
    v
}

/// A LIST item as GET returns it, keyed by id: LIST items carry no apiVersion and kind.
fn as_get(resolved: &Resolved, kind: &str, item: DynamicObject) -> Option<(ObjectId, Value)> {
    let ns = item
        .metadata
        .namespace
        .clone()
        .filter(|_| resolved.namespaced);
    let name = item.metadata.name.clone().unwrap_or_default();
    let id = ObjectId::new(&resolved.resource.group, kind, ns.as_deref(), &name);
    let mut v = serde_json::to_value(item).ok()?;
    let m = v.as_object_mut()?;
    m.insert(
        "apiVersion".into(),
        Value::String(resolved.resource.api_version.clone()),
    );
    m.insert("kind".into(), Value::String(kind.to_string()));
    Some((id, v))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_are_moved_out_not_copied() {
        let id = |name: &str| ObjectId::new("", "ConfigMap", Some("a"), name);
        let index = LiveIndex::new(
            [(String::new(), "ConfigMap".to_string())],
            [
                (id("c1"), json!({"data": {"k": "1"}})),
                (id("c2"), json!({})),
            ],
        );
        assert_eq!(
            index.take(&id("c1")),
            Live::Present(json!({"data": {"k": "1"}}))
        );
        assert_eq!(
            index.len(),
            1,
            "the index keeps no copy of what it handed out"
        );
        // Asked again, the server is asked: never "absent" for an object that exists.
        assert_eq!(index.take(&id("c1")), Live::Unknown);
        assert_eq!(index.take(&id("c3")), Live::Absent);
        let secret = ObjectId::new("", "Secret", Some("a"), "s");
        let stripped = without_managed_fields(
            json!({"metadata": {"name": "c", "managedFields": [{"manager": "m"}], "uid": "u"}}),
        );
        assert_eq!(stripped, json!({"metadata": {"name": "c", "uid": "u"}}));
        assert_eq!(index.take(&secret), Live::Unknown, "a kind not listed");
    }
}
