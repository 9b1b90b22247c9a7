//! Built-in kinds checked against their k8s-openapi types: mistyped fields (through serde_path_to_error)
//! and unknown fields (a typed → JSON round trip drops what the type does not know), both with the field
//! path, as `kubectl apply --validate=strict` would report them.

use k8s_openapi::api::{
    admissionregistration, apps, autoscaling, batch, certificates, coordination, core, discovery,
    flowcontrol, networking, node, policy, rbac, scheduling, storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::field::{FieldPath, Segment};

/// A schema problem at a field; displays as `unknown field a.b` or `a.b: invalid type: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaIssue {
    pub path: FieldPath,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The type has no such field (a typo, or a field of another version).
    UnknownField,
    /// The value does not fit the field's type.
    Invalid(String),
}

impl std::fmt::Display for SchemaIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.problem {
            Problem::UnknownField => write!(f, "unknown field {}", self.path),
            Problem::Invalid(message) => write!(f, "{}: {message}", self.path),
        }
    }
}

type Check = fn(&Value) -> Vec<SchemaIssue>;

macro_rules! builtin_types {
    ($($api_version:literal $kind:literal => $ty:ty,)*) => {
        fn checker(api_version: &str, kind: &str) -> Option<Check> {
            match (api_version, kind) {
                $(($api_version, $kind) => Some(check_typed::<$ty>),)*
                _ => None,
            }
        }

        /// The `(apiVersion, kind)` pairs checked against a k8s-openapi type.
        pub const BUILTIN_TYPES: &[(&str, &str)] = &[$(($api_version, $kind),)*];
    };
}

builtin_types! {
    "v1" "ConfigMap" => core::v1::ConfigMap,
    "v1" "Endpoints" => core::v1::Endpoints,
    "v1" "LimitRange" => core::v1::LimitRange,
    "v1" "Namespace" => core::v1::Namespace,
    "v1" "Node" => core::v1::Node,
    "v1" "PersistentVolume" => core::v1::PersistentVolume,
    "v1" "PersistentVolumeClaim" => core::v1::PersistentVolumeClaim,
    "v1" "Pod" => core::v1::Pod,
    "v1" "PodTemplate" => core::v1::PodTemplate,
    "v1" "ReplicationController" => core::v1::ReplicationController,
    "v1" "ResourceQuota" => core::v1::ResourceQuota,
    "v1" "Secret" => core::v1::Secret,
    "v1" "Service" => core::v1::Service,
    "v1" "ServiceAccount" => core::v1::ServiceAccount,
    "apps/v1" "ControllerRevision" => apps::v1::ControllerRevision,
    "apps/v1" "DaemonSet" => apps::v1::DaemonSet,
    "apps/v1" "Deployment" => apps::v1::Deployment,
    "apps/v1" "ReplicaSet" => apps::v1::ReplicaSet,
    "apps/v1" "StatefulSet" => apps::v1::StatefulSet,
    "batch/v1" "CronJob" => batch::v1::CronJob,
    "batch/v1" "Job" => batch::v1::Job,
    "rbac.authorization.k8s.io/v1" "ClusterRole" => rbac::v1::ClusterRole,
    "rbac.authorization.k8s.io/v1" "ClusterRoleBinding" => rbac::v1::ClusterRoleBinding,
    "rbac.authorization.k8s.io/v1" "Role" => rbac::v1::Role,
    "rbac.authorization.k8s.io/v1" "RoleBinding" => rbac::v1::RoleBinding,
    "networking.k8s.io/v1" "Ingress" => networking::v1::Ingress,
    "networking.k8s.io/v1" "IngressClass" => networking::v1::IngressClass,
    "networking.k8s.io/v1" "NetworkPolicy" => networking::v1::NetworkPolicy,
    "policy/v1" "PodDisruptionBudget" => policy::v1::PodDisruptionBudget,
    "autoscaling/v1" "HorizontalPodAutoscaler" => autoscaling::v1::HorizontalPodAutoscaler,
    "autoscaling/v2" "HorizontalPodAutoscaler" => autoscaling::v2::HorizontalPodAutoscaler,
    "storage.k8s.io/v1" "CSIDriver" => storage::v1::CSIDriver,
    "storage.k8s.io/v1" "CSINode" => storage::v1::CSINode,
    "storage.k8s.io/v1" "CSIStorageCapacity" => storage::v1::CSIStorageCapacity,
    "storage.k8s.io/v1" "StorageClass" => storage::v1::StorageClass,
    "storage.k8s.io/v1" "VolumeAttachment" => storage::v1::VolumeAttachment,
    "storage.k8s.io/v1" "VolumeAttributesClass" => storage::v1::VolumeAttributesClass,
    "scheduling.k8s.io/v1" "PriorityClass" => scheduling::v1::PriorityClass,
    "node.k8s.io/v1" "RuntimeClass" => node::v1::RuntimeClass,
    "admissionregistration.k8s.io/v1" "MutatingWebhookConfiguration" => admissionregistration::v1::MutatingWebhookConfiguration,
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicy" => admissionregistration::v1::ValidatingAdmissionPolicy,
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicyBinding" => admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    "admissionregistration.k8s.io/v1" "ValidatingWebhookConfiguration" => admissionregistration::v1::ValidatingWebhookConfiguration,
    "apiextensions.k8s.io/v1" "CustomResourceDefinition" => CustomResourceDefinition,
    "apiregistration.k8s.io/v1" "APIService" => APIService,
    "certificates.k8s.io/v1" "CertificateSigningRequest" => certificates::v1::CertificateSigningRequest,
    "coordination.k8s.io/v1" "Lease" => coordination::v1::Lease,
    "discovery.k8s.io/v1" "EndpointSlice" => discovery::v1::EndpointSlice,
    "flowcontrol.apiserver.k8s.io/v1" "FlowSchema" => flowcontrol::v1::FlowSchema,
    "flowcontrol.apiserver.k8s.io/v1" "PriorityLevelConfiguration" => flowcontrol::v1::PriorityLevelConfiguration,
}

