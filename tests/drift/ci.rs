//! The example CI script (`examples/ci/drift.sh`) against a live cluster: exit codes and the JUnit report.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{Rekube, app, cluster, code, kubectl, root, stderr, stdout, unique_name};

fn script(
    kubeconfig: &Path,
    repo: &str,
    inventory: &str,
    report: &Path,
    fail_on: Option<&str>,
) -> Output {
    let script = root().join("examples/ci/drift.sh");
    let bin = Path::new(env!("CARGO_BIN_EXE_rekube"))
        .parent()
        .expect("a folder");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg(script)
        .arg(repo)
        .env("PATH", path)
        .env("KUBECONFIG", kubeconfig)
        .env("REKUBE_INVENTORY", inventory)
        .env("REKUBE_REPORT", report);
    match fail_on {
        Some(f) => cmd.env("REKUBE_FAIL_ON", f),
        None => cmd.env_remove("REKUBE_FAIL_ON"),
    };
    let out = cmd.output().expect("sh runs");
    eprintln!(
        "$ drift.sh {repo} -> {:?}\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

#[tokio::test]
async fn the_example_ci_script_fails_on_drift() {
    let kc = cluster().await.kubeconfig();
    let rekube = Rekube::on(kc);
    let ns = unique_name("drift-ci");
    let inv = unique_name("ci");
    let dir = tempfile::tempdir().expect("repo");
    app(dir.path(), &ns, "registry.example/web:1.0");
    let repo = dir.path().to_str().expect("utf-8 path");
    let out = rekube.run(&["apply", repo, "--inventory", &inv, "--timeout", "120s"]);
    assert_eq!(code(&out), 0);

    let report = dir.path().join("report.xml");
    let out = script(kc, repo, &inv, &report, None);
    assert_eq!(code(&out), 0, "in sync");
    let xml = std::fs::read_to_string(&report).expect("the report is written");
    assert!(
        xml.contains(r#"tests="5" failures="0" errors="0""#),
        "{xml}"
    );

    kubectl(kc, &["scale", "deployment/web", "-n", &ns, "--replicas=3"]);
    let out = script(kc, repo, &inv, &report, None);
    assert_eq!(code(&out), 1, "drift fails the job");
    assert!(stderr(&out).contains("DRIFT found"), "{}", stderr(&out));
    let xml = std::fs::read_to_string(&report).expect("the report is written");
    assert!(
        xml.contains(r#"<failure type="modified" message="modified Deployment/"#),
        "{xml}"
    );
    assert!(
        xml.contains("spec.replicas by kubectl"),
        "names the manager: {xml}"
    );

    let out = script(kc, repo, &inv, &report, Some("missing,orphaned"));
    assert_eq!(code(&out), 0, "REKUBE_FAIL_ON chooses what fails");
}
