//! No Secret value is ever printed: canary values planted in Secrets (in `data` and `stringData`, valid
//! and wrongly typed) are searched for in every output rekube makes — plan, diff, apply, rebuild, drift
//! (text, JSON, JUnit), explain, the rebuild and drill reports, the reconciler's log, its Events and
//! `/metrics` — on the real local control plane. Values that SOPS decrypts (in a Secret and in a
//! ConfigMap, encrypted by the real sops) are searched for the same way.

#[path = "reconcile/harness.rs"]
mod harness;
#[path = "secrets/peer.rs"]
mod peer;
mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use base64::Engine;

use harness::Reconciler;
use support::{
    Rekube, Repo, assert_absent, assets, cluster, eventually, kubectl, stderr, stdout, unique_name,
    write_files,
};

/// In `stringData`, valid.
const CANARY: &str = "canary-5f1c0d9e-string";
/// In `data` (base64), valid.
const CANARY_DATA: &str = "canary-71ab3e20-data";
/// Set on the live Secret by hand: drift.
const CANARY_LIVE: &str = "canary-0a9d44c1-live";
/// Wrongly typed (a number) in `stringData` and `data`.
const CANARY_INT: &str = "917364528";
const CANARY_INT_DATA: &str = "917364529";
/// SOPS-encrypted in the repository: a Secret's `stringData` and a ConfigMap's `data`.
const CANARY_SOPS: &str = "canary-3c8e51f7-sops";
const CANARY_SOPS_CM: &str = "canary-9b04d2aa-sops-cm";
/// Set on the live ConfigMap by hand: drift of a decrypted field.
const CANARY_SOPS_LIVE: &str = "canary-6d17e0b3-sops-live";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Every form a canary could take in an output.
fn canaries() -> Vec<String> {
    let mut v: Vec<String> = [
        CANARY,
        CANARY_DATA,
        CANARY_LIVE,
        CANARY_INT,
        CANARY_INT_DATA,
        CANARY_SOPS,
        CANARY_SOPS_CM,
        CANARY_SOPS_LIVE,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(
        [CANARY, CANARY_DATA, CANARY_LIVE, CANARY_SOPS]
            .iter()
            .map(|s| b64(s)),
    );
    v
}

/// Fails naming the output and the canary when `text` holds one.
fn assert_clean(what: &str, text: &str) {
    assert_absent(what, text, &canaries());
}

fn valid_files(ns: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "cluster/namespace.yaml",
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
        ),
        (
            "apps/secret.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: {ns}\ntype: Opaque\nstringData:\n  token: {CANARY}\ndata:\n  key: {}\n",
                b64(CANARY_DATA)
            ),
        ),
        (
            "apps/web.yaml",
            format!(
                r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
        - name: main
          image: registry.example/web:1
          envFrom:
            - secretRef: {{name: creds}}
"#
            ),
        ),
    ]
}

/// Two Secrets with a number where a string must be.
fn invalid_files(ns: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "apps/pin.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pin\n  namespace: {ns}\nstringData:\n  pin: {CANARY_INT}\n"
            ),
        ),
        (
            "apps/pin-data.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pin-data\n  namespace: {ns}\ndata:\n  pin: {CANARY_INT_DATA}\n"
            ),
        ),
    ]
}

/// Runs `rekube ARGS` (with `--kubeconfig` when given, the control plane's binaries for `--fresh`),
/// checks its exit code and that neither stdout nor stderr holds a canary; returns the output.
fn run_clean(kubeconfig: Option<&Path>, args: &[&str], expect: i32) -> Output {
    let rekube = match kubeconfig {
        Some(kc) => Rekube::on(kc),
        None => Rekube::new(),
    };
    let out = rekube.env("KUBEBUILDER_ASSETS", assets()).run(args);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    let what = format!("rekube {}", args.join(" "));
    assert_eq!(
        out.status.code(),
        Some(expect),
        "{what}:\n{stdout}\n{stderr}"
    );
    assert_clean(&format!("{what} (stdout)"), &stdout);
    assert_clean(&format!("{what} (stderr)"), &stderr);
    out
}

