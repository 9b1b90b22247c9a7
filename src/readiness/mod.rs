//! Readiness: is an object done? kstatus semantics (cli-utils `pkg/kstatus/status`), ported and pure.
//!
//! [`compute`] reads only the object as the API server returned it, never the cluster. In kstatus
//! order:
//!
//! 1. `metadata.deletionTimestamp` set: [`Status::Terminating`];
//! 2. `status.observedGeneration` reported and behind `metadata.generation`: [`Status::InProgress`];
//! 3. the abnormal-true conditions: `Reconciling: True` is in progress, `Stalled: True` is failed;
//! 4. the kind's rule, one entry per kind in a table (CRD, Namespace, workloads, Job, PVC, Pod,
//!    Service, APIService, webhook configurations, VolumeSnapshot, PodDisruptionBudget…);
//! 5. any other kind: its `Ready` condition if it has one (and not `Synced: False`, the Crossplane
//!    convention), else current once it exists.
//!
//! A [health rule](health) for the kind replaces steps 2 to 5: CEL expressions in the shape of Flux's
//! `healthCheckExprs`, declared by the user under `health:` in `rekube.yaml` (through
//! [`Context::health`]) or built in for well-known custom resources ([`builtin`]: cert-manager, Argo
//! Rollouts, Flux, Prometheus Operator, Crossplane). User rules win over built-in ones.
//! [`judge`] says which rule decided and how each expression evaluated (for `rekube explain`).
//!
//! What depends on other objects comes in through a [`Context`]: the binding mode of a claim's
//! StorageClass, and whether the Services behind a webhook configuration or APIService have ready
//! endpoints ([`service_refs`], [`service_has_ready_endpoints`]), and whether the cluster is simulated
//! ([`Context::simulated`], [`simulated_reason`]).
//!
//! An observation is judged only when it is at least as new as the write that preceded the wait
//! ([`is_as_new_as`]): a watch cache may still hold the object from before the write.
//!
//! Messages never repeat the object: callers prefix them with its `Kind/namespace/name`.

mod builtin;
mod cel;
mod endpoints;
mod fresh;
mod generic;
pub mod health;
mod kinds;
mod simulated;
#[cfg(test)]
mod tests;
mod workloads;

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::object::split_api_version;

pub use cel::Expr;
pub use endpoints::{service_has_ready_endpoints, service_refs};
pub use fresh::is_as_new_as;
pub use health::{Evaluation, HealthRule, HealthRules, RuleOrigin};
pub use kinds::{
    is_apiservice_available, is_crd_established, is_job_completed, is_job_failed,
    is_namespace_active, is_pod_ready, is_pvc_bound, is_wait_for_first_consumer, pvc_storage_class,
};
pub use simulated::simulated_reason;

/// Where an object stands (kstatus statuses, without `Unknown`: every input gets an answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    /// Done: dependents may start.
    Current,
    /// Not yet; waiting may help.
    InProgress,
    /// Will not get better by waiting.
    Failed,
    /// Being deleted.
    Terminating,
    /// Does not exist.
    NotFound,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Current => "Current",
            Status::InProgress => "InProgress",
            Status::Failed => "Failed",
            Status::Terminating => "Terminating",
            Status::NotFound => "NotFound",
        })
    }
}

/// A status and why, e.g. `InProgress` / "2 of 3 replicas available".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub status: Status,
    pub message: String,
}

impl Readiness {
    pub fn current(message: impl Into<String>) -> Self {
        Self::new(Status::Current, message)
    }

