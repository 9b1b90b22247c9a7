//! `rekube export` on the real local control plane: examples/platform is rebuilt, exported, and the
//! export rebuilt into a second fresh control plane; both clusters then declare the same objects, the
//! export has no drift against the first, and no server-assigned field reaches a file. A namespace made
//! by hand is what `--add-to` adds, and nothing else.

mod support;

use std::path::Path;

use rekube::controlplane::{ControlPlane, ControlPlaneOptions};

use support::{Rekube, copy_dir, files, rekube, root};

/// Where the server puts what it assigns: none of it may reach an exported file.
const SERVER_ASSIGNED: &[&str] = &[
    "/status",
    "/metadata/uid",
    "/metadata/resourceVersion",
    "/metadata/creationTimestamp",
    "/metadata/managedFields",
    "/metadata/generation",
    "/metadata/selfLink",
    "/metadata/ownerReferences",
    "/spec/clusterIP",
    "/spec/clusterIPs",
    "/metadata/annotations/rekube.dev~1source",
    "/metadata/annotations/rekube.dev~1digest",
    "/metadata/annotations/rekube.dev~1revision",
    "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
    "/metadata/labels/applyset.kubernetes.io~1part-of",
];

#[tokio::test(flavor = "multi_thread")]
async fn export_rebuilds_into_an_equal_cluster_and_add_to_takes_only_what_git_lacks() {
    let first = support::cluster().await;
    let kc = first.kubeconfig();
    let work = tempfile::tempdir().expect("tempdir");
    let on_first = Rekube::on(kc);
    let platform = root().join("examples/platform");
    let platform = platform.to_str().expect("utf-8 path");
    let inventory = ["--inventory", "platform"];

    let out = on_first.run(&[&["rebuild", platform][..], &inventory].concat());
    assert_eq!(out.status.code(), Some(0), "the platform rebuilds");

    let exported = work.path().join("exported");
    let exported_str = exported.to_str().expect("utf-8");
    let out = on_first.run(&[
        "export",
        "--out",
        exported_str,
        "--include-secrets",
        "--allow-plain-secrets",
    ]);
    assert_eq!(out.status.code(), Some(0), "the export runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("left out"),
        "says what it left out: {stderr}"
    );
    let written = files(&exported);
    assert!(written.iter().any(|(p, _)| p == "rekube.yaml"));
    for (path, text) in written.iter().filter(|(p, _)| p != "rekube.yaml") {
        let obj: serde_json::Value = serde_saphyr::from_str(text).expect("exported YAML parses");
        for field in SERVER_ASSIGNED {
            assert!(
                obj.pointer(field).is_none(),
                "{path} holds the server-assigned {field}:\n{text}"
            );
        }
    }

    // The export has no drift against the cluster it came from.
    let out = on_first.run(&[&["drift", exported_str][..], &inventory].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "drift of the export against the first cluster:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Rebuilt into a second, fresh cluster, whose own export is the same repository.
    let second = ControlPlane::start(ControlPlaneOptions::default())
        .await
        .expect("a second control plane");
    let on_second = Rekube::on(second.kubeconfig());
    let out = on_second.run(&["rebuild", exported_str]);
    assert_eq!(out.status.code(), Some(0), "the export rebuilds");
    let again = work.path().join("again");
    let out = on_second.run(&[
        "export",
        "--out",
        again.to_str().expect("utf-8"),
        "--include-secrets",
        "--allow-plain-secrets",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let body = |files: Vec<(String, String)>| {
        files
            .into_iter()
            .filter(|(p, _)| p != "rekube.yaml")
            .collect::<Vec<_>>()
    };
    assert_eq!(
        body(files(&again)),
        body(written.clone()),
        "both clusters declare the same objects"
    );
    drop(second);

    // Deterministic: the same cluster exports the same files.
    let twice = work.path().join("twice");
    let out = on_first.run(&[
        "export",
        "--out",
        twice.to_str().expect("utf-8"),
        "--include-secrets",
        "--allow-plain-secrets",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(files(&twice), written, "the same cluster, the same files");

    // A namespace made by hand is all that --add-to adds.
    support::kubectl(kc, &["create", "namespace", "handmade"]);
    support::kubectl(
        kc,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "-n",
            "handmade",
        ],
    );
    let repo = work.path().join("repo");
    copy_dir(Path::new(platform), &repo);
    let out = on_first.run(&["export", "--add-to", repo.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "--add-to runs");
    let added: Vec<String> = files(&repo.join("imported"))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        added,
        [
            "cluster-scoped/namespace-handmade.yaml",
            "handmade/deployment.apps-web.yaml"
        ],
        "only the hand-made namespace and its Deployment"
    );
    let deployment =
        std::fs::read_to_string(repo.join("imported/handmade/deployment.apps-web.yaml"))
            .expect("read");
    for default in [
        "terminationMessagePath",
        "dnsPolicy",
        "progressDeadlineSeconds",
    ] {
        assert!(
            !deployment.contains(default),
            "the server's default {default} is not exported:\n{deployment}"
        );
    }
    let yaml = std::fs::read_to_string(repo.join("rekube.yaml")).expect("rekube.yaml");
    assert!(
        yaml.contains("{name: imported, path: imported, dependsOn: ["),
        "{yaml}"
    );
    let out = rekube(&["plan", repo.to_str().expect("utf-8")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the extended repository plans: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
