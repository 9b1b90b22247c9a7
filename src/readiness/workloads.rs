//! Workload rules, ported from kstatus `core.go`: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
//! and Pod. Each rule checks in kstatus order, and the first unmet check is the message.
//!
//! Where rekube departs from kstatus, the rule says so and why.

use serde_json::Value;

use super::generic::{
    condition, condition_true, conditions, int, require_observed_generation, string,
};
use super::{Context, Readiness};

/// Rolled out: every replica updated, available and ready, no old replica left, at the current
/// generation. `Progressing` with reason `ProgressDeadlineExceeded` is a failure.
pub(super) fn deployment(obj: &Value, _: &Context) -> Readiness {
    if let Some(r) = require_observed_generation(obj) {
        return r;
    }
    // Without progressDeadlineSeconds the controller never sets `Progressing` (kstatus).
    let mut progressing = obj.pointer("/spec/progressDeadlineSeconds").is_none()
        || int(obj, "/spec/progressDeadlineSeconds", 0) == i64::from(i32::MAX);
    let mut available = false;
    for c in conditions(obj) {
        match c.type_ {
            "Progressing" if c.reason == "ProgressDeadlineExceeded" => {
                return Readiness::failed(format!("progress deadline exceeded: {}", c.message));
            }
            "Progressing" if c.is_true() && c.reason == "NewReplicaSetAvailable" => {
                progressing = true
            }
            "Available" if c.is_true() => available = true,
            _ => {}
        }
    }
    let spec = int(obj, "/spec/replicas", 1);
    let replicas = int(obj, "/status/replicas", 0);
    let updated = int(obj, "/status/updatedReplicas", 0);
    let ready = int(obj, "/status/readyReplicas", 0);
    let avail = int(obj, "/status/availableReplicas", 0);
    if spec > replicas {
        return Readiness::in_progress(format!("{replicas} of {spec} replicas created"));
    }
    if spec > updated {
        return Readiness::in_progress(format!("{updated} of {spec} replicas updated"));
    }
    if replicas > spec {
        return Readiness::in_progress(format!(
            "{} old replicas pending termination",
            replicas - spec
        ));
    }
    if updated > avail {
        return Readiness::in_progress(format!("{avail} of {updated} replicas available"));
    }
    if spec > ready {
        return Readiness::in_progress(format!("{ready} of {spec} replicas ready"));
    }
    if !progressing {
        return Readiness::in_progress("new ReplicaSet not available yet");
    }
    if !available {
        return Readiness::in_progress("Available condition not True yet");
    }
    Readiness::current(format!("{spec} of {spec} replicas available"))
}

/// Every replica ready and current; with a partition, the replicas above it updated. `OnDelete` is
/// user-managed and counts as soon as the controller has observed it. StatefulSets report no failure.
pub(super) fn statefulset(obj: &Value, _: &Context) -> Readiness {
    if let Some(r) = require_observed_generation(obj) {
        return r;
    }
    if string(obj, "/spec/updateStrategy/type") == Some("OnDelete") {
        return Readiness::current("update strategy OnDelete: updates are user-managed");
    }
    let spec = int(obj, "/spec/replicas", 1);
    let replicas = int(obj, "/status/replicas", 0);
    let ready = int(obj, "/status/readyReplicas", 0);
    let current = int(obj, "/status/currentReplicas", 0);
    let updated = int(obj, "/status/updatedReplicas", 0);
    let partition = int(obj, "/spec/updateStrategy/rollingUpdate/partition", -1);
    if spec > replicas {
        return Readiness::in_progress(format!("{replicas} of {spec} replicas created"));
    }
    if spec > ready {
        return Readiness::in_progress(format!("{ready} of {spec} replicas ready"));
    }
    if replicas > spec {
        return Readiness::in_progress(format!(
            "{} extra replicas pending termination",
            replicas - spec
        ));
    }
    // A partition keeps the ordinals below it at the old revision on purpose.
    if partition != -1 {
        let expected = spec - partition;
        if updated < expected {
            return Readiness::in_progress(format!(
                "{updated} of {expected} replicas above partition {partition} updated"
            ));
        }
        return Readiness::current(format!("partitioned rollout complete: {updated} updated"));
    }
    if spec > current {
        return Readiness::in_progress(format!(
            "{current} of {spec} replicas at the current revision"
        ));
    }
    if string(obj, "/status/currentRevision") != string(obj, "/status/updateRevision") {
        return Readiness::in_progress("waiting for currentRevision to reach updateRevision");
    }
    Readiness::current(format!("{spec} of {spec} replicas ready"))
}

/// Every node that should run a pod runs an updated, available, ready one.
pub(super) fn daemonset(obj: &Value, _: &Context) -> Readiness {
    if let Some(r) = require_observed_generation(obj) {
        return r;
    }
    let Some(desired) = obj
        .pointer("/status/desiredNumberScheduled")
        .and_then(Value::as_i64)
    else {
        return Readiness::in_progress("status.desiredNumberScheduled not set yet");
    };
    let checks = [
        ("/status/currentNumberScheduled", "scheduled"),
        ("/status/updatedNumberScheduled", "updated"),
        ("/status/numberAvailable", "available"),
        ("/status/numberReady", "ready"),
    ];
    for (pointer, what) in checks {
        let n = int(obj, pointer, 0);
        if desired > n {
            return Readiness::in_progress(format!("{n} of {desired} pods {what}"));
        }
    }
    Readiness::current(format!("{desired} of {desired} pods ready"))
}

