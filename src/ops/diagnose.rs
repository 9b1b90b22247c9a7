//! Why an object is not ready, beyond its own status: what `kubectl describe` would show first. For a
//! workload, its first unready Pod (unscheduled, a container waiting…); for anything else, its latest
//! Warning event (a claim whose StorageClass does not exist, a failed mount…).

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::cluster::Cluster;
use crate::object::{Object, ObjectId};

/// Kinds whose readiness is their Pods'.
const WORKLOADS: &[(&str, &str)] = &[
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
];

/// One line saying why `obj` is not ready, when the cluster tells; `None` when it does not (or the
/// object cannot be read: a diagnosis never fails the caller).
pub async fn why_not_ready(cluster: &Cluster, obj: &Object) -> Option<String> {
    let ns = obj.namespace()?;
    let workload = WORKLOADS
        .iter()
        .any(|(g, k)| obj.id.group == *g && obj.id.kind == *k);
    if workload && let Some(why) = unready_pod(cluster, obj, ns).await {
        return Some(why);
    }
    latest_warning(cluster, &obj.id, ns).await
}

async fn unready_pod(cluster: &Cluster, obj: &Object, ns: &str) -> Option<String> {
    let live = cluster.get(&obj.id, &obj.api_version).await.ok()??;
    let labels = live.pointer("/spec/selector/matchLabels")?.as_object()?;
    let selector: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    let pods: Api<Pod> = Api::namespaced(cluster.client().clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(&selector.join(",")))
        .await
        .ok()?;
    if list.items.is_empty() {
        return latest_warning(cluster, &obj.id, ns)
            .await
            .or_else(|| Some("no Pod was created".into()));
    }
    list.items.iter().find_map(pod_problem)
}

/// Why one Pod is not ready, or `None` when it is.
fn pod_problem(pod: &Pod) -> Option<String> {
    let v = serde_json::to_value(pod).ok()?;
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let conditions = v.pointer("/status/conditions").and_then(Value::as_array);
    let condition = |t: &str| conditions.and_then(|c| c.iter().find(|x| x["type"] == t));
    if condition("Ready").is_some_and(|c| c["status"] == "True") {
        return None;
    }
    if let Some(c) = condition("PodScheduled").filter(|c| c["status"] == "False") {
        return Some(format!(
            "Pod {name} is not scheduled: {}",
            c["message"]
                .as_str()
                .or(c["reason"].as_str())
                .unwrap_or("unschedulable")
        ));
    }
    let statuses = v
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    for s in statuses.into_iter().flatten() {
        if let Some(w) = s.pointer("/state/waiting") {
            return Some(
                format!(
                    "Pod {name}: container {} is waiting: {} {}",
                    s["name"].as_str().unwrap_or("?"),
                    w["reason"].as_str().unwrap_or(""),
                    w["message"].as_str().unwrap_or("")
                )
                .trim_end()
                .to_string(),
            );
        }
    }
    let phase = v
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    Some(format!("Pod {name} is {phase} and not ready"))
}

/// The latest Warning event about the object (else the latest event), as `Reason: message`.
async fn latest_warning(cluster: &Cluster, id: &ObjectId, ns: &str) -> Option<String> {
    let events: Api<Event> = Api::namespaced(cluster.client().clone(), ns);
    let fields = format!(
        "involvedObject.name={},involvedObject.kind={}",
        id.name, id.kind
    );
    let list = events
        .list(&ListParams::default().fields(&fields))
        .await
        .ok()?;
    let when = |e: &Event| {
        serde_json::to_value(e)
            .ok()
            .and_then(|v| {
                [
                    "/lastTimestamp",
                    "/eventTime",
                    "/metadata/creationTimestamp",
                ]
                .iter()
                .find_map(|p| v.pointer(p).and_then(Value::as_str).map(str::to_string))
            })
            .unwrap_or_default()
    };
    let warning = |e: &&Event| e.type_.as_deref() == Some("Warning");
    let pick = list
        .items
        .iter()
        .filter(warning)
        .max_by_key(|e| when(e))
        .or_else(|| list.items.iter().max_by_key(|e| when(e)))?;
    Some(format!(
        "{}: {}",
        pick.reason.as_deref().unwrap_or("Event"),
        pick.message.as_deref().unwrap_or("").trim()
    ))
}
