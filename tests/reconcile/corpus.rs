//! A reconciler managing the public corpus (`REKUBE_CORPUS`: Argo CD's install in a layer with namespace
//! `argocd`, ingress-nginx and microservices-demo, laid out as tests/corpus.rs does): it applies
//! everything, then heals a drifted Deployment of Argo CD; its memory is measured once it watches them all.

use std::time::{Duration, Instant};

use crate::fixtures::drift_to_heal;
use crate::harness::Reconciler;
use crate::support::{Repo, cluster, eventually, three_projects, unique_name};

#[tokio::test]
#[cfg_attr(
    not(rekube_corpus),
    ignore = "needs the public corpus: REKUBE_CORPUS=../shared/corpus cargo test"
)]
async fn a_reconciler_manages_the_corpus_in_little_memory() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let repo = Repo::new();
    three_projects(repo.path());
    let commit = repo.commit("corpus").to_string();

    let inventory = unique_name("corpus");
    let started = Instant::now();
    let r = Reconciler::start(
        kc,
        &repo.url(),
        "corpus-0",
        &[
            "--interval",
            "5s",
            "--timeout",
            "240s",
            "--inventory",
            &inventory,
            "--lease-name",
            &inventory,
        ],
    );
    eventually(Duration::from_secs(420), "the corpus is applied", || {
        (r.applied().as_deref() == Some(commit.as_str())).then_some(())
    })
    .await;
    let applied_in = started.elapsed();
    let log = r.log();
    let summary = log
        .lines()
        .find(|l| l.contains("applied commit"))
        .unwrap_or_default()
        .to_string();
    assert!(summary.contains("created"), "{log}");

    // Steady state: every kind watched, every object checked once.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let healed = drift_to_heal(kc, "argocd", "argocd-server", "argocd-server").await;
    assert!(healed <= Duration::from_secs(2), "healed in {healed:?}");
    let mut rss = 0;
    for _ in 0..5 {
        rss = rss.max(r.rss_kib());
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    eprintln!(
        "MEASURE corpus: {summary}; applied {:.1}s after start; argocd-server reverted in {} ms; RSS {:.1} MiB",
        applied_in.as_secs_f64(),
        healed.as_millis(),
        rss as f64 / 1024.0
    );
    assert_eq!(
        r.metric("rekube_drifted_objects{class=\"modified\"}"),
        Some(0.0)
    );
    assert!(rss < 256 * 1024, "RSS {rss} KiB");
}
