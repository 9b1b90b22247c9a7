//! The verbs: server-side apply (real or dry-run), get, delete — each bounded and retried.

use std::future::Future;
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::discovery::Resolved;
use super::{Cluster, ClusterError, FIELD_MANAGER};
use crate::object::{Object, ObjectId};

impl Cluster {
    /// Resolves the object's kind, refreshing discovery when the kind is unknown (a CRD may have just
    /// been established); concurrent misses share one refresh.
    ///
    /// # Errors
    /// [`ClusterError::UnknownKind`] when the cluster does not serve the kind even after a refresh.
    pub async fn resolve(
        &self,
        id: &ObjectId,
        api_version: &str,
    ) -> Result<Resolved, ClusterError> {
        let seen = self.resources.generation();
        if let Some(r) = self.resources.resolve(api_version, &id.kind).await {
            return Ok(r);
        }
        self.refresh_discovery(id, seen).await?;
        self.resources
            .resolve(api_version, &id.kind)
            .await
            .ok_or_else(|| ClusterError::UnknownKind {
                object: id.to_string(),
                api_version: api_version.to_string(),
                kind: id.kind.clone(),
            })
    }

    /// Runs discovery again for `id`'s sake unless a refresh started since `seen` (a
    /// [`super::Resources::generation`] read before the lookup that missed). The refresh is a request
    /// like the others: under the concurrency budget and retried on transient errors.
    ///
    /// # Errors
    /// Discovery failed after retries.
    pub async fn refresh_discovery(&self, id: &ObjectId, seen: u64) -> Result<(), ClusterError> {
        let client = self.resources.client();
        self.resources
            .refresh_since(seen, || {
                self.request(id, "discovery", || super::discovery::run(client))
            })
            .await
    }

    /// The dynamic API for an object of a resolved kind.
    pub fn api(&self, resolved: &Resolved, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) if resolved.namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &resolved.resource)
            }
            _ => Api::all_with(self.client.clone(), &resolved.resource),
        }
    }

    /// Server-side apply of `body` with field manager `rekube`, forcing conflicts (Git is the source of
    /// truth). With `dry_run`, nothing is persisted and the result shows what the server would store.
    ///
    /// # Errors
    /// The kind is not served, or the server refuses the object (validation, admission, immutability).
    pub async fn apply(
        &self,
        obj: &Object,
        body: &Value,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let resolved = self.resolve(&obj.id, &obj.api_version).await?;
        let api = self.api(&resolved, obj.namespace());
        let mut params = PatchParams::apply(FIELD_MANAGER).force();
        if dry_run {
            params = params.dry_run();
        }
        let verb = if dry_run { "dry-run" } else { "apply" };
        let name = obj.name();
        let patch = Patch::Apply(body);
        let out = self
            .request(&obj.id, verb, || api.patch(name, &params, &patch))
            .await?;
        to_value(&obj.id, out)
    }

    /// The live object, or `None` when it does not exist.
    ///
    /// # Errors
    /// The kind is not served, or the request fails after retries.
    pub async fn get(
        &self,
        id: &ObjectId,
        api_version: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let resolved = self.resolve(id, api_version).await?;
        let api = self.api(&resolved, id.namespace.as_deref());
        let out = self.request(id, "get", || api.get_opt(&id.name)).await?;
        out.map(|o| to_value(id, o)).transpose()
    }

    /// Deletes the object (background propagation). A missing object is not an error: it is gone already.
    ///
    /// # Errors
    /// The kind is not served, or the request fails after retries.
    pub async fn delete(&self, id: &ObjectId, api_version: &str) -> Result<(), ClusterError> {
        let resolved = self.resolve(id, api_version).await?;
        let api = self.api(&resolved, id.namespace.as_deref());
        let params = DeleteParams::background();
        match self
            .request(id, "delete", || api.delete(&id.name, &params))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status_code() == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Runs one request under the concurrency budget, retrying transient failures with backoff (429s
    /// after the server's Retry-After); each try is bounded by the policy's request timeout.
    pub(crate) async fn request<T, F, Fut>(
        &self,
        id: &ObjectId,
        verb: &'static str,
        mut call: F,
    ) -> Result<T, ClusterError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let mut attempt = 0;
        let mut throttled = Duration::ZERO;
        loop {
            let result = {
                // The permit is held only while the request is in flight, never while backing off.
                let _permit = self.permits.acquire().await;
                let limit = self.retry.request_timeout;
                tokio::time::timeout(limit, call())
                    .await
                    .unwrap_or_else(|_| Err(no_answer(limit)))
            };
            let e = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(delay) = self.retry.next_delay(attempt, throttled, &e) else {
                return Err(ClusterError::Request {
                    object: id.to_string(),
                    verb,
                    source: e,
                });
            };
            tracing::debug!("{id} {verb}: transient error, retrying in {delay:?}: {e}");
            self.counters.record(&e);
            if super::retry::is_throttled(&e) {
                throttled += delay;
            } else {
                attempt += 1;
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// Counts a watch that failed and is tried again (reported with the request retries).
    pub(crate) fn record_retry(&self, error: &kube::Error) {
        self.counters.record(error);
    }

    pub(crate) fn retry_policy(&self) -> &super::RetryPolicy {
        &self.retry
    }
}

/// A try that got no answer in time: transient (a frozen or overloaded server), so it is retried.
fn no_answer(limit: Duration) -> kube::Error {
    kube::Error::Service(
        format!("no answer from the API server within {}s", limit.as_secs()).into(),
    )
}

fn to_value(id: &ObjectId, obj: DynamicObject) -> Result<Value, ClusterError> {
    serde_json::to_value(obj).map_err(|e| ClusterError::Request {
        object: id.to_string(),
        verb: "decode",
        source: kube::Error::SerdeError(e),
    })
}