#[tokio::test]
async fn secret_values_never_appear_in_any_output() {
    let shared = cluster().await;
    let kc = shared.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let work = tempfile::tempdir().expect("temp dir");
    let ns = unique_name("canary");
    let valid = work.path().join("valid");
    let invalid = work.path().join("invalid");
    write_files(&valid, &valid_files(&ns));
    write_files(&invalid, &valid_files(&ns));
    write_files(&invalid, &invalid_files(&ns));
    let (valid_s, invalid_s) = (
        valid.to_str().expect("utf-8"),
        invalid.to_str().expect("utf-8"),
    );
    let inv = ["--inventory", "canary"];

    // Offline.
    for output in ["text", "json", "dot", "mermaid"] {
        run_clean(None, &["plan", valid_s, "-o", output], 0);
    }
    run_clean(None, &["plan", invalid_s], 2);
    let pin = format!("Secret/{ns}/pin");
    run_clean(None, &["explain", &pin, invalid_s, "--offline"], 2);
    let creds = format!("Secret/{ns}/creds");
    run_clean(None, &["explain", &creds, valid_s, "--offline"], 0);

    // A rebuild with its reports, then apply (no-op) and an invalid apply.
    let mut rebuild = vec!["rebuild", valid_s, "--timeout", "120s"];
    rebuild.extend_from_slice(&inv);
    for (i, report) in ["report.json", "report.xml", "report.html"]
        .iter()
        .enumerate()
    {
        let path = work.path().join(report);
        let path = path.to_str().expect("utf-8");
        let mut args = rebuild.clone();
        args.extend_from_slice(&["--report", path]);
        if i > 0 {
            args.push("--adopt");
        }
        run_clean(Some(kc), &args, 0);
        let text = std::fs::read_to_string(path).unwrap_or_default();
        assert!(!text.is_empty(), "{report} was written");
        assert_clean(report, &text);
    }
    let mut apply = vec!["apply", valid_s, "--timeout", "120s"];
    apply.extend_from_slice(&inv);
    run_clean(Some(kc), &apply, 0);
    let mut apply_invalid = vec!["apply", invalid_s];
    apply_invalid.extend_from_slice(&inv);
    run_clean(Some(kc), &apply_invalid, 2);

    // Drift: the live Secret changed by hand; diff, drift in every format, explain, then repaired.
    kubectl(
        kc,
        &[
            "patch",
            "secret",
            "creds",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            &format!("{{\"stringData\": {{\"token\": \"{CANARY_LIVE}\"}}}}"),
        ],
    );
    for output in ["text", "json"] {
        let mut diff = vec!["diff", valid_s, "-o", output];
        diff.extend_from_slice(&inv);
        run_clean(Some(kc), &diff, 1);
    }
    for output in ["text", "json", "junit"] {
        let mut drift = vec!["drift", valid_s, "-o", output];
        drift.extend_from_slice(&inv);
        run_clean(Some(kc), &drift, 1);
    }
    run_clean(Some(kc), &["explain", &creds, valid_s], 0);
    run_clean(Some(kc), &apply, 0);

    // Drills: the report on stdout (text, JSON) and in files (HTML, JUnit).
    for (output, report) in [("json", "drill.html"), ("text", "drill.xml")] {
        let path = work.path().join(report);
        let path = path.to_str().expect("utf-8");
        let args = ["drill", valid_s, "--fresh", "local", "-o", output];
        run_clean(None, &[&args[..], &["--report", path]].concat(), 0);
        let text = std::fs::read_to_string(path).unwrap_or_default();
        assert!(!text.is_empty(), "{report} was written");
        assert_clean(report, &text);
    }

    reconciler_outputs(kc).await;
}

/// The reconciler: applies a valid commit, heals a Secret changed by hand, rejects the invalid commit;
/// its log, its Events and its metrics are searched.
async fn reconciler_outputs(kc: &Path) {
    let ns = unique_name("canary-rc");
    let inventory = unique_name("canary-rc");
    let repo = Repo::new();
    for (rel, text) in valid_files(&ns) {
        repo.write(rel, &text);
    }
    let good = repo.commit("good").to_string();
    let r = Reconciler::start(
        kc,
        &repo.url(),
        "canary-0",
        &[
            "--interval",
            "1s",
            "--inventory",
            &inventory,
            "--lease-name",
            &inventory,
        ],
    );
    eventually(
        Duration::from_secs(60),
        "the good commit is applied",
        || (r.applied().as_deref() == Some(good.as_str())).then_some(()),
    )
    .await;
    kubectl(
        kc,
        &[
            "patch",
            "secret",
            "creds",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            &format!("{{\"stringData\": {{\"token\": \"{CANARY_LIVE}\"}}}}"),
        ],
    );
    let token = || {
        let out = kubectl(
            kc,
            &[
                "get",
                "secret",
                "creds",
                "-n",
                &ns,
                "-o",
                "jsonpath={.data.token}",
            ],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    eventually(Duration::from_secs(30), "the Secret is healed", || {
        (token() == b64(CANARY)).then_some(())
    })
    .await;
    for (rel, text) in invalid_files(&ns) {
        repo.write(rel, &text);
    }
    repo.commit("invalid");
    eventually(
        Duration::from_secs(30),
        "the invalid commit is rejected",
        || (r.metric("rekube_invalid_revisions_total") == Some(1.0)).then_some(()),
    )
    .await;

    assert_clean("the reconciler's log", &r.log());
    assert_clean("/metrics", &r.metrics());
    assert_clean("/readyz", &r.get("/readyz").1);
    assert_clean("/healthz", &r.get("/healthz").1);
    let events = kubectl(kc, &["get", "events.events.k8s.io", "-A", "-o", "json"]);
    let events = String::from_utf8_lossy(&events.stdout);
    assert!(
        events.contains("InvalidRevision"),
        "the rejection is an Event: {events}"
    );
    assert_clean("the Events", &events);
}

/// A repository whose Secret and ConfigMap are encrypted by the real sops (only `data`/`stringData`), and
/// the age key file that opens them.
fn sops_repo(dir: &Path, ns: &str) -> std::path::PathBuf {
    let (secret, recipient) = peer::age_key();
    write_files(
        dir,
        &[
            (
                "cluster/namespace.yaml",
                format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
            ),
            (
                "apps/secret.yaml",
                format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed\n  namespace: {ns}\nstringData:\n  token: {CANARY_SOPS}\n"
                ),
            ),
            (
                "apps/settings.yaml",
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\ndata:\n  mode: {CANARY_SOPS_CM}\n"
                ),
            ),
        ],
    );
    for file in ["apps/secret.yaml", "apps/settings.yaml"] {
        peer::encrypt(
            &dir.join(file),
            &recipient,
            &["--encrypted-regex", "^(data|stringData)$"],
        );
    }
    let keys = tempfile::tempdir().expect("temp dir").keep();
    peer::key_file(&keys, "age.txt", &secret)
}

