//! Rendering the charts of a repository: every chart in parallel, each with `helm template`, remote
//! charts fetched by their `rekube.lock` digest first. Errors name the chart, the template and its line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::HelmOptions;
use super::spec::{ChartSource, ChartSpec};
use crate::helm::chart::ChartMeta;
use crate::helm::lock::LockFile;
use crate::helm::template::{self, Rendered, TemplateRequest};
use crate::helm::{DEFAULT_KUBE_VERSION, Helm, remote};
use crate::manifest::diagnostics::Diagnostic;

/// A rendered chart: its documents, where they are named from, and what rendering found.
#[derive(Debug)]
pub struct RenderedChart {
    /// `name version`.
    pub chart: String,
    /// Prefix of the repository paths of its templates: the chart folder, or the remote reference.
    pub base: String,
    /// Where the chart comes from (folder or repository URL), for the release.
    pub origin: String,
    pub docs: Vec<Rendered>,
    /// `(source, index among that template's documents)` whose text differs between two renders.
    pub unstable: BTreeSet<(String, usize)>,
    /// The chart folder, when it is one (to read a template's text for warnings).
    pub folder: Option<PathBuf>,
}

/// Functions whose result changes at each render: the usual reasons for a chart to be unstable.
pub const UNSTABLE_FUNCTIONS: [&str; 14] = [
    "randAlphaNum",
    "randAlpha",
    "randNumeric",
    "randAscii",
    "randBytes",
    "uuidv4",
    "now",
    "genCA",
    "genPrivateKey",
    "genSelfSignedCert",
    "genSignedCert",
    "htpasswd",
    "bcrypt",
    "encryptAES",
];