/// Every replica labelled, available and ready, none extra. `ReplicaFailure` is not a failure: the
/// controller retries (quota, admission), so kstatus keeps it in progress and so does rekube.
pub(super) fn replicaset(obj: &Value, _: &Context) -> Readiness {
    if let Some(r) = require_observed_generation(obj) {
        return r;
    }
    if let Some(c) = condition(obj, "ReplicaFailure").filter(|c| c.is_true()) {
        return Readiness::in_progress(format!("replica failure: {}", c.describe()));
    }
    let spec = int(obj, "/spec/replicas", 1);
    let replicas = int(obj, "/status/replicas", 0);
    for (pointer, what) in [
        ("/status/fullyLabeledReplicas", "labelled"),
        ("/status/availableReplicas", "available"),
        ("/status/readyReplicas", "ready"),
    ] {
        let n = int(obj, pointer, 0);
        if spec > n {
            return Readiness::in_progress(format!("{n} of {spec} replicas {what}"));
        }
    }
    if replicas > spec {
        return Readiness::in_progress(format!(
            "{} extra replicas pending termination",
            replicas - spec
        ));
    }
    Readiness::current(format!("{spec} of {spec} replicas available"))
}

/// Complete (or `SuccessCriteriaMet`); `Failed` (or `FailureTarget`, the controller's decision to fail
/// it) is a failure. kstatus calls a started Job current; rekube waits for it to complete, because
/// what depends on a Job (a migration, a bootstrap) needs its result, not its start.
pub(super) fn job(obj: &Value, _: &Context) -> Readiness {
    let succeeded = int(obj, "/status/succeeded", 0);
    let failed = int(obj, "/status/failed", 0);
    let active = int(obj, "/status/active", 0);
    for c in conditions(obj).into_iter().filter(|c| c.is_true()) {
        match c.type_ {
            "Complete" | "SuccessCriteriaMet" => {
                return Readiness::current(format!("complete: {succeeded} succeeded"));
            }
            "Failed" | "FailureTarget" => {
                return Readiness::failed(format!(
                    "failed ({failed} failed pods): {}",
                    c.describe()
                ));
            }
            // A suspended Job does not run until resumed: waiting for it would only time out (kstatus).
            "Suspended" => return Readiness::current("suspended"),
            _ => {}
        }
    }
    if string(obj, "/status/startTime").is_none() {
        return Readiness::in_progress("not started yet");
    }
    Readiness::in_progress(format!(
        "running: {active} active, {succeeded} succeeded, {failed} failed"
    ))
}

/// Ready while running; a completed pod counts when it was meant to complete.
///
/// Departs from kstatus: phase `Failed` is a failure (kstatus says current), a pod that is
/// `Succeeded` with `restartPolicy: Always` will never be ready again, so it is a failure too, and
/// `Unschedulable` stays in progress (kstatus fails it after 15 s of age, which needs a clock; a
/// cluster autoscaler may still add a node, and the wait's timeout bounds it anyway).
pub(super) fn pod(obj: &Value, _: &Context) -> Readiness {
    let restart = string(obj, "/spec/restartPolicy").unwrap_or("Always");
    match string(obj, "/status/phase").unwrap_or("") {
        "Succeeded" if restart == "Always" => {
            Readiness::failed("terminated (Succeeded) although restartPolicy is Always")
        }
        "Succeeded" => Readiness::current("completed successfully"),
        "Failed" => Readiness::failed(format!(
            "failed: {}",
            string(obj, "/status/message")
                .or(string(obj, "/status/reason"))
                .unwrap_or("phase Failed")
        )),
        "Running" if condition_true(obj, "Ready") => Readiness::current("Ready"),
        "Running" => {
            let waiting = waiting_containers(obj);
            let crashing: Vec<&str> = waiting
                .iter()
                .filter(|(_, reason)| *reason == "CrashLoopBackOff")
                .map(|(name, _)| *name)
                .collect();
            if !crashing.is_empty() {
                return Readiness::failed(format!("CrashLoopBackOff: {}", crashing.join(", ")));
            }
            Readiness::in_progress(with_waiting("running, not Ready", &waiting))
        }
        "Pending" => match condition(obj, "PodScheduled").filter(|c| c.is_false()) {
            Some(c) => Readiness::in_progress(format!("not scheduled: {}", c.describe())),
            None => Readiness::in_progress(with_waiting("Pending", &waiting_containers(obj))),
        },
        "" => Readiness::in_progress("phase not reported yet"),
        other => Readiness::in_progress(format!("phase {other}")),
    }
}

/// `(container, reason)` for every container (init containers first) waiting with a reason.
fn waiting_containers(obj: &Value) -> Vec<(&str, &str)> {
    ["/status/initContainerStatuses", "/status/containerStatuses"]
        .into_iter()
        .filter_map(|p| obj.pointer(p).and_then(Value::as_array))
        .flatten()
        .filter_map(|cs| {
            let name = cs.get("name")?.as_str()?;
            let reason = cs.pointer("/state/waiting/reason")?.as_str()?;
            Some((name, reason))
        })
        .collect()
}

/// Appends why containers wait (`ImagePullBackOff`…): the first thing a user wants to know.
fn with_waiting(what: &str, waiting: &[(&str, &str)]) -> String {
    if waiting.is_empty() {
        return what.to_string();
    }
    let list: Vec<String> = waiting.iter().map(|(n, r)| format!("{n} {r}")).collect();
    format!("{what}; waiting: {}", list.join(", "))
}
