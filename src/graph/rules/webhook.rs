//! Admission webhooks and aggregated APIs: they wait for the Service that serves them.

use crate::graph::builder::{Builder, Ref};
use crate::graph::model::Rule;
use crate::object::Object;

use super::{group_kind, items, str_at};

/// A webhook configuration, or an APIService served by a Service: once registered, the API server calls
/// it, so it comes after everything else of its layer ([`add_webhook_last_edges`](super::add_webhook_last_edges)).
pub fn is_webhook(o: &Object) -> bool {
    match group_kind(o) {
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => true,
        ("apiregistration.k8s.io", "APIService") => {
            o.get("/spec/service").is_some_and(|s| !s.is_null())
        }
        _ => false,
    }
}

/// Webhook configuration → `webhooks[].clientConfig.service`; APIService → `spec.service`.
pub fn add_webhook_service_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        if !is_webhook(o) {
            continue;
        }
        let mut services = Vec::new();
        if o.id.kind == "APIService" {
            if let Some(s) = o.get("/spec/service") {
                services.push((s, "spec.service".to_string()));
            }
        } else {
            for w in items(&o.body, "/webhooks") {
                if let Some(s) = w.pointer("/clientConfig/service") {
                    services.push((s, format!("webhook {}", str_at(w, "/name").unwrap_or("?"))));
                }
            }
        }
        for (s, detail) in services {
            if let (Some(ns), Some(name)) = (str_at(s, "/namespace"), str_at(s, "/name")) {
                b.reference(
                    n,
                    Ref::new("", "Service", Some(ns), name),
                    Rule::WebhookService,
                    detail,
                );
            }
        }
    }
}
