//! Clusters of `rekube.yaml`: where each is reached, its role, its standby model, and what it changes in
//! the repository. One repository serves several clusters; a command run for one of them loads the
//! repository shaped for it ([`shape_layers`], [`add_values`], [`hold_replicas`]).
//!
//! ```yaml
//! clusters:
//!   - {name: eu, context: eu-admin}                      # role: primary by default
//!   - name: us
//!     kubeconfig: ~/.kube/us.yaml
//!     context: us-admin
//!     role: standby
//!     standby: warm                                      # everything, workloads held at zero
//!     namespace: web                                     # default namespace (as -n)
//!     values: {podinfo: [clusters/us/podinfo.yaml]}      # extra values files per chart release
//!     paths: {apps: apps/overlays/us}                    # a layer's folder for this cluster
//!     extraLayers: [{name: us-only, path: clusters/us, dependsOn: [apps]}]
//!   - {name: dr, context: dr, role: standby, standby: pilot-light, layers: [cluster, tools]}
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::layers::{CONFIG_FILE, topological};

mod parse;

use crate::object::{Layer, Object};
pub use parse::declared;

/// A cluster declared in `rekube.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    pub name: String,
    /// Kubeconfig file (`~/` is the home folder); the usual lookup when absent.
    pub kubeconfig: Option<String>,
    /// Kubeconfig context; the file's current context when absent.
    pub context: Option<String>,
    pub role: Role,
    /// Default namespace of namespaced objects that have none and whose layer declares none.
    pub namespace: Option<String>,
    /// Extra values files (relative to the repository root) per chart release, after the chart's own.
    pub values: BTreeMap<String, Vec<String>>,
    /// A layer's folder for this cluster, instead of the declared one.
    pub paths: BTreeMap<String, String>,
    /// Layers only this cluster has.
    pub extra_layers: Vec<Layer>,
    /// Line of the cluster's entry in `rekube.yaml`.
    pub line: usize,
}

/// What a cluster is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "role", content = "standby")]
pub enum Role {
    /// Serves: gets the whole repository.
    Primary,
    /// Stands by to take over, by one of the recovery models.
    Standby(Standby),
}

/// How a standby waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "model", content = "layers")]
pub enum Standby {
    /// Every object, Deployments and StatefulSets held at zero replicas.
    Warm,
    /// Only the named layers (the core services); the rest is applied at promotion.
    PilotLight(Vec<String>),
}

impl Role {
    /// `primary`, `standby (warm)`, `standby (pilot light: cluster, tools)`.
    pub fn describe(&self) -> String {
        match self {
            Role::Primary => "primary".into(),
            Role::Standby(Standby::Warm) => "standby (warm)".into(),
            Role::Standby(Standby::PilotLight(layers)) => {
                format!("standby (pilot light: {})", layers.join(", "))
            }
        }
    }

    /// Same role, for comparing clusters with each other (`primary`, `standby`).
    pub fn kind(&self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby(_) => "standby",
        }
    }
}

/// Which cluster a load is for, and whether its standby model applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterChoice {
    pub name: String,
    /// The standby was promoted: it gets the whole repository, nothing held (as a primary).
    pub promoted: bool,
}

/// The cluster a manifest was loaded for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForCluster {
    pub spec: ClusterSpec,
    /// A standby loaded as promoted: the whole repository, nothing held.
    pub promoted: bool,
}

/// The repository's layers shaped for the cluster a load is for (as declared without one).
#[derive(Debug, Clone)]
pub struct Shaped {
    pub cluster: Option<ForCluster>,
    /// Every layer of the cluster, those a pilot light waits for included.
    pub all: Vec<Layer>,
    /// The layers it holds now.
    pub layers: Vec<Layer>,
}

/// Shapes `layers` for the cluster `choice` names ([`shape_layers`], [`standing`]).
///
/// # Errors
/// Invalid `clusters:`, an unknown cluster, or layers it names that do not exist.
pub fn shape(
    root: &std::path::Path,
    choice: Option<&ClusterChoice>,
    layers: Vec<Layer>,
) -> Result<Shaped, Vec<Diagnostic>> {
    let Some(choice) = choice else {
        return Ok(Shaped {
            cluster: None,
            all: layers.clone(),
            layers,
        });
    };
    let declared = declared(root)?;
    let spec = find(&declared, &choice.name).map_err(|d| vec![d])?.clone();
    let all = shape_layers(layers, &spec)?;
    Ok(Shaped {
        layers: standing(all.clone(), &spec, choice.promoted),
        all,
        cluster: Some(ForCluster {
            spec,
            promoted: choice.promoted,
        }),
    })
}

impl Shaped {
    /// The default namespace: `-n` wins over the cluster's, as an object's own wins over its layer's.
    pub fn namespace(&self, flag: Option<&str>) -> Option<String> {
        flag.map(str::to_string)
            .or_else(|| self.cluster.as_ref()?.spec.namespace.clone())
    }

    /// The cluster's values files added to its charts ([`add_values`]); problems into `errors`.
    pub fn add_values(&self, specs: &mut [super::charts::ChartSpec], errors: &mut Vec<Diagnostic>) {
        if let Some(c) = &self.cluster
            && let Err(diags) = add_values(specs, &c.spec)
        {
            errors.extend(diags);
        }
    }

    /// A warm standby not promoted holds its workloads ([`hold_replicas`]).
    pub fn hold(&self, objects: &mut [Object]) {
        if let Some(c) = &self.cluster
            && !c.promoted
            && c.spec.role == Role::Standby(Standby::Warm)
        {
            hold_replicas(objects);
        }
    }
}

