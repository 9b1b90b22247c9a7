//! Defect 8: absurd durations (near the largest number a flag accepts) are refused with a clear
//! message and exit 2; they never reach arithmetic that overflows and panics.

use std::time::Duration;

use crate::common::rekube;
use crate::support::{cluster, code, namespace, stderr, unique_name, write};

#[tokio::test]
async fn absurd_durations_are_clear_errors_not_panics() {
    let kc = cluster().await.kubeconfig();
    let cache = tempfile::tempdir().expect("cache");
    let dir = tempfile::tempdir().expect("repo");
    let ns = unique_name("durations");
    write(dir.path(), "ns.yaml", &namespace(&ns));
    let repo = dir.path().to_str().expect("utf-8 path");
    let huge = [
        "18446744073709551615",
        "99999999999999999h",
        "5124095576030431h",
    ];
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for h in huge {
        cases.push(vec!["apply", repo, "--timeout", h]);
        cases.push(vec!["rebuild", repo, "--rto-budget", h, "--adopt"]);
        cases.push(vec!["drill", repo, "--timeout", h]);
        cases.push(vec!["reconcile", "--repo", repo, "--interval", h]);
        cases.push(vec!["reconcile", "--repo", repo, "--resync", h]);
        cases.push(vec!["reconcile", "--repo", repo, "--lease-duration", h]);
    }
    // Digits past u64: a clear message, not "a number must come before 's'".
    cases.push(vec!["apply", repo, "--timeout", "99999999999999999999999s"]);
    for args in &cases {
        // A drill makes its own cluster: it takes no kubeconfig.
        let kubeconfig = (args[0] != "drill").then_some(kc);
        let out = rekube(kubeconfig, cache.path(), args, Duration::from_secs(60));
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert_eq!(code(&out), 2, "{args:?}: {err}");
        assert!(
            err.contains("invalid value") && err.contains("too long"),
            "{args:?} says why: {err}"
        );
    }
    // Large but sane values still work.
    let out = rekube(
        Some(kc),
        cache.path(),
        &["apply", repo, "--timeout", "8760h", "--inventory", &ns],
        Duration::from_secs(120),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}
