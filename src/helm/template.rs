//! `helm template` of one release: the command line, the output split by `# Source:` comments, and
//! template errors turned into a template path, a line and a message.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Helm, HelmError, cache};

/// What to render. Paths are absolute.
#[derive(Debug, Clone)]
pub struct TemplateRequest {
    pub release: String,
    pub namespace: String,
    /// A chart folder or a packaged chart (`.tgz`).
    pub chart: PathBuf,
    /// Values files, in order (later ones win).
    pub values_files: Vec<PathBuf>,
    /// Inline values, applied after the files.
    pub values: Option<Value>,
    /// `1.34.4`: `.Capabilities.KubeVersion`.
    pub kube_version: String,
    /// `apps/v1`, `apps/v1/Deployment`…: `.Capabilities.APIVersions` (empty: Helm's built-in list).
    pub api_versions: Vec<String>,
    pub include_crds: bool,
    pub skip_tests: bool,
    /// Let `lookup` read this cluster (`--dry-run=server`): kubeconfig and context.
    pub lookup: Option<Lookup>,
}

/// The cluster `lookup` may read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// One document of the output and the template it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// As Helm prints it: `podinfo/templates/deployment.yaml`, `podinfo/charts/redis/templates/x.yaml`.
    pub source: String,
    pub text: String,
}

/// A failed rendering: the template and line Helm named, when it named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Path inside the chart as Helm prints it (`podinfo/templates/deployment.yaml`).
    pub template: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// Renders `request`, from the cache when the same chart, values, versions and options were rendered
/// before (never with `lookup`: then the output depends on the cluster).
///
/// # Errors
/// [`TemplateError`] for anything Helm refused; `Err(Err(HelmError))` when Helm could not run.
pub fn render(
    helm: &Helm,
    request: &TemplateRequest,
    use_cache: bool,
) -> Result<Vec<Rendered>, Result<TemplateError, HelmError>> {
    let key = if use_cache && request.lookup.is_none() {
        cache::render_key(helm, request).ok()
    } else {
        None
    };
    if let Some(text) = key.as_deref().and_then(cache::get_render) {
        return Ok(split(&text));
    }
    let scratch = tempfile::Builder::new()
        .prefix("rekube-helm-")
        .tempdir()
        .map_err(|e| Err(HelmError::io("creating a temp folder", "", e)))?;
    let mut args: Vec<String> = vec![
        "template".into(),
        request.release.clone(),
        request.chart.display().to_string(),
        "--namespace".into(),
        request.namespace.clone(),
        "--kube-version".into(),
        request.kube_version.clone(),
    ];
    for v in &request.api_versions {
        args.push("--api-versions".into());
        args.push(v.clone());
    }
    for f in &request.values_files {
        args.push("--values".into());
        args.push(f.display().to_string());
    }
    if let Some(values) = &request.values {
        let path = scratch.path().join("inline-values.json");
        let text = serde_json::to_vec(values).unwrap_or_default();
        std::fs::write(&path, text).map_err(|e| Err(HelmError::io("writing", &path, e)))?;
        args.push("--values".into());
        args.push(path.display().to_string());
    }
    if request.include_crds {
        args.push("--include-crds".into());
    }
    if request.skip_tests {
        args.push("--skip-tests".into());
    }
    let mut cmd = helm.command(&args);
    // Helm's own caches stay apart from the user's; nothing is fetched while templating.
    cmd.env("HELM_CACHE_HOME", scratch.path().join("cache"));
    match &request.lookup {
        Some(l) => {
            // The chart's objects exist once rekube applied them, without Helm's release labels:
            // `--take-ownership` skips Helm's ownership check (a dry run writes nothing).
            cmd.args(["--dry-run=server", "--take-ownership"]);
            if let Some(k) = &l.kubeconfig {
                cmd.arg("--kubeconfig").arg(k);
            }
            if let Some(c) = &l.context {
                cmd.arg("--kube-context").arg(c);
            }
        }
        None => {
            // Without --helm-lookup Helm must not read any cluster: `lookup` then returns nothing.
            cmd.env("KUBECONFIG", scratch.path().join("no-kubeconfig"));
        }
    }
    let output = cmd
        .output()
        .map_err(|e| Err(HelmError::io("cannot run", helm.path(), e)))?;
    if !output.status.success() {
        return Err(Ok(parse_error(&String::from_utf8_lossy(&output.stderr))));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| {
        Ok(TemplateError {
            template: None,
            line: None,
            column: None,
            message: "helm template printed output that is not UTF-8".into(),
        })
    })?;
    if let Some(key) = &key {
        cache::put_render(key, &text);
    }
    Ok(split(&text))
}

