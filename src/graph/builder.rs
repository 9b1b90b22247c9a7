//! The state the rules share while the graph is built: objects in node order, indexes to find a referenced
//! object without scanning (no O(n²)), and the edges, externals and barriers found so far.

use std::collections::HashMap;

use crate::object::{Layer, Object, ObjectId};

use super::GraphError;
use super::model::{Barrier, BarrierKind, Edge, External, NodeId, Rule};

/// `(group, kind, namespace, name)` borrowed from the input: lookups allocate nothing.
type Key<'a> = (&'a str, &'a str, Option<&'a str>, &'a str);

/// Annotation read by [`Builder::new`] to place objects in sync waves.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";

/// A reference made by an object: what it names and whether its absence is worth reporting.
#[derive(Debug, Clone, Copy)]
pub struct Ref<'r> {
    pub group: &'r str,
    pub kind: &'r str,
    pub namespace: Option<&'r str>,
    pub name: &'r str,
    /// `optional: true` references (volumes, env) are not reported as external when absent.
    pub optional: bool,
}

impl<'r> Ref<'r> {
    pub fn new(group: &'r str, kind: &'r str, namespace: Option<&'r str>, name: &'r str) -> Self {
        Ref {
            group,
            kind,
            namespace,
            name,
            optional: false,
        }
    }

    pub fn optional(mut self, optional: bool) -> Self {
        self.optional = optional;
        self
    }
}

pub struct Builder<'a> {
    pub layers: &'a [Layer],
    /// Objects in node order.
    pub objects: Vec<&'a Object>,
    /// Input position of each object.
    pub input: Vec<usize>,
    pub layer_of: Vec<usize>,
    pub wave_of: Vec<i64>,
    index: HashMap<Key<'a>, usize>,
    /// CRDs by (spec.group, spec.names.kind).
    crds: HashMap<(&'a str, &'a str), usize>,
    pub edges: Vec<Edge>,
    pub externals: Vec<External>,
    pub barriers: Vec<Barrier>,
}