    pub fn in_progress(message: impl Into<String>) -> Self {
        Self::new(Status::InProgress, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(Status::Failed, message)
    }

    pub fn terminating(message: impl Into<String>) -> Self {
        Self::new(Status::Terminating, message)
    }

    /// For an object the cluster does not have.
    pub fn not_found() -> Self {
        Self::new(Status::NotFound, "not found")
    }

    pub fn is_current(&self) -> bool {
        self.status == Status::Current
    }

    fn new(status: Status, message: impl Into<String>) -> Self {
        Readiness {
            status,
            message: message.into(),
        }
    }
}

/// `Status: message`, as waits report it.
impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

/// What readiness of one object depends on besides the object. `Default` is what the cluster layer
/// passes when it knows nothing more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// For a PersistentVolumeClaim: its StorageClass has `volumeBindingMode: WaitForFirstConsumer`
    /// (see [`pvc_storage_class`] and [`is_wait_for_first_consumer`]), so `Pending` counts as current.
    pub wait_for_first_consumer: bool,
    /// For a Service of type LoadBalancer: also wait for its external address. Off by default: on a
    /// cluster without a load-balancer controller it never comes.
    pub wait_for_load_balancer: bool,
    /// For webhook configurations and APIServices: whether every Service of [`service_refs`] has ready
    /// endpoints; `None` when the caller did not look (a webhook configuration then stays in progress).
    pub services_ready: Option<bool>,
    /// The user's health rules (`health:` in `rekube.yaml`); the built-in ones apply without them.
    pub health: HealthRules,
    /// The cluster is simulated (rekube's local control plane: pods never run). What cannot work
    /// there is judged by what can be observed: an APIService backed by a Service by that Service's
    /// ready endpoints, not by `Available`. See [`simulated_reason`].
    pub simulated: bool,
}

/// What decided an object's readiness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "by")]
pub enum JudgedBy {
    /// A health rule (the user's or a built-in one), with the outcome of each of its expressions.
    HealthRule {
        rule: String,
        evaluations: Vec<Evaluation>,
    },
    /// The kstatus rule of a built-in kind (`apps/Deployment`).
    Kind { rule: String },
    /// Checks that come before any rule (deletion, an unobserved generation, `Stalled`…), or the
    /// generic conditions of a kind without a rule.
    Generic,
}

impl std::fmt::Display for JudgedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JudgedBy::HealthRule { rule, .. } => write!(f, "health rule {rule}"),
            JudgedBy::Kind { rule } => write!(f, "built-in rule for {rule}"),
            JudgedBy::Generic => f.write_str("generic conditions (Ready, Reconciling, Stalled)"),
        }
    }
}

/// A readiness and what decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    pub readiness: Readiness,
    pub judged_by: JudgedBy,
}

/// Readiness of an object as the API server returned it, with the default [`Context`].
pub fn compute(obj: &Value) -> Readiness {
    compute_with(obj, &Context::default())
}

/// Readiness of an object as the API server returned it (with `status`), given what it depends on.
pub fn compute_with(obj: &Value, ctx: &Context) -> Readiness {
    judge(obj, ctx).readiness
}

/// [`compute_with`], saying which rule decided and, for a health rule, how each expression evaluated.
pub fn judge(obj: &Value, ctx: &Context) -> Judgement {
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map_or("", |v| split_api_version(v).0);
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if let Some(r) = generic::terminating(obj) {
        return Judgement {
            readiness: r,
            judged_by: JudgedBy::Generic,
        };
    }
    if let Some(rule) = ctx.health.find(group, kind) {
        if ctx.simulated && simulated::builtin_rule_never_met(rule, group) {
            return Judgement {
                readiness: Readiness::current(simulated::rule_not_evaluated(&rule.name())),
                judged_by: JudgedBy::HealthRule {
                    rule: rule.name(),
                    evaluations: Vec::new(),
                },
            };
        }
        let (readiness, evaluations) = health::evaluate(rule, obj);
        return Judgement {
            readiness,
            judged_by: JudgedBy::HealthRule {
                rule: rule.name(),
                evaluations,
            },
        };
    }
    if let Some(r) = generic::check(obj) {
        return Judgement {
            readiness: r,
            judged_by: JudgedBy::Generic,
        };
    }
    match kinds::rule_for(group, kind) {
        Some(rule) => Judgement {
            readiness: rule(obj, ctx),
            judged_by: JudgedBy::Kind {
                rule: if group.is_empty() {
                    kind.to_string()
                } else {
                    format!("{group}/{kind}")
                },
            },
        },
        None => Judgement {
            readiness: generic::fallback(obj),
            judged_by: JudgedBy::Generic,
        },
    }
}
