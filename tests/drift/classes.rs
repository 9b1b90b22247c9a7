//! Drift classes on a live cluster, the prune of an orphan, the ApplySet as kubectl sees it, and the
//! example CI script.

use std::process::Output;

use serde_json::Value;

use crate::support::{
    Rekube, Repo, app, cluster, code, config_map, exists, kubectl, kubectl_with, stderr, stdout,
    unique_name,
};

#[tokio::test]
async fn drift_classes_then_apply_prunes_the_orphan() {
    let kc = cluster().await.kubeconfig();
    let rekube = Rekube::on(kc);
    let ns = unique_name("drift-classes");
    let inv = unique_name("drift-classes");
    let repo = Repo::new();
    app(repo.path(), &ns, "registry.example/web:1.0");
    repo.write("apps/extra.yaml", &config_map(&ns, "extra", "1"));
    let first = repo.commit("app").to_string();
    let path = repo.path().to_str().expect("utf-8 path");
    let with = |cmd: &str, more: &[&str]| -> Vec<String> {
        let mut a = vec![
            cmd.to_string(),
            path.to_string(),
            "--inventory".into(),
            inv.clone(),
        ];
        a.extend(more.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| rekube.run(&a.iter().map(String::as_str).collect::<Vec<_>>());

    let out = run(with("rebuild", &["--timeout", "120s"]));
    assert_eq!(code(&out), 0, "rebuild succeeds");
    let out = run(with("drift", &[]));
    assert_eq!(code(&out), 0, "in sync right after the rebuild");
    assert!(
        stdout(&out).contains(&first),
        "prints the commit: {}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("in sync: 6 of 6"), "{}", stdout(&out));

    // Drift by hand: set image, a patch, an edit, a deleted ConfigMap, a Deployment made by hand.
    kubectl(
        kc,
        &[
            "set",
            "image",
            "deployment/web",
            "-n",
            &ns,
            "web=registry.example/web:hacked",
        ],
    );
    kubectl(
        kc,
        &[
            "patch",
            "service",
            "web",
            "-n",
            &ns,
            "-p",
            r#"{"spec":{"selector":{"app":"other"}}}"#,
        ],
    );
    kubectl_with(
        kc,
        &["edit", "secret", "web-secret", "-n", &ns],
        &[("KUBE_EDITOR", "sed -i -e s/aHVudGVyMg==/c3dvcmRmaXNo/")],
    );
    kubectl(kc, &["delete", "configmap", "web-config", "-n", &ns]);
    kubectl(
        kc,
        &[
            "create",
            "deployment",
            "handmade",
            "-n",
            &ns,
            "--image=registry.example/hand:1",
        ],
    );
    kubectl(
        kc,
        &[
            "rollout",
            "status",
            "deployment/handmade",
            "-n",
            &ns,
            "--timeout=90s",
        ],
    );
    repo.remove("apps/extra.yaml");
    let second = repo.commit("drop extra").to_string();

    let out = run(with("drift", &[]));
    assert_eq!(code(&out), 1, "drift");
    let text = stdout(&out);
    for want in [
        format!("modified      Deployment/{ns}/web (apps/web.yaml:1)"),
        "spec.template.spec.containers[name=web].image: changed by kubectl-set (Update)"
            .to_string(),
        format!("modified      Service/{ns}/web (apps/web.yaml:"),
        "changed by kubectl-patch (Update)".to_string(),
        format!("modified      Secret/{ns}/web-secret (apps/config.yaml:"),
        "changed by kubectl-edit (Update)".to_string(),
        format!("missing       ConfigMap/{ns}/web-config (apps/config.yaml:1)"),
        format!(
            "orphaned      ConfigMap/{ns}/extra (apps/apps/extra.yaml#0 at {}",
            &first[..12]
        ),
        format!("unmanaged     Deployment/{ns}/handmade"),
        "created by kubectl-create".to_string(),
        second.clone(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in\n{text}");
    }
    assert!(
        !text.contains("ReplicaSet/") && !text.contains("Pod/"),
        "owned objects are not unmanaged:\n{text}"
    );
    for secret in ["hunter2", "aHVudGVyMg==", "c3dvcmRmaXNo", "swordfish"] {
        assert!(
            !text.contains(secret),
            "Secret values are never printed:\n{text}"
        );
    }

    let out = run(with("drift", &["--output", "json"]));
    assert_eq!(code(&out), 1);
    assert_eq!(
        classes(&out),
        vec![
            ("missing".into(), format!("ConfigMap/{ns}/web-config")),
            ("modified".into(), format!("Deployment/{ns}/web")),
            ("modified".into(), format!("Secret/{ns}/web-secret")),
            ("modified".into(), format!("Service/{ns}/web")),
            ("orphaned".into(), format!("ConfigMap/{ns}/extra")),
            ("unmanaged".into(), format!("Deployment/{ns}/handmade")),
        ]
    );

    let out = run(with("drift", &["--output", "junit"]));
    assert_eq!(code(&out), 1);
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"failures="6""#), "{xml}");
    assert!(
        xml.contains(&format!(
            r#"<failure type="missing" message="missing ConfigMap/{ns}/web-config"#
        )),
        "{xml}"
    );

    let out = run(with("drift", &["--fail-on", "unverifiable"]));
    assert_eq!(code(&out), 0, "only the chosen classes fail");

    // The same check from a Git URL at the first commit: `extra` is declared there, so not an orphan.
    let url = format!("file://{path}");
    let out = rekube.run(&[
        "drift",
        &url,
        "--ref",
        &first,
        "--inventory",
        &inv,
        "--output",
        "json",
    ]);
    assert_eq!(code(&out), 1);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["revision"], first.as_str(), "the commit used");
    assert!(
        !classes(&out).iter().any(|(class, _)| class == "orphaned"),
        "{report}"
    );

    // Apply repairs what it manages and prunes the orphan; the hand-made Deployment stays unmanaged.
    let out = run(with("apply", &["--timeout", "120s"]));
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("deleted ConfigMap/{ns}/extra")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("1 deleted"), "{}", stderr(&out));
    assert!(
        !exists(kc, &["get", "configmap", "extra", "-n", &ns]),
        "pruned"
    );
    let out = run(with("drift", &["--output", "json"]));
    assert_eq!(
        classes(&out),
        vec![("unmanaged".into(), format!("Deployment/{ns}/handmade"))]
    );
    let out = run(with("drift", &["--fail-on", "modified,missing,orphaned"]));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[tokio::test]
async fn applyset_is_readable_by_kubectl() {
    let kc = cluster().await.kubeconfig();
    let rekube = Rekube::on(kc);
    let ns = unique_name("drift-applyset");
    let inv = unique_name("applyset");
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), &ns, "registry.example/web:1.0");
    let path = dir.path().to_str().expect("utf-8 path");
    let out = rekube.run(&["apply", path, "--inventory", &inv, "--timeout", "120s"]);
    assert_eq!(code(&out), 0);

    let parents = kubectl(
        kc,
        &[
            "get",
            "secret",
            "-n",
            "rekube-system",
            "-l",
            "applyset.kubernetes.io/id",
            "-o",
            "json",
        ],
    );
    let parents: Value = serde_json::from_slice(&parents.stdout).expect("json");
    let parent = parents["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["metadata"]["name"] == format!("rekube-{inv}"))
        .unwrap_or_else(|| panic!("kubectl lists the parent rekube-{inv}: {parents}"));
    let meta = &parent["metadata"];
    let id = meta["labels"]["applyset.kubernetes.io/id"]
        .as_str()
        .expect("an id label");
    assert!(id.starts_with("applyset-") && id.ends_with("-v1"), "{id}");
    let annotations = &meta["annotations"];
    assert_eq!(
        annotations["applyset.kubernetes.io/tooling"],
        concat!("rekube/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        annotations["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Deployment.apps,Namespace,Secret,Service"
    );
    assert_eq!(
        annotations["applyset.kubernetes.io/additional-namespaces"],
        ns.as_str()
    );

    let members = kubectl(
        kc,
        &[
            "get",
            "deployments,services,configmaps,secrets",
            "-n",
            &ns,
            "-l",
            &format!("applyset.kubernetes.io/part-of={id}"),
            "-o",
            "name",
        ],
    );
    let mut names: Vec<String> = stdout(&members).lines().map(str::to_string).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "configmap/web-config",
            "deployment.apps/web",
            "secret/web-secret",
            "service/web"
        ],
        "every member carries the part-of label"
    );
    let out = rekube.run(&["diff", path, "--inventory", &inv]);
    assert_eq!(code(&out), 0, "the part-of label is not a difference");
}

/// The classes reported for each object, from `--output json`.
pub fn classes(out: &Output) -> Vec<(String, String)> {
    let report: Value = serde_json::from_slice(&out.stdout).expect("drift --output json");
    let mut v: Vec<(String, String)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let id = &f["id"];
            let ns = id["namespace"]
                .as_str()
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
            (
                f["class"].as_str().unwrap_or("").to_string(),
                format!(
                    "{}/{ns}{}",
                    id["kind"].as_str().unwrap_or(""),
                    id["name"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    v.sort();
    v
}
