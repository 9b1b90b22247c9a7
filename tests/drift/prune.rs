//! Prune guards: the `--max-prune` refusal, kept objects, protected Namespaces.

use serde_json::Value;

use crate::support::{
    Rekube, annotate, cluster, code, config_map, exists, kubectl, namespace, stderr, unique_name,
    write,
};

#[tokio::test]
async fn prune_refuses_too_much_and_protects_namespaces() {
    let kc = cluster().await.kubeconfig();
    let rekube = Rekube::on(kc);
    let a = unique_name("prune-a");
    let b = unique_name("prune-b");
    let inv = unique_name("prune");
    let dir = tempfile::tempdir().expect("repo");
    let repo = dir.path();
    write(repo, "cluster/a.yaml", &namespace(&a));
    write(repo, "cluster/b.yaml", &namespace(&b));
    for i in 0..4 {
        write(
            repo,
            &format!("apps/a{i}.yaml"),
            &config_map(&a, &format!("a{i}"), "1"),
        );
    }
    write(repo, "apps/b0.yaml", &config_map(&b, "b0", "1"));
    let keep = annotate(&config_map(&b, "keep", "1"), "rekube.dev/prune", "disabled");
    write(repo, "apps/keep.yaml", &keep);
    let path = repo.to_str().expect("utf-8 path");
    let apply = |more: &[&str]| {
        let mut args = vec![
            "apply",
            path,
            "--inventory",
            inv.as_str(),
            "--timeout",
            "120s",
        ];
        args.extend_from_slice(more);
        rekube.run(&args)
    };
    assert_eq!(code(&apply(&[])), 0);

    // A commit that removes most of the repository: 4 of the 8 objects would go.
    for i in 0..4 {
        std::fs::remove_file(repo.join(format!("apps/a{i}.yaml"))).expect("remove");
    }
    std::fs::remove_file(repo.join("apps/keep.yaml")).expect("remove");
    let out = apply(&[]);
    assert_eq!(code(&out), 2, "refused");
    let err = stderr(&out);
    assert!(
        err.contains("refusing to prune 4 of the 8 objects"),
        "{err}"
    );
    for i in 0..4 {
        assert!(
            err.contains(&format!("ConfigMap/{a}/a{i}")),
            "lists what would go: {err}"
        );
        assert!(
            exists(kc, &["get", "configmap", &format!("a{i}"), "-n", &a]),
            "nothing deleted"
        );
    }

    let out = apply(&["--max-prune", "100%"]);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(err.contains("4 deleted") && err.contains("1 kept"), "{err}");
    assert!(
        err.contains(&format!("kept ConfigMap/{b}/keep"))
            && err.contains("rekube.dev/prune: disabled"),
        "{err}"
    );
    assert!(!exists(kc, &["get", "configmap", "a0", "-n", &a]));
    let kept = kubectl(kc, &["get", "configmap", "keep", "-n", &b, "-o", "json"]);
    let kept: Value = serde_json::from_slice(&kept.stdout).expect("json");
    assert!(
        kept["metadata"]["labels"]["applyset.kubernetes.io/part-of"].is_null(),
        "detached: {kept}"
    );

    // Namespace `a` leaves Git: kept unless --prune-protected.
    std::fs::remove_file(repo.join("cluster/a.yaml")).expect("remove");
    let out = apply(&[]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("kept Namespace/{a}")),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("--prune-protected"),
        "{}",
        stderr(&out)
    );
    assert!(exists(kc, &["get", "namespace", &a]));
    let out = apply(&["--prune-protected", "--max-prune", "50%"]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains(&format!("deleted Namespace/{a}")),
        "{}",
        stderr(&out)
    );
    assert!(
        !exists(kc, &["get", "namespace", &a]),
        "gone once apply returns (watched, not assumed)"
    );
    assert!(
        exists(kc, &["get", "configmap", "keep", "-n", &b]),
        "the kept object stays"
    );
}
