//! Scopes and namespaces through [`load`](crate::manifest::load): CRDs in the repository, `-n`, the offline error
//! for kinds nothing defines, and their placement once discovery answered.

use super::{LoadOptions, load_dir, repo};

const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";

fn crd(scope: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: widgets.example.com}}\n\
         spec:\n  group: example.com\n  scope: {scope}\n  names: {{kind: Widget, plural: widgets}}\n  versions: []\n"
    )
}

/// Scopes come from the built-in table and the CRDs in the repository; an object of an unknown kind
/// without a namespace is an error offline, never a guess (it used to be taken as cluster-scoped).
#[test]
fn scope_of_custom_resources_comes_from_the_repository_or_is_an_error() {
    let namespaced = crd("Namespaced");
    let cluster = crd("Cluster");
    let layer_ns = "layers:\n  - {name: apps, path: ., namespace: web}\n";
    // (case, files, -n, Ok(id) or Err(error substring))
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Option<&'a str>,
        Result<&'a str, &'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "namespaced CRD in the repository: the layer's namespace",
            vec![
                ("rekube.yaml", layer_ns),
                ("crd.yaml", &namespaced),
                ("w.yaml", WIDGET),
            ],
            None,
            Ok("Widget/web/w"),
        ),
        (
            "namespaced CRD, no layer namespace: -n",
            vec![("crd.yaml", &namespaced), ("w.yaml", WIDGET)],
            Some("flag"),
            Ok("Widget/flag/w"),
        ),
        (
            "namespaced CRD, no namespace anywhere: an error",
            vec![("crd.yaml", &namespaced), ("w.yaml", WIDGET)],
            None,
            Err("w.yaml:1: Widget/w: Widget is namespaced but has no namespace"),
        ),
        (
            "cluster-scoped CRD: -n does not apply",
            vec![("crd.yaml", &cluster), ("w.yaml", WIDGET)],
            Some("flag"),
            Ok("Widget/w"),
        ),
        (
            "unknown kind without namespace: an error offline, even with -n",
            vec![("w.yaml", WIDGET)],
            Some("flag"),
            Err(
                "w.yaml:1: Widget/w: Widget.example.com is not a built-in kind and no CustomResourceDefinition in the \
                 repository defines it, so whether it is namespaced is unknown offline",
            ),
        ),
    ];
    for (case, files, flag, want) in cases {
        let dir = repo(&files);
        let options = LoadOptions {
            namespace: flag.map(str::to_string),
            ..LoadOptions::default()
        };
        let got = load_dir(dir.path(), &options)
            .map(|m| {
                m.objects
                    .last()
                    .map(|o| o.id.to_string())
                    .unwrap_or_default()
            })
            .map_err(|e| e.to_string());
        match (&got, want) {
            (Ok(id), Ok(want)) => assert_eq!(id, want, "{case}"),
            (Err(e), Err(want)) => assert!(e.contains(want), "{case}: {e}"),
            _ => panic!("{case}: got {got:?}, want {want:?}"),
        }
    }
}

/// Cluster commands leave unknown kinds to discovery, then place them by the same rules.
#[test]
fn unknown_kinds_wait_for_discovery() {
    use crate::manifest::{Scope, ScopeLookup, Scopes};
    let other = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: x}\n";
    let dir = repo(&[
        (
            "rekube.yaml",
            "layers:\n  - {name: apps, path: ., namespace: web}\n",
        ),
        ("w.yaml", WIDGET),
        ("g.yaml", other),
        (
            "t.yaml",
            "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\n",
        ),
    ]);
    let options = LoadOptions {
        scope_lookup: ScopeLookup::Discovery,
        ..LoadOptions::default()
    };
    let loaded = load_dir(dir.path(), &options).expect("valid until discovery answers");
    let kinds: Vec<String> = loaded
        .unresolved_kinds()
        .into_iter()
        .map(|(g, k)| format!("{k}.{g}"))
        .collect();
    assert_eq!(
        kinds,
        [
            "Gadget.example.com",
            "Thing.example.com",
            "Widget.example.com"
        ]
    );

    let mut scopes = Scopes::default();
    scopes.insert("example.com", "Widget", Scope::Namespaced);
    scopes.insert("example.com", "Gadget", Scope::Cluster);
    let mut m = loaded.clone();
    let err = m
        .resolve_scopes(&scopes)
        .expect_err("Thing is served by nobody");
    assert_eq!(err.errors.len(), 1, "{err}");
    assert!(
        err.errors[0].to_string().starts_with(
            "t.yaml:1: Thing/t: Thing.example.com is not served by the cluster and no CustomResourceDefinition"
        ),
        "{err}"
    );

    scopes.insert("example.com", "Thing", Scope::Cluster);
    let mut m = loaded;
    let warnings = m.resolve_scopes(&scopes).expect("all placed");
    let ids: Vec<String> = m.objects.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(ids, ["Gadget/g", "Thing/t", "Widget/web/w"]);
    assert_eq!(m.objects[2].get("/metadata/namespace"), Some(&"web".into()));
    assert!(m.unresolved.is_empty());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].to_string().contains("Gadget is cluster-scoped"));
}
