//! Every repository under `fixtures/bad/` fails to load, and its diagnostics name the file, the line and
//! the object (when there is one), so a user can go straight to the mistake.

mod support;

use std::path::Path;

use rekube::manifest::{Diagnostics, LoadOptions, load_dir};

use support::fixture;

fn load_err(dir: &Path, options: &LoadOptions) -> Diagnostics {
    match load_dir(dir, options) {
        Ok(m) => panic!(
            "{} loaded with {} objects, expected errors",
            dir.display(),
            m.objects.len()
        ),
        Err(e) => e,
    }
}

/// `(fixture, number of errors, substrings of the rendered errors)`.
const CASES: &[(&str, usize, &[&str])] = &[
    (
        "invalid-yaml",
        1,
        &["app.yaml:9:14: invalid YAML: mapping values are not allowed"],
    ),
    (
        "invalid-json",
        1,
        &["cm.json:5:21: invalid JSON: trailing comma"],
    ),
    (
        "missing-apiversion",
        1,
        &["cm.yaml:1: ConfigMap/web/settings: missing apiVersion"],
    ),
    ("missing-kind", 1, &["cm.yaml:2: missing kind"]),
    (
        "missing-name",
        1,
        &["cm.yaml:3:1: ConfigMap: missing metadata.name"],
    ),
    (
        "generate-name",
        1,
        &["job.yaml:4:3: Job: metadata.generateName is not supported"],
    ),
    (
        "name-not-string",
        1,
        &["cm.yaml:4:3: ConfigMap: metadata.name must be a string, found a number"],
    ),
    (
        "invalid-name",
        1,
        &[
            "deploy.yaml:4:3: Deployment/web/Web_API: invalid metadata.name",
            "DNS-1123 subdomain",
        ],
    ),
    (
        "invalid-service-name",
        1,
        &[
            "svc.yaml:4:3: Service/web/1st-api: invalid metadata.name",
            "DNS-1035",
        ],
    ),
    (
        "invalid-namespace",
        1,
        &["cm.yaml:5:3: ConfigMap/Team_A/settings: invalid metadata.namespace"],
    ),
    (
        "duplicate-object",
        1,
        &["b.yaml:2: ConfigMap/web/settings: defined twice: here and at a.yaml:1"],
    ),
    (
        "unknown-field",
        1,
        &[
            "deploy.yaml:15:11: Deployment/web/api: unknown field spec.template.spec.containers[0].imagee",
        ],
    ),
    (
        "mistyped-field",
        1,
        &[
            "deploy.yaml:7:3: Deployment/web/api: spec.replicas: invalid type: a string, expected i32",
        ],
    ),
    (
        "removed-api",
        1,
        &[
            "deploy.yaml:1:1: Deployment/web/api: apiVersion extensions/v1beta1 of Deployment was removed in Kubernetes 1.16: use apps/v1",
        ],
    ),
    (
        "missing-namespace",
        1,
        &[
            "cm.yaml:1: ConfigMap/settings: ConfigMap is namespaced but has no namespace",
            "layer \"default\"",
        ],
    ),
    (
        "unknown-kind-scope",
        1,
        &[
            "certificates.yaml:3: Certificate/web-tls: Certificate.cert-manager.io is not a built-in kind and no CustomResourceDefinition in the repository defines it, so whether it is namespaced is unknown offline",
        ],
    ),
    (
        "alias-bomb",
        1,
        &["bomb.yaml:10:10: invalid YAML: aliases expand beyond the limit"],
    ),
    (
        "symlink-escape",
        1,
        &["outside.yaml: symlink to \"../missing-kind/cm.yaml\" leaves the repository"],
    ),
    (
        "not-utf8",
        1,
        &["cm.yaml:5:17: file is not valid UTF-8 at byte offset 91"],
    ),
    (
        "layers-unknown-key",
        1,
        &["rekube.yaml:6:5: unknown key \"depends_on\" in layer, did you mean dependsOn?"],
    ),
    (
        "layers-duplicate-name",
        1,
        &["rekube.yaml:3:6: duplicate layer name \"base\" (first declared at line 2)"],
    ),
    (
        "layers-unknown-dependency",
        1,
        &["rekube.yaml:4:17: layer \"apps\" depends on unknown layer \"tools\""],
    ),
    (
        "layers-cycle",
        1,
        &["rekube.yaml:4:5: layers depend on each other in a cycle: tools -> apps -> tools"],
    ),
    (
        "layers-missing-folder",
        1,
        &["rekube.yaml:5:5: folder \"applications\" does not exist"],
    ),
    (
        "layers-overlap",
        1,
        &[
            "rekube.yaml:3:18: folder \"apps\" of layer \"apps\" overlaps folder \".\" of layer \"all\"",
        ],
    ),
    (
        "layers-invalid-namespace",
        1,
        &["rekube.yaml:4:5: invalid namespace of layer \"apps\""],
    ),
    (
        "kustomize-error",
        1,
        &["app: kustomize build failed", "missing.yaml"],
    ),
    (
        "kustomize-escape",
        1,
        &[
            "app: app/kustomization.yaml refers to \"../../kustomize-error/app\", which is outside the repository",
        ],
    ),
    (
        "crd-wrong-name",
        1,
        &[
            "crd.yaml:4:3: CustomResourceDefinition/widget.example.com: a CustomResourceDefinition must be named \"widgets.example.com\"",
        ],
    ),
    (
        "not-a-mapping",
        1,
        &[
            "list.yaml:5: a document must be a mapping with apiVersion, kind and metadata, found a list",
        ],
    ),
    (
        "label-not-string",
        1,
        &[
            "cm.yaml:7:5: ConfigMap/web/settings: metadata.labels.tier: invalid type: a number, expected a string",
        ],
    ),
    (
        "duplicate-key",
        1,
        &["cm.yaml:8:3: invalid YAML: duplicate mapping key: mode"],
    ),
    (
        "many-errors",
        3,
        &[
            "all.yaml:3:12: ConfigMap/web/Bad_Name: invalid metadata.name",
            "all.yaml:14:46: Deployment/web/api: unknown field spec.template.spec.containers[0].portz",
            "all.yaml:16:1: PodDisruptionBudget/web/api: apiVersion policy/v1beta1 of PodDisruptionBudget was removed in Kubernetes 1.25: use policy/v1",
        ],
    ),
    (
        "list-item-error",
        1,
        &[
            "list.yaml:12:11: Service/web/two: spec.ports[0].port: invalid type: a string, expected i32",
        ],
    ),
    (
        "health-cel-parse",
        1,
        &["rekube.yaml:5:5: health[0] (ConfigMap): current: CEL does not parse"],
    ),
    (
        "health-unknown-kind",
        1,
        &[
            "rekube.yaml:4:5: health[0] (Certficate): unknown kind Certficate.cert-manager.io: no object, CustomResourceDefinition or built-in kind of that name",
        ],
    ),
    (
        "ignore-bad-pointer",
        1,
        &[
            "rekube.yaml:5:9: ignore[0]: jsonPointers: \"data.mode\" is not a JSON pointer: it must start with /",
        ],
    ),
    (
        "json-unknown-field",
        1,
        &["sa.json:1: ServiceAccount/web/robot: unknown field automountToken"],
    ),
];