/// The cluster named `name`, or an error listing the declared ones.
///
/// # Errors
/// No cluster of that name.
pub fn find<'a>(clusters: &'a [ClusterSpec], name: &str) -> Result<&'a ClusterSpec, Diagnostic> {
    clusters.iter().find(|c| c.name == name).ok_or_else(|| {
        let known: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
        let msg = if known.is_empty() {
            format!("unknown cluster {name:?}: rekube.yaml declares no `clusters:`")
        } else {
            format!(
                "unknown cluster {name:?} (rekube.yaml declares: {})",
                known.join(", ")
            )
        };
        Diagnostic::new(CONFIG_FILE, msg)
    })
}

/// Every layer of the repository for `spec`: its folders and extra layers, checked (what it holds before
/// a promotion is [`standing`]).
///
/// # Errors
/// A layer named by the cluster that does not exist, a pilot light missing a layer its layers depend on,
/// an extra layer that depends on an unknown layer or repeats a name.
pub fn shape_layers(
    mut layers: Vec<Layer>,
    spec: &ClusterSpec,
) -> Result<Vec<Layer>, Vec<Diagnostic>> {
    let err = |msg: String| Diagnostic::new(CONFIG_FILE, msg).at(spec.line, None);
    let mut errors = Vec::new();
    let known = |layers: &[Layer]| {
        layers
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, path) in &spec.paths {
        match layers.iter_mut().find(|l| &l.name == name) {
            Some(layer) => layer.path = path.clone(),
            None => errors.push(err(format!(
                "cluster {:?}: paths names layer {name:?}, which does not exist (layers: {})",
                spec.name,
                known(&layers)
            ))),
        }
    }
    for extra in &spec.extra_layers {
        if layers.iter().any(|l| l.name == extra.name) {
            errors.push(err(format!(
                "cluster {:?}: extra layer {:?} repeats a layer's name",
                spec.name, extra.name
            )));
        }
    }
    layers.extend(spec.extra_layers.iter().cloned());
    for layer in &layers {
        for dep in &layer.depends_on {
            if !layers.iter().any(|l| &l.name == dep) {
                errors.push(err(format!(
                    "cluster {:?}: layer {:?} depends on unknown layer {dep:?} (layers: {})",
                    spec.name,
                    layer.name,
                    known(&layers)
                )));
            }
        }
    }
    if let Role::Standby(Standby::PilotLight(names)) = &spec.role {
        for name in names {
            if !layers.iter().any(|l| &l.name == name) {
                errors.push(err(format!(
                    "cluster {:?}: pilot-light layer {name:?} does not exist (layers: {})",
                    spec.name,
                    known(&layers)
                )));
            }
        }
        let kept: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        for layer in layers.iter().filter(|l| kept.contains(l.name.as_str())) {
            for dep in layer
                .depends_on
                .iter()
                .filter(|d| !kept.contains(d.as_str()))
            {
                errors.push(err(format!(
                    "cluster {:?}: pilot-light layer {:?} depends on layer {dep:?}, which the pilot light leaves out: add it to `layers:`",
                    spec.name, layer.name
                )));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(topological(layers))
}

/// The layers a cluster holds now: a pilot-light standby (not `promoted`) only its named ones.
pub fn standing(mut layers: Vec<Layer>, spec: &ClusterSpec, promoted: bool) -> Vec<Layer> {
    if let (Role::Standby(Standby::PilotLight(names)), false) = (&spec.role, promoted) {
        layers.retain(|l| names.contains(&l.name));
    }
    layers
}

/// Adds the cluster's values files to its chart releases (after each chart's own).
///
/// # Errors
/// Values for a release no chart declares.
pub fn add_values(
    specs: &mut [super::charts::ChartSpec],
    spec: &ClusterSpec,
) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for (release, files) in &spec.values {
        let mut found = false;
        for chart in specs.iter_mut().filter(|c| &c.release == release) {
            chart.values_files.extend(files.iter().cloned());
            found = true;
        }
        if !found {
            let releases: BTreeSet<&str> = specs.iter().map(|c| c.release.as_str()).collect();
            let msg = format!(
                "cluster {:?}: values for release {release:?}, which no chart of its layers declares (releases: {})",
                spec.name,
                releases.into_iter().collect::<Vec<_>>().join(", ")
            );
            errors.push(Diagnostic::new(CONFIG_FILE, msg).at(spec.line, None));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Warm standby: every Deployment and StatefulSet at zero replicas, Git's replicas recorded in
/// [`crate::keys::ANNOTATION_STANDBY_REPLICAS`] for the promotion, except those behind a webhook or an
/// aggregated API ([`super::standby::api_backends`]). Returns how many were held.
pub fn hold_replicas(objects: &mut [Object]) -> usize {
    let mut held = 0;
    let serving = super::standby::api_backends(objects);
    for o in objects
        .iter_mut()
        .filter(|o| is_held_kind(o) && !serving.contains(&o.id))
    {
        let replicas = o
            .body
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let Some(body) = o.body.as_object_mut() else {
            continue;
        };
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), Value::from(0));
        }
        let annotations = body
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()))
            .as_object_mut()
            .map(|m| {
                m.entry("annotations")
                    .or_insert_with(|| Value::Object(Default::default()))
            });
        if let Some(Value::Object(a)) = annotations {
            a.insert(
                crate::keys::ANNOTATION_STANDBY_REPLICAS.into(),
                Value::String(replicas.to_string()),
            );
            held += 1;
        }
    }
    held
}

/// Deployments and StatefulSets: the workloads a warm standby holds at zero.
pub fn is_held_kind(o: &Object) -> bool {
    o.id.group == "apps" && matches!(o.id.kind.as_str(), "Deployment" | "StatefulSet")
}

#[cfg(test)]
mod tests;
