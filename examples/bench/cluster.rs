//! What the benchmark itself does against the API server with kube-rs: the floor (raw concurrent
//! server-side apply), resourceVersion snapshots (request counts: metrics.rs),
//! waiting for Deployments, and deleting a run's objects so the next cold run starts from nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, discovery};
use rekube::Object;

use crate::Error;
use crate::workload::Workload;

/// Field manager of the floor's applies.
const FLOOR_MANAGER: &str = "bench-floor";

/// API resources by (apiVersion, kind), resolved through discovery once.
pub struct Resolver {
    client: Client,
    cache: HashMap<(String, String), ApiResource>,
}

impl Resolver {
    pub fn new(client: Client) -> Self {
        Resolver {
            client,
            cache: HashMap::new(),
        }
    }

    /// Resolves the kind, retrying for a few seconds: a CRD's group can be missing from discovery for a
    /// moment after it is Established.
    pub async fn resolve(&mut self, o: &Object) -> Result<ApiResource, Error> {
        self.resolve_within(o, Duration::from_secs(30)).await
    }

    /// The kind if the API server serves it now (a CRD not created yet: None).
    pub async fn served(&mut self, o: &Object) -> Option<ApiResource> {
        self.resolve_within(o, Duration::ZERO).await.ok()
    }

    async fn resolve_within(
        &mut self,
        o: &Object,
        patience: Duration,
    ) -> Result<ApiResource, Error> {
        let key = (o.api_version.clone(), o.kind().to_string());
        if let Some(ar) = self.cache.get(&key) {
            return Ok(ar.clone());
        }
        let gvk = GroupVersionKind::gvk(&o.id.group, o.version(), o.kind());
        let deadline = Instant::now() + patience;
        let ar = loop {
            match discovery::pinned_kind(&self.client, &gvk).await {
                Ok((ar, _)) => break ar,
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("discovering {}/{}: {e}", o.api_version, o.kind()).into());
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.cache.insert(key, ar.clone());
        Ok(ar)
    }
}

fn api_for(client: &Client, ar: &ApiResource, o: &Object) -> Api<DynamicObject> {
    match o.namespace() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

/// The floor: the API server's own write rate for this repository. CRDs and Namespaces first
/// (concurrently), wait until the CRDs are Established, then every other object concurrently with
/// `in_flight` requests at most: no ordering beyond what the API server requires, no readiness waits.
pub async fn floor(
    client: &Client,
    resolver: &mut Resolver,
    w: &Workload,
    in_flight: usize,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let (first, rest): (Vec<&Object>, Vec<&Object>) = w
        .repo
        .objects
        .iter()
        .partition(|o| matches!(o.kind(), "Namespace" | "CustomResourceDefinition"));
    apply_all(client, resolver, &first, in_flight).await?;
    wait_established(client, &w.crds()).await?;
    apply_all(client, resolver, &rest, in_flight).await?;
    Ok(started.elapsed())
}

async fn apply_all(
    client: &Client,
    resolver: &mut Resolver,
    objects: &[&Object],
    in_flight: usize,
) -> Result<(), Error> {
    let mut jobs = Vec::with_capacity(objects.len());
    for o in objects {
        jobs.push((api_for(client, &resolver.resolve(o).await?, o), *o));
    }
    let params = PatchParams::apply(FLOOR_MANAGER).force();
    stream::iter(jobs)
        .map(|(api, o)| {
            let params = &params;
            async move {
                // A custom resource can meet a 404 for a moment after its CRD is Established;
                // anything else is a failure of the floor itself.
                let mut attempt = 0;
                loop {
                    match api.patch(o.name(), params, &Patch::Apply(&o.body)).await {
                        Ok(_) => return Ok(()),
                        Err(kube::Error::Api(s)) if s.code == 404 && attempt < 50 => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => return Err(Error::from(format!("{}: apply: {e}", o.id))),
                    }
                }
            }
        })
        .buffer_unordered(in_flight.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn wait_established(client: &Client, names: &[String]) -> Result<(), Error> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(120);
    for name in names {
        loop {
            let crd = api.get(name).await?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("CustomResourceDefinition {name} is not Established").into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

/// Waits until every Deployment of the workload is Available at its current generation; returns how
/// long that took. Polls (every 250 ms) rather than watches: this is the benchmark's own baseline.
pub async fn wait_available(
    client: &Client,
    w: &Workload,
    timeout: Duration,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let namespaces: HashSet<String> = w.namespaces().into_iter().collect();
    let api: Api<Deployment> = Api::all(client.clone());
    let want = w.deployments();
    loop {
        let list = api.list(&ListParams::default()).await?;
        let available = list
            .items
            .iter()
            .filter(|d| {
                d.metadata
                    .namespace
                    .as_ref()
                    .is_some_and(|ns| namespaces.contains(ns))
            })
            .filter(|d| is_available(d))
            .count();
        if available >= want {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "{prefix}: {available} of {want} Deployments Available after {timeout:?}",
                prefix = w.prefix
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn is_available(d: &Deployment) -> bool {
    let Some(status) = &d.status else {
        return false;
    };
    let current = status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    current
        && status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Available" && c.status == "True")
}

/// resourceVersion of every object of the workload that exists, by `Kind/namespace/name`.
pub async fn resource_versions(
    client: &Client,
    resolver: &mut Resolver,
    w: &Workload,
) -> Result<BTreeMap<String, String>, Error> {
    let wanted: HashSet<String> = w.repo.objects.iter().map(|o| o.id.to_string()).collect();
    let mut kinds: BTreeMap<(String, String), &Object> = BTreeMap::new();
    for o in &w.repo.objects {
        kinds
            .entry((o.api_version.clone(), o.kind().to_string()))
            .or_insert(o);
    }
    let mut out = BTreeMap::new();
    for o in kinds.values() {
        // Before a cold run the CRDs do not exist: nothing of their kinds either.
        let Some(ar) = resolver.served(o).await else {
            continue;
        };
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        for item in api.list(&ListParams::default()).await?.items {
            let id = rekube::ObjectId::new(
                &o.id.group,
                o.kind(),
                item.metadata.namespace.as_deref(),
                item.metadata.name.as_deref().unwrap_or_default(),
            )
            .to_string();
            if wanted.contains(&id) {
                out.insert(id, item.metadata.resource_version.unwrap_or_default());
            }
        }
    }
    Ok(out)
}

/// Objects whose resourceVersion differs (or that appeared or vanished) between two snapshots.
pub fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}

/// Deletes the workload's Namespaces and CRDs and, given a timeout, waits until they are gone, so the
/// next cold run shares nothing with this one (and the API server is back to its size before).
pub async fn delete(
    client: &Client,
    w: &Workload,
    timeout: Option<Duration>,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let ns_api: Api<Namespace> = Api::all(client.clone());
    let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let namespaces = w.namespaces();
    let crds = w.crds();
    for ns in &namespaces {
        ignore_not_found(
            ns_api
                .delete(ns, &DeleteParams::default())
                .await
                .map(|_| ()),
        )?;
    }
    for crd in &crds {
        ignore_not_found(
            crd_api
                .delete(crd, &DeleteParams::default())
                .await
                .map(|_| ()),
        )?;
    }
    let Some(timeout) = timeout else {
        return Ok(started.elapsed());
    };
    loop {
        let mut left = 0;
        for ns in &namespaces {
            left += usize::from(ns_api.get_opt(ns).await?.is_some());
        }
        for crd in &crds {
            left += usize::from(crd_api.get_opt(crd).await?.is_some());
        }
        if left == 0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "{}: {left} Namespace(s)/CRD(s) still there after {timeout:?}",
                w.prefix
            )
            .into());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn ignore_not_found(r: Result<(), kube::Error>) -> Result<(), Error> {
    match r {
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        other => Ok(other?),
    }
}
