//! Charts in the repository: declared under a layer's `charts:` in `rekube.yaml` ([`spec`]), or a
//! folder with a `Chart.yaml` inside a layer (its folder name as release, default values). Each is
//! rendered by the pinned Helm ([`render`]); its documents become objects like any file's, named
//! `<chart folder>/<template path>` with the document's index among that template's; hooks are
//! split off into the chart's [`Release`] once namespaces are resolved ([`finish`]).

pub mod declare;
pub mod render;
pub mod spec;

use std::ops::Range;

use crate::helm::hooks::{self, Hook};
use crate::helm::template::{Lookup, within_chart};
use crate::helm::{Helm, Release, release_digest};
use crate::manifest::diagnostics::Diagnostic;
use crate::manifest::documents::{self, Origin};
use crate::manifest::resolve::Unresolved;
use crate::manifest::validate::{self, Context};
use crate::object::Object;

pub use declare::declared;
pub use render::RenderedChart;
pub use spec::{ChartSource, ChartSpec, Declared};

/// How charts are rendered; `Default` renders offline for the local control plane's version.
#[derive(Debug, Clone, Default)]
pub struct HelmOptions {
    /// `.Capabilities.KubeVersion` (`1.34.4`); `None`: [`crate::helm::DEFAULT_KUBE_VERSION`].
    pub kube_version: Option<String>,
    /// `.Capabilities.APIVersions` from the target's discovery; empty: Helm's built-in list.
    pub api_versions: Vec<String>,
    /// Let `lookup` read this cluster; `None`: `lookup` finds nothing.
    pub lookup: Option<Lookup>,
    /// Render each chart twice and warn about the objects whose rendering differs (`plan`).
    pub check_determinism: bool,
    /// Render even when the cache holds the same rendering.
    pub no_cache: bool,
    /// The Helm to run; `None`: [`Helm::locate`].
    pub helm: Option<Helm>,
}

/// A chart whose objects were added to the manifest's list at `range` (hooks included, until
/// [`finish`] moves them into the release).
#[derive(Debug)]
pub struct Draft {
    pub spec: ChartSpec,
    pub chart: String,
    pub origin: String,
    pub range: Range<usize>,
    /// Objects (by position in the list) whose rendering differs between two renders, with why.
    pub unstable: Vec<(usize, String)>,
}

/// Turns a rendered chart into objects appended to `objects` (each with its release namespace in
/// `defaults`, for [`crate::manifest::resolve::apply_scopes`]); problems go to `errors`.
pub fn add_objects(
    spec: ChartSpec,
    rendered: RenderedChart,
    objects: &mut Vec<Object>,
    defaults: &mut Vec<Option<String>>,
    errors: &mut Vec<Diagnostic>,
) -> Draft {
    let start = objects.len();
    let mut unstable = Vec::new();
    let mut index: std::collections::BTreeMap<String, usize> = Default::default();
    for doc in &rendered.docs {
        let n = index.entry(doc.source.clone()).or_insert(0);
        let document = *n;
        *n += 1;
        let template = within_chart(&doc.source);
        let rel = format!("{}/{template}", rendered.base);
        let (parsed, parse_errors) = documents::parse_yaml(&doc.text, &rel, Origin::Chart);
        errors.extend(parse_errors);
        let ctx = Context {
            layer: &spec.layer,
            rel: &rel,
            origin: Origin::Chart,
        };
        for mut d in parsed {
            d.index = document;
            let Some(object) = validate::check_object(&ctx, d, errors) else {
                continue;
            };
            if rendered.unstable.contains(&(doc.source.clone(), document)) {
                unstable.push((objects.len(), unstable_message(&spec, &rendered, template)));
            }
            objects.push(object);
            defaults.push(Some(spec.namespace.clone()));
        }
    }
    Draft {
        chart: rendered.chart,
        origin: rendered.origin,
        range: start..objects.len(),
        unstable,
        spec,
    }
}

fn unstable_message(spec: &ChartSpec, rendered: &RenderedChart, template: &str) -> String {
    let calls = rendered
        .folder
        .as_deref()
        .map(|f| render::unstable_calls(f, template))
        .unwrap_or_default();
    let why = if calls.is_empty() {
        String::new()
    } else {
        format!(" (it calls {})", calls.join(", "))
    };
    format!(
        "chart {} of release {:?} renders this object differently each time{why}: every apply would \
         rewrite it; set the value in the chart's values instead",
        rendered.chart, spec.release
    )
}

/// Once namespaces are resolved: moves each chart's hooks out of `objects` into its [`Release`]
/// (with its members and digest). Hook annotations Helm would ignore are warnings.
pub fn finish(
    objects: Vec<Object>,
    drafts: Vec<Draft>,
    warnings: &mut Vec<Diagnostic>,
) -> (Vec<Object>, Vec<Release>, Vec<usize>) {
    let mut owner: Vec<Option<usize>> = vec![None; objects.len()];
    for (d, draft) in drafts.iter().enumerate() {
        for i in draft.range.clone() {
            owner[i] = Some(d);
        }
        // Named once namespaces are resolved.
        for (i, message) in &draft.unstable {
            if let Some(o) = objects.get(*i) {
                let d = Diagnostic::new(&o.source.path, message.clone()).object(o.id.to_string());
                warnings.push(d);
            }
        }
    }
    let mut members: Vec<Vec<Object>> = vec![Vec::new(); drafts.len()];
    let mut release_hooks: Vec<Vec<Hook>> = vec![Vec::new(); drafts.len()];
    let mut kept = Vec::with_capacity(objects.len());
    let mut kept_from = Vec::with_capacity(objects.len());
    for (i, (object, owner)) in objects.into_iter().zip(owner).enumerate() {
        match owner {
            Some(d) if hooks::is_hook(&object) => {
                let at = Diagnostic::new(&object.source.path, "").object(object.id.to_string());
                let (hook, problems) = hooks::read(object);
                for p in problems {
                    warnings.push(Diagnostic {
                        message: p,
                        ..at.clone()
                    });
                }
                release_hooks[d].push(hook);
            }
            Some(d) => {
                members[d].push(object.clone());
                kept.push(object);
                kept_from.push(i);
            }
            None => {
                kept.push(object);
                kept_from.push(i);
            }
        }
    }
    let releases = drafts
        .into_iter()
        .zip(members)
        .zip(release_hooks)
        .map(|((draft, members), hooks)| Release {
            digest: release_digest(&members, &hooks),
            name: draft.spec.release,
            namespace: draft.spec.namespace,
            layer: draft.spec.layer,
            chart: draft.chart,
            origin: draft.origin,
            values: draft.spec.values_files,
            members: members.into_iter().map(|o| o.id).collect(),
            hooks,
        })
        .collect();
    (kept, releases, kept_from)
}

/// Objects left for discovery, renumbered after [`finish`] moved the hooks out (`kept_from[new]` is the
/// old index). A hook of a kind of unknown scope stays as written: hooks are Jobs, Pods and other
/// built-in kinds in practice.
pub fn reindex(unresolved: Vec<Unresolved>, kept_from: &[usize]) -> Vec<Unresolved> {
    unresolved
        .into_iter()
        .filter_map(|u| {
            let index = kept_from.binary_search(&u.index).ok()?;
            Some(Unresolved { index, ..u })
        })
        .collect()
}
