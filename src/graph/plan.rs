//! The plan: the graph with display waves and a digest that names the whole ordering.

use sha2::{Digest, Sha256};

use crate::object::{Layer, Object};

use super::dag::Graph;
use super::model::{Node, NodeId};
use super::{GraphError, GraphOptions, build};

/// A graph ready to show or apply. Waves are for display only: the scheduler applies each object as soon
/// as what it waits for is ready, it never waits for a whole wave.
#[derive(Debug, Clone)]
pub struct Plan {
    graph: Graph,
    /// Objects only, each wave sorted by node order.
    waves: Vec<Vec<NodeId>>,
    /// Wave of every node (a barrier shares the wave of the objects that wait for it).
    wave_of: Vec<usize>,
    digest: String,
}

/// Loads nothing: builds the graph of already-loaded objects and its plan.
///
/// # Errors
/// See [`build`].
pub fn plan(
    layers: &[Layer],
    objects: &[Object],
    options: &GraphOptions,
) -> Result<Plan, GraphError> {
    Ok(Plan::new(build(layers, objects, options)?))
}

impl Plan {
    /// Waves by repeatedly removing the objects whose dependencies are all removed (cli-utils `Sort()`):
    /// an object's wave is one more than the highest wave it waits for, barriers counting for nothing.
    pub fn new(graph: Graph) -> Plan {
        let mut wave_of = vec![0usize; graph.nodes().len()];
        for n in graph.topological_order() {
            let wave = graph
                .dependencies(n)
                .iter()
                .map(|e| match graph.node(e.to) {
                    Node::Object(_) => wave_of[e.to.0] + 1,
                    Node::Barrier(_) => wave_of[e.to.0],
                })
                .max()
                .unwrap_or(0);
            wave_of[n.0] = wave;
        }
        let mut waves: Vec<Vec<NodeId>> = Vec::new();
        for (n, _) in graph.objects() {
            let w = wave_of[n.0];
            if waves.len() <= w {
                waves.resize_with(w + 1, Vec::new);
            }
            waves[w].push(n);
        }
        let digest = digest(&graph);
        Plan {
            graph,
            waves,
            wave_of,
            digest,
        }
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    pub fn into_graph(self) -> Graph {
        self.graph
    }

    pub fn waves(&self) -> &[Vec<NodeId>] {
        &self.waves
    }

    pub fn wave_of(&self, n: NodeId) -> usize {
        self.wave_of[n.0]
    }

    /// `sha256:` over the normalised objects (canonical JSON digests, with their layers) and the edges:
    /// the same repository gives the same digest whatever order its files were read in.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

fn digest(graph: &Graph) -> String {
    let mut h = Sha256::new();
    let layers = graph.layers();
    for l in layers {
        h.update(format!("layer {} {}\n", l.name, l.depends_on.join(",")).as_bytes());
    }
    let keys: Vec<String> = graph.nodes().iter().map(Node::key).collect();
    for (node, key) in graph.nodes().iter().zip(&keys) {
        let layer = layers.get(node.layer()).map_or("", |l| l.name.as_str());
        match node {
            Node::Object(o) => h.update(format!("object {layer} {key} {}\n", o.digest).as_bytes()),
            Node::Barrier(_) => h.update(format!("node {layer} {key}\n").as_bytes()),
        }
    }
    for e in graph.edges() {
        let line = format!(
            "edge {} {} {} {}\n",
            keys[e.from.0], keys[e.to.0], e.rule, e.detail
        );
        h.update(line.as_bytes());
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}
