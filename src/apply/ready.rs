//! Waiting for one applied object to be ready: its readiness rule judged on the shared informers'
//! observations (never one older than the write), Services behind webhooks and APIServices, and a CRD's
//! kind served by discovery.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::engine::Ctx;
use crate::cluster::ClusterError;
use crate::cluster::wait::Verdict;
use crate::object::Object;
use crate::readiness::{self, Status};

/// Waits until object `i` is ready (kstatus semantics, or its health rule), watching it through the
/// shared informers; each new reason to wait is reported.
pub(super) async fn wait_ready(ctx: &Ctx, i: usize, applied: &Value) -> Result<(), ClusterError> {
    let obj = &ctx.objects[i];
    let cluster = &ctx.cluster;
    let mut rctx = readiness::Context {
        health: ctx.opts.health.clone(),
        simulated: ctx.opts.simulated,
        ..readiness::Context::default()
    };
    match (obj.id.group.as_str(), obj.id.kind.as_str()) {
        ("", "PersistentVolumeClaim") => {
            rctx.wait_for_first_consumer = match readiness::pvc_storage_class(applied) {
                Some(sc) => storage_class_wffc(ctx, sc).await,
                None => false,
            };
        }
        ("admissionregistration.k8s.io", _) | ("apiregistration.k8s.io", "APIService") => {
            for svc in readiness::service_refs(&obj.body) {
                let ns = svc.namespace.as_deref().unwrap_or("default");
                cluster
                    .wait_service_endpoints(
                        ns,
                        &svc.name,
                        ctx.opts.timeout,
                        readiness::service_has_ready_endpoints,
                    )
                    .await?;
            }
            rctx.services_ready = Some(true);
        }
        _ => {}
    }
    let first = readiness::compute_with(applied, &rctx);
    match first.status {
        Status::Current => {}
        Status::Failed => {
            return Err(ClusterError::Failed {
                object: obj.id.to_string(),
                message: first.message,
            });
        }
        _ => {
            let resolved = cluster.resolve(&obj.id, &obj.api_version).await?;
            let mut said = String::new();
            ctx.informers
                .wait(cluster, &resolved, &obj.id, ctx.opts.timeout, |v| {
                    let verdict = judge(v, applied, &rctx);
                    if let Verdict::Pending(why) = &verdict
                        && *why != said
                    {
                        said.clone_from(why);
                        // The loop outlives every task, so the receiver is still there.
                        let _ = ctx.waiting.send((i, why.clone()));
                    }
                    verdict
                })
                .await?;
        }
    }
    if obj.id.kind == "CustomResourceDefinition" {
        wait_served(ctx, obj).await?;
    }
    Ok(())
}

/// The verdict on one observation; a copy older than the write (a watch cache lagging behind it) is
/// not judged at all.
fn judge(v: Option<&Value>, applied: &Value, rctx: &readiness::Context) -> Verdict {
    let Some(v) = v else {
        return Verdict::Pending("NotFound".into());
    };
    if !readiness::is_as_new_as(v, applied) {
        return Verdict::Pending(
            "InProgress: waiting for the watch to see the applied version".into(),
        );
    }
    let r = readiness::compute_with(v, rctx);
    match r.status {
        Status::Current => Verdict::Done,
        Status::Failed => Verdict::Failed(r.message),
        _ => Verdict::Pending(r.to_string()),
    }
}

async fn storage_class_wffc(ctx: &Ctx, name: &str) -> bool {
    if let Some(&w) = ctx.storage_classes.get(name) {
        return w;
    }
    let id = crate::object::ObjectId::new("storage.k8s.io", "StorageClass", None, name);
    match ctx.cluster.get(&id, "storage.k8s.io/v1").await {
        Ok(Some(sc)) => readiness::is_wait_for_first_consumer(&sc),
        _ => false,
    }
}

/// A CRD is only usable once discovery serves its kind: refresh discovery until it does. Discovery has no
/// watch, so this is the one bounded poll (with backoff) in the apply path.
async fn wait_served(ctx: &Ctx, crd: &Object) -> Result<(), ClusterError> {
    let group = crd
        .get("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = crd
        .get("/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(version) = crd
        .get("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("served") == Some(&Value::Bool(true)))
        })
        .and_then(|v| v.get("name"))
        .and_then(Value::as_str)
    else {
        return Ok(());
    };
    let api_version = format!("{group}/{version}");
    let resources = ctx.cluster.resources();
    let deadline = Instant::now() + ctx.opts.timeout;
    let mut delay = Duration::from_millis(50);
    loop {
        let seen = resources.generation();
        if resources.resolve(&api_version, kind).await.is_some() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ClusterError::Timeout {
                object: crd.id.to_string(),
                timeout: ctx.opts.timeout,
                status: format!("Established, but discovery does not serve {api_version} {kind}"),
            });
        }
        ctx.cluster.refresh_discovery(&crd.id, seen).await?;
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}
