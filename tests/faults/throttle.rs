//! Throttling: an API server limited to 10 requests in flight (5 mutating) answers the rest with 429
//! and `Retry-After: 1`, once with the plain in-flight limit (how the local control plane runs) and
//! once with API Priority and Fairness, rekube's requests put in a small priority level that rejects
//! instead of queueing. rekube runs as a ServiceAccount (cluster-admin, but not `system:masters`,
//! which both exempt); the rebuild completes, every 429 is retried after the time the server asked
//! for, and the retries are counted in the summary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rekube::controlplane::ControlPlaneOptions;
use rekube::synth::{SynthOptions, generate, write as write_repo};

use crate::harness::*;

const OBJECTS: usize = 300;

/// A kubeconfig for a cluster-admin ServiceAccount of the control plane `admin` administers.
fn service_account_kubeconfig(admin: &Path, dir: &Path) -> PathBuf {
    let ok = |args: &[&str]| kubectl(admin, args).unwrap_or_else(|| panic!("kubectl {args:?}"));
    ok(&["create", "serviceaccount", "deployer", "-n", "kube-system"]);
    ok(&[
        "create",
        "clusterrolebinding",
        "deployer",
        "--clusterrole=cluster-admin",
        "--serviceaccount=kube-system:deployer",
    ]);
    let token = ok(&[
        "create",
        "token",
        "deployer",
        "-n",
        "kube-system",
        "--duration=2h",
    ]);
    let kc = dir.join("deployer.kubeconfig");
    std::fs::copy(admin, &kc).expect("copy the kubeconfig");
    let user = ok(&["config", "view", "-o", "jsonpath={.users[0].name}"]);
    kubectl(&kc, &["config", "unset", &format!("users.{user}")]).expect("unset");
    kubectl(
        &kc,
        &[
            "config",
            "set-credentials",
            &user,
            &format!("--token={}", token.trim()),
        ],
    )
    .expect("set-credentials");
    kc
}

/// The delays of the retries after a 429, from rekube's debug log.
fn throttled_delays(log: &str) -> Vec<Duration> {
    log.lines()
        .filter(|l| l.contains("transient error, retrying in") && l.contains("429"))
        .filter_map(|l| {
            let d = l.split("retrying in ").nth(1)?.split(':').next()?;
            if let Some(ms) = d.strip_suffix("ms") {
                ms.parse::<f64>()
                    .ok()
                    .map(|v| Duration::from_secs_f64(v / 1000.0))
            } else {
                d.strip_suffix('s')?
                    .parse::<f64>()
                    .ok()
                    .map(Duration::from_secs_f64)
            }
        })
        .collect()
}

/// A priority level of 3 seats (of 15) that rejects what does not fit, and the deployer's requests in it.
const TIGHT_PRIORITY_LEVEL: &str = r#"apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: rekube-test-tight
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 60
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse:
      type: Reject
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: rekube-test-deployer
spec:
  priorityLevelConfiguration:
    name: rekube-test-tight
  matchingPrecedence: 100
  distinguisherMethod:
    type: ByUser
  rules:
    - subjects:
        - kind: ServiceAccount
          serviceAccount: {name: deployer, namespace: kube-system}
      resourceRules:
        - verbs: ["*"]
          apiGroups: ["*"]
          resources: ["*"]
          clusterScope: true
          namespaces: ["*"]
      nonResourceRules:
        - verbs: ["*"]
          nonResourceURLs: ["*"]
"#;

const IN_FLIGHT: [&str; 2] = [
    "--max-requests-inflight=10",
    "--max-mutating-requests-inflight=5",
];

#[tokio::test]
async fn in_flight_limit_honours_retry_after_and_counts_retries() {
    throttled_rebuild("in-flight limit", &IN_FLIGHT, None).await;
}

#[tokio::test]
async fn priority_and_fairness_honours_retry_after_and_counts_retries() {
    let mut args = IN_FLIGHT.to_vec();
    args.push("--enable-priority-and-fairness=true");
    throttled_rebuild("priority and fairness", &args, Some(TIGHT_PRIORITY_LEVEL)).await;
}

/// A rebuild of [`OBJECTS`] as the deployer ServiceAccount on an API server started with `args`
/// (and `flow_control` applied by the admin): it completes, every 429 waited its Retry-After, and
/// the summary counts them all.
async fn throttled_rebuild(what: &str, args: &[&str], flow_control: Option<&str>) {
    let _one = exclusive().await;
    let cp = control_plane(ControlPlaneOptions {
        apiserver_args: args.iter().map(|a| a.to_string()).collect(),
        ..ControlPlaneOptions::default()
    })
    .await;
    let work = tempfile::tempdir().expect("work");
    let kc = service_account_kubeconfig(cp.kubeconfig(), work.path());
    let rk = Rekube::on(&kc);
    if let Some(manifest) = flow_control {
        write(work.path(), "flow-control.yaml", manifest);
        let file = work.path().join("flow-control.yaml");
        let file = file.to_str().expect("utf-8 path");
        kubectl(cp.kubeconfig(), &["apply", "-f", file]).expect("flow control applied");
    }
    let dir = tempfile::tempdir().expect("repo");
    let repo = generate(&SynthOptions { objects: OBJECTS });
    write_repo(&repo, dir.path()).expect("repository written");
    let path = dir.path().to_str().expect("utf-8 path");

    let whoami = kubectl(
        &kc,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(
        whoami.as_deref(),
        Some("system:serviceaccount:kube-system:deployer"),
        "rekube runs as the ServiceAccount"
    );
    let client = cp.client().expect("client");
    let refused_before = crate::counts::throttled(&client).await;
    let started = Instant::now();
    let out = run(
        &rk,
        &[
            "rebuild",
            path,
            "--timeout",
            "120s",
            "--concurrency",
            "64",
            "--log",
            "rekube=debug",
        ],
        Duration::from_secs(300),
    );
    let took = started.elapsed();
    let refused = crate::counts::throttled(&client).await - refused_before;
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "the rebuild completes under throttling");
    let delays = throttled_delays(&err);
    let summary = summary(&err);
    eprintln!(
        "FIGURES throttle ({what}): {took:.1?}, `{summary}`, {refused} requests refused with 429 by the API server, {} retries after 429, shortest wait {:?}",
        delays.len(),
        delays.iter().min()
    );
    assert_eq!(
        refused,
        delays.len() as u64,
        "every 429 the API server sent was retried once"
    );
    assert!(!delays.is_empty(), "the API server throttled the rebuild");
    assert!(
        delays.iter().all(|d| *d >= Duration::from_secs(1)),
        "every 429 waited the Retry-After of 1 s: {delays:?}"
    );
    assert!(
        summary.contains(&format!("{} throttled by the API server", delays.len())),
        "the retries are counted in the summary: {summary}"
    );
    let drift = run(&rk, &["drift", path], Duration::from_secs(300));
    assert_eq!(code(&drift), 0, "zero drift afterwards");
}