#[test]
fn every_bad_fixture_fails_with_file_line_and_object() {
    let mut failures = Vec::new();
    for (name, count, wanted) in CASES {
        let err = load_err(&fixture("bad").join(name), &LoadOptions::default());
        let rendered = err.to_string();
        if err.errors.len() != *count {
            failures.push(format!(
                "{name}: {} errors, expected {count}:\n{rendered}",
                err.errors.len()
            ));
        }
        for w in *wanted {
            if !rendered.contains(w) {
                failures.push(format!("{name}: missing {w:?} in:\n{rendered}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_fixture_the_manifest_rejects_has_a_case() {
    let dir = fixture("bad");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(CASES.len() >= 25, "{} cases", CASES.len());
    for name in names {
        // Fixtures that load are invalid for a later stage (a dependency cycle, say): not ours.
        let rejected = load_dir(&dir.join(&name), &LoadOptions::default()).is_err();
        assert!(
            !rejected || CASES.iter().any(|(n, _, _)| *n == name),
            "fixtures/bad/{name} fails to load but has no case in CASES"
        );
    }
}

/// An oversized file is generated: committing 8 MiB of YAML would be silly.
#[test]
fn oversized_file() {
    let repo = tempfile::tempdir().unwrap();
    let big = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big, namespace: web}}\ndata:\n  blob: \"{}\"\n",
        "x".repeat(2048)
    );
    std::fs::write(repo.path().join("big.yaml"), big).unwrap();
    let options = LoadOptions {
        max_file_size: 1024,
        ..LoadOptions::default()
    };
    let err = load_err(repo.path(), &options);
    assert!(
        err.to_string().contains("big.yaml: file is too large"),
        "{err}"
    );
    assert!(load_dir(repo.path(), &LoadOptions::default()).is_ok());
}

/// Without rekube.yaml, top-level folders beside cluster/, tools/, apps/ that hold manifests or charts are
/// named: warnings, errors with --strict.
#[test]
fn folders_left_out_of_the_default_layers_are_named() {
    let dir = fixture("bad/left-out-folders");
    let want = [
        "charts: folder holds Helm charts (charts/podinfo) but is not a layer, so it is not read: without \
         rekube.yaml only the folders cluster/, tools/, apps/ are layers",
        "infrastructure: folder holds Kubernetes manifests (infrastructure/ingress/class.yaml) but is not a \
         layer, so it is not read",
    ];
    let check = |found: &[rekube::manifest::Diagnostic]| {
        let rendered: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(rendered.len(), want.len(), "{rendered:#?}");
        for (got, want) in rendered.iter().zip(want) {
            assert!(
                got.starts_with(want),
                "{got}\n  does not start with\n{want}"
            );
            assert!(got.contains("`rekube init` writes one"), "{got}");
        }
    };
    let m = match load_dir(&dir, &LoadOptions::default()) {
        Ok(m) => m,
        Err(e) => panic!("left-out folders are warnings by default: {e}"),
    };
    assert_eq!(m.objects.len(), 1);
    check(&m.warnings);
    let strict = LoadOptions {
        strict: true,
        ..LoadOptions::default()
    };
    check(&load_err(&dir, &strict).errors);
}
