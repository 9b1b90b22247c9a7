//! The state the rules share while the graph is built: objects in node order, indexes to find a referenced
//! object without scanning (no O(n²)), and the edges, externals and barriers found so far.

use std::collections::HashMap;

use crate::helm::{HookStage, Release};
use crate::object::{Layer, Object, ObjectId};

use super::GraphError;
use super::model::{Barrier, BarrierKind, Edge, External, HookNode, NodeId, Rule};

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
    pub releases: &'a [Release],
    /// Objects in node order (a hook once per stage it runs in, after the layer's other objects).
    pub objects: Vec<&'a Object>,
    /// Input position of each object (for a hook: its position in its release's hooks).
    pub input: Vec<usize>,
    pub layer_of: Vec<usize>,
    pub wave_of: Vec<i64>,
    /// The hook each node runs, if it is one.
    pub hook_of: Vec<Option<HookNode>>,
    /// The release each object (not hook) was rendered from.
    pub release_of: Vec<Option<usize>>,
    index: HashMap<Key<'a>, usize>,
    /// Hooks by (release, stage, identity): a hook refers first to the hooks of its own stage.
    hook_index: HashMap<(usize, HookStage, Key<'a>), usize>,
    /// CRDs by (spec.group, spec.names.kind).
    crds: HashMap<(&'a str, &'a str), usize>,
    pub edges: Vec<Edge>,
    pub externals: Vec<External>,
    pub barriers: Vec<Barrier>,
}

