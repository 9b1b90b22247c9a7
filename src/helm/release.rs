//! A release: what the rest of the pipeline knows of one rendered chart.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::hooks::Hook;
use crate::object::{Object, ObjectId};

/// One chart rendered as a release. Its objects are ordinary objects of the manifest (applied,
/// inventoried, pruned and checked for drift like any other); its hooks are runs, kept here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    /// Release name (`.Release.Name`).
    pub name: String,
    /// Release namespace (`.Release.Namespace`), the default of its namespaced objects.
    pub namespace: String,
    /// Layer the release belongs to.
    pub layer: String,
    /// `name version` from Chart.yaml.
    pub chart: String,
    /// Where the chart comes from: its folder in the repository, or its repository URL.
    pub origin: String,
    /// Values files, in the order given to Helm (repository paths).
    pub values: Vec<String>,
    /// The chart's objects other than hooks, in rendering order.
    pub members: Vec<ObjectId>,
    /// Hooks, in rendering order (test hooks only when the chart entry asks for tests).
    pub hooks: Vec<Hook>,
    /// `sha256:` over the rendering (objects and hooks): a changed digest means an upgrade.
    pub digest: String,
}

impl Release {
    /// `namespace/name`: unique in a cluster, as Helm's release names are.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// `sha256:` over the canonical JSON of the chart's objects and hooks, in identity order, so that the
/// same rendering always gives the same digest.
pub fn release_digest<'a>(objects: impl IntoIterator<Item = &'a Object>, hooks: &[Hook]) -> String {
    let mut all: Vec<(&str, &Object)> = objects.into_iter().map(|o| ("object", o)).collect();
    all.extend(hooks.iter().map(|h| ("hook", &h.object)));
    all.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    let mut h = Sha256::new();
    for (what, o) in all {
        h.update(format!("{what} {}\n", crate::graph::object_key(&o.id)).as_bytes());
        crate::graph::canonical::write(&o.body, &mut h);
        h.update(b"\n");
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}
