//! The per-kind table (kstatus `legacyTypes`): one entry per kind, and the rules of the kinds that are
//! not workloads. Small predicates for the cluster layer live here too.

use serde_json::Value;

use super::endpoints::service_refs;
use super::generic::{condition, condition_true, require_observed_generation, string};
use super::{Context, Readiness, workloads};

/// A readiness rule: only called once the generic checks (deletion, generation, `Stalled`…) passed.
pub(super) type Rule = fn(&Value, &Context) -> Readiness;

/// `(API group, kind, rule)`. Kinds not listed use the generic fallback (`Ready` condition, else
/// current once it exists).
const RULES: &[(&str, &str, Rule)] = &[
    ("apiextensions.k8s.io", "CustomResourceDefinition", crd),
    ("", "Namespace", namespace),
    ("apps", "Deployment", workloads::deployment),
    ("apps", "StatefulSet", workloads::statefulset),
    ("apps", "DaemonSet", workloads::daemonset),
    ("apps", "ReplicaSet", workloads::replicaset),
    ("batch", "Job", workloads::job),
    ("batch", "CronJob", exists),
    ("", "Pod", workloads::pod),
    ("", "PersistentVolumeClaim", pvc),
    ("", "Service", service),
    ("apiregistration.k8s.io", "APIService", apiservice),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        webhook,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        webhook,
    ),
    ("snapshot.storage.k8s.io", "VolumeSnapshot", volume_snapshot),
    ("policy", "PodDisruptionBudget", pdb),
];

/// The rule for a kind, if it has one.
pub(super) fn rule_for(group: &str, kind: &str) -> Option<Rule> {
    RULES
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)
        .map(|(_, _, rule)| *rule)
}

/// `Established`; `NamesAccepted: False` (a name conflict) and `Established: False` for any reason
/// but `Installing` are failures (kstatus).
fn crd(obj: &Value, _: &Context) -> Readiness {
    if let Some(c) = condition(obj, "NamesAccepted").filter(|c| c.is_false()) {
        return Readiness::failed(format!("names not accepted: {}", c.describe()));
    }
    match condition(obj, "Established") {
        Some(c) if c.is_true() => Readiness::current("Established"),
        Some(c) if c.is_false() && c.reason != "Installing" => {
            Readiness::failed(format!("not established: {}", c.describe()))
        }
        _ => Readiness::in_progress("not Established yet"),
    }
}

fn namespace(obj: &Value, _: &Context) -> Readiness {
    match string(obj, "/status/phase") {
        Some("Active") => Readiness::current("Active"),
        Some("Terminating") => Readiness::terminating("Terminating"),
        Some(other) => Readiness::in_progress(format!("phase {other}")),
        None => Readiness::in_progress("phase not reported yet"),
    }
}

/// Objects whose existence is all there is to wait for (kstatus `alwaysReady`).
fn exists(_: &Value, _: &Context) -> Readiness {
    Readiness::current("exists")
}

/// `Bound`, or `Pending` when its StorageClass binds on first consumer: the claim then waits for the
/// pod that mounts it, and waiting for it before starting that pod would deadlock.
fn pvc(obj: &Value, ctx: &Context) -> Readiness {
    match string(obj, "/status/phase") {
        Some("Bound") => Readiness::current("Bound"),
        Some("Pending") if ctx.wait_for_first_consumer => {
            Readiness::current("Pending until a pod uses it (WaitForFirstConsumer)")
        }
        Some("Lost") => Readiness::failed("Lost: its PersistentVolume is gone"),
        Some(phase) => Readiness::in_progress(format!("not Bound yet (phase {phase})")),
        None => Readiness::in_progress("not Bound yet"),
    }
}

/// Has a cluster IP (headless and ExternalName Services need none). A LoadBalancer's external address
/// is only awaited when asked: on clusters without a load-balancer controller it never comes.
fn service(obj: &Value, ctx: &Context) -> Readiness {
    let kind = string(obj, "/spec/type").unwrap_or("ClusterIP");
    if kind == "ExternalName" {
        return Readiness::current("ExternalName");
    }
    if string(obj, "/spec/clusterIP").is_none_or(str::is_empty) {
        return Readiness::in_progress("no cluster IP assigned yet");
    }
    if kind == "LoadBalancer" && ctx.wait_for_load_balancer {
        let ingress = obj
            .pointer("/status/loadBalancer/ingress")
            .and_then(Value::as_array);
        if ingress.is_none_or(Vec::is_empty) {
            return Readiness::in_progress("no load-balancer address yet");
        }
    }
    Readiness::current("has a cluster IP")
}