/// Checks an object against its built-in type; objects of other kinds get their `metadata` checked.
/// Returns `false` as first element when the kind has no built-in type (only metadata was checked).
pub fn check(api_version: &str, kind: &str, object: &Value) -> (bool, Vec<SchemaIssue>) {
    if let Some(check) = checker(api_version, kind) {
        return (true, check(&unwrap_base64(kind, object)));
    }
    let Some(metadata) = object.get("metadata") else {
        return (false, Vec::new());
    };
    let prefix = FieldPath::default().key("metadata");
    let issues = check_typed::<ObjectMeta>(metadata)
        .into_iter()
        .map(|i| SchemaIssue {
            path: FieldPath(prefix.0.iter().cloned().chain(i.path.0).collect()),
            problem: i.problem,
        })
        .collect();
    (false, issues)
}

/// Byte fields as the API server reads them: Go's base64 decoder skips line breaks, which kustomize's
/// secretGenerator writes into long values.
fn unwrap_base64<'v>(kind: &str, object: &'v Value) -> std::borrow::Cow<'v, Value> {
    let field = match kind {
        "Secret" => "data",
        "ConfigMap" => "binaryData",
        _ => return std::borrow::Cow::Borrowed(object),
    };
    let wrapped = |v: &Value| v.as_str().is_some_and(|s| s.contains(['\n', '\r']));
    let Some(map) = object.get(field).and_then(Value::as_object) else {
        return std::borrow::Cow::Borrowed(object);
    };
    if !map.values().any(wrapped) {
        return std::borrow::Cow::Borrowed(object);
    }
    let mut owned = object.clone();
    if let Some(Value::Object(map)) = owned.get_mut(field) {
        for v in map.values_mut() {
            if let Value::String(s) = v {
                s.retain(|c| c != '\n' && c != '\r');
            }
        }
    }
    std::borrow::Cow::Owned(owned)
}

/// Deserializes into `T` (the first mistyped field is an issue), then reports every input field that the
/// typed value does not serialize back: fields `T` does not know.
fn check_typed<T: DeserializeOwned + Serialize>(value: &Value) -> Vec<SchemaIssue> {
    let typed: T = match serde_path_to_error::deserialize(value) {
        Ok(t) => t,
        Err(e) => {
            let path = FieldPath::from_serde(e.path());
            let message = without_value(&e.into_inner().to_string(), value_at(value, &path));
            return vec![SchemaIssue {
                path,
                problem: Problem::Invalid(message),
            }];
        }
    };
    let Ok(round_trip) = serde_json::to_value(&typed) else {
        return Vec::new();
    };
    let mut issues = Vec::new();
    unknown_fields(value, &round_trip, &mut FieldPath::default(), &mut issues);
    issues
}

/// serde's message without the value it quotes (`invalid type: integer `123456789`, expected a
/// string` → `invalid type: a number, expected a string`): a Secret's value, or any value decrypted in
/// memory, must never reach a log or a report. The position of the diagnostic shows the value to whoever
/// can read the file. Other messages (a custom parser's, such as base64's) are replaced by the type of
/// the value found.
fn without_value(message: &str, found: Option<&Value>) -> String {
    let found = found.map_or("a value", super::validate::describe);
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(expected) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(", expected "))
            .map(|(_, expected)| expected)
        {
            return format!("{prefix}{found}, expected {expected}");
        }
    }
    if let Some((_, expected)) = message
        .strip_prefix("unknown variant ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        return format!("unknown variant ({found}), expected {expected}");
    }
    if message.starts_with("missing field") || message.starts_with("invalid length") {
        return message.to_string();
    }
    format!("invalid value: {found} that this field does not accept")
}

