//! Rules that hold for every kind (kstatus `checkGenericProperties`), the fallback for kinds without a
//! rule, and the small readers the rules share.
//!
//! Readers never fail: a field that is absent or of the wrong type reads as absent, so malformed
//! input makes an object look "not ready yet" rather than making readiness error out.

use serde_json::Value;

use super::Readiness;

/// One entry of `status.conditions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Condition<'a> {
    pub type_: &'a str,
    /// `True`, `False` or `Unknown`.
    pub status: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

impl Condition<'_> {
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }

    pub fn is_false(&self) -> bool {
        self.status == "False"
    }

    /// `reason: message`, or whichever of the two is set.
    pub fn describe(&self) -> String {
        match (self.reason.is_empty(), self.message.is_empty()) {
            (false, false) => format!("{}: {}", self.reason, self.message),
            (false, true) => self.reason.to_string(),
            (true, false) => self.message.to_string(),
            (true, true) => format!("{} is {}", self.type_, self.status),
        }
    }
}

/// The well-formed entries of `status.conditions`, in order.
pub(crate) fn conditions(obj: &Value) -> Vec<Condition<'_>> {
    let Some(list) = obj.pointer("/status/conditions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| {
            Some(Condition {
                type_: c.get("type")?.as_str()?,
                status: c.get("status")?.as_str()?,
                reason: c.get("reason").and_then(Value::as_str).unwrap_or(""),
                message: c.get("message").and_then(Value::as_str).unwrap_or(""),
            })
        })
        .collect()
}

/// The first condition of type `type_`.
pub(crate) fn condition<'a>(obj: &'a Value, type_: &str) -> Option<Condition<'a>> {
    conditions(obj).into_iter().find(|c| c.type_ == type_)
}

/// True when condition `type_` exists with status `True`.
pub(crate) fn condition_true(obj: &Value, type_: &str) -> bool {
    condition(obj, type_).is_some_and(|c| c.is_true())
}

/// Integer at a JSON pointer, or `default` (kstatus `GetIntField`).
pub(crate) fn int(obj: &Value, pointer: &str, default: i64) -> i64 {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// Integer at a JSON pointer, if present.
pub(crate) fn opt_int(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

/// String at a JSON pointer, if present.
pub(crate) fn string<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

/// An object being deleted: decided before any rule, a health rule included.
pub(crate) fn terminating(obj: &Value) -> Option<Readiness> {
    string(obj, "/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_empty())
        .then(|| Readiness::terminating("scheduled for deletion"))
}

/// What can be decided before looking at the kind, in kstatus order: deletion, then an unobserved
/// generation, then the abnormal-true `Reconciling` and `Stalled` conditions.
pub(crate) fn check(obj: &Value) -> Option<Readiness> {
    if let Some(r) = terminating(obj) {
        return Some(r);
    }
    // Only when the controller reports observedGeneration: many kinds never do.
    if let (Some(generation), Some(observed)) = (
        opt_int(obj, "/metadata/generation"),
        opt_int(obj, "/status/observedGeneration"),
    ) && generation != observed
    {
        return Some(Readiness::in_progress(format!(
            "generation {generation} not observed yet (observed {observed})"
        )));
    }
    for c in conditions(obj) {
        if c.type_ == "Reconciling" && c.is_true() {
            return Some(Readiness::in_progress(format!(
                "reconciling: {}",
                c.describe()
            )));
        }
        if c.type_ == "Stalled" && c.is_true() {
            return Some(Readiness::failed(format!("stalled: {}", c.describe())));
        }
    }
    None
}

/// For workload controllers, which always report `status.observedGeneration` once they have acted:
/// until then the status describes nothing (kstatus `checkGenerationSet`, used there for DaemonSets;
/// rekube uses it for every workload so that "rolled out" always means "at the current generation").
pub(crate) fn require_observed_generation(obj: &Value) -> Option<Readiness> {
    let Some(generation) = opt_int(obj, "/metadata/generation") else {
        return Some(Readiness::in_progress("metadata.generation not set yet"));
    };
    if opt_int(obj, "/status/observedGeneration").is_none() {
        return Some(Readiness::in_progress(format!(
            "generation {generation} not observed by the controller yet"
        )));
    }
    None
}

/// Kinds without a rule: a `Ready` condition when there is one (the convention of most controllers
/// built with controller-runtime, Flux and cert-manager), else ready once it exists (kstatus). A
/// `Synced: False` condition (Crossplane's convention: the provider could not apply the resource and
/// retries) holds it in progress even when `Ready`.
pub(crate) fn fallback(obj: &Value) -> Readiness {
    if let Some(c) = condition(obj, "Synced").filter(|c| c.is_false()) {
        return Readiness::in_progress(format!("not Synced: {}", c.describe()));
    }
    match condition(obj, "Ready") {
        Some(c) if c.is_true() => Readiness::current("Ready"),
        Some(c) => Readiness::in_progress(format!("not Ready: {}", c.describe())),
        None => Readiness::current("exists"),
    }
}
