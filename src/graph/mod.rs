//! Graph: the dependency DAG over the repository's objects, and the plan.
//!
//! [`build`] places every object in a node (layer order, then [`ObjectId`](crate::ObjectId)) and runs the rules, one
//! `add_*_edges` function each (see [`Rule`]): an edge `dependent → dependency` binds two objects of the
//! repository; a reference to an object absent from it is recorded as [`External`]. Layer `dependsOn`,
//! sync waves and "webhooks last" are kept linear by virtual [`Barrier`] nodes: an object waits for one
//! barrier that waits for every object of the layer, rather than for each of them.
//!
//! The apply scheduler walks the [`Graph`] ([`Graph::dependencies`], [`Graph::dependents`]); the prune
//! uses [`Graph::reverse_topological_order`]. [`Plan`] adds display waves and the plan digest, and
//! [`render`] prints it as text, JSON, DOT or Mermaid.
//!
//! # Errors
//! [`build`] fails on an object of an unknown layer, the same object declared twice, an invalid
//! `config.kubernetes.io/depends-on` or `argocd.argoproj.io/sync-wave` annotation, or a dependency cycle
//! (printed `A -> B -> A` with the rule of each edge).

mod builder;
pub(crate) mod canonical;
mod cycle;
mod dag;
mod externals;
mod model;
mod plan;
pub mod render;
mod rules;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use crate::helm::Release;
use crate::manifest::Manifest;
use crate::object::{Layer, Object};

pub use cycle::{Cycle, CycleError};
pub use dag::Graph;
pub use externals::external_summary;
pub use model::{
    Barrier, BarrierKind, Edge, External, HookNode, Node, NodeId, ObjectNode, Rule, object_key,
};
pub use plan::{Plan, plan};

/// How the graph is built. `Default` follows the design: every rule on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphOptions {
    /// Honour `argocd.argoproj.io/sync-wave` within a layer.
    pub sync_waves: bool,
    /// Apply webhook configurations and APIServices after every other object of their layer and wave.
    pub webhooks_last: bool,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            sync_waves: true,
            webhooks_last: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("{referenced_by}: unknown layer {layer:?}")]
    UnknownLayer {
        layer: String,
        referenced_by: String,
    },
    /// `id` is `Kind/namespace/name`, `first` and `second` are `path:line`.
    #[error("{id} ({second}): declared twice, first at {first}")]
    DuplicateObject {
        id: String,
        first: String,
        second: String,
    },
    /// `object` is `Kind/namespace/name (path:line)`.
    #[error("{object}: invalid {annotation} {value:?}: {reason}")]
    InvalidAnnotation {
        object: String,
        annotation: &'static str,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Cycle(#[from] CycleError),
}

/// Builds the dependency graph of `objects` (already loaded: namespaces defaulted, each namespaced object
/// with `id.namespace` set), placed in `layers` by their `source.layer`.
///
/// # Errors
/// See the [module documentation](self).
pub fn build(
    layers: &[Layer],
    objects: &[Object],
    options: &GraphOptions,
) -> Result<Graph, GraphError> {
    build_with_releases(layers, objects, &[], options)
}

/// [`build`] of a loaded manifest: its objects and its charts' hooks.
///
/// # Errors
/// See the [module documentation](self).
pub fn of_manifest(manifest: &Manifest, options: &GraphOptions) -> Result<Graph, GraphError> {
    build_with_releases(
        &manifest.layers,
        &manifest.objects,
        &manifest.releases,
        options,
    )
}

/// [`build`] with the Helm releases the objects were rendered from: each hook becomes a node per stage
/// it runs in ([`ObjectNode::hook`]), ordered around its chart's objects ([`Rule::Hook`]).
///
/// # Errors
/// See the [module documentation](self).
pub fn build_with_releases(
    layers: &[Layer],
    objects: &[Object],
    releases: &[Release],
    options: &GraphOptions,
) -> Result<Graph, GraphError> {
    let mut b = builder::Builder::new(layers, objects, releases, options.sync_waves)?;
    rules::add_all(&mut b, options)?;
    let graph = Graph::from_builder(b);
    cycle::check(&graph)?;
    Ok(graph)
}
