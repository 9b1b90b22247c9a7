//! Pod templates (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob)
//! wait for what their pods reference: ServiceAccount, ConfigMaps, Secrets, PriorityClass, RuntimeClass.
//! Init and ephemeral containers count as containers; `optional: true` references are never external.

use serde_json::Value;

use crate::graph::builder::{Builder, Ref};
use crate::graph::model::Rule;
use crate::object::Object;

use super::{group_kind, items, str_at};

/// The pod spec of an object that holds a pod template.
pub fn pod_spec(o: &Object) -> Option<&Value> {
    let pointer = match group_kind(o) {
        ("", "Pod") => "/spec",
        ("", "PodTemplate") => "/template/spec",
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    };
    o.get(pointer)
}

/// A name referenced by a pod spec, with where and whether it may be absent.
pub struct PodRef<'v> {
    pub name: &'v str,
    pub detail: String,
    pub optional: bool,
}

fn optional(v: &Value) -> bool {
    v.get("optional").and_then(Value::as_bool).unwrap_or(false)
}

fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["/containers", "/initContainers", "/ephemeralContainers"]
        .into_iter()
        .flat_map(move |p| items(spec, p))
}

/// `volumes[].<source>.<name_field>` and `volumes[].projected.sources[].<source>.name`.
fn volume_refs<'v>(spec: &'v Value, source: &str, name_field: &str) -> Vec<PodRef<'v>> {
    let mut out = Vec::new();
    for v in items(spec, "/volumes") {
        let volume = str_at(v, "/name").unwrap_or("?");
        if let Some(src) = v.get(source)
            && let Some(name) = str_at(src, &format!("/{name_field}"))
        {
            out.push(PodRef {
                name,
                detail: format!("volume {volume}"),
                optional: optional(src),
            });
        }
        for p in items(v, "/projected/sources") {
            if let Some(src) = p.get(source)
                && let Some(name) = str_at(src, "/name")
            {
                out.push(PodRef {
                    name,
                    detail: format!("projected volume {volume}"),
                    optional: optional(src),
                });
            }
        }
    }
    out
}

/// `env[].valueFrom.<key_ref>.name` and `envFrom[].<from_ref>.name` of every container.
fn env_refs<'v>(spec: &'v Value, key_ref: &str, from_ref: &str) -> Vec<PodRef<'v>> {
    let mut out = Vec::new();
    let key_pointer = format!("/valueFrom/{key_ref}");
    for c in containers(spec) {
        let container = str_at(c, "/name").unwrap_or("?");
        for e in items(c, "/env") {
            if let Some(r) = e.pointer(&key_pointer)
                && let Some(name) = str_at(r, "/name")
            {
                let var = str_at(e, "/name").unwrap_or("?");
                out.push(PodRef {
                    name,
                    detail: format!("env {container}.{var}"),
                    optional: optional(r),
                });
            }
        }
        for e in items(c, "/envFrom") {
            if let Some(r) = e.get(from_ref)
                && let Some(name) = str_at(r, "/name")
            {
                out.push(PodRef {
                    name,
                    detail: format!("envFrom {container}"),
                    optional: optional(r),
                });
            }
        }
    }
    out
}

fn add_refs(b: &mut Builder<'_>, n: usize, kind: &str, rule: Rule, refs: Vec<PodRef<'_>>) {
    let ns = b.objects[n].namespace();
    for r in refs {
        b.reference(
            n,
            Ref::new("", kind, ns, r.name).optional(r.optional),
            rule,
            r.detail,
        );
    }
}

/// Pod template → `serviceAccountName`; a service-account token Secret → the ServiceAccount it is for
/// (the token controller deletes such a Secret whose ServiceAccount does not exist).
pub fn add_service_account_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        let ns = o.namespace();
        if let Some(spec) = pod_spec(o) {
            if let Some(sa) =
                str_at(spec, "/serviceAccountName").or_else(|| str_at(spec, "/serviceAccount"))
            {
                b.reference(
                    n,
                    Ref::new("", "ServiceAccount", ns, sa),
                    Rule::ServiceAccount,
                    "serviceAccountName",
                );
            }
        } else if group_kind(o) == ("", "Secret")
            && str_at(&o.body, "/type") == Some("kubernetes.io/service-account-token")
            && let Some(sa) = o.annotation("kubernetes.io/service-account.name")
        {
            b.reference(
                n,
                Ref::new("", "ServiceAccount", ns, sa),
                Rule::ServiceAccount,
                "service-account token",
            );
        }
    }
}

/// Pod template → ConfigMaps of volumes, projected volumes, `env` and `envFrom`.
pub fn add_config_map_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        if let Some(spec) = pod_spec(b.objects[n]) {
            let mut refs = volume_refs(spec, "configMap", "name");
            refs.extend(env_refs(spec, "configMapKeyRef", "configMapRef"));
            add_refs(b, n, "ConfigMap", Rule::ConfigMap, refs);
        }
    }
}

/// Pod template → Secrets of volumes, projected volumes, `env`, `envFrom` and `imagePullSecrets`;
/// ServiceAccount → its `imagePullSecrets`.
pub fn add_secret_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        let mut refs = Vec::new();
        let pull_secrets = if let Some(spec) = pod_spec(o) {
            // Volumes name their Secret `secretName`; projected sources name it `name`.
            refs.extend(volume_refs(spec, "secret", "secretName"));
            refs.extend(env_refs(spec, "secretKeyRef", "secretRef"));
            items(spec, "/imagePullSecrets")
        } else if group_kind(o) == ("", "ServiceAccount") {
            items(&o.body, "/imagePullSecrets")
        } else {
            continue;
        };
        for s in pull_secrets {
            if let Some(name) = str_at(s, "/name") {
                refs.push(PodRef {
                    name,
                    detail: "imagePullSecrets".to_string(),
                    optional: false,
                });
            }
        }
        add_refs(b, n, "Secret", Rule::Secret, refs);
    }
}

/// Pod template → `priorityClassName`.
pub fn add_priority_class_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        if let Some(pc) = pod_spec(b.objects[n]).and_then(|s| str_at(s, "/priorityClassName")) {
            let target = Ref::new("scheduling.k8s.io", "PriorityClass", None, pc);
            b.reference(n, target, Rule::PriorityClass, "priorityClassName");
        }
    }
}

/// Pod template → `runtimeClassName`.
pub fn add_runtime_class_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        if let Some(rc) = pod_spec(b.objects[n]).and_then(|s| str_at(s, "/runtimeClassName")) {
            b.reference(
                n,
                Ref::new("node.k8s.io", "RuntimeClass", None, rc),
                Rule::RuntimeClass,
                "runtimeClassName",
            );
        }
    }
}
