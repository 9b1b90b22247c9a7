//! The repositories under `fixtures/good/` load, with the objects, positions and namespaces expected.

mod support;

use rekube::manifest::Manifest;

use support::{fixture, load};

/// `(id, path:line, document)` of every object, in order.
fn summary(m: &Manifest) -> Vec<(String, String, usize)> {
    m.objects
        .iter()
        .map(|o| (o.id.to_string(), o.source.to_string(), o.source.document))
        .collect()
}

fn s(id: &str, at: &str, doc: usize) -> (String, String, usize) {
    (id.to_string(), at.to_string(), doc)
}

#[test]
fn multi_document_yaml() {
    let m = load(&fixture("good/multi-doc"));
    assert_eq!(
        summary(&m),
        [
            s("Namespace/web", "app.yaml:3", 0),
            s("ConfigMap/web/settings", "app.yaml:10", 1),
            s("Deployment/web/api", "app.yaml:19", 2),
        ]
    );
    let deploy = &m.objects[2];
    // YAML 1.1 like kubectl: 0644 is octal; anchors and aliases are expanded.
    assert_eq!(
        deploy.get("/spec/template/spec/volumes/0/configMap/defaultMode"),
        Some(&420.into())
    );
    assert_eq!(
        deploy.get("/spec/template/metadata/labels/app"),
        Some(&"api".into())
    );
    assert_eq!(m.objects[1].get("/data/enabled"), Some(&"yes".into()));
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn list_items_keep_their_own_lines() {
    let m = load(&fixture("good/list"));
    assert_eq!(
        summary(&m),
        [
            s("ServiceAccount/web/robot", "list.yaml:4", 0),
            s("Service/web/api", "list.yaml:7", 0)
        ]
    );
}

#[test]
fn json_object_and_list() {
    let m = load(&fixture("good/json"));
    assert_eq!(
        summary(&m),
        [
            s("ConfigMap/data/a", "list.json:1", 0),
            s("ConfigMap/data/b", "list.json:1", 0),
            s("Namespace/data", "namespace.json:1", 0),
        ]
    );
}

#[test]
fn kustomize_folder_is_rendered_not_read() {
    let m = load(&fixture("good/kustomize"));
    let ids: Vec<String> = m.objects.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "Service/shop/cart",
            "Deployment/shop/cart",
            "Namespace/shop"
        ]
    );
    assert!(
        m.objects[..2]
            .iter()
            .all(|o| o.source.path == "app" && o.source.line == 1)
    );
    assert_eq!(m.objects[1].source.annotation(), "default/app#1");
}

#[test]
fn layers_with_namespace_defaulting_and_crds() {
    let m = load(&fixture("good/layers"));
    let layers: Vec<(&str, &str, Vec<String>)> = m
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.path.as_str(), l.depends_on.clone()))
        .collect();
    assert_eq!(
        layers,
        [
            ("foundation", "platform/foundation", vec![]),
            (
                "operators",
                "platform/operators",
                vec!["foundation".to_string()]
            ),
            ("apps", "apps", vec!["operators".to_string()]),
        ]
    );
    let ids: Vec<String> = m.objects.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "Namespace/shop",
            "PriorityClass/high",
            "CustomResourceDefinition/widgets.example.com",
            "CustomResourceDefinition/gadgets.example.com",
            "Deployment/shop/frontend",
            // Namespaced by its CRD: the layer's namespace is given.
            "Widget/shop/blue",
            // Cluster-scoped by its CRD: no namespace, no warning.
            "Gadget/global",
        ]
    );
    assert_eq!(
        m.objects[4].get("/metadata/namespace"),
        Some(&"shop".into())
    );
    assert_eq!(m.objects[4].source.annotation(), "apps/apps/shop.yaml#0");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn conventional_layer_folders() {
    let m = load(&fixture("good/default-layers"));
    let layers: Vec<(&str, Vec<String>)> = m
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.depends_on.clone()))
        .collect();
    assert_eq!(
        layers,
        [
            ("cluster", vec![]),
            ("tools", vec!["cluster".to_string()]),
            ("apps", vec!["tools".to_string()])
        ]
    );
    // README.md and the hidden folder are not read.
    assert_eq!(
        summary(&m),
        [
            s("Namespace/tools", "cluster/namespace.yaml:1", 0),
            s("ServiceAccount/tools/reloader", "tools/reloader.yaml:1", 0),
            s("ConfigMap/tools/web", "apps/web/config.yml:1", 0),
        ]
    );
}

#[test]
fn builtin_kinds_written_the_usual_ways_are_valid() {
    let m = load(&fixture("good/builtin-kinds"));
    assert_eq!(m.objects.len(), 11);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

/// Kustomize base and overlays: one layer per overlay (as `rekube.yaml` declares), or the `apps/` folder
/// as one layer (without it); either way the base is rendered only through the overlays.
#[test]
fn base_and_overlays_load_without_duplicates() {
    let ids = |m: &Manifest| -> Vec<String> {
        let mut v: Vec<String> = m.objects.iter().map(|o| o.id.to_string()).collect();
        v.sort();
        v
    };
    let want = [
        "ConfigMap/production/web-settings-k6cm94h6ch",
        "ConfigMap/staging/web-settings-79gkmtd4th",
        "Deployment/production/web",
        "Deployment/staging/web",
        "Namespace/production",
        "Namespace/staging",
        "Service/production/web",
        "Service/staging/web",
    ];
    let m = load(&fixture("good/overlays"));
    let layers: Vec<(&str, &str)> = m
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.path.as_str()))
        .collect();
    assert_eq!(
        layers,
        [
            ("staging", "apps/staging"),
            ("production", "apps/production")
        ]
    );
    assert_eq!(ids(&m), want);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let replicas = |ns: &str| {
        m.objects
            .iter()
            .find(|o| o.id.kind == "Deployment" && o.namespace() == Some(ns))
            .and_then(|o| o.get("/spec/replicas").cloned())
    };
    assert_eq!(replicas("production"), Some(3.into()));
    assert_eq!(replicas("staging"), Some(1.into()));

    // The same folders without rekube.yaml: the default layer apps/ holds base, staging and production.
    let dir = tempfile::tempdir().expect("temp dir");
    let overlays = fixture("good/overlays");
    for rel in [
        "apps/base/kustomization.yaml",
        "apps/base/deployment.yaml",
        "apps/base/service.yaml",
        "apps/staging/kustomization.yaml",
        "apps/staging/namespace.yaml",
        "apps/production/kustomization.yaml",
        "apps/production/namespace.yaml",
    ] {
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(overlays.join(rel), to).expect("copy");
    }
    let m = load(dir.path());
    assert_eq!(m.layers.len(), 1);
    assert_eq!(ids(&m), want);
    assert!(m.objects.iter().all(|o| o.source.path != "apps/base"));
}
