//! The simulated storage controller of the local control plane: a provisioner that binds every claim of
//! an existing StorageClass to a PersistentVolume it creates, a snapshot controller that marks
//! VolumeSnapshots ready to use, and the clean-up of released volumes (decisions in `provision`).
//!
//! It watches claims, classes, volumes and snapshots (the snapshot watch retries every second until
//! the CRDs exist) and re-examines everything pending on each change and every two seconds: the sets
//! are small, and a missed event then costs two seconds, never a stuck rebuild. It runs on its own
//! thread with its own runtime, so it serves the control plane whichever runtime started it (the test
//! harness starts it from one test's runtime, which ends long before the control plane).

use std::time::Duration;

use futures::{FutureExt as _, Stream, StreamExt as _};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::utils::Backoff;
use kube::runtime::{WatchStreamExt as _, watcher};
use serde_json::Value;

use super::provision::{ClaimPlan, SnapshotPlan, plan_claim, plan_snapshot};
use super::simulation::{SIMULATED_ANNOTATION, SNAPSHOT_GROUP, now};

/// The running controller; stopped (and its thread joined) when dropped.
pub(crate) struct StorageController {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StorageController {
    /// Starts the controller against the API server of `config`.
    pub(crate) fn start(config: kube::Config) -> std::io::Result<Self> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("rekube-storage".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        tracing::warn!("simulated storage: no runtime: {e}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let client = match kube::Client::try_from(config) {
                        Ok(client) => client,
                        Err(e) => {
                            tracing::warn!("simulated storage: no client: {e}");
                            return;
                        }
                    };
                    tokio::select! {
                        _ = stopped => {}
                        () = run(client) => {}
                    }
                });
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the controller and waits for its thread.
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StorageController {
    fn drop(&mut self) {
        self.stop();
    }
}

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: SNAPSHOT_GROUP.to_owned(),
        version: "v1".to_owned(),
        api_version: format!("{SNAPSHOT_GROUP}/v1"),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

/// A watch retry every second: the snapshot CRDs may be installed at any time.
struct Steady;

impl Iterator for Steady {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }
}

impl Backoff for Steady {
    fn reset(&mut self) {}
}

struct Stores {
    claims: Store<PersistentVolumeClaim>,
    classes: Store<StorageClass>,
    volumes: Store<PersistentVolume>,
    snapshots: Store<DynamicObject>,
}

async fn run(client: kube::Client) {
    let config = watcher::Config::default();
    let (claims, claim_writer) = reflector::store();
    let (classes, class_writer) = reflector::store();
    let (volumes, volume_writer) = reflector::store();
    let snapshot = resource("VolumeSnapshot", "volumesnapshots");
    let snapshot_writer = reflector::store::Writer::<DynamicObject>::new(snapshot.clone());
    let snapshots = snapshot_writer.as_reader();
    let changes: Vec<std::pin::Pin<Box<dyn Stream<Item = ()> + Send>>> = vec![
        reflector::reflector(
            claim_writer,
            watcher(
                Api::<PersistentVolumeClaim>::all(client.clone()),
                config.clone(),
            ),
        )
        .default_backoff()
        .map(drop)
        .boxed(),
        reflector::reflector(
            class_writer,
            watcher(Api::<StorageClass>::all(client.clone()), config.clone()),
        )
        .default_backoff()
        .map(drop)
        .boxed(),
        reflector::reflector(
            volume_writer,
            watcher(Api::<PersistentVolume>::all(client.clone()), config.clone()),
        )
        .default_backoff()
        .map(drop)
        .boxed(),
        reflector::reflector(
            snapshot_writer,
            watcher(
                Api::<DynamicObject>::all_with(client.clone(), &snapshot),
                config,
            ),
        )
        .backoff(Steady)
        .map(drop)
        .boxed(),
        futures::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Some(((), ()))
        })
        .boxed(),
    ];
    let mut changes = futures::stream::select_all(changes);
    let stores = Stores {
        claims,
        classes,
        volumes,
        snapshots,
    };
    while changes.next().await.is_some() {
        // A burst of events (a StatefulSet's claims) is handled in one pass.
        while let Some(Some(())) = changes.next().now_or_never() {}
        reconcile(&client, &stores).await;
    }
}

