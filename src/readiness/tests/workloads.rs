//! Workload rules: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, Pod.

use serde_json::{Value, json};

use super::*;

fn deployment(spec: i64, status: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "web", "generation": 2},
        "spec": {"replicas": spec, "progressDeadlineSeconds": 600},
        "status": status,
    })
}

fn rolled_out(n: i64) -> Value {
    json!({
        "observedGeneration": 2, "replicas": n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n,
        "conditions": [
            cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
            cond("Progressing", "True", "NewReplicaSetAvailable", "ReplicaSet \"api-5d4f\" has successfully progressed."),
        ],
    })
}

#[test]
fn deployments() {
    run(vec![
        case(
            "rolled out",
            deployment(3, rolled_out(3)),
            Status::Current,
            "3 of 3",
        ),
        case(
            "controller has not observed it",
            deployment(3, json!({})),
            Status::InProgress,
            "not observed",
        ),
        case(
            "too few available",
            deployment(
                3,
                json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}),
            ),
            Status::InProgress,
            "2 of 3 replicas available",
        ),
        case(
            "too few updated",
            deployment(
                3,
                json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3}),
            ),
            Status::InProgress,
            "1 of 3 replicas updated",
        ),
        case(
            "old replicas still terminating",
            deployment(
                2,
                json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}),
            ),
            Status::InProgress,
            "1 old replicas",
        ),
        case(
            "progress deadline exceeded",
            deployment(
                3,
                json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "conditions": [
                    cond("Progressing", "False", "ProgressDeadlineExceeded", "ReplicaSet \"api-7c9\" has timed out progressing."),
                ]}),
            ),
            Status::Failed,
            "timed out progressing",
        ),
        case(
            "counts right but new ReplicaSet not reported available",
            deployment(
                1,
                json!({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "conditions": [
                    cond("Progressing", "True", "ReplicaSetUpdated", ""),
                    cond("Available", "True", "MinimumReplicasAvailable", ""),
                ]}),
            ),
            Status::InProgress,
            "new ReplicaSet",
        ),
    ]);
}

fn sts(spec: Value, status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "generation": 1}, "spec": spec, "status": status})
}

#[test]
fn statefulsets_daemonsets_replicasets() {
    let full = json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "updatedReplicas": 3, "currentRevision": "db-1", "updateRevision": "db-1"});
    let mut mismatch = full.clone();
    mismatch["updateRevision"] = json!("db-2");
    let rolling = json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}});
    run(vec![
        case(
            "statefulset rolled out",
            sts(rolling.clone(), full.clone()),
            Status::Current,
            "3 of 3",
        ),
        case(
            "statefulset revision not reached",
            sts(rolling.clone(), mismatch.clone()),
            Status::InProgress,
            "updateRevision",
        ),
        case(
            "statefulset partition: replicas above it updated",
            sts(
                json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}),
                json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 2, "updatedReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-2"}),
            ),
            Status::Current,
            "partition",
        ),
        case(
            "statefulset partition: not yet",
            sts(
                json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
                json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 2, "updatedReplicas": 1}),
            ),
            Status::InProgress,
            "1 of 2",
        ),
        case(
            "statefulset OnDelete",
            sts(
                json!({"replicas": 3, "updateStrategy": {"type": "OnDelete"}}),
                mismatch,
            ),
            Status::Current,
            "OnDelete",
        ),
        case(
            "statefulset not ready",
            sts(
                rolling,
                json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 1}),
            ),
            Status::InProgress,
            "1 of 3 replicas ready",
        ),
        case(
            "daemonset rolled out",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"generation": 4}, "status": {
                "observedGeneration": 4, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2, "numberReady": 2}}),
            Status::Current,
            "2 of 2",
        ),
        case(
            "daemonset updating",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"generation": 4}, "status": {
                "observedGeneration": 4, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 1, "numberAvailable": 2, "numberReady": 2}}),
            Status::InProgress,
            "1 of 2 pods updated",
        ),
        case(
            "daemonset without observedGeneration",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"generation": 1}, "status": {"desiredNumberScheduled": 0}}),
            Status::InProgress,
            "not observed",
        ),
        case(
            "replicaset available",
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {
                "observedGeneration": 1, "replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}}),
            Status::Current,
            "2 of 2",
        ),
        case(
            "replicaset replica failure",
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {
                "observedGeneration": 1, "replicas": 0, "conditions": [cond("ReplicaFailure", "True", "FailedCreate", "exceeded quota")]}}),
            Status::InProgress,
            "exceeded quota",
        ),
    ]);
}

#[test]
fn jobs_and_pods() {
    run(vec![
        case(
            "job complete",
            job(
                json!({"startTime": "t", "succeeded": 1, "conditions": [cond("SuccessCriteriaMet", "True", "", ""), cond("Complete", "True", "", "")]}),
            ),
            Status::Current,
            "complete",
        ),
        case(
            "job failed",
            job(
                json!({"startTime": "t", "failed": 6, "conditions": [cond("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]}),
            ),
            Status::Failed,
            "backoff limit",
        ),
        case(
            "job running is not done (unlike kstatus)",
            job(json!({"startTime": "t", "active": 1})),
            Status::InProgress,
            "1 active",
        ),
        case(
            "job not started",
            job(json!({})),
            Status::InProgress,
            "not started",
        ),
        case(
            "job suspended",
            job(json!({"conditions": [cond("Suspended", "True", "JobSuspended", "")]})),
            Status::Current,
            "suspended",
        ),
        case(
            "cronjob exists",
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}}),
            Status::Current,
            "exists",
        ),
        case(
            "pod ready",
            pod(
                "Always",
                json!({"phase": "Running", "conditions": [cond("Ready", "True", "", "")]}),
            ),
            Status::Current,
            "Ready",
        ),
        case(
            "pod crash looping",
            pod(
                "Always",
                json!({"phase": "Running", "conditions": [cond("Ready", "False", "ContainersNotReady", "")],
                "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
            ),
            Status::Failed,
            "CrashLoopBackOff: app",
        ),
        case(
            "pod pulling image says why",
            pod(
                "Always",
                json!({"phase": "Pending", "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}),
            ),
            Status::InProgress,
            "app ImagePullBackOff",
        ),
        case(
            "pod unschedulable stays in progress",
            pod(
                "Always",
                json!({"phase": "Pending", "conditions": [cond("PodScheduled", "False", "Unschedulable", "0/1 nodes are available")]}),
            ),
            Status::InProgress,
            "0/1 nodes",
        ),
        case(
            "pod succeeded, restartPolicy Never",
            pod("Never", json!({"phase": "Succeeded"})),
            Status::Current,
            "completed",
        ),
        case(
            "pod succeeded, restartPolicy Always",
            pod("Always", json!({"phase": "Succeeded"})),
            Status::Failed,
            "restartPolicy",
        ),
        case(
            "pod failed",
            pod(
                "OnFailure",
                json!({"phase": "Failed", "reason": "Evicted", "message": "low on memory"}),
            ),
            Status::Failed,
            "low on memory",
        ),
        case(
            "pod without phase",
            pod("Always", json!({})),
            Status::InProgress,
            "phase",
        ),
    ]);
}