/// The value at `path` in `value`.
fn value_at<'v>(value: &'v Value, path: &FieldPath) -> Option<&'v Value> {
    path.segments()
        .iter()
        .try_fold(value, |v, segment| match segment {
            Segment::Key(k) => v.get(k.as_str()),
            Segment::Index(i) => v.get(*i),
        })
}

/// Walks `input` beside its typed round trip; `path` is the current field, extended in place (a path is
/// only copied for an issue: most fields are known).
fn unknown_fields(input: &Value, typed: &Value, path: &mut FieldPath, out: &mut Vec<SchemaIssue>) {
    match (input, typed) {
        (Value::Object(input), Value::Object(typed)) => {
            for (key, value) in input {
                match typed.get(key) {
                    // `field: null` means unset, as for the API server.
                    None if value.is_null() => {}
                    None => out.push(SchemaIssue {
                        problem: Problem::UnknownField,
                        path: path.child(Segment::Key(key.clone())),
                    }),
                    // A scalar holds no field of its own.
                    Some(_) if !(value.is_object() || value.is_array()) => {}
                    Some(t) => {
                        path.0.push(Segment::Key(key.clone()));
                        unknown_fields(value, t, path, out);
                        path.0.pop();
                    }
                }
            }
        }
        (Value::Array(input), Value::Array(typed)) => {
            let nested = input.iter().zip(typed).enumerate();
            for (i, (value, t)) in nested.filter(|(_, (v, _))| v.is_object() || v.is_array()) {
                path.0.push(Segment::Index(i));
                unknown_fields(value, t, path, out);
                path.0.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(container: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "creationTimestamp": null},
            "spec": {"selector": {"matchLabels": {"app": "api"}}, "replicas": 2,
                     "template": {"metadata": {"labels": {"app": "api"}},
                                  "spec": {"containers": [container]}}}
        })
    }

    #[test]
    fn schema_cases() {
        // (case, object, expected (path, message) of the single issue)
        type Case = (&'static str, Value, Option<(&'static str, &'static str)>);
        let cases: Vec<Case> = vec![
            (
                "valid",
                deployment(json!({"name": "c", "image": "x", "resources": {"limits": {"cpu": 1}}})),
                None,
            ),
            (
                "unknown field",
                deployment(json!({"name": "c", "imagee": "x"})),
                Some(("spec.template.spec.containers[0].imagee", "unknown field")),
            ),
            (
                "mistyped field",
                deployment(json!({"name": "c", "ports": [{"containerPort": "80"}]})),
                Some((
                    "spec.template.spec.containers[0].ports[0].containerPort",
                    "invalid type",
                )),
            ),
        ];
        for (name, object, want) in cases {
            let (builtin, issues) = check("apps/v1", "Deployment", &object);
            assert!(builtin);
            match want {
                None => assert!(issues.is_empty(), "{name}: {issues:?}"),
                Some((path, msg)) => {
                    assert_eq!(issues.len(), 1, "{name}: {issues:?}");
                    assert_eq!(issues[0].path.to_string(), path, "{name}");
                    assert!(issues[0].to_string().contains(msg), "{name}: {}", issues[0]);
                }
            }
        }
    }

    #[test]
    fn values_never_appear_in_messages() {
        // A Secret's values (or a decrypted object's) must not reach a log or a CI report.
        let cases = [
            ("stringData", json!({"pin": 123_456_789}), "stringData.pin"),
            ("data", json!({"pin": 987_654_321}), "data.pin"),
            ("data", json!({"pin": "not base64: 55443322!"}), "data.pin"),
        ];
        for (field, values, path) in cases {
            let secret = json!({"apiVersion": "v1", "kind": "Secret",
                                "metadata": {"name": "s"}, field: values});
            let (_, issues) = check("v1", "Secret", &secret);
            assert_eq!(issues.len(), 1, "{issues:?}");
            let text = issues[0].to_string();
            assert!(text.starts_with(&format!("{path}: invalid ")), "{text}");
            for secret in ["123456789", "987654321", "55443322"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn custom_resources_get_metadata_checked() {
        let cr = json!({"apiVersion": "example.com/v1", "kind": "Widget",
                        "metadata": {"name": "w", "labels": {"a": 1}}, "spec": {"anything": true}});
        let (builtin, issues) = check("example.com/v1", "Widget", &cr);
        assert!(!builtin);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].path.to_string(), "metadata.labels.a");
    }

    #[test]
    fn base64_wrapped_over_lines_is_valid_as_for_the_api_server() {
        // kustomize's secretGenerator writes long values as folded base64; Go's decoder skips newlines.
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                            "data": {"k": "aHVudGVyMmh1bnRlcjJo\ndW50ZXIy\n"}});
        assert_eq!(check("v1", "Secret", &secret).1.len(), 0);
        let bad = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                         "data": {"k": "not base64!"}});
        assert_eq!(check("v1", "Secret", &bad).1.len(), 1);
    }

    #[test]
    fn table_is_consistent() {
        for (v, k) in BUILTIN_TYPES {
            assert!(checker(v, k).is_some());
        }
    }
}
