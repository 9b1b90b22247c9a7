//! Services and Ingresses: a StatefulSet's governing Service; an Ingress's class, backends and TLS Secrets.

use crate::graph::builder::{Builder, Ref};
use crate::graph::model::Rule;

use super::{group_kind, items, str_at};

const NETWORKING: &str = "networking.k8s.io";

/// StatefulSet → the Service named by `spec.serviceName` (it gives the pods their DNS names).
pub fn add_governing_service_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        if group_kind(o) != ("apps", "StatefulSet") {
            continue;
        }
        if let Some(svc) = str_at(&o.body, "/spec/serviceName") {
            b.reference(
                n,
                Ref::new("", "Service", o.namespace(), svc),
                Rule::GoverningService,
                "serviceName",
            );
        }
    }
}

/// Ingress → `ingressClassName` (IngressClass), backend Services (default backend and every path,
/// or a resource backend), and `tls[].secretName` (TLS Secrets).
pub fn add_ingress_edges(b: &mut Builder<'_>) {
    for n in 0..b.len() {
        let o = b.objects[n];
        if group_kind(o) != (NETWORKING, "Ingress") {
            continue;
        }
        let ns = o.namespace();
        if let Some(class) = str_at(&o.body, "/spec/ingressClassName") {
            b.reference(
                n,
                Ref::new(NETWORKING, "IngressClass", None, class),
                Rule::IngressClass,
                "ingressClassName",
            );
        }
        let mut backends = Vec::new();
        if let Some(d) = o.get("/spec/defaultBackend") {
            backends.push((d, "defaultBackend".to_string()));
        }
        for rule in items(&o.body, "/spec/rules") {
            let host = str_at(rule, "/host").unwrap_or("*");
            for p in items(rule, "/http/paths") {
                let path = str_at(p, "/path").unwrap_or("/");
                if let Some(backend) = p.get("backend") {
                    backends.push((backend, format!("{host}{path}")));
                }
            }
        }
        for (backend, detail) in backends {
            if let Some(svc) = str_at(backend, "/service/name") {
                b.reference(
                    n,
                    Ref::new("", "Service", ns, svc),
                    Rule::IngressBackend,
                    detail,
                );
            } else if let (Some(kind), Some(name)) = (
                str_at(backend, "/resource/kind"),
                str_at(backend, "/resource/name"),
            ) {
                let group = str_at(backend, "/resource/apiGroup").unwrap_or("");
                b.reference(
                    n,
                    Ref::new(group, kind, ns, name),
                    Rule::IngressBackend,
                    detail,
                );
            }
        }
        for tls in items(&o.body, "/spec/tls") {
            if let Some(secret) = str_at(tls, "/secretName") {
                b.reference(
                    n,
                    Ref::new("", "Secret", ns, secret),
                    Rule::IngressTls,
                    "tls",
                );
            }
        }
    }
}