#[tokio::test]
async fn decrypted_sops_values_never_appear_in_any_output() {
    let shared = cluster().await;
    let kc = shared.kubeconfig().to_path_buf();
    let kc = kc.as_path();
    let work = tempfile::tempdir().expect("temp dir");
    let ns = unique_name("canary-sops");
    let repo = work.path().join("repo");
    let key = sops_repo(&repo, &ns);
    let (repo, key) = (repo.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let inv = ["--inventory", "canary-sops", "--age-key-file", key];

    // Offline: plan never decrypts; explain decrypts (it validates) and prints no value.
    for output in ["text", "json"] {
        run_clean(None, &["plan", repo, "-o", output], 0);
    }
    let sealed = format!("ConfigMap/{ns}/settings");
    run_clean(None, &["explain", &sealed, repo, "--offline"], 0);

    // Rebuild with its reports: the cluster holds the plaintext, no output does.
    let report = work.path().join("report.html");
    let report = report.to_str().expect("utf-8");
    let mut rebuild = vec!["rebuild", repo, "--timeout", "120s", "--report", report];
    rebuild.extend_from_slice(&inv);
    run_clean(Some(kc), &rebuild, 0);
    assert_clean(
        "the rebuild report",
        &std::fs::read_to_string(report).unwrap_or_default(),
    );
    let live = kubectl(
        kc,
        &[
            "get",
            "configmap",
            "settings",
            "-n",
            &ns,
            "-o",
            "jsonpath={.data.mode}",
        ],
    );
    assert_eq!(
        stdout(&live),
        CANARY_SOPS_CM,
        "the cluster holds the decrypted value"
    );

    // The decrypted ConfigMap field changed by hand: diff and drift show a difference, never a value.
    kubectl(
        kc,
        &[
            "patch",
            "configmap",
            "settings",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            &format!("{{\"data\": {{\"mode\": \"{CANARY_SOPS_LIVE}\"}}}}"),
        ],
    );
    for output in ["text", "json"] {
        let mut diff = vec!["diff", repo, "-o", output];
        diff.extend_from_slice(&inv);
        run_clean(Some(kc), &diff, 1);
    }
    for output in ["text", "json", "junit"] {
        let mut drift = vec!["drift", repo, "-o", output];
        drift.extend_from_slice(&inv);
        run_clean(Some(kc), &drift, 1);
    }
    run_clean(
        Some(kc),
        &["explain", &sealed, repo, "--age-key-file", key],
        0,
    );
    let mut apply = vec!["apply", repo, "--timeout", "120s"];
    apply.extend_from_slice(&inv);
    run_clean(Some(kc), &apply, 0);

    // A drill of the same repository, its report in a file.
    let drill_report = work.path().join("drill.xml");
    let drill_report = drill_report.to_str().expect("utf-8");
    let args = [
        "drill",
        repo,
        "--fresh",
        "local",
        "-o",
        "json",
        "--report",
        drill_report,
        "--age-key-file",
        key,
    ];
    run_clean(None, &args, 0);
    assert_clean(
        "the drill report",
        &std::fs::read_to_string(drill_report).unwrap_or_default(),
    );
}
