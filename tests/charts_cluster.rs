//! Helm charts on the real local control plane: the corpus podinfo (with its hook Jobs switched on) and
//! ingress-nginx (whose admission webhook is set up by hook Jobs) rebuild with their hooks run in order;
//! a second apply writes nothing and runs no hook; drift is clean; a changed chart runs its upgrade
//! hooks; hooks follow their delete policies and are never inventory members.

mod support;

use std::path::Path;

use support::helm::corpus_chart;
use support::{Rekube, cluster, copy_dir, exists, kubectl, stderr, write};

/// Position of the progress line `<action> <object>` in `log`.
fn line(log: &str, action: &str, object: &str) -> usize {
    log.lines()
        .position(|l| {
            let rest = l.split_once("] ").map_or(l, |(_, r)| r);
            rest.starts_with(action) && rest[action.len()..].trim_start().starts_with(object)
        })
        .unwrap_or_else(|| panic!("no progress line {action:?} {object:?} in:\n{log}"))
}

const PODINFO_HOOKS: &str = "hooks:\n  preInstall:\n    job:\n      enabled: true\n      hookDeletePolicy: before-hook-creation,hook-succeeded\n  preUpgrade:\n    job:\n      enabled: true\n      hookDeletePolicy: hook-succeeded\n  postInstall:\n    job:\n      enabled: true\n      hookDeletePolicy: before-hook-creation\n";

/// A repository with a `cluster` layer of Namespaces and a `tools` layer of two charts.
fn repository(root: &Path, podinfo_values: &str) {
    write(
        root,
        "cluster/namespaces.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hk-web\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: hk-edge\n",
    );
    copy_dir(&corpus_chart("podinfo"), &root.join("tools/podinfo"));
    copy_dir(
        &corpus_chart("ingress-nginx"),
        &root.join("tools/ingress-nginx"),
    );
    write(root, "tools/podinfo-values.yaml", podinfo_values);
    write(
        root,
        "tools/edge-values.yaml",
        "controller:\n  ingressClassResource:\n    name: hk-nginx\n",
    );
    write(
        root,
        "rekube.yaml",
        "layers:\n  - name: cluster\n  - name: tools\n    dependsOn: [cluster]\n    charts:\n      - release: podinfo\n        chart: tools/podinfo\n        namespace: hk-web\n        valuesFiles: [tools/podinfo-values.yaml]\n      - release: edge\n        chart: tools/ingress-nginx\n        namespace: hk-edge\n        valuesFiles: [tools/edge-values.yaml]\n",
    );
}

