//! Table-driven: one small repository per validation rule, each with the one error it must report.

use super::{CM, load, repo};

/// Each case: the repository, and the one error expected (a substring of its rendering).
#[test]
fn each_rule_reports_one_error() {
    let bomb = {
        let mut s = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for (p, n) in ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h"])
        {
            s.push_str(&format!(
                "{n}: &{n} [{}]\n",
                vec![format!("*{p}"); 10].join(",")
            ));
        }
        s
    };
    // (case, files of the repository, expected error)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "yaml syntax, line in the file",
            &[("a.yaml", &format!("{CM}---\nb: [\n"))],
            "a.yaml:5:4: invalid YAML: unclosed bracket",
        ),
        (
            "tab indentation",
            &[("a.yaml", "kind: x\nmetadata:\n\tname: y\n")],
            "a.yaml:3:",
        ),
        (
            "json syntax",
            &[("a.json", "{\"a\": }")],
            "a.json:1:7: invalid JSON",
        ),
        (
            "not a mapping",
            &[("a.yaml", "just a string\n")],
            "a.yaml:1: a document must be a mapping",
        ),
        (
            "missing apiVersion",
            &[(
                "a.yaml",
                "kind: ConfigMap\nmetadata: {name: c, namespace: w}\n",
            )],
            "ConfigMap/w/c: missing apiVersion",
        ),
        (
            "apiVersion not a string",
            &[(
                "a.yaml",
                "apiVersion: 1\nkind: ConfigMap\nmetadata: {name: c, namespace: w}\n",
            )],
            "a.yaml:1:1: ConfigMap/w/c: apiVersion must be a string, found a number",
        ),
        (
            "missing kind",
            &[("a.yaml", "apiVersion: v1\nmetadata: {name: c}\n")],
            "a.yaml:1: missing kind",
        ),
        (
            "missing metadata",
            &[("a.yaml", "apiVersion: v1\nkind: ConfigMap\n")],
            "a.yaml:1: ConfigMap: missing metadata",
        ),
        (
            "metadata not a mapping",
            &[("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: c\n")],
            "a.yaml:3:1: ConfigMap: metadata must be a mapping",
        ),
        (
            "missing name",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: w}\n",
            )],
            "ConfigMap: missing metadata.name",
        ),
        (
            "generateName",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: c-}\n",
            )],
            "metadata.generateName is not supported",
        ),
        (
            "name not a string",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [c]}\n",
            )],
            "metadata.name must be a string, found a list",
        ),
        (
            "subdomain name",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: C, namespace: w}\n",
            )],
            "ConfigMap/w/C: invalid metadata.name",
        ),
        (
            "namespace name is a label",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n",
            )],
            "Namespace/a.b: invalid metadata.name: \"a.b\" is not a valid DNS-1123 label",
        ),
        (
            "namespace not a string",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: 7}\n",
            )],
            "metadata.namespace must be a string, found a number",
        ),
        (
            "invalid namespace",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: -w}\n",
            )],
            "invalid metadata.namespace",
        ),
        (
            "duplicate in one file",
            &[("a.yaml", &format!("{CM}---\n{CM}"))],
            "a.yaml:5: ConfigMap/web/c: defined twice: here and at a.yaml:1",
        ),
        (
            "duplicate across layers",
            &[("cluster/a.yaml", CM), ("apps/b.yaml", CM)],
            "apps/b.yaml:1: ConfigMap/web/c: defined twice: here and at cluster/a.yaml:1",
        ),
        (
            "unknown field",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: w}\ndatta: {}\n",
            )],
            "a.yaml:4:1: ConfigMap/w/c: unknown field datta",
        ),
        (
            "unknown metadata field",
            &[(
                "a.yaml",
                "apiVersion: example.com/v1\nkind: W\nmetadata: {name: c, namespace: w, label: {}}\n",
            )],
            "W/w/c: unknown field metadata.label",
        ),
        (
            "mistyped field",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: w}\ndata: {k: \"not base64!\"}\n",
            )],
            "a.yaml:4:",
        ),
        (
            "removed apiVersion",
            &[(
                "a.yaml",
                "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: j, namespace: w}\n",
            )],
            "was removed in Kubernetes 1.25: use batch/v1",
        ),
        (
            "no namespace",
            &[(
                "a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
            )],
            "a.yaml:1: ConfigMap/c: ConfigMap is namespaced but has no namespace",
        ),
        (
            "crd name",
            &[(
                "a.yaml",
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w}\nspec: {group: x.io, names: {kind: W, plural: ws}, scope: Cluster, versions: []}\n",
            )],
            "must be named \"ws.x.io\"",
        ),
        (
            "alias bomb",
            &[("a.yaml", &bomb)],
            "aliases expand beyond the limit",
        ),
        (
            "duplicate key",
            &[("a.yaml", "a: 1\nb: 2\na: 3\n")],
            "a.yaml:3:1: invalid YAML: duplicate mapping key",
        ),
        (
            "rekube.yaml not a mapping",
            &[("rekube.yaml", "- a\n")],
            "rekube.yaml:1:1: must be a mapping",
        ),
        (
            "rekube.yaml unknown key",
            &[
                ("rekube.yaml", "layers: [{name: a}]\nlayer: []\n"),
                ("a/x.yaml", CM),
            ],
            "rekube.yaml:2:1: unknown key \"layer\"",
        ),
        (
            "rekube.yaml empty layers",
            &[("rekube.yaml", "layers: []\n")],
            "rekube.yaml:1:",
        ),
        (
            "rekube.yaml layer not a mapping",
            &[("rekube.yaml", "layers:\n  - apps\n")],
            "rekube.yaml:2:5: a layer must be a mapping",
        ),
        (
            "rekube.yaml layer without name",
            &[("rekube.yaml", "layers:\n  - path: apps\n")],
            "rekube.yaml:2:5: layer has no name",
        ),
        (
            "rekube.yaml bad layer name",
            &[("rekube.yaml", "layers:\n  - name: Apps\n")],
            "rekube.yaml:2:5: invalid layer name",
        ),
        (
            "rekube.yaml path escapes",
            &[("rekube.yaml", "layers:\n  - {name: a, path: ../x}\n")],
            "must be a folder inside the repository",
        ),
        (
            "rekube.yaml path absolute",
            &[("rekube.yaml", "layers:\n  - {name: a, path: /etc}\n")],
            "must be a folder inside the repository",
        ),
        (
            "rekube.yaml path is a file",
            &[
                ("rekube.yaml", "layers:\n  - {name: a, path: f.yaml}\n"),
                ("f.yaml", CM),
            ],
            "\"f.yaml\" is not a folder",
        ),
        (
            "rekube.yaml dependsOn not a list",
            &[
                ("rekube.yaml", "layers:\n  - {name: a, dependsOn: b}\n"),
                ("a/x.yaml", CM),
            ],
            "dependsOn must be a list",
        ),
        (
            "rekube.yaml self cycle",
            &[
                ("rekube.yaml", "layers:\n  - {name: a, dependsOn: [a]}\n"),
                ("a/x.yaml", CM),
            ],
            "cycle: a -> a",
        ),
        (
            "rekube.yaml invalid YAML",
            &[("rekube.yaml", "layers: [\n")],
            "rekube.yaml:1:9: invalid YAML",
        ),
    ];
    let mut failures = Vec::new();
    for (name, files, want) in cases {
        let dir = repo(files);
        match load(dir.path()) {
            Ok(m) => failures.push(format!("{name}: loaded {} objects", m.objects.len())),
            Err(errors) if errors.len() == 1 && errors[0].contains(want) => {}
            Err(errors) => failures.push(format!(
                "{name}: want one error with {want:?}, got {errors:#?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
