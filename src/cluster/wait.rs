//! Watch-based waits: one watch per awaited object (field-selected by name), never a sleep loop.
//! The caller says what "done" means; every wait has a timeout that names the object and its last
//! status. A watch that drops or fails transiently is re-established ([`Watch`]): a wait ends with a
//! verdict, a permanent error or its timeout, never with a silent success.

use std::time::Duration;

use kube::api::DynamicObject;
use kube::runtime::watcher;
use serde_json::Value;

use super::watch::Watch;
use super::{Cluster, ClusterError};
use crate::object::ObjectId;

/// The verdict on one observation of the awaited object (`None`: it does not exist).
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Done,
    /// Not yet: why, e.g. "InProgress: 1 of 3 replicas available".
    Pending(String),
    /// Will not get better by waiting.
    Failed(String),
}

impl Cluster {
    /// Watches `id` until `judge` says done or failed, or `timeout` passes.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] with the last status, [`ClusterError::Failed`], or a watch error.
    pub async fn wait_for<J>(
        &self,
        id: &ObjectId,
        api_version: &str,
        timeout: Duration,
        mut judge: J,
    ) -> Result<(), ClusterError>
    where
        J: FnMut(Option<&Value>) -> Verdict,
    {
        let resolved = self.resolve(id, api_version).await?;
        let api = self.api(&resolved, id.namespace.as_deref());
        let config = watcher::Config::default().fields(&format!("metadata.name={}", id.name));
        let mut last = String::from("not observed yet");
        let mut watch = Watch::new(self, api, config);
        let waiting = async {
            // Objects seen during the initial list; an empty list means the object does not exist.
            let mut seen_in_init = false;
            loop {
                let event = watch.next().await.map_err(|source| ClusterError::Request {
                    object: id.to_string(),
                    verb: "watch",
                    source,
                })?;
                let observed: Option<Option<DynamicObject>> = match event {
                    watcher::Event::Init => {
                        seen_in_init = false;
                        None
                    }
                    watcher::Event::InitApply(o) => {
                        seen_in_init = true;
                        Some(Some(o))
                    }
                    watcher::Event::InitDone if !seen_in_init => Some(None),
                    watcher::Event::InitDone => None,
                    watcher::Event::Apply(o) => Some(Some(o)),
                    watcher::Event::Delete(_) => Some(None),
                };
                let Some(observed) = observed else { continue };
                let value = observed.and_then(|o| serde_json::to_value(o).ok());
                match judge(value.as_ref()) {
                    Verdict::Done => return Ok(()),
                    Verdict::Pending(why) => last = why,
                    Verdict::Failed(message) => {
                        return Err(ClusterError::Failed {
                            object: id.to_string(),
                            message,
                        });
                    }
                }
            }
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(result) => result,
            Err(_) => Err(ClusterError::Timeout {
                object: id.to_string(),
                timeout,
                status: with_trouble(last, watch.trouble().as_deref()),
            }),
        }
    }
}

/// The last status, and why the watch is failing when it is.
fn with_trouble(last: String, trouble: Option<&str>) -> String {
    match trouble {
        Some(t) => format!("{last} (the watch is failing: {t})"),
        None => last,
    }
}

impl Cluster {
    /// Waits until `ready` says the EndpointSlices of the Service `namespace/name` (watched by the
    /// `kubernetes.io/service-name` label) serve it; the rule is the readiness stage's.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] or a watch error.
    pub async fn wait_service_endpoints(
        &self,
        namespace: &str,
        name: &str,
        timeout: Duration,
        ready: impl Fn(&[Value]) -> bool,
    ) -> Result<(), ClusterError> {
        let id = ObjectId::new("", "Service", Some(namespace), name);
        let resolved = self
            .resolve(
                &ObjectId::new("discovery.k8s.io", "EndpointSlice", Some(namespace), name),
                "discovery.k8s.io/v1",
            )
            .await?;
        let api = self.api(&resolved, Some(namespace));
        let config =
            watcher::Config::default().labels(&format!("kubernetes.io/service-name={name}"));
        let mut watch = Watch::new(self, api, config);
        let waiting = async {
            let mut slices: std::collections::BTreeMap<String, Value> = Default::default();
            let mut initial: std::collections::BTreeMap<String, Value> = Default::default();
            loop {
                let event = watch.next().await.map_err(|source| ClusterError::Request {
                    object: id.to_string(),
                    verb: "watch endpoints of",
                    source,
                })?;
                match event {
                    watcher::Event::Init => initial.clear(),
                    watcher::Event::InitApply(o) => {
                        let n = o.metadata.name.clone().unwrap_or_default();
                        initial.insert(n, serde_json::to_value(o).unwrap_or_default());
                        continue;
                    }
                    watcher::Event::InitDone => slices = std::mem::take(&mut initial),
                    watcher::Event::Apply(o) => {
                        let n = o.metadata.name.clone().unwrap_or_default();
                        slices.insert(n, serde_json::to_value(o).unwrap_or_default());
                    }
                    watcher::Event::Delete(o) => {
                        slices.remove(&o.metadata.name.clone().unwrap_or_default());
                    }
                }
                let all: Vec<Value> = slices.values().cloned().collect();
                if ready(&all) {
                    return Ok(());
                }
            }
        };
        match tokio::time::timeout(timeout, waiting).await {
            Ok(result) => result,
            Err(_) => Err(ClusterError::Timeout {
                object: id.to_string(),
                timeout,
                status: with_trouble("no ready endpoints".to_string(), watch.trouble().as_deref()),
            }),
        }
    }
}
