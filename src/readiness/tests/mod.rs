//! Table-driven cases, one per rule; objects shaped as the API server returns them.

use serde_json::{Value, json};

use super::*;

mod builtin;
mod health;
mod kinds;
mod workloads;

struct Case {
    name: &'static str,
    obj: Value,
    ctx: Context,
    want: Status,
    /// A part of the message that says why.
    says: &'static str,
}

fn case(name: &'static str, obj: Value, want: Status, says: &'static str) -> Case {
    Case {
        name,
        obj,
        ctx: Context::default(),
        want,
        says,
    }
}

fn with(ctx: Context, c: Case) -> Case {
    Case { ctx, ..c }
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let got = compute_with(&c.obj, &c.ctx);
        assert_eq!(got.status, c.want, "{}: {}", c.name, got.message);
        assert!(
            got.message.contains(c.says),
            "{}: message {:?} lacks {:?}",
            c.name,
            got.message,
            c.says
        );
    }
}

fn cond(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message})
}

fn job(status: Value) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "generation": 1}, "spec": {"completions": 1}, "status": status})
}

fn pod(restart: &str, status: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"restartPolicy": restart}, "status": status})
}

#[test]
fn generic_rules() {
    run(vec![
        case(
            "deletionTimestamp wins over everything",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "deletionTimestamp": "2025-01-01T00:00:00Z"}}),
            Status::Terminating,
            "deletion",
        ),
        case(
            "observedGeneration behind generation",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"generation": 3}, "status": {"observedGeneration": 2}}),
            Status::InProgress,
            "generation 3",
        ),
        case(
            "Reconciling True",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"conditions": [cond("Reconciling", "True", "Progressing", "creating")]}}),
            Status::InProgress,
            "creating",
        ),
        case(
            "Stalled True is a failure",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"conditions": [cond("Stalled", "True", "BadSpec", "size must be positive")]}}),
            Status::Failed,
            "size must be positive",
        ),
        case(
            "Ready False keeps an unknown kind in progress",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"conditions": [cond("Ready", "False", "Provisioning", "creating the volume")]}}),
            Status::InProgress,
            "creating the volume",
        ),
        case(
            "Ready True",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"conditions": [cond("Ready", "True", "Ready", "")]}}),
            Status::Current,
            "Ready",
        ),
        case(
            "Synced False holds a Ready resource (Crossplane convention)",
            json!({"apiVersion": "example.org/v1", "kind": "XDatabase", "status": {"conditions": [cond("Ready", "True", "Available", ""), cond("Synced", "False", "ReconcileError", "cannot apply")]}}),
            Status::InProgress,
            "cannot apply",
        ),
        case(
            "an unknown kind without conditions is current once it exists",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            Status::Current,
            "exists",
        ),
        case(
            "malformed conditions are ignored, not fatal",
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "status": {"conditions": "oops"}}),
            Status::Current,
            "exists",
        ),
    ]);
}
