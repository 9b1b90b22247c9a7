//! A reconciler managing the real-world corpus (`../shared/corpus`: Argo CD's install in a layer with
//! namespace `argocd`, ingress-nginx and microservices-demo, laid out as tests/corpus.rs does): it applies
//! everything, then heals a drifted Deployment of Argo CD; its memory is measured once it watches them all.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::fixtures::drift_to_heal;
use crate::harness::{Reconciler, Repo, eventually};
use crate::support::{cluster, unique_name};

/// Adds every file under `from` to the repository under `to`.
fn copy_into(repo: &Repo, from: &Path, to: &str) {
    let entries = std::fs::read_dir(from).expect("read the corpus");
    for entry in entries {
        let entry = entry.expect("entry");
        let rel = format!("{to}/{}", entry.file_name().to_string_lossy());
        if entry.file_type().expect("type").is_dir() {
            copy_into(repo, &entry.path(), &rel);
        } else {
            let text = std::fs::read_to_string(entry.path()).expect("read a corpus file");
            repo.write(&rel, &text);
        }
    }
}

#[tokio::test]
async fn a_reconciler_manages_the_corpus_in_little_memory() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        corpus.is_dir(),
        "{} is missing: check out shared/ beside this repository",
        corpus.display()
    );
    let repo = Repo::new();
    repo.write(
        "rekube.yaml",
        "layers:\n  - {name: cluster, path: cluster}\n  - {name: argocd, path: argocd, namespace: argocd, dependsOn: [cluster]}\n  - {name: ingress, path: ingress, dependsOn: [cluster]}\n  - {name: shop, path: shop, namespace: shop, dependsOn: [cluster]}\n",
    );
    repo.write(
        "cluster/namespaces.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    copy_into(&repo, &corpus.join("argo-cd"), "argocd");
    copy_into(&repo, &corpus.join("ingress-nginx"), "ingress");
    copy_into(&repo, &corpus.join("microservices-demo"), "shop");
    let commit = repo.commit("corpus");

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
