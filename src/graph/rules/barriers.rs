//! Rules that order whole groups of objects: sync waves, webhooks last, layer `dependsOn`. Each group is
//! closed by a barrier node, so a group of N objects waiting for a group of M costs N + M edges, not N × M.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::graph::builder::Builder;
use crate::graph::model::{BarrierKind, NodeId, Rule};

use super::webhook::is_webhook;

/// Nodes of layer `l`: contiguous, since objects are sorted by layer first.
fn layer_range(b: &Builder<'_>, l: usize) -> Range<usize> {
    let start = b.layer_of.partition_point(|&x| x < l);
    let end = b.layer_of.partition_point(|&x| x <= l);
    start..end
}

/// The objects of layer `l` by sync wave, lowest first. Helm hooks take no part in sync waves: their
/// chart orders them ([`super::hooks`]).
fn waves(b: &Builder<'_>, l: usize) -> BTreeMap<i64, Vec<usize>> {
    let mut out: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for n in layer_range(b, l).filter(|&n| !b.is_hook(n)) {
        out.entry(b.wave_of[n]).or_default().push(n);
    }
    out
}

/// Within a layer, every object of wave N waits for every object of the lower waves: a barrier per wave
/// (`layer L waves <= N`) waits for that wave's objects and the previous barrier.
pub fn add_sync_wave_edges(b: &mut Builder<'_>) {
    let layers = b.layers;
    for (l, layer) in layers.iter().enumerate() {
        let waves: Vec<(i64, Vec<usize>)> = waves(b, l).into_iter().collect();
        let mut previous: Option<(i64, NodeId)> = None;
        for (i, (wave, members)) in waves.iter().enumerate() {
            if let Some((prev_wave, barrier)) = previous {
                for &n in members {
                    b.edge(
                        NodeId(n),
                        barrier,
                        Rule::SyncWave,
                        format!("wave {wave} after wave {prev_wave}"),
                    );
                }
            }
            if i + 1 == waves.len() {
                break;
            }
            let label = format!("layer {} waves <= {wave}", layer.name);
            let barrier = b.barrier(BarrierKind::Wave, l, *wave, label);
            for &n in members {
                b.edge(barrier, NodeId(n), Rule::SyncWave, "");
            }
            if let Some((_, prev)) = previous {
                b.edge(barrier, prev, Rule::SyncWave, "");
            }
            previous = Some((*wave, barrier));
        }
    }
}

/// A webhook configuration or APIService waits for every other object of its layer and wave, so that a
/// webhook never blocks the installation of its own layer (its Service, Deployment, certificates).
pub fn add_webhook_last_edges(b: &mut Builder<'_>) {
    let layers = b.layers;
    for (l, layer) in layers.iter().enumerate() {
        let waves = waves(b, l);
        let several = waves.len() > 1;
        for (wave, members) in waves {
            let (hooks, rest): (Vec<usize>, Vec<usize>) =
                members.into_iter().partition(|&n| is_webhook(b.objects[n]));
            if hooks.is_empty() || rest.is_empty() {
                continue;
            }
            let name = &layer.name;
            let label = if several {
                format!("layer {name} wave {wave} before webhooks")
            } else {
                format!("layer {name} before webhooks")
            };
            let detail = format!("after the rest of layer {name}");
            let barrier = b.barrier(BarrierKind::BeforeWebhooks, l, wave, label);
            for n in rest {
                b.edge(barrier, NodeId(n), Rule::WebhookLast, "");
            }
            for n in hooks {
                b.edge(NodeId(n), barrier, Rule::WebhookLast, detail.clone());
            }
        }
    }
}

/// Every object of a layer waits for a barrier `layer D` per layer D it depends on; that barrier waits for
/// every object of D (through its last sync-wave barrier when D has several waves) and for the barriers of
/// D's own dependencies, so that an empty layer still passes the order on.
pub fn add_layer_edges(b: &mut Builder<'_>) {
    let layers = b.layers;
    let count = layers.len();
    let mut needed = vec![false; count];
    for layer in layers {
        for d in &layer.depends_on {
            if let Some(i) = layers.iter().position(|l| &l.name == d) {
                needed[i] = true;
            }
        }
    }
    let mut barrier_of: Vec<Option<NodeId>> = vec![None; count];
    for (l, _) in needed.iter().enumerate().filter(|(_, n)| **n) {
        let waves = waves(b, l);
        let label = format!("layer {}", layers[l].name);
        let last_wave = waves.keys().next_back().copied().unwrap_or(0);
        let barrier = b.barrier(BarrierKind::Layer, l, last_wave, label);
        if let Some(members) = waves.get(&last_wave) {
            for &n in members {
                b.edge(barrier, NodeId(n), Rule::Layer, "");
            }
        }
        // A layer is done once its charts' post hooks ran too.
        let hooks: Vec<usize> = layer_range(b, l).filter(|&n| b.is_hook(n)).collect();
        for n in hooks {
            b.edge(barrier, NodeId(n), Rule::Layer, "");
        }
        if waves.len() > 1 {
            // The last wave barrier closes every lower wave.
            let previous = b
                .barriers
                .iter()
                .enumerate()
                .rev()
                .find(|(_, x)| x.layer == l && x.kind == BarrierKind::Wave);
            if let Some((i, _)) = previous {
                b.edge(barrier, NodeId(b.len() + i), Rule::Layer, "");
            }
        }
        barrier_of[l] = Some(barrier);
    }
    for l in 0..count {
        let layer = &layers[l];
        for d in &layer.depends_on {
            let Some(target) = layers
                .iter()
                .position(|x| &x.name == d)
                .and_then(|i| barrier_of[i])
            else {
                continue;
            };
            let detail = format!("layer {} depends on {d}", layer.name);
            for n in layer_range(b, l) {
                b.edge(NodeId(n), target, Rule::Layer, detail.clone());
            }
            if let Some(own) = barrier_of[l] {
                b.edge(own, target, Rule::Layer, "");
            }
        }
    }
}
