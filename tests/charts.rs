//! Helm charts offline: the corpus charts (podinfo, ingress-nginx) load as layers' charts, with the same
//! objects `helm template` renders; plans show hooks in place; bad chart input is exit 2 with every
//! problem named; unstable renderings are named; Kustomize `helmCharts:` renders with the pinned Helm.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::helm::{corpus_chart, helm_template_objects};
use support::{Rekube, copy_dir, stderr, write};

/// Values that switch podinfo's test hook Jobs on (its default values have none).
const PODINFO_HOOKS: &str = "hooks:\n  preInstall:\n    job:\n      enabled: true\n      hookDeletePolicy: before-hook-creation,hook-succeeded\n  preUpgrade:\n    job:\n      enabled: true\n      hookDeletePolicy: hook-succeeded\n  postInstall:\n    job:\n      enabled: true\n      hookDeletePolicy: before-hook-creation\n";

/// `(kind, namespace, name)` of the planned objects that are not hooks.
fn not_hooks(objects: &[Value]) -> BTreeSet<(String, String, String)> {
    objects
        .iter()
        .filter(|o| o.get("hook").is_none())
        .map(|o| {
            let id = &o["id"];
            (
                id["kind"].as_str().unwrap_or_default().to_string(),
                id["namespace"].as_str().unwrap_or_default().to_string(),
                id["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn podinfo_folder_in_a_layer_renders_what_helm_template_renders() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    let chart = corpus_chart("podinfo");
    copy_dir(&chart, &repo.path().join("apps/podinfo"));
    let objects = rekube.plan_objects(repo.path());
    let ours = not_hooks(&objects);
    let helm = helm_template_objects(&chart, "podinfo", "default", &[]);
    assert_eq!(ours, helm, "rekube's objects are helm template's");
    let deployment = objects
        .iter()
        .find(|o| o["ref"] == "Deployment/default/podinfo")
        .expect("the Deployment");
    assert_eq!(
        deployment["source"], "apps/podinfo/templates/deployment.yaml:1",
        "the template named by # Source:, under the chart's folder"
    );
    // Chart.yaml, values.yaml and the templates are never read as manifests: no error, no warning.
    let out = rekube.run(&["plan", &repo.path().display().to_string()]);
    assert!(!stderr(&out).contains("missing kind"), "{}", stderr(&out));
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn ingress_nginx_with_a_values_file_renders_what_helm_template_renders() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    let chart = corpus_chart("ingress-nginx");
    copy_dir(&chart, &repo.path().join("tools/ingress-nginx"));
    let values = "controller:\n  replicaCount: 2\n  metrics:\n    enabled: true\n  autoscaling:\n    enabled: true\n";
    write(repo.path(), "tools/ingress-values.yaml", values);
    write(
        repo.path(),
        "rekube.yaml",
        "layers:\n  - name: tools\n    charts:\n      - release: edge\n        chart: tools/ingress-nginx\n        namespace: ingress\n        valuesFiles: [tools/ingress-values.yaml]\n",
    );
    let objects = rekube.plan_objects(repo.path());
    let ours = not_hooks(&objects);
    let helm = helm_template_objects(
        &chart,
        "edge",
        "ingress",
        &[&repo.path().join("tools/ingress-values.yaml")],
    );
    assert_eq!(ours, helm, "rekube's objects are helm template's");
    assert!(
        ours.contains(&(
            "HorizontalPodAutoscaler".into(),
            "ingress".into(),
            "edge-ingress-nginx-controller".into()
        )),
        "the values file was used: {ours:?}"
    );
    // The values file is the chart's, not a manifest of the layer.
    assert!(!objects.iter().any(|o| {
        o["source"]
            .as_str()
            .unwrap_or_default()
            .starts_with("tools/ingress-values.yaml")
    }));
    let hooks: Vec<&Value> = objects.iter().filter(|o| o.get("hook").is_some()).collect();
    assert!(
        hooks.iter().any(
            |h| h["ref"] == "Job/ingress/edge-ingress-nginx-admission-create"
                && h["hook"]["stage"] == "pre"
        ),
        "the certificate Job is a pre hook: {hooks:?}"
    );
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn plan_shows_hooks_in_place() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    copy_dir(&corpus_chart("podinfo"), &repo.path().join("apps/podinfo"));
    write(repo.path(), "apps/podinfo-hooks.yaml", PODINFO_HOOKS);
    write(
        repo.path(),
        "rekube.yaml",
        "layers:\n  - name: apps\n    namespace: web\n    charts:\n      - release: podinfo\n        chart: apps/podinfo\n        valuesFiles: [apps/podinfo-hooks.yaml]\n",
    );
    let out = rekube.run(&["plan", &repo.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let pos = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in the plan:\n{text}"))
    };
    let pre =
        pos("Job/web/podinfo-pre-install  [apps] pre hook (pre-install) of release web/podinfo");
    let deployment = pos("Deployment/web/podinfo  [apps]");
    let post =
        pos("Job/web/podinfo-post-install  [apps] post hook (post-install) of release web/podinfo");
    assert!(
        pre < deployment && deployment < post,
        "waves in order:\n{text}"
    );
    pos(
        "waits for release web/podinfo pre hooks (Hook: after the pre hooks of release web/podinfo)",
    );
    pos("waits for release web/podinfo ready (Hook: after release web/podinfo is ready)");
    // The plan digest does not change from one plan to the next.
    let again = rekube.run(&["plan", &repo.path().display().to_string()]);
    assert_eq!(again.stdout, out.stdout, "deterministic");
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn bad_chart_input_is_every_problem_at_once_and_exit_2() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    let root = repo.path();
    // A template error, a dependency that is not vendored, a missing folder, a missing values file,
    // values that are not a mapping, and a remote chart without a lock entry.
    copy_dir(&corpus_chart("podinfo"), &root.join("apps/broken"));
    let deployment = root.join("apps/broken/templates/deployment.yaml");
    let text = std::fs::read_to_string(&deployment).unwrap();
    std::fs::write(
        &deployment,
        text.replacen(
            "{{ .Values.replicaCount }}",
            "{{ .Values.replicaCount.x.y }}",
            1,
        ),
    )
    .unwrap();
    write(
        root,
        "apps/deps/Chart.yaml",
        "apiVersion: v2\nname: deps\nversion: 1.0.0\ndependencies:\n  - name: redis\n    version: 20.x\n    repository: https://charts.example\n",
    );
    write(
        root,
        "apps/deps/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    write(
        root,
        "rekube.yaml",
        "layers:\n  - name: apps\n    namespace: web\n    charts:\n      - release: broken\n        chart: apps/broken\n      - release: deps\n        chart: apps/deps\n      - release: gone\n        chart: apps/nowhere\n      - release: novalues\n        chart: apps/broken\n        valuesFiles: [apps/missing-values.yaml]\n      - release: listvalues\n        chart: apps/broken\n        values: [1, 2]\n      - release: remote\n        repository: https://charts.example\n        chart: web\n        version: 1.2.3\n",
    );
    let out = rekube.run(&["plan", &root.display().to_string()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for expected in [
        "apps/broken/templates/deployment.yaml:10:22: chart podinfo 6.14.1 of release \"broken\" does not render",
        "can't evaluate field x",
        "apps/deps/Chart.yaml: chart deps depends on redis 20.x but it is not vendored in apps/deps/charts/: run `helm dependency build apps/deps`",
        "chart folder \"apps/nowhere\" does not exist",
        "values file \"apps/missing-values.yaml\" does not exist",
        "values must be a mapping of chart values, found a list",
        "chart web 1.2.3 from https://charts.example of release \"remote\" is not pinned in rekube.lock: run `rekube lock`",
    ] {
        assert!(err.contains(expected), "{expected:?} in:\n{err}");
    }
    assert!(
        err.contains("rekube.yaml:"),
        "declarations are named by line: {err}"
    );
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn a_helm_that_is_not_v4_is_refused_with_how_to_get_one() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new();
    copy_dir(&corpus_chart("podinfo"), &repo.path().join("apps/podinfo"));
    let fake = rekube.cache().join("helm");
    std::fs::write(&fake, "#!/bin/sh\necho v3.19.0\n").unwrap();
    let mut perms = std::fs::metadata(&fake).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&fake, perms).unwrap();
    let out = rekube.run_env(
        &["plan", &repo.path().display().to_string()],
        &[("REKUBE_HELM", fake.to_str().expect("utf-8"))],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is Helm v3.19.0, rekube needs Helm v4") && err.contains("REKUBE_HELM"),
        "{err}"
    );
}

#[test]
fn objects_rendered_differently_each_time_are_named_by_plan() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    write(
        repo.path(),
        "apps/token/Chart.yaml",
        "apiVersion: v2\nname: token\nversion: 0.1.0\n",
    );
    write(
        repo.path(),
        "apps/token/templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: {{ randAlphaNum 16 | quote }}\n",
    );
    write(
        repo.path(),
        "apps/token/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
    );
    let out = rekube.run(&["plan", &repo.path().display().to_string()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: apps/token/templates/secret.yaml: Secret/default/token: chart token 0.1.0 of release \"token\" renders this object differently each time (it calls randAlphaNum)"),
        "{err}"
    );
    assert!(
        !err.contains("ConfigMap/default/settings"),
        "stable objects are not named: {err}"
    );
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn kustomize_helm_charts_render_with_the_pinned_helm() {
    let repo = tempfile::tempdir().unwrap();
    let rekube = Rekube::new().with_helm();
    copy_dir(
        &corpus_chart("podinfo"),
        &repo.path().join("apps/web/charts/podinfo"),
    );
    write(
        repo.path(),
        "apps/web/kustomization.yaml",
        "helmCharts:\n  - name: podinfo\n    releaseName: web\n    namespace: web\n    skipTests: true\n    valuesInline:\n      replicaCount: 3\nhelmGlobals:\n  chartHome: charts\n",
    );
    let objects = rekube.plan_objects(repo.path());
    let ours = not_hooks(&objects);
    assert!(
        ours.contains(&("Deployment".into(), "web".into(), "web-podinfo".into())),
        "{ours:?}"
    );
    assert_eq!(
        objects.len(),
        2,
        "the Service and the Deployment: {objects:?}"
    );
}