/// The documents of `helm template` output, each with the `# Source:` comment that precedes it.
pub fn split(text: &str) -> Vec<Rendered> {
    let mut out = Vec::new();
    let mut source = String::new();
    let mut doc = String::new();
    let mut flush = |source: &mut String, doc: &mut String| {
        if !doc.trim().is_empty() && !source.is_empty() {
            out.push(Rendered {
                source: source.clone(),
                text: std::mem::take(doc),
            });
        }
        doc.clear();
        source.clear();
    };
    for line in text.lines() {
        if line.trim_end() == "---" {
            flush(&mut source, &mut doc);
            continue;
        }
        if source.is_empty()
            && doc.trim().is_empty()
            && let Some(s) = line.strip_prefix("# Source: ")
        {
            source = s.trim().to_string();
            continue;
        }
        doc.push_str(line);
        doc.push('\n');
    }
    flush(&mut source, &mut doc);
    out
}

/// Helm's error output as one message, with the template path and line it names (Helm 4 prints
/// `Error: chart/templates/x.yaml:10:22\n  executing …`, `Error: parse error at (chart/templates/x.yaml:46): …`
/// or `Error: YAML parse error on chart/templates/x.yaml: …`).
pub fn parse_error(stderr: &str) -> TemplateError {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Use --debug flag"))
        .collect();
    let message = lines.join(" ");
    let message = message
        .strip_prefix("Error: ")
        .unwrap_or(&message)
        .to_string();
    let mut found = TemplateError {
        template: None,
        line: None,
        column: None,
        message,
    };
    let token = found
        .message
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"')
        .find(|t| t.contains("/templates/") || t.contains("/crds/"))
        .map(|t| t.trim_end_matches([':', ',']).to_string());
    if let Some(token) = token {
        let mut parts = token.split(':');
        found.template = parts.next().map(str::to_string);
        found.line = parts.next().and_then(|l| l.parse().ok());
        found.column = parts.next().and_then(|c| c.parse().ok());
    }
    found
}

/// The template path inside the chart folder: `podinfo/templates/x.yaml` → `templates/x.yaml`
/// (Helm prefixes the chart's name, which need not be its folder's name).
pub fn within_chart(source: &str) -> &str {
    source.split_once('/').map_or(source, |(_, rest)| rest)
}

/// Whether `path` looks like a packaged chart rather than a folder.
pub fn is_archive(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "tgz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_split_by_source() {
        let text = "---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\n---\n\
                    # Source: web/templates/a.yaml\napiVersion: v1\nkind: Secret\n---\n\
                    # Source: web/charts/db/templates/b.yaml\n# a comment\nkind: Service\n---\n\
                    # Source: web/templates/empty.yaml\n\n";
        let docs = split(text);
        let got: Vec<(&str, &str)> = docs
            .iter()
            .map(|d| (d.source.as_str(), d.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("web/templates/a.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
                ("web/templates/a.yaml", "apiVersion: v1\nkind: Secret\n"),
                (
                    "web/charts/db/templates/b.yaml",
                    "# a comment\nkind: Service\n"
                ),
            ]
        );
    }

    #[test]
    fn errors_name_template_and_line() {
        let cases = [
            (
                "Error: podinfo/templates/deployment.yaml:10:22\n  executing \"podinfo/templates/deployment.yaml\" at <.Values.x>:\n    can't evaluate field x\n\nUse --debug flag to render out invalid YAML\n",
                Some("podinfo/templates/deployment.yaml"),
                Some(10),
                Some(22),
            ),
            (
                "Error: parse error at (podinfo/templates/service.yaml:46): unexpected {{end}}\n",
                Some("podinfo/templates/service.yaml"),
                Some(46),
                None,
            ),
            (
                "Error: YAML parse error on podinfo/templates/bad.yaml: error converting YAML to JSON: yaml: line 5: x\n",
                Some("podinfo/templates/bad.yaml"),
                None,
                None,
            ),
            ("Error: path \"/tmp/x\" not found\n", None, None, None),
        ];
        for (stderr, template, line, column) in cases {
            let e = parse_error(stderr);
            assert_eq!(e.template.as_deref(), template, "{stderr}");
            assert_eq!((e.line, e.column), (line, column), "{stderr}");
            assert!(!e.message.starts_with("Error:"), "{}", e.message);
            assert!(!e.message.contains("--debug"), "{}", e.message);
        }
    }

    #[test]
    fn chart_name_is_dropped_from_template_paths() {
        assert_eq!(within_chart("podinfo/templates/x.yaml"), "templates/x.yaml");
        assert_eq!(
            within_chart("web/charts/db/templates/b.yaml"),
            "charts/db/templates/b.yaml"
        );
    }
}
