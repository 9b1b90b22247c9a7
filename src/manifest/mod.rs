//! Manifest: find the layers, read and render their files, parse and validate every object, offline.
//!
//! 1. [`layers`]: `rekube.yaml`, or the `cluster/`, `tools/`, `apps/` folders (other top-level folders
//!    holding manifests or charts are named: [`survey`]), or one `default` layer.
//! 2. [`files`]: `.yaml`/`.yml`/`.json` files in sorted order; Kustomize folders ([`kustomize`]), bases
//!    used by overlays of the same layer rendered only through them ([`overlays`]); Helm charts, declared
//!    in `rekube.yaml` or found as folders with a `Chart.yaml` ([`charts`]).
//! 3. [`yaml`] / [`json`] / [`documents`]: multi-document YAML split as kubectl does, JSON streams,
//!    `kind: List` expanded, positions kept for error messages.
//! 4. [`validate`] and [`schema`]: apiVersion, kind, metadata, names, removed API versions, built-in
//!    kinds against their k8s-openapi types (mistyped and unknown fields).
//! 5. [`resolve`]: scopes ([`scope`]: built-in kinds, CRDs in the repository), namespaces by kubectl's
//!    rule (own, chart release's, layer's, `-n`), duplicates. Kinds of unknown scope are an error
//!    offline, or left to the cluster's discovery ([`Manifest::resolve_scopes`], [`pending`]). Chart
//!    hooks are then moved out of the objects into their [`Release`](crate::helm::Release).
//! 6. [`rules`]: the `health:` and `ignore:` rules of `rekube.yaml` and the objects' ignore annotations,
//!    checked against the kinds the repository knows.
//!
//! Every problem is collected, so one run reports them all: [`load`] returns [`Diagnostics`] listing each
//! as `path:line:col: Kind/namespace/name: message`.

pub mod charts;
pub mod clusters;
pub mod diagnostics;
pub mod documents;
pub mod field;
pub mod files;
pub mod init;
pub mod inventory;
pub mod json;
pub mod kustomize;
pub mod layers;
pub mod names;
pub mod overlays;
pub mod parallel;
pub mod pending;
pub mod resolve;
pub mod rules;
pub mod schema;
pub mod scope;
pub mod sops;
pub mod standby;
pub mod survey;
pub mod validate;
pub mod versions;
pub mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

pub use charts::HelmOptions;
pub use diagnostics::{Diagnostic, Diagnostics};
pub use kustomize::Kustomize;
pub use resolve::{ScopeLookup, Unresolved};
pub use scope::{Scope, Scopes, builtin_scope};

use crate::helm::Release;
use crate::object::{Layer, Object, ObjectId, Revision};
use crate::source::Snapshot;
use documents::Origin;
use files::Input;
use resolve::Reporter;
use validate::Context;

/// Default [`LoadOptions::kustomize_timeout`]: 2 minutes.
pub const DEFAULT_KUSTOMIZE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
/// Default [`LoadOptions::max_file_size`]: 8 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// Options of [`load`].
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Files larger than this are an error (protects against accidents and hostile repositories).
    pub max_file_size: u64,
    /// How Kustomize folders are rendered.
    pub kustomize: Kustomize,
    /// Scopes known beyond the built-in table (e.g. from discovery). CRDs in the repository are added.
    pub scopes: Scopes,
    /// How Helm charts are rendered (Kubernetes version, API versions, lookup).
    pub helm: HelmOptions,
    /// `-n`: the namespace of namespaced objects that have none and whose layer declares none.
    pub namespace: Option<String>,
    /// Whether kinds of unknown scope are an error (offline) or left for discovery (cluster commands).
    pub scope_lookup: ScopeLookup,
    /// `--strict`: top-level folders the default layers leave out are errors, not warnings.
    pub strict: bool,
    /// SOPS-encrypted documents: decrypted (the default, with no key unless given) or kept sealed.
    pub sops: sops::Sops,
    /// How long one Kustomize render may take before it is killed (remote bases are fetched by it).
    pub kustomize_timeout: std::time::Duration,
    /// A cluster of `rekube.yaml` to shape the repository for (its folders, values, namespace, standby
    /// model); the repository as declared when absent.
    pub cluster: Option<clusters::ClusterChoice>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            kustomize: Kustomize::Auto,
            scopes: Scopes::default(),
            helm: HelmOptions::default(),
            namespace: None,
            scope_lookup: ScopeLookup::Offline,
            strict: false,
            sops: sops::Sops::default(),
            kustomize_timeout: DEFAULT_KUSTOMIZE_TIMEOUT,
            cluster: None,
        }
    }
}

