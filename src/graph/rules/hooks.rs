//! Helm hooks as ordering: a chart's pre hooks run (in weight order) before its other objects are
//! applied; its post hooks run (in weight order) once those are ready; its test hooks, when asked for,
//! after the post hooks. Namespaces and CRDs of the chart come first, as Helm creates them before any
//! hook. Barriers keep it linear: `release NS/NAME pre hooks`, `release NS/NAME ready`.

use std::collections::BTreeMap;

use crate::graph::builder::{Builder, is_foundation};
use crate::graph::model::{BarrierKind, NodeId, Rule};
use crate::helm::HookStage;

/// Pre hooks before the chart's objects, post hooks after they are ready, tests last; within a stage,
/// each weight after the lower ones.
pub fn add_hook_edges(b: &mut Builder<'_>) {
    let releases = b.releases;
    for (r, release) in releases.iter().enumerate() {
        let key = release.key();
        let members: Vec<usize> = (0..b.len())
            .filter(|&n| b.release_of[n] == Some(r))
            .collect();
        let mut stages: BTreeMap<HookStage, BTreeMap<i64, Vec<usize>>> = BTreeMap::new();
        let mut layer = None;
        for n in 0..b.len() {
            if let Some(h) = b.hook_of[n].filter(|h| h.release == r) {
                stages
                    .entry(h.stage)
                    .or_default()
                    .entry(h.weight)
                    .or_default()
                    .push(n);
                layer = Some(b.layer_of[n]);
            }
        }
        let Some(layer) = layer else { continue };

        let pre = stages.remove(&HookStage::Pre).unwrap_or_default();
        if let Some(done) = chain(b, &pre, None, layer, (r, &key), HookStage::Pre) {
            let detail = format!("after the pre hooks of release {key}");
            for &m in &members {
                if !is_foundation(b.objects[m]) {
                    b.edge(NodeId(m), done, Rule::Hook, detail.clone());
                }
            }
        }
        let post = stages.remove(&HookStage::Post).unwrap_or_default();
        let test = stages.remove(&HookStage::Test).unwrap_or_default();
        if post.is_empty() && test.is_empty() {
            continue;
        }
        let ready = b.barrier(
            BarrierKind::Release,
            layer,
            0,
            format!("release {key} ready"),
        );
        for &m in &members {
            b.edge(ready, NodeId(m), Rule::Hook, "");
        }
        let after_post = chain(b, &post, Some(ready), layer, (r, &key), HookStage::Post);
        let start = after_post.or(Some(ready));
        chain(b, &test, start, layer, (r, &key), HookStage::Test);
    }
}

/// Orders `groups` (hooks by weight) of `release` (index and key) after `start`: each group waits for
/// a barrier closing the groups before it. Returns the barrier closing every group (none without hooks),
/// marked as closing the stage.
fn chain(
    b: &mut Builder<'_>,
    groups: &BTreeMap<i64, Vec<usize>>,
    start: Option<NodeId>,
    layer: usize,
    release: (usize, &str),
    stage: HookStage,
) -> Option<NodeId> {
    let (r, key) = release;
    let mut previous = start;
    let several = groups.len() > 1;
    for (i, (weight, hooks)) in groups.iter().enumerate() {
        if let Some(p) = previous {
            let (rule, detail) = if i == 0 {
                let why = match stage {
                    HookStage::Pre => String::new(),
                    HookStage::Post => format!("after release {key} is ready"),
                    HookStage::Test => format!("tests of release {key} after its post hooks"),
                };
                (Rule::Hook, why)
            } else {
                (
                    Rule::HookWeight,
                    format!("weight {weight} after lower weights"),
                )
            };
            for &n in hooks {
                b.edge(NodeId(n), p, rule, detail.clone());
            }
        }
        let label = if several {
            format!("release {key} {} hooks weight <= {weight}", stage.as_str())
        } else {
            format!("release {key} {} hooks", stage.as_str())
        };
        let kind = match stage {
            HookStage::Pre => BarrierKind::PreHooks,
            HookStage::Post | HookStage::Test => BarrierKind::PostHooks,
        };
        let barrier = b.barrier(kind, layer, *weight, label);
        for &n in hooks {
            b.edge(barrier, NodeId(n), Rule::HookWeight, "");
        }
        if let Some(p) = previous {
            b.edge(barrier, p, Rule::HookWeight, "");
        }
        previous = Some(barrier);
    }
    if groups.is_empty() {
        return None;
    }
    let last = previous?;
    let at = last.index() - b.len();
    if let Some(barrier) = b.barriers.get_mut(at) {
        barrier.closes = Some((r, stage));
    }
    Some(last)
}
