//! `health:` and `ignore:` in `rekube.yaml`: good rules load, each bad one is one error with its line.

use std::path::Path;

use crate::manifest::{LoadOptions, Manifest, load_dir};
use crate::object::ObjectId;

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
";

const APP: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
";

fn repo(config: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = vec![
        ("rekube.yaml", config),
        ("crd.yaml", CRD),
        ("app.yaml", APP),
    ];
    files.extend_from_slice(extra);
    for (rel, content) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}

fn load(dir: &Path) -> Result<Manifest, Vec<String>> {
    load_dir(dir, &LoadOptions::default())
        .map_err(|e| e.errors.iter().map(ToString::to_string).collect())
}

const GOOD: &str = "health:
  - apiVersion: example.com/v1
    kind: Widget
    failed: \"status.phase == 'Failed'\"
    current: \"status.phase == 'Ready'\"
ignore:
  - group: apps
    kind: Deployment
    namespace: shop
    jsonPointers: [/spec/template/metadata/annotations]
  - kind: ConfigMap
    managedFieldsManagers: [kube-controller-manager]
";

#[test]
fn good_rules_load_without_layers() {
    let dir = repo(GOOD, &[]);
    let m = load(dir.path()).expect("loads");
    assert_eq!(m.layers.len(), 1, "no `layers:`: the default layer");
    let rules = m.rules.health.user_rules();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].name(), "rekube.yaml:2 (Widget.example.com)");
    assert!(rules[0].in_progress.is_none());
    let ignore = m.rules.ignore.rules();
    assert_eq!(ignore.len(), 3, "two declared, one from the autoscaler");
    let web = ObjectId::new("apps", "Deployment", Some("shop"), "web");
    let body = &m.get(&web).expect("web").body;
    let reasons = m.rules.ignore.for_object(&web, body).reasons().to_vec();
    assert_eq!(
        reasons,
        vec![
            "/spec/template/metadata/annotations (rekube.yaml:7)".to_string(),
            "/spec/replicas (HorizontalPodAutoscaler/shop/web scales it)".to_string(),
        ]
    );
}

#[test]
fn autoscaler_rules_without_rekube_yaml() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("app.yaml"), APP).expect("write");
    let m = load(dir.path()).expect("loads");
    assert_eq!(m.rules.ignore.rules().len(), 1);
    assert!(m.rules.health.user_rules().is_empty());
}

#[test]
fn each_bad_rule_is_one_error_with_its_line() {
    let widget = "  - apiVersion: example.com/v1\n    kind: Widget\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "CEL that does not parse",
            format!("health:\n{widget}    current: \"status.phase ==\"\n"),
            "rekube.yaml:4:5: health[0] (Widget): current: CEL does not parse",
        ),
        (
            "current is required",
            format!("health:\n{widget}    failed: \"true\"\n"),
            "rekube.yaml:2:5: health[0] (Widget): `current` is required",
        ),
        (
            "unknown kind",
            "health:\n  - apiVersion: example.com/v1\n    kind: Gadget\n    current: \"true\"\n"
                .into(),
            "rekube.yaml:3:5: health[0] (Gadget): unknown kind Gadget.example.com",
        ),
        (
            "kind with the wrong case",
            "ignore:\n  - kind: deployment\n    jsonPointers: [/spec/replicas]\n".into(),
            "did you mean Deployment?",
        ),
        (
            "unknown key",
            format!("health:\n{widget}    current: \"true\"\n    ready: \"x\"\n"),
            "rekube.yaml:5:5: health[0] (Widget): unknown key \"ready\"",
        ),
        (
            "missing apiVersion",
            "health:\n  - kind: Widget\n    current: \"true\"\n".into(),
            "apiVersion and kind are required",
        ),
        (
            "not a pointer",
            "ignore:\n  - kind: Deployment\n    jsonPointers: [spec/replicas]\n".into(),
            "rekube.yaml:3:20: ignore[0]: jsonPointers: \"spec/replicas\" is not a JSON pointer: it must start with /",
        ),
        (
            "bad escape",
            "ignore:\n  - jsonPointers: [\"/a~2b\"]\n".into(),
            "~ must be followed by 0 or 1",
        ),
        (
            "identity",
            "ignore:\n  - jsonPointers: [/metadata/name]\n".into(),
            "names the object itself",
        ),
        (
            "own manager",
            "ignore:\n  - managedFieldsManagers: [rekube]\n".into(),
            "rekube's own field manager",
        ),
        (
            "jq",
            "ignore:\n  - jsonPointers: [/spec/x]\n    jqPathExpressions: [.spec]\n".into(),
            "jq paths are not supported, use jsonPointers",
        ),
        (
            "nothing to ignore",
            "ignore:\n  - kind: Deployment\n".into(),
            "rekube.yaml:2:5: ignore[0]: says nothing to ignore",
        ),
        (
            "not a list",
            "ignore: {kind: Deployment}\n".into(),
            "rekube.yaml:1:1: `ignore:` must be a list",
        ),
        (
            "unknown top-level key",
            "health: []\nhealthChecks: []\n".into(),
            "rekube.yaml:2:1: unknown key \"healthChecks\" (expected: layers, health, ignore, inventory, clusters)",
        ),
    ];
    for (name, config, want) in cases {
        let dir = repo(&config, &[]);
        match load(dir.path()) {
            Ok(_) => panic!("{name}: loaded"),
            Err(errors) => {
                assert_eq!(errors.len(), 1, "{name}: {errors:#?}");
                assert!(
                    errors[0].contains(want),
                    "{name}: {:?} lacks {want:?}",
                    errors[0]
                );
            }
        }
    }
}

#[test]
fn bad_annotation_names_the_object() {
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\n  annotations: {rekube.dev/ignore-fields: \"/data/a, data/b\"}\n";
    let dir = repo("health: []\n", &[("cm.yaml", bad)]);
    let errors = load(dir.path()).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("cm.yaml:1: ConfigMap/shop/c: annotation rekube.dev/ignore-fields: \"data/b\" is not a JSON pointer"),
        "{}",
        errors[0]
    );
}
