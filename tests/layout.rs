//! Repository layouts end to end on the real local control plane: Kustomize base and overlays rebuilt
//! without duplicates, and the scope of kinds the repository does not define taken from discovery (with
//! `-n` for the namespaced ones), validated before anything is applied.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use support::{cluster, kubectl, unique_name};

/// Runs `rekube ARGS --kubeconfig KC` with a private cache folder and its own inventory.
fn rekube(kubeconfig: &Path, cache: &Path, inventory: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_rekube"))
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("REKUBE_CACHE_DIR", cache)
        .env("REKUBE_INVENTORY", inventory)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("the rekube binary runs");
    eprintln!(
        "$ rekube {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn repo(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }
    dir
}

#[tokio::test]
async fn base_and_overlays_rebuild_without_duplicates() {
    let cp = cluster().await;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/good/overlays");
    let cache = tempfile::tempdir().expect("cache");
    let report = cache.path().join("report.json");
    let fixture = fixture.to_str().expect("utf-8");
    let out = rekube(
        cp.kubeconfig(),
        cache.path(),
        "layout-overlays",
        &[
            "rebuild",
            fixture,
            "--timeout",
            "120s",
            "--report",
            report.to_str().expect("utf-8"),
        ],
    );
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
    let out = rekube(
        cp.kubeconfig(),
        cache.path(),
        "layout-overlays",
        &["diff", fixture],
    );
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
    let namespace = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
    let dir = repo(&[
        ("cluster/namespace.yaml", namespace.clone()),
        ("apps/widget.yaml", object("Widget", "w")),
        ("apps/gadget.yaml", object("Gadget", &format!("{ns}-g"))),
    ]);
    let path = dir.path().to_str().expect("utf-8");
    let cache = tempfile::tempdir().expect("cache");
    let inventory = format!("layout-{ns}");

    // Offline, nothing says whether a Widget is namespaced: an error, not a guess.
    let out = Command::new(env!("CARGO_BIN_EXE_rekube"))
        .args(["plan", path, "-n", &ns])
        .output()
        .expect("the rekube binary runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is unknown offline"),
        "{}",
        stderr(&out)
    );

    // Against the cluster, discovery says: the Widget gets -n, the Gadget stays cluster-scoped.
    let out = rekube(
        kc,
        cache.path(),
        &inventory,
        &["apply", path, "-n", &ns, "--timeout", "60s"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plural = |kind: &str| format!("{}s.{group}", kind.to_ascii_lowercase());
    kubectl(kc, &["get", &plural("Widget"), "w", "-n", &ns]);
    kubectl(kc, &["get", &plural("Gadget"), &format!("{ns}-g")]);

    // A kind the cluster does not serve either: exit 2 naming the object and its file, nothing applied.
    let other = unique_name("other");
    let dir = repo(&[
        (
            "cluster/namespace.yaml",
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {other}\n"),
        ),
        ("apps/thing.yaml", object("Thing", "t")),
    ]);
    let path = dir.path().to_str().expect("utf-8");
    let out = rekube(
        kc,
        cache.path(),
        &format!("layout-{other}"),
        &["apply", path, "-n", &other],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "apps/thing.yaml:1: Thing/t: Thing.{group} is not served by the cluster"
        )),
        "{}",
        stderr(&out)
    );
    let get = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(["get", "namespace", &other])
        .output()
        .expect("kubectl runs");
    assert!(
        !get.status.success(),
        "nothing was applied: Namespace {other} exists"
    );
}
