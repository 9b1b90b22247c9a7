use std::path::Path;

use serde_json::json;

use super::*;
use crate::manifest::{LoadOptions, Manifest, load_dir};

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n";
const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n";
const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {region: eu}\n";
const CM_US: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {region: us}\n";

const LAYERS: &str = "layers:
  - {name: cluster, path: cluster}
  - {name: apps, path: apps/eu, dependsOn: [cluster]}
";
const CONFIG: &str = "layers:
  - {name: cluster, path: cluster}
  - {name: apps, path: apps/eu, dependsOn: [cluster], namespace: web}
clusters:
  - {name: eu, context: eu}
  - name: us
    context: us
    role: standby
    standby: warm
    paths: {apps: apps/us}
  - {name: dr, standby: pilot-light, layers: [cluster]}
";

fn repo(config: &str) -> tempfile::TempDir {
    files(&[
        ("rekube.yaml", config),
        ("cluster/ns.yaml", NS),
        ("apps/eu/app.yaml", &format!("{DEPLOY}---\n{CM}")),
        ("apps/us/app.yaml", &format!("{DEPLOY}---\n{CM_US}")),
    ])
}

fn files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (rel, content) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}

fn load_for(dir: &Path, name: &str, promoted: bool) -> Result<Manifest, Vec<String>> {
    let options = LoadOptions {
        cluster: Some(ClusterChoice {
            name: name.into(),
            promoted,
        }),
        ..LoadOptions::default()
    };
    load_dir(dir, &options).map_err(|e| e.errors.iter().map(ToString::to_string).collect())
}

fn names(m: &Manifest) -> Vec<String> {
    m.objects.iter().map(|o| o.id.to_string()).collect()
}

#[test]
fn clusters_are_read_with_their_roles() {
    let dir = repo(CONFIG);
    let clusters = declared(dir.path()).expect("valid");
    let roles: Vec<String> = clusters.iter().map(|c| c.role.describe()).collect();
    assert_eq!(
        roles,
        [
            "primary",
            "standby (warm)",
            "standby (pilot light: cluster)"
        ]
    );
    assert_eq!(clusters[1].paths["apps"], "apps/us");
    assert_eq!(clusters[0].line, 5);
}

#[test]
fn a_primary_gets_the_repository_as_declared() {
    let dir = repo(CONFIG);
    let m = load_for(dir.path(), "eu", false).expect("loads");
    let cm = m
        .objects
        .iter()
        .find(|o| o.kind() == "ConfigMap")
        .expect("cm");
    assert_eq!(cm.body["data"]["region"], "eu");
    let d = m
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment")
        .expect("d");
    assert_eq!(d.body["spec"]["replicas"], 3);
    assert_eq!(m.cluster.as_ref().map(|c| c.spec.name.as_str()), Some("eu"));
}

#[test]
fn a_warm_standby_holds_workloads_at_zero_and_records_git_replicas() {
    let dir = repo(CONFIG);
    let m = load_for(dir.path(), "us", false).expect("loads");
    let cm = m
        .objects
        .iter()
        .find(|o| o.kind() == "ConfigMap")
        .expect("cm");
    assert_eq!(cm.body["data"]["region"], "us", "its own folder for apps");
    let d = m
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment")
        .expect("d");
    assert_eq!(d.body["spec"]["replicas"], 0);
    assert_eq!(
        d.body["metadata"]["annotations"][crate::keys::ANNOTATION_STANDBY_REPLICAS],
        json!("3")
    );
    // Promoted, it gets Git's replicas and no record.
    let m = load_for(dir.path(), "us", true).expect("loads");
    let d = m
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment")
        .expect("d");
    assert_eq!(d.body["spec"]["replicas"], 3);
    assert!(d.body["metadata"].get("annotations").is_none());
}

#[test]
fn a_pilot_light_gets_its_layers_until_promoted() {
    let dir = repo(CONFIG);
    let m = load_for(dir.path(), "dr", false).expect("loads");
    assert_eq!(names(&m), ["Namespace/web"]);
    let m = load_for(dir.path(), "dr", true).expect("loads");
    assert_eq!(m.objects.len(), 3, "{:?}", names(&m));
}

#[test]
fn an_unknown_cluster_names_the_declared_ones() {
    let dir = repo(CONFIG);
    let errors = load_for(dir.path(), "ap", false).expect_err("unknown");
    assert_eq!(
        errors,
        ["rekube.yaml: unknown cluster \"ap\" (rekube.yaml declares: eu, us, dr)"]
    );
}

