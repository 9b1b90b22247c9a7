//! Inventories on the real local control plane: one per repository by default (named from
//! `rekube.yaml` or the repository's identity), owned by the repository that created it, and locked
//! while one applier works on it, so two appliers never interleave their prune plans.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rekube::apply::Dag;
use rekube::cluster::{Cluster, ClusterOptions};
use rekube::graph::GraphOptions;
use rekube::manifest::{LoadOptions, Manifest, load_dir};
use rekube::ops::apply::{ApplyRunOptions, apply};
use rekube::ops::prune::{self, PruneRunOptions};
use serde_json::Value;

use support::{Rekube, cluster, kubectl, recorded, stderr, unique_name};

/// A Namespace and `count` ConfigMaps `<prefix>1…` in it, written to `dir`.
fn write_repo(dir: &Path, ns: &str, prefixes: &[&str], count: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("namespace.yaml"),
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    )
    .expect("write");
    let mut maps = String::new();
    for prefix in prefixes {
        for i in 1..=count {
            maps.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {prefix}{i}\n  namespace: {ns}\ndata:\n  value: \"{i}\"\n"
            ));
        }
    }
    std::fs::write(dir.join("config.yaml"), maps).expect("write");
}

/// The ConfigMaps of `ns` that rekube applied, sorted (none when the namespace is gone).
fn config_maps(kubeconfig: &Path, ns: &str) -> Vec<String> {
    let out = kubectl(kubeconfig, &["get", "configmaps", "-n", ns, "-o", "json"]);
    let list: Value = serde_json::from_slice(&out.stdout).expect("kubectl json");
    let mut names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["metadata"]["annotations"]["rekube.dev/source"].is_string())
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn names(prefixes: &[&str], count: usize) -> Vec<String> {
    let mut v: Vec<String> = prefixes
        .iter()
        .flat_map(|p| (1..=count).map(move |i| format!("{p}{i}")))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn two_repositories_with_default_flags_delete_nothing_of_each_other() {
    let kc = cluster().await.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let work = tempfile::tempdir().expect("temp dir");
    let (ns_one, ns_two) = (unique_name("x-one"), unique_name("x-two"));
    write_repo(&work.path().join("one"), &ns_one, &["c"], 10);
    write_repo(&work.path().join("two"), &ns_two, &["c"], 10);
    // Default flags: no `REKUBE_INVENTORY` from the environment; repositories named from `work`.
    let rekube = Rekube::on(kc);
    let apply = |repo: &str, extra: &[&str]| {
        let mut args = vec!["apply", repo, "--timeout", "60s"];
        args.extend_from_slice(extra);
        rekube.run_in(work.path(), &args)
    };

    let out = apply("one", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("inventory one"),
        "the inventory's name is printed: {}",
        stderr(&out)
    );
    let out = apply("two", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a second repository gets its own inventory: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("inventory two"), "{}", stderr(&out));
    let out = apply("one", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("deleted"), "{}", stderr(&out));
    assert_eq!(config_maps(kc, &ns_one), names(&["c"], 10));
    assert_eq!(config_maps(kc, &ns_two), names(&["c"], 10));

    // The parent records the repository that owns it.
    let owner = kubectl(
        kc,
        &[
            "get",
            "secret",
            "rekube-one",
            "-n",
            "rekube-system",
            "-o",
            "jsonpath={.metadata.annotations.rekube\\.dev/repository}",
        ],
    );
    let owner = String::from_utf8_lossy(&owner.stdout).into_owned();
    assert!(owner.ends_with("/one"), "owner recorded: {owner:?}");

    // A third repository that also declares one of one's objects is refused: two inventories holding
    // one object would delete it as soon as either repository drops it.
    let three = work.path().join("three");
    std::fs::create_dir_all(&three).expect("mkdir");
    std::fs::write(
        three.join("shared.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  namespace: {ns_one}\ndata:\n  value: \"three\"\n"),
    )
    .expect("write");
    let out = apply("three", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "ConfigMap/{ns_one}/c1 (in Secret/rekube-system/rekube-one of repository {owner})"
        )),
        "names the object and the inventory holding it: {err}"
    );
    assert!(err.contains("--take-over-inventory"), "{err}");

    // Another repository pointed at that inventory is refused, naming the owner and the way to take over.
    let out = apply("two", &["--inventory", "one"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&owner), "names the owner: {err}");
    assert!(err.contains("--take-over-inventory"), "{err}");
    assert_eq!(
        config_maps(kc, &ns_one),
        names(&["c"], 10),
        "nothing deleted"
    );
    assert_eq!(
        config_maps(kc, &ns_two),
        names(&["c"], 10),
        "nothing deleted"
    );

    // Taken over explicitly, the inventory moves: one's objects are now orphans of it (and the
    // --max-prune guard still refuses to delete 11 of 22 objects without being told).
    let out = apply("two", &["--inventory", "one", "--take-over-inventory"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refusing to prune"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        config_maps(kc, &ns_one),
        names(&["c"], 10),
        "nothing deleted"
    );
}

