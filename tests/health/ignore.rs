//! Fields other controllers own: an autoscaler's replicas, and `ignore:` rules by JSON pointer and by
//! field manager.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::Reconciler;
use crate::support::{
    Rekube, Repo, cluster, code, eventually, jsonpath, kubectl, stdout, unique_name, write,
};

fn web(ns: &str, replicas: u32) -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0
"#
    )
}

fn hpa(ns: &str) -> String {
    format!(
        r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: {ns}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 80}}}}
"#
    )
}

fn get(kc: &Path, ns: &str, what: &str, path: &str) -> String {
    jsonpath(kc, &[what, "-n", ns], path).unwrap_or_default()
}

/// `replicas: 2` in Git, an autoscaler scales the Deployment to 4 through its scale subresource:
/// `reconcile` in heal mode writes nothing to it for 60 s, and `drift` exits 0.
#[tokio::test]
async fn reconcile_never_fights_the_autoscaler() {
    let kc = cluster().await.kubeconfig();
    let ns = unique_name("hpa");
    let repo = Repo::new();
    repo.write("apps/web.yaml", &web(&ns, 2));
    repo.write("apps/hpa.yaml", &hpa(&ns));
    let first = repo.commit("web with an autoscaler").to_string();
    let r = Reconciler::start(
        kc,
        &repo.url(),
        &format!("{ns}-0"),
        &[
            "--interval",
            "1s",
            "--resync",
            "5s",
            "--inventory",
            &ns,
            "--lease-name",
            &ns,
            // The last step removes the autoscaler: a third of this small inventory.
            "--max-prune",
            "100%",
        ],
    );
    eventually(Duration::from_secs(120), "the commit is applied", || {
        (r.applied().as_deref() == Some(first.as_str())).then_some(())
    })
    .await;
    assert_eq!(get(kc, &ns, "deployment/web", "{.spec.replicas}"), "2");

    // As the autoscaler does: the scale subresource.
    kubectl(kc, &["scale", "deployment/web", "-n", &ns, "--replicas=4"]);
    let generation = get(kc, &ns, "deployment/web", "{.metadata.generation}");
    let heals = || {
        r.metric("rekube_heals_total{kind=\"Deployment\"}")
            .unwrap_or(0.0)
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        assert_eq!(
            get(kc, &ns, "deployment/web", "{.spec.replicas}"),
            "4",
            "reset after {:?}:\n{}",
            started.elapsed(),
            r.log()
        );
        assert_eq!(
            get(kc, &ns, "deployment/web", "{.metadata.generation}"),
            generation,
            "written after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(heals(), 0.0, "{}", r.log());
    assert!(!r.log().contains("drift: Deployment"), "{}", r.log());

    let rekube = Rekube::on(kc);
    let path = repo.path().to_str().expect("utf-8 path");
    let out = rekube.run(&["drift", path, "--inventory", &ns]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = rekube.run(&["explain", &format!("deployment/{ns}/web"), path]);
    assert!(
        stdout(&out).contains(&format!(
            "/spec/replicas (HorizontalPodAutoscaler/{ns}/web scales it)"
        )),
        "{}",
        stdout(&out)
    );

    // Without the autoscaler in Git, the same scaling is drift, and healed.
    repo.remove("apps/hpa.yaml");
    repo.commit("no autoscaler");
    eventually(Duration::from_secs(30), "replicas healed back to 2", || {
        (get(kc, &ns, "deployment/web", "{.spec.replicas}") == "2").then_some(())
    })
    .await;
}

/// Fields ignored by JSON pointer (in `rekube.yaml` and in the object's annotation) and one owned by
/// an ignored field manager, changed by hand, are neither drift nor differences and survive an apply
/// of a new commit; an unignored change is both.
#[tokio::test]
async fn ignored_fields_by_pointer_and_by_manager() {
    let kc = cluster().await.kubeconfig();
    let ns = unique_name("ignore");
    let rekube = Rekube::on(kc);
    let dir = tempfile::tempdir().expect("repo");
    let repo = dir.path();
    let path = repo.to_str().expect("utf-8 path");
    write(
        repo,
        "rekube.yaml",
        "ignore:\n  - kind: ConfigMap\n    name: tuned\n    jsonPointers: [/data/level]\n  - group: apps\n    kind: Deployment\n    managedFieldsManagers: [tuner]\n",
    );
    let config = |extra: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tuned\n  namespace: {ns}\n  annotations:\n    rekube.dev/ignore-fields: /data/cache\ndata:\n  level: \"1\"\n  cache: cold\n  mode: fast\n{extra}"
        )
    };
    write(repo, "web.yaml", &web(&ns, 1));
    write(repo, "config.yaml", &config(""));
    let run = |cmd: &str| {
        let mut args = vec![cmd, path, "--inventory", &ns];
        if cmd == "apply" {
            args.extend(["--timeout", "120s"]);
        }
        rekube.run(&args)
    };
    assert_eq!(code(&run("apply")), 0);
    assert_eq!(code(&run("drift")), 0);

    kubectl(
        kc,
        &[
            "patch",
            "configmap",
            "tuned",
            "-n",
            &ns,
            "--type=merge",
            "-p",
            r#"{"data":{"level":"9","cache":"warm"}}"#,
        ],
    );
    kubectl(
        kc,
        &[
            "patch",
            "deployment",
            "web",
            "-n",
            &ns,
            "--field-manager=tuner",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.example/web:tuned"}]"#,
        ],
    );
    let out = run("drift");
    assert_eq!(
        code(&out),
        0,
        "ignored changes are not drift: {}",
        stdout(&out)
    );
    let out = run("diff");
    assert_eq!(code(&out), 0, "nor differences: {}", stdout(&out));

    // A new commit is applied without resetting them, and the Deployment is not written at all.
    let generation = get(kc, &ns, "deployment/web", "{.metadata.generation}");
    write(repo, "config.yaml", &config("  extra: \"x\"\n"));
    assert_eq!(code(&run("apply")), 0);
    assert_eq!(get(kc, &ns, "configmap/tuned", "{.data.extra}"), "x");
    assert_eq!(get(kc, &ns, "configmap/tuned", "{.data.level}"), "9");
    assert_eq!(get(kc, &ns, "configmap/tuned", "{.data.cache}"), "warm");
    assert_eq!(
        get(
            kc,
            &ns,
            "deployment/web",
            "{.spec.template.spec.containers[0].image}"
        ),
        "registry.example/web:tuned"
    );
    assert_eq!(
        get(kc, &ns, "deployment/web", "{.metadata.generation}"),
        generation
    );

    // A field no rule ignores is drift.
    kubectl(
        kc,
        &[
            "patch",
            "configmap",
            "tuned",
            "-n",
            &ns,
            "--type=merge",
            "-p",
            r#"{"data":{"mode":"slow"}}"#,
        ],
    );
    let out = run("diff");
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("mode: slow"), "{}", stdout(&out));
    let out = run("drift");
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("ConfigMap/") && text.contains("data.mode"),
        "{text}"
    );
    assert!(
        !text.contains("data.level") && !text.contains("data.cache"),
        "{text}"
    );
}
