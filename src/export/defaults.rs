//! The API server's defaults and cluster-assigned values for the common kinds, removed from exported
//! objects: an object created with `kubectl create` owns them (defaulting runs before field management),
//! but nobody declared them, and applying the object without them gives the same result. A value is
//! removed only when it equals the default, so a deliberate non-default setting stays.

use serde_json::{Value, json};

/// Each table entry: (JSON pointer relative to the part, `*` for every list item, default). A `null`
/// default means "assigned by the cluster": removed whatever its value.
fn pod_spec() -> Vec<(&'static str, Value)> {
    vec![
        ("/dnsPolicy", json!("ClusterFirst")),
        ("/schedulerName", json!("default-scheduler")),
        ("/securityContext", json!({})),
        ("/terminationGracePeriodSeconds", json!(30)),
        (
            "/containers/*/terminationMessagePath",
            json!("/dev/termination-log"),
        ),
        ("/containers/*/terminationMessagePolicy", json!("File")),
        ("/containers/*/resources", json!({})),
        ("/containers/*/ports/*/protocol", json!("TCP")),
        (
            "/initContainers/*/terminationMessagePath",
            json!("/dev/termination-log"),
        ),
        ("/initContainers/*/terminationMessagePolicy", json!("File")),
        ("/initContainers/*/resources", json!({})),
    ]
}

fn kind_defaults(group: &str, kind: &str) -> Vec<(&'static str, Value)> {
    match (group, kind) {
        ("apps", "Deployment") => vec![
            ("/spec/progressDeadlineSeconds", json!(600)),
            ("/spec/revisionHistoryLimit", json!(10)),
            (
                "/spec/strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            ),
        ],
        ("apps", "StatefulSet") => vec![
            ("/spec/podManagementPolicy", json!("OrderedReady")),
            ("/spec/revisionHistoryLimit", json!(10)),
            (
                "/spec/updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            ),
            (
                "/spec/persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            ),
        ],
        ("apps", "DaemonSet") => vec![
            ("/spec/revisionHistoryLimit", json!(10)),
            (
                "/spec/updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
            ),
        ],
        ("batch", "Job") => vec![
            ("/spec/backoffLimit", json!(6)),
            ("/spec/completionMode", json!("NonIndexed")),
            ("/spec/completions", json!(1)),
            ("/spec/parallelism", json!(1)),
            ("/spec/suspend", json!(false)),
            ("/spec/manualSelector", json!(false)),
            ("/spec/podReplacementPolicy", json!("TerminatingOrFailed")),
            // The server generates the selector and its labels from the Job's uid.
            ("/spec/selector", Value::Null),
            ("/spec/template/metadata/labels/controller-uid", Value::Null),
            (
                "/spec/template/metadata/labels/batch.kubernetes.io~1controller-uid",
                Value::Null,
            ),
            ("/spec/template/metadata/labels/job-name", Value::Null),
            (
                "/spec/template/metadata/labels/batch.kubernetes.io~1job-name",
                Value::Null,
            ),
        ],
        ("batch", "CronJob") => vec![
            ("/spec/concurrencyPolicy", json!("Allow")),
            ("/spec/failedJobsHistoryLimit", json!(1)),
            ("/spec/successfulJobsHistoryLimit", json!(3)),
            ("/spec/suspend", json!(false)),
        ],
        ("", "Service") => vec![
            ("/spec/clusterIP", Value::Null),
            ("/spec/clusterIPs", Value::Null),
            ("/spec/ipFamilies", Value::Null),
            ("/spec/ipFamilyPolicy", json!("SingleStack")),
            ("/spec/internalTrafficPolicy", json!("Cluster")),
            ("/spec/sessionAffinity", json!("None")),
            ("/spec/type", json!("ClusterIP")),
            ("/spec/ports/*/protocol", json!("TCP")),
        ],
        ("", "PersistentVolumeClaim") => vec![
            ("/spec/volumeName", Value::Null),
            ("/spec/volumeMode", json!("Filesystem")),
        ],
        ("", "Namespace") => vec![("/spec/finalizers", json!(["kubernetes"]))],
        ("", "ServiceAccount") => vec![("/secrets", Value::Null)],
        _ => Vec::new(),
    }
}

/// Where a kind keeps its pod spec, if it has one.
fn pod_spec_at(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("", "Pod") => Some("/spec"),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => {
            Some("/spec/template/spec")
        }
        ("batch", "CronJob") => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// Removes defaults and cluster-assigned values from `obj`, and maps left empty by that.
pub fn remove_defaults(obj: &mut Value) {
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let group = api_version
        .rsplit_once('/')
        .map_or("", |(g, _)| g)
        .to_string();
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    for (path, default) in kind_defaults(&group, &kind) {
        remove(obj, &split(path), &default);
    }
    // A Service port's targetPort defaults to its port.
    if group.is_empty()
        && kind == "Service"
        && let Some(ports) = obj.pointer_mut("/spec/ports").and_then(Value::as_array_mut)
    {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            if p.get("targetPort").is_some() && p.get("targetPort") == p.get("port") {
                p.remove("targetPort");
            }
        }
    }
    if let Some(at) = pod_spec_at(&group, &kind)
        && let Some(spec) = obj.pointer_mut(at)
    {
        for (path, default) in pod_spec() {
            remove(spec, &split(path), &default);
        }
        // `Always` is the default for every pod but a Job's, which must name its policy.
        if group != "batch" {
            remove(spec, &["restartPolicy"], &json!("Always"));
        }
        for c in ["containers", "initContainers"] {
            for container in spec
                .get_mut(c)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let image = container
                    .get("image")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let latest = !image.contains(':') || image.ends_with(":latest");
                let default = if latest { "Always" } else { "IfNotPresent" };
                remove(container, &["imagePullPolicy"], &json!(default));
            }
        }
    }
    prune_empty(obj);
}

fn split(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

/// Removes the value at `path` when it equals `default` (or whatever it is, when `default` is null).
fn remove(value: &mut Value, path: &[&str], default: &Value) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    if *head == "*" {
        for item in value.as_array_mut().into_iter().flatten() {
            remove(item, rest, default);
        }
        return;
    }
    let key = head.replace("~1", "/").replace("~0", "~");
    let Some(map) = value.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        if map
            .get(&key)
            .is_some_and(|v| default.is_null() || v == default)
        {
            map.remove(&key);
        }
    } else if let Some(child) = map.get_mut(&key) {
        remove(child, rest, default);
    }
}

/// The parents a removal may leave empty (a Job template's labels), removed when empty: elsewhere an
/// empty map is deliberate (`emptyDir: {}`) and stays.
fn prune_empty(obj: &mut Value) {
    for (parent, key) in [
        ("/spec/template/metadata", "labels"),
        ("/spec/template", "metadata"),
    ] {
        if let Some(map) = obj.pointer_mut(parent).and_then(Value::as_object_mut)
            && map
                .get(key)
                .and_then(Value::as_object)
                .is_some_and(|m| m.is_empty())
        {
            map.remove(key);
        }
    }
}