/// A repository of `prefixes` × 5 ConfigMaps in `ns`, loaded as the commit `commit`.
fn manifest(dir: &Path, ns: &str, prefixes: &[&str], commit: &str) -> (Manifest, Dag) {
    write_repo(dir, ns, prefixes, 5);
    let mut manifest = match load_dir(dir, &LoadOptions::default()) {
        Ok(m) => m,
        Err(d) => panic!("{d}"),
    };
    manifest.revision.commit = Some(commit.to_string());
    let graph = rekube::graph::build(
        &manifest.layers,
        &manifest.objects,
        &GraphOptions::default(),
    )
    .expect("no cycle");
    (manifest, Dag::from_graph(&graph))
}

/// B prepares its prune (reads the set, plans, records) and is slow to apply; C, a later commit of the
/// same repository, is applied meanwhile. C must wait for B: otherwise C's plan misses what B adds, B
/// records its revision over C's, and the cluster ends up holding a mix of both.
#[tokio::test]
async fn concurrent_applies_of_one_inventory_never_interleave() {
    let shared = cluster().await;
    let kc = shared.kubeconfig();
    let cluster = Cluster::from_client(
        shared.client(),
        shared.server_url().to_string(),
        &ClusterOptions::default(),
    )
    .await
    .expect("cluster");
    let ns = unique_name("inv-conc");
    let inventory = unique_name("conc");
    let work = tempfile::tempdir().expect("temp dir");
    let (a, dag_a) = manifest(&work.path().join("a"), &ns, &["a"], "aaaa");
    let (b, dag_b) = manifest(&work.path().join("b"), &ns, &["a", "b"], "bbbb");
    let (c, dag_c) = manifest(&work.path().join("c"), &ns, &["a", "c"], "cccc");
    let opts = ApplyRunOptions {
        prune: Some(PruneRunOptions {
            inventory: inventory.clone(),
            prune: rekube::inventory::PruneOptions {
                max_percent: 100,
                ..Default::default()
            },
            timeout: Duration::from_secs(60),
            ..Default::default()
        }),
        ..Default::default()
    };
    let popts = opts.prune.clone().expect("prune options");

    let applied = apply(&cluster, &a, &dag_a, &opts, |_| {})
        .await
        .expect("A applies");
    assert!(applied.succeeded());

    // B takes the inventory…
    let prepared_b = prune::prepare(&cluster, &b, &popts)
        .await
        .expect("B prepares");
    // …while C runs in full (polled in this task: the apply future is not Send).
    let c_done = AtomicBool::new(false);
    let run_c = async {
        let applied = apply(&cluster, &c, &dag_c, &opts, |_| {}).await;
        c_done.store(true, Ordering::SeqCst);
        applied
    };
    let run_b = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let c_waited = !c_done.load(Ordering::SeqCst);
        // B applies its objects and finishes (prunes, records, lets go of the inventory).
        let mut apply_b = opts.apply.clone();
        apply_b.revision = b.revision.commit.clone();
        apply_b.labels.extend(prepared_b.labels.clone());
        let changes =
            rekube::apply::apply(&cluster, &b.objects, &dag_b, &apply_b, None, |_| {}).await;
        assert!(changes.succeeded(), "B's objects apply");
        prune::finish(&cluster, prepared_b, &b, true, &popts, Instant::now())
            .await
            .expect("B finishes");
        c_waited
    };
    let (applied_c, c_waited) = tokio::time::timeout(Duration::from_secs(120), async {
        tokio::join!(run_c, run_b)
    })
    .await
    .expect("B and C finish within 120 s");
    let applied_c = applied_c.expect("C applies");
    assert!(c_waited, "C waited while B held the inventory");
    assert!(applied_c.succeeded(), "C applies after B");
    // The cluster holds exactly what the recorded revision declares: C's, with B's additions pruned.
    assert_eq!(recorded(kc, &inventory).as_deref(), Some("cccc"));
    assert_eq!(config_maps(kc, &ns), names(&["a", "c"], 5));
}
