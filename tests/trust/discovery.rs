//! Defect 7 (discovery): many objects of kinds the cluster does not serve yet refresh discovery once,
//! not once each (a rebuild of a thousand custom resources would otherwise re-read discovery a
//! thousand times at once, outside the request budget).

use rekube::ObjectId;
use rekube::cluster::{Cluster, ClusterError, ClusterOptions};

use crate::support::cluster;

#[tokio::test]
async fn unknown_kinds_refresh_discovery_once() {
    let shared = cluster().await;
    let opts = ClusterOptions {
        concurrency: 4,
        ..ClusterOptions::default()
    };
    let cluster = Cluster::from_client(shared.client(), shared.server_url().to_string(), &opts)
        .await
        .expect("connects");
    let before = cluster.resources().refreshes();
    let ids: Vec<ObjectId> = (0..40)
        .map(|i| ObjectId::new("nothing.rekube.dev", &format!("Thing{i}"), None, "x"))
        .collect();
    let results = futures::future::join_all(
        ids.iter()
            .map(|id| cluster.resolve(id, "nothing.rekube.dev/v1")),
    )
    .await;
    for r in &results {
        assert!(
            matches!(r, Err(ClusterError::UnknownKind { .. })),
            "an unknown kind stays unknown: {:?}",
            r.as_ref().err()
        );
    }
    let refreshes = cluster.resources().refreshes() - before;
    assert!(
        (1..=2).contains(&refreshes),
        "40 unknown kinds at once: {refreshes} discovery refreshes"
    );
}