/// The validated content of a repository revision.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Manifest {
    pub revision: Revision,
    /// In dependency order.
    pub layers: Vec<Layer>,
    /// In layer order, then file order, then document order: the same repository always gives the
    /// same list.
    pub objects: Vec<Object>,
    /// The Helm charts, rendered: their objects are in `objects`, their hooks only here.
    pub releases: Vec<Release>,
    pub warnings: Vec<Diagnostic>,
    /// Objects whose scope only discovery can tell ([`ScopeLookup::Discovery`]); placed by
    /// [`Manifest::resolve_scopes`]. Always empty offline.
    #[serde(skip)]
    pub unresolved: Vec<Unresolved>,
    /// Health rules (readiness) and ignore rules (fields other controllers own).
    pub rules: rules::Rules,
    /// The inventory name `rekube.yaml` declares (`inventory:`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<String>,
    /// The cluster of `rekube.yaml` the repository was shaped for ([`LoadOptions::cluster`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ForCluster>,
}

pub use clusters::ForCluster;

impl Manifest {
    pub fn get(&self, id: &ObjectId) -> Option<&Object> {
        self.objects.iter().find(|o| &o.id == id)
    }

    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// Objects of one layer, in order.
    pub fn objects_in<'a>(&'a self, layer: &'a str) -> impl Iterator<Item = &'a Object> + 'a {
        self.objects.iter().filter(move |o| o.source.layer == layer)
    }
}

/// Loads and validates the repository of `snapshot`, without any cluster access.
///
/// ```
/// use rekube::manifest::{LoadOptions, load};
/// use rekube::source::{Source, SourceOptions};
///
/// let snapshot = Source::new("fixtures/good/layers", None).snapshot(&SourceOptions::default())?;
/// let manifest = load(&snapshot, &LoadOptions::default())?;
/// let frontend = &manifest.objects[4];
/// assert_eq!(frontend.id.to_string(), "Deployment/shop/frontend");
/// assert_eq!(frontend.source.to_string(), "apps/shop.yaml:1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Diagnostics`] with every problem found (and the warnings), each naming file, line and object.
pub fn load(snapshot: &Snapshot, options: &LoadOptions) -> Result<Manifest, Diagnostics> {
    // Parsing and checking recurse once per nesting level of a document (up to the parser's limit of
    // 128): run them on a thread whose stack does not depend on the caller's (test threads get 2 MiB).
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("rekube-load".into())
            .stack_size(LOAD_STACK_SIZE)
            .spawn_scoped(scope, || load_here(snapshot, options));
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => load_here(snapshot, options),
        }
    })
}

/// Stack of the loading thread: virtual memory, only the pages used are committed.
const LOAD_STACK_SIZE: usize = 64 * 1024 * 1024;

