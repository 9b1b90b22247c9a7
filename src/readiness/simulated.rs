//! Which objects a simulated cluster can only pretend to make ready, and why (pure).
//!
//! On rekube's local control plane pods never run, so nothing answers behind a Service, and there is
//! no storage. Readiness of the objects below is therefore judged by what can be observed, and every
//! one of them is listed in drill and rebuild reports with the reason, so a green drill never hides
//! what it could not prove.

use serde_json::Value;

use super::endpoints::service_refs;
use super::health::{HealthRule, HealthRules, RuleOrigin};
use crate::object::split_api_version;

/// The group rekube's simulated provisioner serves itself (it marks snapshots ready).
const SNAPSHOT_GROUP: &str = "snapshot.storage.k8s.io";

/// Objects of `group` get their status from a controller that never runs in a simulated cluster: custom
/// resources (pods never run, so neither do operators), but not the snapshots rekube simulates.
pub fn controller_never_runs(group: &str) -> bool {
    !crate::builtin::GROUPS.contains(&group) && group != SNAPSHOT_GROUP
}

/// A built-in health rule of a custom resource judges what its operator writes, and operators run as pods,
/// which never run in a simulated cluster. The user's own rules are evaluated: they may run the controller
/// themselves, or write the status.
pub fn builtin_rule_never_met(rule: &HealthRule, group: &str) -> bool {
    rule.origin == RuleOrigin::Builtin && controller_never_runs(group)
}

/// Why a health rule of a custom resource is not evaluated in a simulated cluster.
pub fn rule_not_evaluated(rule: &str) -> String {
    format!(
        "no controller runs in a simulated cluster: health rule {rule} not evaluated, ready once it exists"
    )
}

/// Why the readiness of `obj` (as written in the repository) is simulated on a simulated cluster, or
/// `None` when it is judged as on a real cluster. `health`: the rules in force (built-in ones too).
pub fn simulated_reason(obj: &Value, health: &HealthRules) -> Option<String> {
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map_or("", |v| split_api_version(v).0);
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let services = || {
        service_refs(obj)
            .iter()
            .map(|s| format!("Service {}", s.to_string().trim_start_matches("Service/")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (group, kind) {
        ("apiregistration.k8s.io", "APIService") if obj.pointer("/spec/service").is_some() => {
            Some(format!(
                "backend not callable in a simulated cluster; {} has ready endpoints",
                services()
            ))
        }
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => {
            let mut reason = "admission webhooks are not called in a simulated cluster".to_owned();
            if !service_refs(obj).is_empty() {
                reason.push_str(&format!("; {} has ready endpoints", services()));
            }
            Some(reason)
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition")
            if obj.pointer("/spec/conversion/strategy").and_then(Value::as_str)
                == Some("Webhook") =>
        {
            let service = obj
                .pointer("/spec/conversion/webhook/clientConfig/service")
                .and_then(|s| Some(format!("{}/{}", s.get("namespace")?.as_str()?, s.get("name")?.as_str()?)));
            Some(match service {
                Some(s) => format!(
                    "conversion webhook (Service {s}) not callable in a simulated cluster: its objects can only be read at the version they are stored in"
                ),
                None => "conversion webhook not callable in a simulated cluster: its objects can only be read at the version they are stored in".to_owned(),
            })
        }
        (SNAPSHOT_GROUP, "VolumeSnapshot") => Some(
            "no snapshot controller in a simulated cluster: marked readyToUse by rekube once its source was bound (no data)"
                .to_owned(),
        ),
        ("", "PersistentVolumeClaim") => restored_from(obj).map(|snapshot| {
            format!("restored from VolumeSnapshot {snapshot} by the simulated provisioner (no data)")
        }),
        _ => health
            .find(group, kind)
            .filter(|rule| builtin_rule_never_met(rule, group))
            .map(|rule| rule_not_evaluated(&rule.name())),
    }
}

/// The VolumeSnapshot a claim is restored from (`dataSourceRef`, else `dataSource`).
fn restored_from(claim: &Value) -> Option<&str> {
    ["/spec/dataSourceRef", "/spec/dataSource"]
        .iter()
        .filter_map(|p| claim.pointer(p))
        .find(|r| {
            r.get("apiGroup").and_then(Value::as_str) == Some("snapshot.storage.k8s.io")
                && r.get("kind").and_then(Value::as_str) == Some("VolumeSnapshot")
        })
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reasons_name_what_was_not_proven() {
        let cases = [
            (
                json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                       "spec": {"service": {"namespace": "monitoring", "name": "prometheus-adapter"}}}),
                Some(
                    "backend not callable in a simulated cluster; Service monitoring/prometheus-adapter has ready endpoints",
                ),
            ),
            (
                json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "spec": {}}),
                None,
            ),
            (
                json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                       "webhooks": [{"clientConfig": {"service": {"namespace": "m", "name": "hook"}}}]}),
                Some(
                    "admission webhooks are not called in a simulated cluster; Service m/hook has ready endpoints",
                ),
            ),
            (
                json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                       "webhooks": [{"clientConfig": {"url": "https://x"}}]}),
                Some("admission webhooks are not called in a simulated cluster"),
            ),
            (
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                       "spec": {"conversion": {"strategy": "None"}}}),
                None,
            ),
            (
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "spec": {"dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s"}}}),
                Some("restored from VolumeSnapshot s by the simulated provisioner (no data)"),
            ),
            (
                json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "spec": {}}),
                None,
            ),
            (json!({"apiVersion": "apps/v1", "kind": "Deployment"}), None),
        ];
        for (obj, want) in cases {
            assert_eq!(
                simulated_reason(&obj, &HealthRules::default()).as_deref(),
                want,
                "{obj}"
            );
        }
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"conversion": {"strategy": "Webhook", "webhook": {"clientConfig": {"service": {"namespace": "a", "name": "conv"}}}}}});
        assert!(
            simulated_reason(&crd, &HealthRules::default())
                .is_some_and(|r| r.contains("Service a/conv"))
        );
        // Custom resources: their health rules cannot be met without their controller.
        let prometheus = json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
            "metadata": {"name": "k8s", "namespace": "monitoring", "generation": 1}});
        let rules = HealthRules::default();
        let reason = simulated_reason(&prometheus, &rules);
        assert!(
            reason
                .as_deref()
                .is_some_and(|r| r.contains("not evaluated")),
            "{reason:?}"
        );
        let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget"});
        assert_eq!(
            simulated_reason(&widget, &rules),
            None,
            "no rule: judged as anywhere"
        );
        let ctx = super::super::Context {
            simulated: true,
            ..Default::default()
        };
        assert!(super::super::compute_with(&prometheus, &ctx).is_current());
        assert!(
            !super::super::compute(&prometheus).is_current(),
            "on a real cluster it waits"
        );
        // The user's own rule for the same kind is evaluated: they may run the controller themselves.
        let mut own = super::super::health::builtin()
            .iter()
            .find(|r| r.matches("monitoring.coreos.com", "Prometheus"))
            .expect("a built-in rule for Prometheus")
            .clone();
        own.origin = RuleOrigin::Config {
            file: "rekube.yaml".into(),
            line: 3,
        };
        let user = HealthRules::new(vec![own]);
        assert_eq!(simulated_reason(&prometheus, &user), None);
        let ctx = super::super::Context {
            simulated: true,
            health: user,
            ..Default::default()
        };
        assert!(!super::super::compute_with(&prometheus, &ctx).is_current());
        let snap = json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot"});
        assert!(
            simulated_reason(&snap, &HealthRules::default())
                .is_some_and(|r| r.contains("readyToUse"))
        );
    }
}