#[tokio::test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
async fn charts_rebuild_with_hooks_in_order_then_apply_is_a_no_op_and_upgrades_run_upgrade_hooks() {
    let cp = cluster().await;
    let kc = cp.kubeconfig();
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::on(cp.kubeconfig()).with_helm();
    let root = repo.path();
    let r = root.display().to_string();
    repository(root, PODINFO_HOOKS);
    let inventory = ["--inventory", "charts"];

    // Cold rebuild: pre hooks before the chart's objects, post hooks once they are ready.
    let out = rekube.run(&[&["rebuild", &r][..], &inventory].concat());
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "rebuild: {log}");
    let pre = line(&log, "ran", "Job/hk-web/podinfo-pre-install");
    let deployment = line(&log, "created", "Deployment/hk-web/podinfo");
    let post = line(&log, "ran", "Job/hk-web/podinfo-post-install");
    assert!(
        pre < deployment && deployment < post,
        "podinfo's order:\n{log}"
    );
    let create = line(
        &log,
        "ran",
        "Job/hk-edge/edge-ingress-nginx-admission-create",
    );
    let controller = line(
        &log,
        "created",
        "Deployment/hk-edge/edge-ingress-nginx-controller",
    );
    let webhook = line(
        &log,
        "created",
        "ValidatingWebhookConfiguration/edge-ingress-nginx-admission",
    );
    let patch = line(
        &log,
        "ran",
        "Job/hk-edge/edge-ingress-nginx-admission-patch",
    );
    assert!(
        create < controller && controller < patch && webhook < patch,
        "ingress-nginx's order:\n{log}"
    );
    assert!(
        !log.contains("pre-upgrade"),
        "an install runs no upgrade hook:\n{log}"
    );

    // Delete policies: hook-succeeded hooks are gone, the others stay; none is an inventory member.
    assert!(!exists(
        kc,
        &["get", "-n", "hk-web", "job/podinfo-pre-install"]
    ));
    assert!(!exists(
        kc,
        &[
            "get",
            "-n",
            "hk-edge",
            "serviceaccount/edge-ingress-nginx-admission"
        ]
    ));
    assert!(exists(
        kc,
        &["get", "-n", "hk-web", "job/podinfo-post-install"]
    ));
    let labels = kubectl(
        kc,
        &[
            "get",
            "-n",
            "hk-web",
            "job/podinfo-post-install",
            "-o",
            "jsonpath={.metadata.labels}",
        ],
    );
    assert!(
        !String::from_utf8_lossy(&labels.stdout).contains("applyset.kubernetes.io/part-of"),
        "a hook is not a member of the set"
    );

    // The same repository again: nothing written, no hook run.
    let out = rekube.run(&[&["apply", &r][..], &inventory].concat());
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "apply: {log}");
    for word in ["ran ", "created ", "configured ", "deleted "] {
        assert!(!log.contains(word), "a no-op apply: {word:?} in\n{log}");
    }

    // Drift: in sync (hooks left by their policy are not unmanaged objects).
    let out = rekube.run(&[&["drift", &r][..], &inventory].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "drift: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );

    // A changed value: podinfo's upgrade hooks run, ingress-nginx (unchanged) runs none.
    write(
        root,
        "tools/podinfo-values.yaml",
        &format!("{PODINFO_HOOKS}replicaCount: 2\n"),
    );
    let out = rekube.run(&[&["apply", &r][..], &inventory].concat());
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "upgrade: {log}");
    let pre = line(&log, "ran", "Job/hk-web/podinfo-pre-upgrade");
    let deployment = line(&log, "configured", "Deployment/hk-web/podinfo");
    assert!(pre < deployment, "pre-upgrade before the change:\n{log}");
    assert!(
        !log.contains("pre-install"),
        "no install hook on an upgrade:\n{log}"
    );
    let ran: Vec<&str> = log.lines().filter(|l| l.contains("] ran ")).collect();
    assert!(
        ran.iter().all(|l| l.contains("podinfo")),
        "an unchanged chart runs no hook: {ran:?}"
    );
    assert!(
        !exists(kc, &["get", "-n", "hk-web", "job/podinfo-pre-upgrade"]),
        "hook-succeeded"
    );
}

#[tokio::test]
async fn the_helm_example_rebuilds_with_its_hooks() {
    let cp = cluster().await;
    let rekube = Rekube::on(cp.kubeconfig()).with_helm();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/helm");
    let e = example.display().to_string();
    let args = ["rebuild", &e, "--inventory", "example-helm"];
    let out = rekube.run(&args);
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    let migrate = line(&log, "ran", "Job/shop/greeter-migrate");
    let deployment = line(&log, "created", "Deployment/shop/greeter");
    let smoke = line(&log, "ran", "Job/shop/greeter-smoke-check");
    assert!(migrate < deployment && deployment < smoke, "{log}");
    line(&log, "created", "ConfigMap/shop/status-page");
    assert!(
        !log.contains("test-greeting"),
        "test hooks are skipped: {log}"
    );
    let args = ["apply", &e, "--inventory", "example-helm"];
    let out = rekube.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("] ran "), "{}", stderr(&out));
}

#[tokio::test]
async fn lookup_reads_the_cluster_only_with_helm_lookup() {
    let cp = cluster().await;
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::on(cp.kubeconfig()).with_helm();
    let root = repo.path();
    write(
        root,
        "apps/seen/Chart.yaml",
        "apiVersion: v2\nname: seen\nversion: 0.1.0\n",
    );
    write(
        root,
        "apps/seen/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seen\ndata:\n  found: {{ lookup \"v1\" \"Namespace\" \"\" \"kube-system\" | empty | not | quote }}\n",
    );
    let r = root.display().to_string();
    let found = || {
        let out = kubectl(
            cp.kubeconfig(),
            &[
                "get",
                "configmap",
                "seen",
                "-n",
                "default",
                "-o",
                "jsonpath={.data.found}",
            ],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = rekube.run(&["apply", &r, "--inventory", "lookup"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(found(), "false", "lookup finds nothing by default");
    let args = ["apply", &r, "--inventory", "lookup", "--helm-lookup"];
    let out = rekube.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        found(),
        "true",
        "with --helm-lookup, lookup reads the target"
    );
}
