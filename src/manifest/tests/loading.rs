//! Loading as a whole: every error collected, size limits, scopes and warnings, symlinks, line endings,
//! determinism, deep documents, empty layers.

use super::{CM, LoadOptions, load, load_dir, repo};

#[test]
fn all_errors_are_collected() {
    let dir = repo(&[
        ("a.yaml", "a: [\n"),
        (
            "b.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: B}\n",
        ),
        ("c.json", "{"),
        (
            "d.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: w}\nspec: {replicas: x}\n",
        ),
    ]);
    let errors = load(dir.path()).expect_err("invalid");
    // b.yaml has two problems: an invalid name and no namespace.
    let files: Vec<&str> = errors
        .iter()
        .map(|e| e.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        files,
        ["a.yaml", "b.yaml", "b.yaml", "c.json", "d.yaml"],
        "{errors:#?}"
    );
}

#[test]
fn oversized_files_are_refused() {
    let dir = repo(&[("a.yaml", CM)]);
    let options = LoadOptions {
        max_file_size: 10,
        ..LoadOptions::default()
    };
    let err = load_dir(dir.path(), &options).expect_err("too large");
    assert!(
        err.errors[0]
            .to_string()
            .starts_with("a.yaml: file is too large")
    );
}

#[test]
fn scopes_and_warnings() {
    let dir = repo(&[
        (
            "rekube.yaml",
            "layers:\n  - {name: apps, path: ., namespace: web}\n",
        ),
        (
            "a.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: \"system:x\", namespace: web}\n",
        ),
        (
            "c.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: other}\n",
        ),
        (
            "d.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        ),
    ]);
    let m = load(dir.path()).expect("valid");
    let ids: Vec<String> = m.objects.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(
        ids,
        ["ClusterRole/system:x", "Widget/other/w", "ConfigMap/web/c"]
    );
    // The stray namespace of a cluster-scoped object is dropped from the body too.
    assert_eq!(m.objects[0].get("/metadata/namespace"), None);
    assert_eq!(m.objects[2].get("/metadata/namespace"), Some(&"web".into()));
    let warnings: Vec<String> = m.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].starts_with("a.yaml:1: ClusterRole/system:x: ClusterRole is cluster-scoped")
    );
}

#[cfg(unix)]
#[test]
fn symlinks_inside_are_followed_once() {
    let dir = repo(&[
        ("shared/cm.yaml", CM),
        ("apps/local.yaml", &CM.replace("name: c", "name: d")),
    ]);
    let link = |target: &str, at: &str| {
        std::os::unix::fs::symlink(target, dir.path().join(at)).expect("symlink");
    };
    link("../shared/cm.yaml", "apps/linked.yaml");
    // A loop back to a folder already read is skipped with a warning, not followed forever.
    link("..", "apps/loop");
    let rekube = "layers:\n  - {name: apps, path: apps}\n";
    std::fs::write(dir.path().join("rekube.yaml"), rekube).expect("write");
    let m = load(dir.path()).expect("valid");
    let at: Vec<String> = m.objects.iter().map(|o| o.source.to_string()).collect();
    assert_eq!(at, ["apps/linked.yaml:1", "apps/local.yaml:1"]);
}

#[test]
fn crlf_and_bom_files() {
    let text = "\u{feff}apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: c, namespace: web}\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: d, namespace: web}\r\n";
    let dir = repo(&[("a.yaml", text)]);
    let m = load(dir.path()).expect("valid");
    let at: Vec<String> = m.objects.iter().map(|o| o.source.to_string()).collect();
    assert_eq!(at, ["a.yaml:1", "a.yaml:5"]);
}

#[test]
fn loading_is_deterministic() {
    let dir = repo(&[
        ("b/z.yaml", CM),
        ("a-b/x.yaml", &CM.replace("name: c", "name: e")),
        ("a/y.yaml", &CM.replace("name: c", "name: d")),
    ]);
    let first = load(dir.path()).expect("valid");
    let second = load(dir.path()).expect("valid");
    assert_eq!(first.objects, second.objects);
    let paths: Vec<&str> = first
        .objects
        .iter()
        .map(|o| o.source.path.as_str())
        .collect();
    assert_eq!(paths, ["a/y.yaml", "a-b/x.yaml", "b/z.yaml"]);
}

#[test]
fn deep_documents_load_and_deeper_ones_fail_cleanly() {
    let nested = |depth: usize| {
        let flow = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: w}}\nx: {flow}\n")
    };
    // Runs on a test thread (2 MiB stack): loading must not depend on the caller's stack.
    let dir = repo(&[("a.yaml", &nested(120))]);
    let errors = load(dir.path()).expect_err("x is unknown");
    assert_eq!(errors, ["a.yaml:4:1: ConfigMap/w/c: unknown field x"]);
    let dir = repo(&[("a.yaml", &nested(200))]);
    let errors = load(dir.path()).expect_err("too deep");
    assert!(
        errors[0].contains("nested more than 128 levels deep"),
        "{errors:?}"
    );
}

#[test]
fn empty_layer_is_a_warning() {
    let dir = repo(&[("cluster/README.md", "nothing\n"), ("apps/a.yaml", CM)]);
    let m = load(dir.path()).expect("valid");
    let warnings: Vec<String> = m.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["cluster: layer \"cluster\" holds no .yaml, .yml or .json file"]
    );
}