async fn reconcile(client: &kube::Client, stores: &Stores) {
    let snapshot_ready = |namespace: &str, name: &str| {
        stores
            .snapshots
            .get(
                &ObjectRef::new_with(name, resource("VolumeSnapshot", "volumesnapshots"))
                    .within(namespace),
            )
            .is_some_and(|s| s.data.pointer("/status/readyToUse") == Some(&Value::Bool(true)))
    };
    for claim in stores.claims.state() {
        let class = claim
            .spec
            .as_ref()
            .and_then(|s| s.storage_class_name.as_deref())
            .and_then(|name| stores.classes.get(&ObjectRef::new(name)));
        match plan_claim(&claim, class.as_deref(), snapshot_ready) {
            ClaimPlan::Provision(pv) => provision(client, stores, &pv).await,
            ClaimPlan::Wait(why) => {
                tracing::debug!(claim = ?claim.metadata.name, "simulated storage: {why}");
            }
            ClaimPlan::Ignore => {}
        }
    }
    let now = now();
    for snapshot in stores.snapshots.state() {
        let Ok(value) = serde_json::to_value(&*snapshot) else {
            continue;
        };
        let namespace = snapshot.metadata.namespace.as_deref().unwrap_or_default();
        let claim = value
            .pointer("/spec/source/persistentVolumeClaimName")
            .and_then(Value::as_str)
            .and_then(|name| stores.claims.get(&ObjectRef::new(name).within(namespace)));
        let driver = claim
            .as_ref()
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.storage_class_name.as_deref())
            .and_then(|name| stores.classes.get(&ObjectRef::new(name)))
            .map(|class| class.provisioner.clone());
        if let SnapshotPlan::Bind { content, status } =
            plan_snapshot(&value, claim.as_deref(), driver.as_deref(), &now)
        {
            bind_snapshot(client, &snapshot, content, status).await;
        }
    }
    for volume in stores.volumes.state() {
        release(client, &volume).await;
    }
}

async fn provision(client: &kube::Client, stores: &Stores, pv: &PersistentVolume) {
    let name = pv.metadata.name.as_deref().unwrap_or_default();
    if stores.volumes.get(&ObjectRef::new(name)).is_some() {
        return;
    }
    match Api::<PersistentVolume>::all(client.clone())
        .create(&PostParams::default(), pv)
        .await
    {
        Ok(_) => tracing::debug!("simulated storage: created PersistentVolume {name}"),
        Err(e) if is_conflict(&e) => {}
        Err(e) => tracing::warn!("simulated storage: creating PersistentVolume {name}: {e}"),
    }
}

async fn bind_snapshot(
    client: &kube::Client,
    snapshot: &DynamicObject,
    content: Option<Value>,
    status: Value,
) {
    let name = snapshot.metadata.name.as_deref().unwrap_or_default();
    let namespace = snapshot.metadata.namespace.as_deref().unwrap_or_default();
    if let Some(content) = content {
        let contents = resource("VolumeSnapshotContent", "volumesnapshotcontents");
        let api = Api::<DynamicObject>::all_with(client.clone(), &contents);
        let created = match serde_json::from_value::<DynamicObject>(content) {
            Ok(object) => api.create(&PostParams::default(), &object).await.map(drop),
            Err(e) => {
                tracing::warn!(
                    "simulated storage: content of VolumeSnapshot {namespace}/{name}: {e}"
                );
                return;
            }
        };
        match created {
            Ok(()) => {}
            Err(e) if is_conflict(&e) => {}
            Err(e) => {
                tracing::warn!(
                    "simulated storage: content of VolumeSnapshot {namespace}/{name}: {e}"
                );
                return;
            }
        }
    }
    let api = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        namespace,
        &resource("VolumeSnapshot", "volumesnapshots"),
    );
    let patch = Patch::Merge(serde_json::json!({ "status": status }));
    if let Err(e) = api
        .patch_status(name, &PatchParams::default(), &patch)
        .await
    {
        tracing::warn!("simulated storage: status of VolumeSnapshot {namespace}/{name}: {e}");
    }
}

/// Deletes a simulated volume whose claim is gone, as a real provisioner does for `Delete` volumes.
async fn release(client: &kube::Client, volume: &PersistentVolume) {
    let simulated = volume
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(SIMULATED_ANNOTATION));
    let released = volume.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released");
    let delete = volume
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        == Some("Delete");
    if !(simulated && released && delete) || volume.metadata.deletion_timestamp.is_some() {
        return;
    }
    let name = volume.metadata.name.as_deref().unwrap_or_default();
    if let Err(e) = Api::<PersistentVolume>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await
        && !matches!(&e, kube::Error::Api(s) if s.code == 404)
    {
        tracing::warn!("simulated storage: deleting PersistentVolume {name}: {e}");
    }
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}