impl<'a> Builder<'a> {
    /// Sorts objects by layer order then id, indexes them, and reads their sync waves.
    ///
    /// # Errors
    /// An object of an unknown layer, the same object twice, or an invalid sync-wave annotation.
    pub fn new(
        layers: &'a [Layer],
        objects: &'a [Object],
        sync_waves: bool,
    ) -> Result<Self, GraphError> {
        let layer_index: HashMap<&str, usize> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l.name.as_str(), i))
            .collect();
        for layer in layers {
            if let Some(missing) = layer
                .depends_on
                .iter()
                .find(|d| !layer_index.contains_key(d.as_str()))
            {
                return Err(GraphError::UnknownLayer {
                    layer: missing.clone(),
                    referenced_by: format!("layer {}", layer.name),
                });
            }
        }
        let mut order = Vec::with_capacity(objects.len());
        for (i, o) in objects.iter().enumerate() {
            let Some(&l) = layer_index.get(o.source.layer.as_str()) else {
                return Err(GraphError::UnknownLayer {
                    layer: o.source.layer.clone(),
                    referenced_by: format!("{} ({})", o.id, o.source),
                });
            };
            order.push((l, i));
        }
        order.sort_by(|a, b| (a.0, &objects[a.1].id).cmp(&(b.0, &objects[b.1].id)));

        let mut b = Builder {
            layers,
            objects: Vec::with_capacity(order.len()),
            input: Vec::with_capacity(order.len()),
            layer_of: Vec::with_capacity(order.len()),
            wave_of: Vec::with_capacity(order.len()),
            index: HashMap::with_capacity(order.len()),
            crds: HashMap::new(),
            edges: Vec::new(),
            externals: Vec::new(),
            barriers: Vec::new(),
        };
        for (node, &(l, i)) in order.iter().enumerate() {
            let o = &objects[i];
            let id = &o.id;
            let key = (
                id.group.as_str(),
                id.kind.as_str(),
                id.namespace.as_deref(),
                id.name.as_str(),
            );
            if let Some(&first) = b.index.get(&key) {
                return Err(GraphError::DuplicateObject {
                    id: id.to_string(),
                    first: b.objects[first].source.to_string(),
                    second: o.source.to_string(),
                });
            }
            b.index.insert(key, node);
            if id.group == "apiextensions.k8s.io" && id.kind == "CustomResourceDefinition" {
                let group = o.get("/spec/group").and_then(|v| v.as_str());
                let kind = o.get("/spec/names/kind").and_then(|v| v.as_str());
                if let (Some(g), Some(k)) = (group, kind) {
                    b.crds.entry((g, k)).or_insert(node);
                }
            }
            let wave = if sync_waves { parse_wave(o)? } else { 0 };
            b.objects.push(o);
            b.input.push(i);
            b.layer_of.push(l);
            b.wave_of.push(wave);
        }
        Ok(b)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn find(
        &self,
        group: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<usize> {
        self.index.get(&(group, kind, namespace, name)).copied()
    }

    /// The CRD node serving `group`/`kind`, if the repository has one.
    pub fn crd(&self, group: &str, kind: &str) -> Option<usize> {
        self.crds.get(&(group, kind)).copied()
    }

    pub fn edge(&mut self, from: NodeId, to: NodeId, rule: Rule, detail: impl Into<String>) {
        if from != to || rule == Rule::DependsOn {
            self.edges.push(Edge {
                from,
                to,
                rule,
                detail: detail.into(),
            });
        }
    }

    /// An edge to the referenced object when it is in the repository; otherwise an external reference,
    /// unless the object always exists in a cluster (`default` namespace, `cluster-admin`…) or is optional.
    pub fn reference(
        &mut self,
        from: usize,
        target: Ref<'_>,
        rule: Rule,
        detail: impl Into<String>,
    ) {
        if target.name.is_empty() {
            return;
        }
        match self.find(target.group, target.kind, target.namespace, target.name) {
            Some(to) => self.edge(NodeId(from), NodeId(to), rule, detail),
            None if target.optional || is_builtin(&target) => {}
            None => self.externals.push(External {
                from: NodeId(from),
                target: ObjectId::new(target.group, target.kind, target.namespace, target.name),
                rule,
                detail: detail.into(),
            }),
        }
    }

    /// Adds a barrier node and returns its id (barriers are numbered after the objects).
    pub fn barrier(&mut self, kind: BarrierKind, layer: usize, wave: i64, label: String) -> NodeId {
        self.barriers.push(Barrier {
            kind,
            layer,
            wave,
            label,
        });
        NodeId(self.objects.len() + self.barriers.len() - 1)
    }
}

/// Objects every cluster has, whose absence from the repository is not worth a warning.
fn is_builtin(r: &Ref<'_>) -> bool {
    match (r.group, r.kind) {
        ("", "Namespace") => crate::builtin::is_builtin_namespace(r.name),
        ("", "ServiceAccount") => r.name == "default",
        ("", "ConfigMap") => r.name == "kube-root-ca.crt",
        ("", "Service") => r.namespace == Some("default") && r.name == "kubernetes",
        ("rbac.authorization.k8s.io", "ClusterRole") => {
            matches!(r.name, "cluster-admin" | "admin" | "edit" | "view")
                || r.name.starts_with("system:")
        }
        ("rbac.authorization.k8s.io", "Role") => r.name.starts_with("system:"),
        ("scheduling.k8s.io", "PriorityClass") => r.name.starts_with("system-"),
        _ => false,
    }
}

/// `argocd.argoproj.io/sync-wave`: an integer, default 0.
fn parse_wave(o: &Object) -> Result<i64, GraphError> {
    match o.annotation(SYNC_WAVE) {
        None => Ok(0),
        Some(v) => v.trim().parse().map_err(|_| GraphError::InvalidAnnotation {
            object: format!("{} ({})", o.id, o.source),
            annotation: SYNC_WAVE,
            value: v.to_string(),
            reason: "expected an integer".to_string(),
        }),
    }
}
