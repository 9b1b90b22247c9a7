//! The replicas an autoscaler owns: ignored without configuration.
//!
//! A HorizontalPodAutoscaler writes `spec.replicas` of its target through the scale subresource. With
//! `replicas` also in Git, re-applying Git would undo every scaling decision, and drift would report it
//! forever. So for each HorizontalPodAutoscaler (and KEDA ScaledObject, which drives one) in the
//! repository, its target's `/spec/replicas` is ignored.

use serde_json::Value;

use super::fields::parse_pointer;
use super::{IgnoreOrigin, IgnoreRule, Selector};
use crate::object::{Object, split_api_version};

const REPLICAS: &str = "/spec/replicas";

/// One rule per autoscaler of `objects`, for its target.
pub fn autoscaler_rules(objects: &[Object]) -> Vec<IgnoreRule> {
    objects.iter().filter_map(rule_for).collect()
}

fn rule_for(scaler: &Object) -> Option<IgnoreRule> {
    // KEDA defaults the target to a Deployment.
    let (default_api_version, default_kind) = match (scaler.id.group.as_str(), scaler.kind()) {
        ("autoscaling", "HorizontalPodAutoscaler") => (None, None),
        ("keda.sh", "ScaledObject") => (Some("apps/v1"), Some("Deployment")),
        _ => return None,
    };
    let target = scaler.get("/spec/scaleTargetRef")?;
    let text = |key: &str| target.get(key).and_then(Value::as_str);
    let api_version = text("apiVersion").or(default_api_version)?;
    let kind = text("kind").or(default_kind)?;
    let name = text("name")?;
    let field = parse_pointer(REPLICAS).ok()?;
    Some(IgnoreRule {
        selector: Selector {
            group: Some(split_api_version(api_version).0.to_string()),
            kind: Some(kind.to_string()),
            namespace: Some(scaler.namespace().unwrap_or_default().to_string()),
            name: Some(name.to_string()),
        },
        json_pointers: vec![REPLICAS.to_string()],
        fields: vec![field],
        managed_fields_managers: Vec::new(),
        origin: IgnoreOrigin::Autoscaler {
            scaler: scaler.id.to_string(),
        },
    })
}
