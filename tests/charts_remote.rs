//! Remote Helm charts: an `https://`-style chart repository (a loopback HTTP server holding `helm
//! package` output and its index) and an `oci://` registry (distribution's, local), each pinned by
//! `rekube lock`; a chart changed upstream under the same version is an error, never a silent change.

mod support;

use serde_json::Value;
use support::helm::corpus_chart;
use support::{Rekube, copy_dir, stderr, write};

/// The refs of the planned objects.
fn refs(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o["ref"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn remote_charts_are_pinned_by_rekube_lock_and_a_changed_upstream_is_an_error() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    let served = tempfile::tempdir().unwrap();
    let source = tempfile::tempdir().unwrap();
    let chart = source.path().join("podinfo");
    copy_dir(&corpus_chart("podinfo"), &chart);
    let url = support::helm::serve_folder(served.path());
    support::helm::package_into_repository(&chart, served.path(), &url);
    let root = repo.path();
    let r = root.display().to_string();
    write(
        root,
        "rekube.yaml",
        &format!(
            "layers:\n  - name: apps\n    charts:\n      - release: web\n        repository: {url}\n        chart: podinfo\n        version: 6.14.1\n        namespace: web\n"
        ),
    );

    let out = rekube.run(&["plan", &r]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not pinned in rekube.lock: run `rekube lock`"),
        "{}",
        stderr(&out)
    );

    let out = rekube.run(&["lock", &r]);
    assert_eq!(out.status.code(), Some(0), "lock: {}", stderr(&out));
    let lock = std::fs::read_to_string(root.join("rekube.lock")).unwrap();
    assert!(
        lock.contains(&format!("repository: {url}")) && lock.contains("digest: sha256:"),
        "{lock}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pinned"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let objects = rekube.plan_objects(root);
    let ours = refs(&objects);
    assert!(
        ours.contains(&"Deployment/web/web-podinfo".to_string()),
        "{ours:?}"
    );
    let deployment = objects
        .iter()
        .find(|o| o["ref"] == "Deployment/web/web-podinfo")
        .unwrap();
    assert_eq!(
        deployment["source"],
        format!("{url}/podinfo-6.14.1/templates/deployment.yaml:1"),
        "the chart's reference and the template"
    );

    // Upstream serves another chart under the same version.
    let values = chart.join("values.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    std::fs::write(
        &values,
        text.replacen("replicaCount: 1", "replicaCount: 3", 1),
    )
    .unwrap();
    support::helm::package_into_repository(&chart, served.path(), &url);
    // The pinned chart in the cache is still what renders…
    let objects = rekube.plan_objects(root);
    assert!(
        objects
            .iter()
            .any(|o| o["ref"] == "Deployment/web/web-podinfo")
    );
    // …and without it, the change is an error, never a silent change.
    let fresh = Rekube::new().with_helm();
    let out = fresh.run(&["plan", &r]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the repository serves a chart with digest sha256:")
            && err.contains("but rekube.lock pins sha256:")
            && err.contains("run `rekube lock`"),
        "{err}"
    );
    // Accepting the change is one command.
    let out = fresh.run(&["lock", &r]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("CHANGED"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = fresh.run(&["plan", &r]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn oci_charts_are_pinned_by_rekube_lock_and_a_changed_upstream_is_an_error() {
    let registry = support::helm::oci_registry();
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    let source = tempfile::tempdir().unwrap();
    let chart = source.path().join("podinfo");
    copy_dir(&corpus_chart("podinfo"), &chart);
    let charts = format!("{}/charts", registry.url);
    support::helm::push_chart(&chart, &charts);
    let root = repo.path();
    let r = root.display().to_string();
    write(
        root,
        "rekube.yaml",
        &format!(
            "layers:\n  - name: apps\n    charts:\n      - release: web\n        repository: {charts}\n        chart: podinfo\n        version: 6.14.1\n        namespace: web\n"
        ),
    );
    let out = rekube.run(&["lock", &r]);
    assert_eq!(out.status.code(), Some(0), "lock: {}", stderr(&out));
    let objects = rekube.plan_objects(root);
    let ours = refs(&objects);
    assert!(
        ours.contains(&"Deployment/web/web-podinfo".to_string()),
        "{ours:?}"
    );
    let deployment = objects
        .iter()
        .find(|o| o["ref"] == "Deployment/web/web-podinfo")
        .unwrap();
    assert_eq!(
        deployment["source"],
        format!("{charts}/podinfo-6.14.1/templates/deployment.yaml:1")
    );

    // The same tag pushed again with other content.
    let values = chart.join("values.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    std::fs::write(
        &values,
        text.replacen("replicaCount: 1", "replicaCount: 3", 1),
    )
    .unwrap();
    support::helm::push_chart(&chart, &charts);
    let fresh = Rekube::new().with_helm();
    let out = fresh.run(&["plan", &r]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{charts}/podinfo:6.14.1: the repository serves a chart with digest"
        )),
        "{err}"
    );
}
