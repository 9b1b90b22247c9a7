//! The binary end to end, offline: every malformed repository exits 2 with a message naming file, line and
//! object and prints no plan; bad flags exit 2; plans are deterministic; validation happens before any
//! cluster access.

mod support;

use std::path::PathBuf;

use support::{rekube, root, temp_repo};

fn bad_fixtures() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/bad"))
        .expect("fixtures/bad exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Fixtures that are only errors under `--strict` (warnings otherwise).
const STRICT_ONLY: &[&str] = &["left-out-folders"];

#[test]
fn every_bad_fixture_exits_2_with_located_errors_and_no_plan() {
    let fixtures = bad_fixtures();
    assert!(
        fixtures.len() >= 25,
        "at least 25 malformed repositories, found {}",
        fixtures.len()
    );
    for dir in fixtures {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut args = vec!["plan", dir.to_str().expect("utf-8 path")];
        if STRICT_ONLY.contains(&name.as_str()) {
            args.push("--strict");
        }
        let out = rekube(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: exit code 2\n{stderr}");
        assert!(
            out.stdout.is_empty(),
            "{name}: no plan is printed\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let located = stderr.lines().any(|l| {
            l.starts_with("error: ")
                && (l.contains(".yaml")
                    || l.contains(".yml")
                    || l.contains(".json")
                    || l.contains(':'))
        });
        assert!(located, "{name}: an error naming the file\n{stderr}");
    }
}

#[test]
fn a_cycle_prints_the_cycle() {
    let out = rekube(&[
        "plan",
        root()
            .join("fixtures/bad/dependency-cycle")
            .to_str()
            .expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ConfigMap/default/a") && stderr.contains("ConfigMap/default/b"),
        "{stderr}"
    );
    assert!(
        stderr.contains("->"),
        "the cycle is printed as A -> B -> A: {stderr}"
    );
}

#[test]
fn validation_happens_before_any_cluster_access() {
    // The kubeconfig does not exist: had rekube tried to connect first, it would say so.
    let dir = root().join("fixtures/bad/invalid-yaml");
    for cmd in ["apply", "diff", "rebuild"] {
        let out = rekube(&[
            cmd,
            dir.to_str().expect("utf-8"),
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(stderr.contains("nothing was applied"), "{cmd}: {stderr}");
        assert!(
            !stderr.contains("kubeconfig"),
            "{cmd} must not reach the cluster stage: {stderr}"
        );
    }
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        vec!["plan", ".", "--output", "xml"],
        vec!["apply", ".", "--timeout", "5 parsecs"],
        vec!["apply", ".", "--max-prune", "120%"],
        vec!["apply", ".", "--concurrency", "0"],
        vec!["frobnicate"],
    ] {
        let out = rekube(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn plan_is_deterministic_and_machine_readable() {
    let good = root().join("fixtures/good");
    let mut repos: Vec<PathBuf> = std::fs::read_dir(&good)
        .expect("fixtures/good")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert!(!repos.is_empty());
    for repo in repos {
        let path = repo.to_str().expect("utf-8");
        let a = rekube(&["plan", path, "-o", "json"]);
        assert_eq!(
            a.status.code(),
            Some(0),
            "{path}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        let b = rekube(&["plan", path, "-o", "json"]);
        assert_eq!(a.stdout, b.stdout, "{path}: same input, same plan");
        let plan: serde_json::Value = serde_json::from_slice(&a.stdout).expect("json plan");
        let digest = plan["digest"].as_str().unwrap_or_default();
        assert!(digest.starts_with("sha256:"), "{path}: a digest: {plan}");
        for format in ["text", "dot", "mermaid"] {
            let out = rekube(&["plan", path, "-o", format]);
            assert_eq!(out.status.code(), Some(0), "{path} -o {format}");
            assert!(!out.stdout.is_empty());
        }
        let text = String::from_utf8_lossy(&rekube(&["plan", path]).stdout).into_owned();
        assert!(
            text.contains(digest),
            "{path}: the text plan shows the digest"
        );
    }
}

#[test]
fn explain_offline_names_the_source_and_the_reasons() {
    let platform = root().join("examples/platform");
    let out = rekube(&[
        "explain",
        "Deployment/shop/orders",
        platform.to_str().expect("utf-8"),
        "--offline",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("declared at  apps/shop/orders.yaml:"),
        "{text}"
    );
    assert!(text.contains("(layer apps"), "{text}");
    assert!(text.contains("status       unknown (offline)"), "{text}");
    let out = rekube(&[
        "explain",
        "Deployment/shop/nope",
        platform.to_str().expect("utf-8"),
        "--offline",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such object"));
}

const UI: &str =
    "apiVersion: v1\nkind: Service\nmetadata: {name: ui}\nspec: {ports: [{port: 80}]}\n";

#[test]
fn namespace_flag_follows_kubectl() {
    let kustomization = "resources: [ui.yaml]\n";
    for files in [
        vec![("ui.yaml", UI)],
        vec![("ui.yaml", UI), ("kustomization.yaml", kustomization)],
    ] {
        let dir = temp_repo(&files);
        let path = dir.path().to_str().expect("utf-8");
        let out = rekube(&["plan", path, "-o", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("Service/ui: Service is namespaced but has no namespace")
                && stderr.contains("-n/--namespace"),
            "{stderr}"
        );
        for flag in ["-n", "--namespace"] {
            let out = rekube(&["plan", path, "-o", "json", flag, "guestbook"]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("\"namespace\": \"guestbook\""), "{text}");
        }
        // The layer's namespace wins over -n, and an object's own over both.
        std::fs::write(
            dir.path().join("rekube.yaml"),
            "layers:\n  - {name: app, path: ., namespace: from-layer}\n",
        )
        .expect("write");
        let out = rekube(&["plan", path, "-o", "json", "-n", "guestbook"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("\"namespace\": \"from-layer\""), "{text}");
        assert!(!text.contains("\"guestbook\""), "{text}");
    }
    let out = rekube(&["plan", ".", "-n", "Not_A_Namespace"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid namespace"));
}

#[test]
fn init_writes_a_rekube_yaml_that_loads_and_never_overwrites_one() {
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
    let base = "resources: [../../../base]\n";
    let dir = temp_repo(&[
        ("cluster/namespaces.yaml", ns),
        (
            "infrastructure/ui.yaml",
            &UI.replace("name: ui", "name: edge, namespace: shop"),
        ),
        ("apps/shop/ui.yaml", UI),
        ("apps/overlays/prod/kustomization.yaml", base),
        ("apps/overlays/dev/kustomization.yaml", base),
        ("base/kustomization.yaml", "resources: [ui.yaml]\n"),
        (
            "base/ui.yaml",
            &UI.replace("name: ui", "name: base-ui, namespace: shop"),
        ),
        ("docs/mkdocs.yml", "site_name: shop\n"),
    ]);
    let path = dir.path().to_str().expect("utf-8");
    // Without rekube.yaml, the folders beside cluster/ and apps/ are named.
    let out = rekube(&["plan", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: infrastructure: folder holds Kubernetes manifests"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("warning: base"),
        "apps/ uses base/: {stderr}"
    );
    assert!(!stderr.contains("docs"), "{stderr}");
    assert_eq!(rekube(&["plan", path, "--strict"]).status.code(), Some(2));

    let out = rekube(&["init", path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(dir.path().join("rekube.yaml")).expect("written");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        written,
        "prints what it wrote"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote "));
    for line in [
        "# base/ is not a layer: kustomizations of the layers use it\n",
        "  - name: cluster\n    path: cluster\n",
        "  - name: infrastructure\n    path: infrastructure\n",
        "  - name: apps\n    path: apps\n    dependsOn: [cluster, infrastructure]\n    namespace: shop\n",
        "overlays apps/overlays/dev, apps/overlays/prod are all applied by this layer",
    ] {
        assert!(written.contains(line), "{line:?} in:\n{written}");
    }
    assert!(!written.contains("docs"), "{written}");

    let out = rekube(&["init", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rekube.yaml")).expect("kept"),
        written
    );
    assert_eq!(rekube(&["init", path, "--force"]).status.code(), Some(0));

    let empty = tempfile::tempdir().expect("temp dir");
    let out = rekube(&["init", empty.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!empty.path().join("rekube.yaml").exists());
}

#[test]
fn explain_offline_names_the_health_rule_and_the_ignored_fields() {
    let health = root().join("examples/health");
    let path = health.to_str().expect("utf-8");
    let out = rekube(&["plan", path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rekube(&["explain", "database/shop/orders", path, "--offline"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("readiness    health rule rekube.yaml:10 (Database.data.example.com)"),
        "{text}"
    );
    let out = rekube(&["explain", "deployment/shop/orders", path, "--offline"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "readiness    built-in rule for apps/Deployment",
        "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt (rekube.yaml:19)",
        "/spec/replicas (HorizontalPodAutoscaler/shop/orders scales it)",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
}
