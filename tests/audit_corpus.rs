//! `rekube audit` on the public corpus (`REKUBE_CORPUS`): specific findings on specific real objects,
//! case by case — Argo CD's install, microservices-demo, and the podinfo chart with its defaults and
//! with values that turn on its PodDisruptionBudget and its Redis.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use support::{Rekube, copy_dir, corpus, corpus_repo, write};

/// `rekube audit -o json REPO` (the pinned Helm for charts): exit code and report.
fn audit(repo: &Path) -> (i32, Value) {
    let out = Rekube::new()
        .with_helm()
        .run(&["audit", "-o", "json", &repo.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON report: {e}\n{stderr}"));
    (out.status.code().unwrap_or(-1), report)
}

/// Object → (source, [(rule, message)]) of the findings.
type Found = BTreeMap<String, (String, Vec<(String, String)>)>;

fn by_object(report: &Value) -> Found {
    let mut out = Found::new();
    for f in report["findings"].as_array().expect("findings") {
        let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
        out.entry(s("object"))
            .or_insert_with(|| (s("source"), Vec::new()))
            .1
            .push((s("rule"), s("message")));
    }
    out
}

fn rules(found: &Found, object: &str) -> Vec<String> {
    found
        .get(object)
        .map(|(_, f)| f.iter().map(|(r, _)| r.clone()).collect())
        .unwrap_or_default()
}

fn message<'a>(found: &'a Found, object: &str, rule: &str) -> Vec<&'a str> {
    found
        .get(object)
        .map(|(_, f)| {
            f.iter()
                .filter(|(r, _)| r == rule)
                .map(|(_, m)| m.as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn argo_cd_install_runs_every_component_once() {
    let repo = corpus_repo("argo-cd", Some("argocd"));
    let (code, report) = audit(repo.path());
    assert_eq!(code, 1);
    let found = by_object(&report);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(38));
    assert_eq!(found.len(), 7, "{:?}", found.keys());
    // The application controller: one replica, no budget, no requests, a floating tag; but it has a
    // readiness probe and no claim templates.
    let controller = "StatefulSet/argocd/argocd-application-controller";
    assert_eq!(found[controller].0, "argo-cd/install.yaml:33759");
    assert_eq!(
        rules(&found, controller),
        [
            "single-replica",
            "no-disruption-budget",
            "no-resource-requests",
            "image-not-pinned"
        ]
    );
    assert_eq!(
        message(&found, controller, "image-not-pinned"),
        [
            "container `argocd-application-controller` image `quay.io/argoproj/argocd:latest` is not pinned by digest: a rebuild may run other bits"
        ]
    );
    // Dex: no readiness probe on `dex`; no requests on the init container `copyutil` nor on `dex`.
    let dex = "Deployment/argocd/argocd-dex-server";
    assert_eq!(found[dex].0, "argo-cd/install.yaml:32445");
    assert_eq!(
        message(&found, dex, "no-readiness-probe"),
        ["container `dex` has no readinessProbe: a replacement gets traffic before it can serve"]
    );
    assert_eq!(message(&found, dex, "no-resource-requests").len(), 2);
    assert!(message(&found, dex, "no-resource-requests")[0].starts_with("container `copyutil`"));
    // The API server and the repo server have readiness probes.
    for probed in [
        "Deployment/argocd/argocd-server",
        "Deployment/argocd/argocd-repo-server",
    ] {
        let r = rules(&found, probed);
        assert!(r.contains(&"single-replica".to_string()), "{probed}: {r:?}");
        assert!(
            !r.contains(&"no-readiness-probe".to_string()),
            "{probed}: {r:?}"
        );
    }
    assert_eq!(
        message(&found, "Deployment/argocd/argocd-redis", "image-not-pinned")[1],
        "container `redis` image `public.ecr.aws/docker/library/redis:8.10.1-alpine` is not pinned by digest: a rebuild may run other bits"
    );
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn microservices_demo_has_probes_and_requests_but_one_replica_each() {
    let repo = corpus_repo("microservices-demo", Some("shop"));
    let (code, report) = audit(repo.path());
    assert_eq!(code, 1);
    let found = by_object(&report);
    assert_eq!(found.len(), 11, "{:?}", found.keys());
    for (object, (source, _)) in &found {
        assert!(object.starts_with("Deployment/shop/"), "{object}");
        // Kustomize output: the kustomization folder, line 1.
        assert_eq!(source, "microservices-demo:1");
        assert_eq!(
            rules(&found, object),
            ["single-replica", "no-disruption-budget", "image-not-pinned"],
            "{object}"
        );
    }
    assert_eq!(
        message(&found, "Deployment/shop/redis-cart", "image-not-pinned"),
        [
            "container `redis` image `redis:alpine` is not pinned by digest: a rebuild may run other bits"
        ]
    );
    assert_eq!(
        message(&found, "Deployment/shop/frontend", "image-not-pinned"),
        [
            "container `server` image `frontend` is not pinned by digest: a rebuild may run other bits"
        ]
    );
}

#[test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
fn podinfo_chart_with_its_defaults_and_with_a_budget_and_redis() {
    let chart = corpus().join("charts/podinfo");
    let repo = tempfile::tempdir().expect("repo");
    copy_dir(&chart, &repo.path().join("apps/podinfo"));
    let (code, report) = audit(repo.path());
    assert_eq!(code, 1);
    let found = by_object(&report);
    let podinfo = "Deployment/default/podinfo";
    assert_eq!(found[podinfo].0, "apps/podinfo/templates/deployment.yaml:1");
    assert_eq!(
        rules(&found, podinfo),
        ["single-replica", "no-disruption-budget", "image-not-pinned"]
    );

    // Three replicas, the chart's budget with maxUnavailable 0, and its Redis.
    let repo = tempfile::tempdir().expect("repo");
    copy_dir(&chart, &repo.path().join("apps/podinfo"));
    write(
        repo.path(),
        "apps/podinfo-values.yaml",
        "replicaCount: 3\npodDisruptionBudget:\n  maxUnavailable: 0\nredis:\n  enabled: true\n",
    );
    write(
        repo.path(),
        "rekube.yaml",
        "layers:\n  - name: apps\n    charts:\n      - release: web\n        chart: apps/podinfo\n        namespace: web\n        valuesFiles: [apps/podinfo-values.yaml]\n",
    );
    let (code, report) = audit(repo.path());
    assert_eq!(code, 1);
    let found = by_object(&report);
    let web = "Deployment/web/web-podinfo";
    assert_eq!(
        rules(&found, web),
        ["budget-blocks-eviction", "no-spread", "image-not-pinned"]
    );
    assert_eq!(
        message(&found, web, "budget-blocks-eviction"),
        [
            "PodDisruptionBudget/web/web-podinfo (apps/podinfo/templates/pdb.yaml:1) allows no eviction (maxUnavailable 0): draining its node never ends"
        ]
    );
    // The chart's budget selects podinfo's pods only: Redis has none.
    let redis = "Deployment/web/web-podinfo-redis";
    assert_eq!(
        found[redis].0,
        "apps/podinfo/templates/redis/deployment.yaml:1"
    );
    assert_eq!(
        rules(&found, redis),
        ["single-replica", "no-disruption-budget", "image-not-pinned"]
    );
}