fn load_here(snapshot: &Snapshot, options: &LoadOptions) -> Result<Manifest, Diagnostics> {
    let fail = |errors: Vec<Diagnostic>| Diagnostics {
        errors,
        warnings: Vec::new(),
    };
    let root = std::fs::canonicalize(&snapshot.root).map_err(|e| {
        fail(vec![Diagnostic::new(
            snapshot.root.display().to_string(),
            format!("cannot read the repository folder: {e}"),
        )])
    })?;
    let layers = layers::resolve(&root).map_err(fail)?;
    let shaped = clusters::shape(&root, options.cluster.as_ref(), layers).map_err(fail)?;
    let layers = shaped.layers.clone();
    let namespace = shaped.namespace(options.namespace.as_deref());
    if let Some(ns) = &options.namespace
        && let Err(e) = names::dns1123_label(ns)
    {
        let msg = format!("invalid namespace {ns:?}: {e}");
        return Err(fail(vec![Diagnostic::new("-n/--namespace", msg)]));
    }
    let inventory = inventory::declared(&root).map_err(|d| fail(vec![d]))?;
    let charts::Declared {
        specs: declared,
        mut errors,
        claimed,
    } = charts::declared(&root, &layers);

    let mut warnings = Vec::new();
    let left_out = survey::left_out(&root, &shaped.all);
    if options.strict {
        errors.extend(left_out);
    } else {
        warnings.extend(left_out);
    }
    let mut objects = Vec::new();
    let mut rendered = BTreeSet::new();
    let pass = match &options.sops {
        sops::Sops::Seal => sops::file::Pass::Seal,
        sops::Sops::Decrypt(keys) => sops::file::Pass::Decrypt(keys),
    };
    let mut sources = sops::rendered::Sources::new(&root, options.max_file_size);
    // Every layer is walked first, so that all its charts render at once, in parallel.
    let mut walks = Vec::new();
    let mut specs = Vec::new();
    for layer in &layers {
        let has_charts = declared.iter().any(|c| c.layer == layer.name);
        // A layer of charts alone needs no folder.
        let mut walk = if has_charts && !root.join(&layer.path).exists() {
            files::Walk::default()
        } else {
            files::collect(&root, layer)
        };
        walk.inputs.retain(|input| match input {
            Input::File { rel, .. } | Input::Chart { rel, .. } => !claimed.contains(rel),
            Input::Kustomization { .. } => true,
        });
        if walk.inputs.is_empty() && walk.errors.is_empty() && !has_charts {
            let msg = format!("layer {:?} holds no .yaml, .yml or .json file", layer.name);
            warnings.push(Diagnostic::new(&layer.path, msg));
        }
        errors.extend(std::mem::take(&mut walk.errors));
        warnings.extend(std::mem::take(&mut walk.warnings));
        for input in &walk.inputs {
            if let Input::Chart { rel, .. } = input {
                specs.push(charts::ChartSpec::found(layer, rel));
            }
        }
        specs.extend(declared.iter().filter(|c| c.layer == layer.name).cloned());
        walks.push(walk);
    }
    shaped.add_values(&mut specs, &mut errors);
    let plain: Vec<(String, std::path::PathBuf)> = walks
        .iter()
        .flat_map(|w| &w.inputs)
        .filter_map(|input| match input {
            Input::File { rel, abs } => Some((rel.clone(), abs.clone())),
            _ => None,
        })
        .collect();
    let mut prefetch = parallel::Prefetch::new(plain, options.max_file_size, LOAD_STACK_SIZE);
    let mut charts_out = charts::render::render_all(&root, &specs, &options.helm).into_iter();
    let mut specs = specs.into_iter();
    let mut own_namespaces: Vec<Option<String>> = Vec::new();
    let mut drafts = Vec::new();
    let mut add_chart = |objects: &mut Vec<Object>,
                         defaults: &mut Vec<Option<String>>,
                         errors: &mut Vec<Diagnostic>| {
        let (Some(spec), Some(out)) = (specs.next(), charts_out.next()) else {
            return;
        };
        match out {
            Ok(chart) => drafts.push(charts::add_objects(spec, chart, objects, defaults, errors)),
            Err(diags) => errors.extend(diags),
        }
    };
    for (layer, walk) in layers.iter().zip(walks) {
        let (inputs, _used) = overlays::split(&root, walk.inputs);
        for input in inputs {
            let (rel, origin, parsed) = match input {
                Input::File { rel, abs } => {
                    let parsed = prefetch.take(&rel, &abs).map(|p| {
                        let docs = sops::file::prepare(
                            &p.text,
                            &rel,
                            p.json,
                            p.docs,
                            pass,
                            &mut errors,
                            &mut warnings,
                        );
                        (docs, p.errors)
                    });
                    (rel, Origin::File, parsed)
                }
                Input::Kustomization { rel, abs } => {
                    rendered.insert(rel.clone());
                    let parsed = sops::generator::render(
                        &options.kustomize,
                        &root,
                        &abs,
                        &rel,
                        pass,
                        options.max_file_size,
                        options.kustomize_timeout,
                    )
                    .map(|text| {
                        let (docs, parse_errors) =
                            documents::parse_yaml(&text, &rel, Origin::Rendered);
                        let docs = sops::rendered::prepare(
                            docs,
                            &rel,
                            pass,
                            &mut sources,
                            &mut errors,
                            &mut warnings,
                        );
                        (docs, parse_errors)
                    });
                    (rel, Origin::Rendered, parsed)
                }
                Input::Chart { .. } => {
                    add_chart(&mut objects, &mut own_namespaces, &mut errors);
                    continue;
                }
            };
            let (docs, parse_errors) = match parsed {
                Ok(p) => p,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            errors.extend(parse_errors);
            let ctx = Context {
                layer: &layer.name,
                rel: &rel,
                origin,
            };
            for prepared in docs {
                let first = errors.len();
                let object = validate::check_object(&ctx, prepared.doc, &mut errors);
                if !prepared.secrets.is_empty() {
                    for e in &mut errors[first..] {
                        e.message = prepared.secrets.scrub(&e.message);
                    }
                }
                objects.extend(object.map(|mut o| {
                    if let Some(body) = prepared.sealed_body {
                        o.body = body;
                    }
                    o
                }));
            }
            own_namespaces.resize(objects.len(), None);
        }
        for _ in declared.iter().filter(|c| c.layer == layer.name) {
            add_chart(&mut objects, &mut own_namespaces, &mut errors);
        }
    }

    let mut scopes = options.scopes.clone();
    for o in &objects {
        scopes.insert_crd(o);
    }
    let mut reporter = Reporter {
        rendered: &rendered,
        errors,
        warnings,
    };
    let defaults =
        resolve::Defaults::new(&layers, namespace.as_deref()).with_objects(&own_namespaces);
    let unresolved = resolve::apply_scopes(
        &mut objects,
        &defaults,
        &scopes,
        options.scope_lookup,
        &mut reporter,
    );
    // Objects of unknown scope have no final identity yet: compared once discovery placed them.
    let pending: BTreeSet<usize> = unresolved.iter().map(|u| u.index).collect();
    let placed = |i: usize| !pending.contains(&i);
    resolve::check_duplicates(&objects, placed, |_| true, &mut reporter);
    let Reporter {
        mut errors,
        mut warnings,
        ..
    } = reporter;
    let (mut objects, releases, kept_from) = charts::finish(objects, drafts, &mut warnings);
    shaped.hold(&mut objects);
    let unresolved = charts::reindex(unresolved, &kept_from);
    let rules = rules::load(&root, &objects, &scopes, &mut errors);
    diagnostics::sort(&mut errors);
    diagnostics::sort(&mut warnings);
    if !errors.is_empty() {
        return Err(Diagnostics { errors, warnings });
    }
    Ok(Manifest {
        revision: snapshot.revision.clone(),
        layers,
        objects,
        releases,
        warnings,
        unresolved,
        rules,
        inventory,
        cluster: shaped.cluster,
    })
}

/// [`load`] for a plain folder (no Git information).
pub fn load_dir(root: &Path, options: &LoadOptions) -> Result<Manifest, Diagnostics> {
    load(&Snapshot::from_dir(root), options)
}
