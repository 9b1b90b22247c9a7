//! What a warm standby keeps running: the workloads behind the repository's admission webhooks, CRD
//! conversion webhooks and aggregated APIs. Held at zero, their Service has no endpoints: the standby's
//! API server rejects writes (or cannot serve the API) and the webhook configuration never becomes
//! ready, so the standby could not even be built.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::object::{Object, ObjectId};

/// Deployments and StatefulSets whose pods a Service selects that a webhook or an APIService of
/// `objects` calls.
pub fn api_backends(objects: &[Object]) -> BTreeSet<ObjectId> {
    let called = called_services(objects);
    let selectors: Vec<(&str, &serde_json::Map<String, Value>)> = objects
        .iter()
        .filter(|o| o.id.group.is_empty() && o.id.kind == "Service")
        .filter(|o| called.contains(&(o.namespace().unwrap_or_default(), o.name())))
        .filter_map(|o| {
            let selector = o.get("/spec/selector")?.as_object()?;
            (!selector.is_empty()).then_some((o.namespace().unwrap_or_default(), selector))
        })
        .collect();
    objects
        .iter()
        .filter(|o| super::clusters::is_held_kind(o))
        .filter(|o| {
            let Some(labels) = o
                .get("/spec/template/metadata/labels")
                .and_then(Value::as_object)
            else {
                return false;
            };
            selectors.iter().any(|(ns, selector)| {
                *ns == o.namespace().unwrap_or_default()
                    && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
        })
        .map(|o| o.id.clone())
        .collect()
}

/// (namespace, name) of every Service a webhook configuration, a CRD's conversion webhook or an
/// APIService of `objects` calls.
fn called_services(objects: &[Object]) -> BTreeSet<(&str, &str)> {
    let mut refs: Vec<&Value> = Vec::new();
    for o in objects {
        match (o.id.group.as_str(), o.id.kind.as_str()) {
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
            ) => {
                let hooks = o.get("/webhooks").and_then(Value::as_array);
                refs.extend(
                    hooks
                        .into_iter()
                        .flatten()
                        .filter_map(|w| w.pointer("/clientConfig/service")),
                );
            }
            ("apiregistration.k8s.io", "APIService") => refs.extend(o.get("/spec/service")),
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                refs.extend(o.get("/spec/conversion/webhook/clientConfig/service"));
            }
            _ => {}
        }
    }
    refs.into_iter()
        .filter_map(|s| {
            let text = |k: &str| s.get(k).and_then(Value::as_str);
            Some((text("namespace")?, text("name")?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::SourceLoc;
    use serde_json::json;

    fn object(body: Value) -> Object {
        let api = body["apiVersion"].as_str().unwrap_or("v1").to_string();
        let group = api.rsplit_once('/').map_or("", |(g, _)| g).to_string();
        let kind = body["kind"].as_str().unwrap_or_default();
        let name = body["metadata"]["name"].as_str().unwrap_or_default();
        let ns = body["metadata"]["namespace"].as_str();
        Object {
            id: ObjectId::new(&group, kind, ns, name),
            api_version: api,
            body,
            source: SourceLoc {
                layer: "tools".into(),
                path: "tools/x.yaml".into(),
                line: 1,
                document: 0,
            },
        }
    }

    fn deployment(name: &str, app: &str) -> Object {
        object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "ops"},
            "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": app, "tier": "x"}}}}}))
    }

    fn service(name: &str, app: &str) -> Object {
        object(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "ops"}, "spec": {"selector": {"app": app}}}))
    }

    #[test]
    fn the_workloads_behind_webhooks_and_aggregated_apis_are_found() {
        let objects = vec![
            deployment("operator", "operator"),
            deployment("metrics", "metrics"),
            deployment("converter", "converter"),
            deployment("web", "web"),
            service("operator-webhook", "operator"),
            service("metrics-api", "metrics"),
            service("converter", "converter"),
            service("web", "web"),
            object(json!({"apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "v"},
                "webhooks": [{"name": "v.example.com",
                    "clientConfig": {"service": {"namespace": "ops", "name": "operator-webhook"}}}]})),
            object(
                json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": {"name": "v1beta1.metrics.example.com"},
                "spec": {"service": {"namespace": "ops", "name": "metrics-api"}}}),
            ),
            object(
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "widgets.example.com"},
                "spec": {"conversion": {"strategy": "Webhook", "webhook": {"clientConfig":
                    {"service": {"namespace": "ops", "name": "converter"}}}}}}),
            ),
        ];
        let found: Vec<String> = api_backends(&objects)
            .iter()
            .map(|i| i.name.clone())
            .collect();
        assert_eq!(found, ["converter", "metrics", "operator"]);
    }

    #[test]
    fn a_warm_standby_holds_everything_but_the_webhooks_backend() {
        let mut objects = vec![
            deployment("operator", "operator"),
            deployment("web", "web"),
            service("operator-webhook", "operator"),
            object(json!({"apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "v"},
                "webhooks": [{"name": "v.example.com",
                    "clientConfig": {"service": {"namespace": "ops", "name": "operator-webhook"}}}]})),
        ];
        assert_eq!(super::super::clusters::hold_replicas(&mut objects), 1);
        assert_eq!(objects[0].get("/spec/replicas"), Some(&json!(2)));
        assert_eq!(objects[1].get("/spec/replicas"), Some(&json!(0)));
        assert_eq!(
            objects[1].annotation(crate::keys::ANNOTATION_STANDBY_REPLICAS),
            Some("2")
        );
    }

    #[test]
    fn a_service_without_selector_or_in_another_namespace_selects_nothing() {
        let mut other = service("operator-webhook", "operator");
        other.id.namespace = Some("elsewhere".into());
        let objects = vec![
            deployment("operator", "operator"),
            other,
            object(json!({"apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingWebhookConfiguration", "metadata": {"name": "m"},
                "webhooks": [{"name": "m.example.com",
                    "clientConfig": {"service": {"namespace": "ops", "name": "operator-webhook"}}}]})),
        ];
        assert!(api_backends(&objects).is_empty());
    }
}
