//! The built graph: nodes, edges sorted and merged, adjacency both ways, and traversal orders.

use std::collections::HashMap;

use crate::object::{Layer, ObjectId};

use super::builder::Builder;
use super::canonical;
use super::model::{Edge, External, HookNode, Node, NodeId, ObjectNode};

/// The dependency DAG. Acyclic by construction: [`build`](super::build) refuses cycles.
#[derive(Debug, Clone)]
pub struct Graph {
    layers: Vec<Layer>,
    nodes: Vec<Node>,
    object_count: usize,
    /// Sorted by (from, to, rule); one edge per triple, details of merged references joined by `, `.
    edges: Vec<Edge>,
    /// `edges[out_start[n]..out_start[n + 1]]` are the dependencies of node `n`.
    out_start: Vec<usize>,
    /// Edge indices sorted by (to, from): `incoming[in_start[n]..in_start[n + 1]]` point at `n`.
    incoming: Vec<usize>,
    in_start: Vec<usize>,
    externals: Vec<External>,
    index: HashMap<ObjectId, NodeId>,
    /// Per release: `namespace/name`, and each hook's events and weight, for renderings.
    releases: Vec<(String, Vec<String>)>,
}

impl Graph {
    pub(super) fn from_builder(b: Builder<'_>) -> Graph {
        let object_count = b.len();
        let mut nodes = Vec::with_capacity(object_count + b.barriers.len());
        let mut index = HashMap::with_capacity(object_count);
        for (n, o) in b.objects.iter().enumerate() {
            if b.hook_of[n].is_none() {
                index.insert(o.id.clone(), NodeId(n));
            }
            nodes.push(Node::Object(ObjectNode {
                id: o.id.clone(),
                layer: b.layer_of[n],
                source: o.source.clone(),
                input: b.input[n],
                wave: b.wave_of[n],
                digest: canonical::digest(&o.body),
                hook: b.hook_of[n],
                sops: o.annotation(crate::manifest::sops::ANNOTATION).is_some(),
            }));
        }
        nodes.extend(b.barriers.into_iter().map(Node::Barrier));

        let edges = merge_edges(b.edges);
        let len = nodes.len();
        let mut out_start = vec![0; len + 1];
        for e in &edges {
            out_start[e.from.0 + 1] += 1;
        }
        for i in 0..len {
            out_start[i + 1] += out_start[i];
        }
        let mut incoming: Vec<usize> = (0..edges.len()).collect();
        incoming.sort_by_key(|&i| (edges[i].to, edges[i].from, edges[i].rule));
        let mut in_start = vec![0; len + 1];
        for e in &edges {
            in_start[e.to.0 + 1] += 1;
        }
        for i in 0..len {
            in_start[i + 1] += in_start[i];
        }

        let mut externals = b.externals;
        externals.sort_by(|a, b| (a.from, &a.target, a.rule).cmp(&(b.from, &b.target, b.rule)));
        externals.dedup_by(|a, b| a.from == b.from && a.target == b.target && a.rule == b.rule);

        let releases = b
            .releases
            .iter()
            .map(|r| (r.key(), r.hooks.iter().map(|h| h.describe()).collect()))
            .collect();
        Graph {
            releases,
            layers: b.layers.to_vec(),
            nodes,
            object_count,
            edges,
            out_start,
            incoming,
            in_start,
            externals,
            index,
        }
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Every node: objects first, then barriers.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn node(&self, n: NodeId) -> &Node {
        &self.nodes[n.0]
    }

    /// Number of objects (nodes `0..object_count()` are objects).
    pub fn object_count(&self) -> usize {
        self.object_count
    }

    /// Objects in node order (layer order, then id).
    pub fn objects(&self) -> impl Iterator<Item = (NodeId, &ObjectNode)> {
        self.nodes[..self.object_count]
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_object().map(|o| (NodeId(i), o)))
    }

    pub fn find(&self, id: &ObjectId) -> Option<NodeId> {
        self.index.get(id).copied()
    }

    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// What `n` waits for, sorted by dependency: objects and barriers, each edge with its rule.
    pub fn dependencies(&self, n: NodeId) -> &[Edge] {
        &self.edges[self.out_start[n.0]..self.out_start[n.0 + 1]]
    }

    /// What waits for `n`, sorted by dependent.
    pub fn dependents(&self, n: NodeId) -> impl Iterator<Item = &Edge> {
        self.incoming[self.in_start[n.0]..self.in_start[n.0 + 1]]
            .iter()
            .map(|&i| &self.edges[i])
    }

    /// The objects `n` waits for, directly or through barriers (not through other objects), sorted.
    pub fn object_dependencies(&self, n: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<NodeId> = self.dependencies(n).iter().map(|e| e.to).collect();
        while let Some(d) = stack.pop() {
            if std::mem::replace(&mut seen[d.0], true) {
                continue;
            }
            match self.node(d) {
                Node::Object(_) => out.push(d),
                Node::Barrier(_) => stack.extend(self.dependencies(d).iter().map(|e| e.to)),
            }
        }
        out.sort();
        out
    }

    /// `hook pre-install,pre-upgrade weight -5 of release web/api`: what a hook node runs.
    pub fn describe_hook(&self, h: &HookNode) -> String {
        let Some((key, hooks)) = self.releases.get(h.release) else {
            return String::new();
        };
        let events = hooks.get(h.hook).map_or("", String::as_str);
        format!("{} hook ({events}) of release {key}", h.stage.as_str())
    }

    pub fn externals(&self) -> &[External] {
        &self.externals
    }

    /// Dependencies before dependents (Kahn's algorithm, smallest ready node first: deterministic).
    pub fn topological_order(&self) -> Vec<NodeId> {
        let len = self.nodes.len();
        let mut remaining: Vec<usize> = (0..len)
            .map(|n| self.dependencies(NodeId(n)).len())
            .collect();
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..len)
            .filter(|&n| remaining[n] == 0)
            .map(std::cmp::Reverse)
            .collect();
        let mut order = Vec::with_capacity(len);
        while let Some(std::cmp::Reverse(n)) = ready.pop() {
            order.push(NodeId(n));
            for e in self.dependents(NodeId(n)) {
                remaining[e.from.0] -= 1;
                if remaining[e.from.0] == 0 {
                    ready.push(std::cmp::Reverse(e.from.0));
                }
            }
        }
        order
    }

    /// Dependents before dependencies: the order in which to delete (prune).
    pub fn reverse_topological_order(&self) -> Vec<NodeId> {
        let mut order = self.topological_order();
        order.reverse();
        order
    }
}

/// Sorts edges and keeps one per (from, to, rule), joining distinct details in the order they were found.
fn merge_edges(mut edges: Vec<Edge>) -> Vec<Edge> {
    edges.sort_by_key(|e| (e.from, e.to, e.rule));
    let mut out: Vec<Edge> = Vec::with_capacity(edges.len());
    for e in edges {
        match out.last_mut() {
            Some(last) if last.from == e.from && last.to == e.to && last.rule == e.rule => {
                if !e.detail.is_empty() && !last.detail.split(", ").any(|d| d == e.detail) {
                    if !last.detail.is_empty() {
                        last.detail.push_str(", ");
                    }
                    last.detail.push_str(&e.detail);
                }
            }
            _ => out.push(e),
        }
    }
    out
}
