//! Services behind webhook configurations and APIServices, and whether they have ready endpoints.
//!
//! Readiness of those objects depends on other objects, which a pure function cannot fetch: the
//! cluster layer watches the Services named by [`service_refs`], lists their EndpointSlices
//! (label `kubernetes.io/service-name=<name>`), and passes [`service_has_ready_endpoints`] of each
//! into [`Context::services_ready`](super::Context::services_ready).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::object::{ObjectId, split_api_version};

/// The Services an object sends requests to: `webhooks[].clientConfig.service` of a
/// Validating/MutatingWebhookConfiguration, `spec.service` of an APIService. Sorted, without
/// duplicates; empty for other kinds and for webhooks that call a URL.
pub fn service_refs(obj: &Value) -> Vec<ObjectId> {
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map_or("", |v| split_api_version(v).0);
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let refs: Vec<&Value> = match (group, kind) {
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => obj
            .get("webhooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|w| w.pointer("/clientConfig/service"))
            .collect(),
        ("apiregistration.k8s.io", "APIService") => {
            obj.pointer("/spec/service").into_iter().collect()
        }
        _ => Vec::new(),
    };
    let ids: BTreeSet<ObjectId> = refs
        .into_iter()
        .filter_map(|s| {
            let namespace = s.get("namespace")?.as_str()?;
            let name = s.get("name")?.as_str()?;
            Some(ObjectId::new("", "Service", Some(namespace), name))
        })
        .collect();
    ids.into_iter().collect()
}

/// True when one of a Service's EndpointSlices (discovery.k8s.io/v1) has an endpoint that is not
/// known to be unready. `conditions.ready` absent means unknown, which the API says to treat as
/// ready; terminating endpoints report `ready: false`.
pub fn service_has_ready_endpoints(endpoint_slices: &[Value]) -> bool {
    endpoint_slices
        .iter()
        .filter_map(|slice| slice.get("endpoints").and_then(Value::as_array))
        .flatten()
        .any(|e| {
            let has_address = e
                .get("addresses")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            has_address && e.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false)
        })
}