/// `Available`, which the aggregator sets once the backing Service answers discovery; and, when the
/// caller looked, the Service has ready endpoints. `Available: False` stays in progress: its reasons
/// (`MissingEndpoints`, `FailedDiscoveryCheck`) are what an installing extension server looks like.
fn apiservice(obj: &Value, ctx: &Context) -> Readiness {
    // In a simulated cluster the aggregator can never reach the backend: the endpoints are the truth.
    if ctx.simulated && !service_refs(obj).is_empty() {
        return match ctx.services_ready {
            Some(true) => Readiness::current(format!(
                "{} ready (Available not checked: simulated cluster)",
                services(obj)
            )),
            Some(false) => {
                Readiness::in_progress(format!("waiting for ready endpoints of {}", services(obj)))
            }
            None => {
                Readiness::in_progress(format!("endpoints of {} not checked yet", services(obj)))
            }
        };
    }
    match condition(obj, "Available") {
        Some(c) if c.is_true() => {}
        Some(c) => return Readiness::in_progress(format!("not Available: {}", c.describe())),
        None => return Readiness::in_progress("Available not reported yet"),
    }
    if ctx.services_ready == Some(false) {
        return Readiness::in_progress(format!("waiting for ready endpoints of {}", services(obj)));
    }
    Readiness::current("Available")
}

/// A webhook configuration is usable once the Services it calls have ready endpoints; before that,
/// every request it intercepts fails (or is let through unchecked). Webhooks that call a URL have
/// nothing to wait for. The caller looks the endpoints up: without them this stays in progress.
fn webhook(obj: &Value, ctx: &Context) -> Readiness {
    if service_refs(obj).is_empty() {
        return Readiness::current("calls URLs only");
    }
    match ctx.services_ready {
        Some(true) => Readiness::current(format!("{} ready", services(obj))),
        Some(false) => {
            Readiness::in_progress(format!("waiting for ready endpoints of {}", services(obj)))
        }
        None => Readiness::in_progress(format!("endpoints of {} not checked yet", services(obj))),
    }
}

fn services(obj: &Value) -> String {
    let ids: Vec<String> = service_refs(obj).iter().map(ToString::to_string).collect();
    ids.join(", ")
}

/// `status.readyToUse`. A snapshot error is retried by the snapshot controller, so it stays in progress.
fn volume_snapshot(obj: &Value, _: &Context) -> Readiness {
    if obj.pointer("/status/readyToUse").and_then(Value::as_bool) == Some(true) {
        return Readiness::current("readyToUse");
    }
    match string(obj, "/status/error/message") {
        Some(m) => Readiness::in_progress(format!("not readyToUse: {m}")),
        None => Readiness::in_progress("not readyToUse yet"),
    }
}

/// The disruption controller has computed the budget for the current generation.
fn pdb(obj: &Value, _: &Context) -> Readiness {
    require_observed_generation(obj)
        .unwrap_or_else(|| Readiness::current("allowed disruptions computed"))
}

/// A CustomResourceDefinition whose `Established` condition is `True`: its API is served.
pub fn is_crd_established(obj: &Value) -> bool {
    condition_true(obj, "Established")
}

/// A Job whose `Complete` condition is `True`.
pub fn is_job_completed(obj: &Value) -> bool {
    condition_true(obj, "Complete")
}

/// A Job whose `Failed` condition is `True`.
pub fn is_job_failed(obj: &Value) -> bool {
    condition_true(obj, "Failed")
}

/// A Pod whose `Ready` condition is `True`.
pub fn is_pod_ready(obj: &Value) -> bool {
    condition_true(obj, "Ready")
}

/// A Namespace in phase `Active`.
pub fn is_namespace_active(obj: &Value) -> bool {
    string(obj, "/status/phase") == Some("Active")
}

/// A PersistentVolumeClaim in phase `Bound`.
pub fn is_pvc_bound(obj: &Value) -> bool {
    string(obj, "/status/phase") == Some("Bound")
}

/// An APIService whose `Available` condition is `True`.
pub fn is_apiservice_available(obj: &Value) -> bool {
    condition_true(obj, "Available")
}

/// The StorageClass a PersistentVolumeClaim names (`spec.storageClassName`), for the caller to read
/// its `volumeBindingMode`; `None` means the cluster's default class (an empty name means no class).
pub fn pvc_storage_class(obj: &Value) -> Option<&str> {
    string(obj, "/spec/storageClassName")
}

/// A StorageClass that delays binding until a pod uses the claim.
pub fn is_wait_for_first_consumer(storage_class: &Value) -> bool {
    string(storage_class, "/volumeBindingMode") == Some("WaitForFirstConsumer")
}