/// Renders every spec, in parallel (a few at a time), results in spec order.
pub fn render_all(
    root: &Path,
    specs: &[ChartSpec],
    options: &HelmOptions,
) -> Vec<Result<RenderedChart, Vec<Diagnostic>>> {
    if specs.is_empty() {
        return Vec::new();
    }
    let helm = match options.helm.clone().map_or_else(Helm::locate, Ok) {
        Ok(h) => h,
        Err(e) => {
            let message = e.to_string();
            return specs
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    // Said once, at the first chart: the others fail for the same reason.
                    let msg = if i == 0 {
                        format!("chart of release {:?}: {message}", s.release)
                    } else {
                        format!(
                            "chart of release {:?}: not rendered (no Helm v4)",
                            s.release
                        )
                    };
                    Err(vec![s.error(msg)])
                })
                .collect();
        }
    };
    let lock = LockFile::read(root);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<RenderedChart, Vec<Diagnostic>>>> =
        (0..specs.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..workers.min(specs.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(spec) = specs.get(i) else { break };
                    let out = render_one(root, spec, &helm, &lock, options);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(out);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .zip(specs)
        .map(|(r, s)| r.unwrap_or_else(|| Err(vec![s.error("chart was not rendered")])))
        .collect()
}

fn render_one(
    root: &Path,
    spec: &ChartSpec,
    helm: &Helm,
    lock: &Result<Option<LockFile>, String>,
    options: &HelmOptions,
) -> Result<RenderedChart, Vec<Diagnostic>> {
    let (chart_path, chart, base, origin, folder) = match &spec.source {
        ChartSource::Folder(rel) => {
            let dir = root.join(rel);
            let meta = ChartMeta::read(&dir).map_err(|e| {
                vec![spec.error(format!(
                    "chart folder {rel:?} of release {:?} {e}",
                    spec.release
                ))]
            })?;
            let missing = meta.missing_dependencies(&dir);
            if !missing.is_empty() {
                return Err(vec![Diagnostic::new(
                    format!("{rel}/{}", crate::helm::chart::CHART_FILE),
                    format!(
                        "chart {} depends on {} but it is not vendored in {rel}/charts/: run `helm dependency \
                         build {rel}` and commit the result (rekube renders charts offline)",
                        meta.name,
                        missing.join(", ")
                    ),
                )]);
            }
            (
                dir.clone(),
                meta.describe(),
                rel.clone(),
                rel.clone(),
                Some(dir),
            )
        }
        ChartSource::Remote(r) => {
            let locked = match lock {
                Err(e) => {
                    return Err(vec![Diagnostic::new(
                        crate::helm::lock::LOCK_FILE,
                        e.clone(),
                    )]);
                }
                Ok(lock) => lock
                    .as_ref()
                    .and_then(|l| l.find(&r.repository, &r.chart, &r.version)),
            };
            let Some(locked) = locked else {
                return Err(vec![spec.error(format!(
                    "chart {} of release {:?} is not pinned in rekube.lock: run `rekube lock` and commit \
                     rekube.lock",
                    r.reference(),
                    spec.release
                ))]);
            };
            let path = remote::fetch(helm, r, &locked.digest)
                .map_err(|e| vec![spec.error(format!("release {:?}: {e}", spec.release))])?;
            let base = format!("{}/{}-{}", r.repository, r.chart, r.version);
            let chart = format!("{} {}", r.chart, r.version);
            (path, chart, base, r.repository.clone(), None)
        }
    };
    let request = TemplateRequest {
        release: spec.release.clone(),
        namespace: spec.namespace.clone(),
        chart: chart_path,
        values_files: spec.values_files.iter().map(|f| root.join(f)).collect(),
        values: spec.values.clone(),
        kube_version: options
            .kube_version
            .clone()
            .unwrap_or_else(|| DEFAULT_KUBE_VERSION.to_string()),
        api_versions: options.api_versions.clone(),
        include_crds: spec.include_crds,
        skip_tests: spec.skip_tests,
        lookup: options.lookup.clone(),
    };
    let fail = |e: Result<template::TemplateError, crate::helm::HelmError>| match e {
        Err(e) => vec![spec.error(format!("chart {chart} of release {:?}: {e}", spec.release))],
        Ok(t) => vec![template_error(spec, &chart, &base, t)],
    };
    let docs = template::render(helm, &request, !options.no_cache).map_err(fail)?;
    let mut unstable = BTreeSet::new();
    if options.check_determinism {
        let again = template::render(helm, &request, false).map_err(fail)?;
        unstable = differences(&docs, &again);
    }
    Ok(RenderedChart {
        chart,
        base,
        origin,
        docs,
        unstable,
        folder,
    })
}

/// A template error at the template and line Helm named, else at the chart's declaration.
fn template_error(
    spec: &ChartSpec,
    chart: &str,
    base: &str,
    e: template::TemplateError,
) -> Diagnostic {
    let message = format!(
        "chart {chart} of release {:?} does not render: {}",
        spec.release, e.message
    );
    match &e.template {
        Some(t) => {
            let d = Diagnostic::new(format!("{base}/{}", template::within_chart(t)), message);
            match e.line {
                Some(l) => d.at(l, e.column),
                None => d,
            }
        }
        None => spec.error(message),
    }
}

/// Documents (by template and index) whose text differs between two renderings.
fn differences(a: &[Rendered], b: &[Rendered]) -> BTreeSet<(String, usize)> {
    let index = |docs: &[Rendered]| {
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        docs.iter()
            .map(|d| {
                let n = counts.entry(d.source.as_str()).or_insert(0);
                *n += 1;
                ((d.source.clone(), *n - 1), d.text.clone())
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (a, b) = (index(a), index(b));
    let keys: BTreeSet<&(String, usize)> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// The unstable functions a template file calls, to say why its rendering changes.
pub fn unstable_calls(folder: &Path, template_in_chart: &str) -> Vec<&'static str> {
    let Ok(text) = std::fs::read_to_string(folder.join(template_in_chart)) else {
        return Vec::new();
    };
    UNSTABLE_FUNCTIONS
        .into_iter()
        .filter(|f| {
            text.match_indices(f).any(|(i, _)| {
                let before = text[..i].chars().next_back();
                let after = text[i + f.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            })
        })
        .collect()
}
