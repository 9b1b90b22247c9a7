//! What the reconcile tests read back from the cluster, and the drift-to-heal measurement.

use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};

use crate::support::{cluster, jsonpath, kubectl};

/// The fetch interval of every test reconciler.
pub const INTERVAL: &str = "2s";

pub fn data(kc: &Path, ns: &str, name: &str) -> Option<String> {
    jsonpath(kc, &["configmap", name, "-n", ns], "{.data.value}")
}

pub fn image(kc: &Path, ns: &str, name: &str) -> Option<String> {
    jsonpath(
        kc,
        &["deployment", name, "-n", ns],
        "{.spec.template.spec.containers[0].image}",
    )
}

/// `kubectl set image` on one Deployment, timed by watching it: from the event showing the new image to
/// the event showing the original again.
pub async fn drift_to_heal(kc: &Path, ns: &str, name: &str, container: &str) -> Duration {
    let api: Api<Deployment> = Api::namespaced(cluster().await.client(), ns);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = watcher(api, config).applied_objects().boxed();
    let image_of = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    };
    let first = events.next().await.expect("watch").expect("event");
    let original = image_of(&first);
    let kc = kc.to_path_buf();
    let (ns2, name2) = (ns.to_string(), name.to_string());
    let change = format!("{container}=drifted:6.6");
    let set = tokio::task::spawn_blocking(move || {
        let deployment = format!("deployment/{name2}");
        kubectl(&kc, &["set", "image", &deployment, &change, "-n", &ns2]);
    });
    let mut drifted_at = None;
    let healed = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(d)) = events.next().await {
            let img = image_of(&d);
            if img == "drifted:6.6" && drifted_at.is_none() {
                drifted_at = Some(Instant::now());
            } else if img == original
                && let Some(t) = drifted_at
            {
                return t.elapsed();
            }
        }
        panic!("the watch ended");
    })
    .await
    .unwrap_or_else(|_| panic!("deployment {ns}/{name} was not reverted within 20 s"));
    set.await.expect("kubectl ran");
    healed
}