impl<'a> Builder<'a> {
    /// Sorts objects by layer order then id (each layer's hooks after its other objects), indexes
    /// them, and reads their sync waves.
    ///
    /// # Errors
    /// An object of an unknown layer, the same object twice, or an invalid sync-wave annotation.
    pub fn new(
        layers: &'a [Layer],
        objects: &'a [Object],
        releases: &'a [Release],
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
        let hooks = hook_nodes(releases, &layer_index)?;

        let len = order.len() + hooks.len();
        let mut b = Builder {
            layers,
            releases,
            objects: Vec::with_capacity(len),
            input: Vec::with_capacity(len),
            layer_of: Vec::with_capacity(len),
            wave_of: Vec::with_capacity(len),
            hook_of: Vec::with_capacity(len),
            release_of: Vec::with_capacity(len),
            index: HashMap::with_capacity(order.len()),
            hook_index: HashMap::with_capacity(hooks.len()),
            crds: HashMap::new(),
            edges: Vec::new(),
            externals: Vec::new(),
            barriers: Vec::new(),
        };
        // Layer by layer: the layer's objects, then its hooks, so that every layer's nodes are contiguous.
        let mut hooks = hooks.into_iter().peekable();
        let mut entries: Vec<(usize, &'a Object, Option<HookNode>, usize)> =
            Vec::with_capacity(len);
        for &(l, i) in &order {
            while let Some(h) = hooks.next_if(|h| h.0 < l) {
                entries.push(h);
            }
            entries.push((l, &objects[i], None, i));
        }
        entries.extend(hooks);
        for (node, (l, o, hook, i)) in entries.into_iter().enumerate() {
            let id = &o.id;
            let key = (
                id.group.as_str(),
                id.kind.as_str(),
                id.namespace.as_deref(),
                id.name.as_str(),
            );
            if let Some(h) = hook {
                b.hook_index
                    .entry((h.release, h.stage, key))
                    .or_insert(node);
                b.objects.push(o);
                b.input.push(i);
                b.layer_of.push(l);
                b.wave_of.push(0);
                b.hook_of.push(Some(h));
                b.release_of.push(None);
                continue;
            }
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
            b.hook_of.push(None);
            b.release_of.push(None);
        }
        for (r, release) in releases.iter().enumerate() {
            for id in &release.members {
                let key = (
                    id.group.as_str(),
                    id.kind.as_str(),
                    id.namespace.as_deref(),
                    id.name.as_str(),
                );
                if let Some(&n) = b.index.get(&key) {
                    b.release_of[n] = Some(r);
                }
            }
        }
        Ok(b)
    }

    /// Whether node `n` is a hook.
    pub fn is_hook(&self, n: usize) -> bool {
        self.hook_of[n].is_some()
    }

    pub fn len(&self) -> usize {
        self.objects.len()
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
        let key = (target.group, target.kind, target.namespace, target.name);
        let own_stage = self.hook_of[from]
            .and_then(|h| self.hook_index.get(&(h.release, h.stage, key)).copied());
        match own_stage.or_else(|| self.index.get(&key).copied()) {
            // A pre hook runs before its chart's other objects exist (Namespaces and CRDs aside).
            Some(to)
                if self.hook_of[from].is_some_and(|h| {
                    h.stage == HookStage::Pre
                        && self.release_of[to] == Some(h.release)
                        && !is_foundation(self.objects[to])
                }) => {}
            Some(to) => self.edge(NodeId(from), NodeId(to), rule, detail),
            None if self.names_a_hook(from, key) => {}
            None if target.optional || is_builtin(&target) => {}
            None => self.externals.push(External {
                from: NodeId(from),
                target: ObjectId::new(target.group, target.kind, target.namespace, target.name),
                rule,
                detail: detail.into(),
            }),
        }
    }

    /// A reference from `from` to one of its release's hooks: an object waits for its chart's pre
    /// hooks (edge added); a hook created later (post hooks, or another stage's) is no dependency.
    fn names_a_hook(&mut self, from: usize, key: Key<'_>) -> bool {
        let release = self.release_of[from].or(self.hook_of[from].map(|h| h.release));
        let Some(r) = release else {
            return false;
        };
        let stages = [HookStage::Pre, HookStage::Post, HookStage::Test];
        let found: Vec<(HookStage, usize)> = stages
            .into_iter()
            .filter_map(|s| self.hook_index.get(&(r, s, key)).map(|&n| (s, n)))
            .collect();
        if let Some(&(_, to)) = found.iter().find(|(s, _)| *s == HookStage::Pre)
            && self.hook_of[from].is_none()
        {
            self.edge(
                NodeId(from),
                NodeId(to),
                Rule::Hook,
                "pre hook of its chart",
            );
        }
        !found.is_empty()
    }

    /// Adds a barrier node and returns its id (barriers are numbered after the objects).
    pub fn barrier(&mut self, kind: BarrierKind, layer: usize, wave: i64, label: String) -> NodeId {
        self.barriers.push(Barrier {
            kind,
            layer,
            wave,
            label,
            closes: None,
        });
        NodeId(self.objects.len() + self.barriers.len() - 1)
    }
}

/// Objects Helm creates before a chart's hooks run: the release's Namespace and the chart's CRDs.
pub fn is_foundation(o: &Object) -> bool {
    matches!(
        (o.id.group.as_str(), o.id.kind.as_str()),
        ("", "Namespace") | ("apiextensions.k8s.io", "CustomResourceDefinition")
    )
}

/// A node to place: its layer, the object, the hook it runs (if one) and its input position.
type Entry<'a> = (usize, &'a Object, Option<HookNode>, usize);

/// Hook nodes of every release: a hook once per stage it runs in, sorted by layer, release, stage and
/// identity; `(layer, hook object, node, position in the release's hooks)`.
fn hook_nodes<'a>(
    releases: &'a [Release],
    layer_index: &HashMap<&str, usize>,
) -> Result<Vec<Entry<'a>>, GraphError> {
    let mut out = Vec::new();
    for (r, release) in releases.iter().enumerate() {
        let Some(&l) = layer_index.get(release.layer.as_str()) else {
            return Err(GraphError::UnknownLayer {
                layer: release.layer.clone(),
                referenced_by: format!("release {}", release.key()),
            });
        };
        for (h, hook) in release.hooks.iter().enumerate() {
            for stage in hook.stages() {
                let node = HookNode {
                    release: r,
                    hook: h,
                    stage,
                    weight: hook.weight,
                };
                out.push((l, &hook.object, Some(node), h));
            }
        }
    }
    out.sort_by(|a, b| {
        let key = |x: &Entry<'_>| {
            let h = x.2.map(|h| (h.release, h.stage, h.weight));
            (x.0, h, x.1.id.clone())
        };
        key(a).cmp(&key(b))
    });
    Ok(out)
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