#[test]
fn bad_clusters_are_errors_with_their_lines() {
    let cases = [
        (
            "clusters:\n  - {name: a, role: standby}\n",
            "rekube.yaml:2:5: standby cluster \"a\" needs its model",
        ),
        (
            "clusters:\n  - {name: a, standby: cold}\n",
            "rekube.yaml:2:15: unknown standby model \"cold\"",
        ),
        (
            "clusters:\n  - {name: a, standby: pilot-light}\n",
            "rekube.yaml:2:5: pilot-light cluster \"a\" needs `layers:`",
        ),
        (
            "clusters:\n  - {name: a, contxt: x}\n",
            "rekube.yaml:2:15: unknown key \"contxt\" in cluster",
        ),
        (
            "clusters:\n  - {name: a}\n  - {name: a}\n",
            "rekube.yaml:3:6: duplicate cluster name \"a\" (first declared at line 2)",
        ),
        (
            "clusters:\n  - {name: a, paths: {apps: nowhere}}\n",
            "rekube.yaml:2:23: folder \"nowhere\" does not exist",
        ),
        (
            "clusters:\n  - {name: a, values: {podinfo: [missing.yaml]}}\n",
            "rekube.yaml:2:24: values file \"missing.yaml\" of release \"podinfo\"",
        ),
        (
            "clusters: []\n",
            "rekube.yaml:1:1: `clusters:` must be a non-empty list",
        ),
    ];
    for (config, want) in cases {
        let dir = repo(config);
        let errors: Vec<String> = match declared(dir.path()) {
            Ok(c) => panic!("{config}: accepted {c:?}"),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        };
        assert!(
            errors.iter().any(|e| e.starts_with(want)),
            "{config}: {errors:?}"
        );
    }
}

#[test]
fn layers_a_cluster_names_must_exist() {
    let config = &format!(
        "{LAYERS}clusters:
  - {{name: a, standby: pilot-light, layers: [tools]}}
  - {{name: b, standby: pilot-light, layers: [apps]}}
  - {{name: c, paths: {{tool: apps/us}}}}
  - {{name: d, extraLayers: [{{name: more, path: apps/us, dependsOn: [tools]}}]}}
"
    );
    let dir = repo(config);
    let cases = [
        (
            "a",
            "rekube.yaml:5: cluster \"a\": pilot-light layer \"tools\" does not exist (layers: cluster, apps)",
        ),
        (
            "b",
            "rekube.yaml:6: cluster \"b\": pilot-light layer \"apps\" depends on layer \"cluster\", which the pilot light leaves out",
        ),
        (
            "c",
            "rekube.yaml:7: cluster \"c\": paths names layer \"tool\", which does not exist",
        ),
        (
            "d",
            "rekube.yaml:8: cluster \"d\": layer \"more\" depends on unknown layer \"tools\"",
        ),
    ];
    for (name, want) in cases {
        let errors = load_for(dir.path(), name, false).expect_err(name);
        assert!(
            errors.iter().any(|e| e.starts_with(want)),
            "{name}: {errors:?}"
        );
    }
}

#[test]
fn a_cluster_namespace_is_the_default_after_the_layers() {
    let config = &format!(
        "{LAYERS}clusters:
  - {{name: a, namespace: web}}
"
    );
    let dir = repo(config);
    let m = load_for(dir.path(), "a", false).expect("loads");
    let cm = m
        .objects
        .iter()
        .find(|o| o.kind() == "ConfigMap")
        .expect("cm");
    assert_eq!(cm.namespace(), Some("web"));
}

#[test]
fn an_extra_layer_adds_objects_of_one_cluster() {
    let config = "layers:
  - {name: cluster, path: cluster}
clusters:
  - {name: a, extraLayers: [{name: more, path: apps/us, dependsOn: [cluster], namespace: web}]}
";
    let dir = repo(config);
    let m = load_for(dir.path(), "a", false).expect("loads");
    let layers: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(layers, ["cluster", "more"]);
    assert_eq!(m.objects.len(), 3);
}

#[test]
fn values_files_go_after_the_charts_own_and_must_name_a_release() {
    let layer = Layer {
        name: "apps".into(),
        path: "apps".into(),
        depends_on: Vec::new(),
        namespace: None,
    };
    let mut charts = vec![crate::manifest::charts::ChartSpec::found(
        &layer,
        "apps/podinfo",
    )];
    charts[0].values_files.push("apps/podinfo/prod.yaml".into());
    let mut spec = declared(repo(CONFIG).path()).expect("valid")[1].clone();
    spec.values
        .insert("podinfo".into(), vec!["clusters/us/podinfo.yaml".into()]);
    add_values(&mut charts, &spec).expect("a known release");
    assert_eq!(
        charts[0].values_files,
        ["apps/podinfo/prod.yaml", "clusters/us/podinfo.yaml"]
    );
    spec.values.insert("nginx".into(), Vec::new());
    let errors = add_values(&mut charts, &spec).expect_err("unknown release");
    assert_eq!(
        errors[0].to_string(),
        "rekube.yaml:6: cluster \"us\": values for release \"nginx\", which no chart of its layers declares (releases: podinfo)"
    );
}

#[test]
fn the_layers_a_pilot_light_waits_for_are_not_left_out_folders() {
    let dir = files(&[
        (
            "rekube.yaml",
            "clusters:\n  - {name: dr, standby: pilot-light, layers: [cluster]}\n",
        ),
        ("cluster/ns.yaml", NS),
        ("apps/app.yaml", DEPLOY),
    ]);
    let m = load_for(dir.path(), "dr", false).expect("loads");
    assert_eq!(names(&m), ["Namespace/web"]);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}
