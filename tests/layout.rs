//! Repository layouts end to end on the real local control plane: Kustomize base and overlays rebuilt
//! without duplicates, and the scope of kinds the repository does not define taken from discovery (with
//! `-n` for the namespaced ones), validated before anything is applied.

mod support;

use serde_json::Value;

use support::{Rekube, cluster, exists, kubectl, namespace, root, stderr, temp_repo, unique_name};

#[tokio::test]
async fn base_and_overlays_rebuild_without_duplicates() {
    let cp = cluster().await;
    let fixture = root().join("fixtures/good/overlays");
    let rekube = Rekube::on(cp.kubeconfig()).inventory("layout-overlays");
    let report = rekube.cache().join("report.json");
    let fixture = fixture.to_str().expect("utf-8");
    let out = rekube.run(&[
        "rebuild",
        fixture,
        "--timeout",
        "120s",
        "--report",
        report.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let changes = report["changes"]["changes"].as_array().expect("changes");
    let mut ids: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "{}/{}/{}",
                c["id"]["kind"].as_str().unwrap_or_default(),
                c["id"]["namespace"].as_str().unwrap_or("-"),
                c["id"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect();
    ids.sort();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "no object twice");
    assert_eq!(ids.len(), 8, "{ids:#?}");
    assert!(
        changes.iter().all(|c| c["action"] == "created"),
        "{changes:#?}"
    );
    for (ns, replicas) in [("staging", "1"), ("production", "3")] {
        let out = kubectl(
            cp.kubeconfig(),
            &[
                "get",
                "deployment",
                "web",
                "-n",
                ns,
                "-o",
                "jsonpath={.spec.replicas}",
            ],
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), replicas, "{ns}");
    }
    // Git and the cluster agree: nothing to change.
    let out = rekube.run(&["diff", fixture]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A CRD installed in the cluster, not in the repository (`kind` in `group`, `scope`).
fn crd(kind: &str, group: &str, scope: &str) -> String {
    let plural = format!("{}s", kind.to_ascii_lowercase());
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\n\
         spec:\n  group: {group}\n  scope: {scope}\n  names: {{kind: {kind}, plural: {plural}}}\n  versions:\n\
         \x20   - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n\
         \x20         type: object\n          x-kubernetes-preserve-unknown-fields: true\n"
    )
}

#[tokio::test]
async fn scopes_of_kinds_the_repository_does_not_define_come_from_discovery() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let group = format!("{}.example.com", unique_name("scope"));
    let crds = tempfile::tempdir().expect("temp");
    let file = crds.path().join("crds.yaml");
    let text = format!(
        "{}---\n{}",
        crd("Widget", &group, "Namespaced"),
        crd("Gadget", &group, "Cluster")
    );
    std::fs::write(&file, text).expect("write");
    kubectl(kc, &["apply", "-f", file.to_str().expect("utf-8")]);
    kubectl(
        kc,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "-f",
            file.to_str().expect("utf-8"),
        ],
    );

    let ns = unique_name("scoped");
    let object = |kind: &str, name: &str| {
        format!(
            "apiVersion: {group}/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec: {{size: 1}}\n"
        )
    };
    let dir = temp_repo(&[
        ("cluster/namespace.yaml", namespace(&ns)),
        ("apps/widget.yaml", object("Widget", "w")),
        ("apps/gadget.yaml", object("Gadget", &format!("{ns}-g"))),
    ]);
    let path = dir.path().to_str().expect("utf-8");
    let rekube = Rekube::on(kc).inventory(&format!("layout-{ns}"));

    // Offline, nothing says whether a Widget is namespaced: an error, not a guess.
    let out = Rekube::new().run(&["plan", path, "-n", &ns]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is unknown offline"),
        "{}",
        stderr(&out)
    );

    // Against the cluster, discovery says: the Widget gets -n, the Gadget stays cluster-scoped.
    let out = rekube.run(&["apply", path, "-n", &ns, "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plural = |kind: &str| format!("{}s.{group}", kind.to_ascii_lowercase());
    kubectl(kc, &["get", &plural("Widget"), "w", "-n", &ns]);
    kubectl(kc, &["get", &plural("Gadget"), &format!("{ns}-g")]);

    // A kind the cluster does not serve either: exit 2 naming the object and its file, nothing applied.
    let other = unique_name("other");
    let dir = temp_repo(&[
        ("cluster/namespace.yaml", namespace(&other)),
        ("apps/thing.yaml", object("Thing", "t")),
    ]);
    let path = dir.path().to_str().expect("utf-8");
    let out = Rekube::on(kc)
        .inventory(&format!("layout-{other}"))
        .run(&["apply", path, "-n", &other]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "apps/thing.yaml:1: Thing/t: Thing.{group} is not served by the cluster"
        )),
        "{}",
        stderr(&out)
    );
    assert!(
        !exists(kc, &["get", "namespace", &other]),
        "nothing was applied: Namespace {other} exists"
    );
}
