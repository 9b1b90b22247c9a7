//! What set the recovery time (pure): the critical path through the dependency DAG, the parallelism
//! reached, and on failure what each failed object blocked.
//!
//! The critical path starts at the object that finished last and walks back, at each object, to the
//! dependency that released it: the one whose readiness (or, for the webhooks-last rule, whose write)
//! came last. Layer and wave barriers are virtual nodes: they are looked through.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::Serialize;

use crate::apply::schedule::Need;
use crate::apply::{Action, Change, Dag};
use crate::object::ObjectId;

/// One object on the critical path. Times are seconds from the start of the rebuild (preflight
/// included), on the same clock as the recovery time.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub id: ObjectId,
    pub source: String,
    pub layer: String,
    pub action: Action,
    pub started: f64,
    pub finished: f64,
    /// From its start to its readiness.
    pub seconds: f64,
    /// From the previous step's readiness (or the start) to this one's start: scheduling and requests.
    pub waited: f64,
}

/// The chain of dependencies that set the recovery time.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CriticalPath {
    pub steps: Vec<Step>,
    /// Before the first object: loading, connecting and the preflight.
    pub preflight_seconds: f64,
    /// After the last object was ready: prune and the inventory record.
    pub after_seconds: f64,
}

/// Objects in flight (started, not ready yet) over time.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Parallelism {
    /// The most objects in flight at once.
    pub max: usize,
    /// The time-weighted mean while any object was in flight.
    pub mean: f64,
    /// Width of each bucket of [`Parallelism::in_flight`], in seconds.
    pub bucket_seconds: f64,
    /// Mean objects in flight in each bucket, from the start of the apply.
    pub in_flight: Vec<f64>,
}

/// What one failed object kept from being applied.
#[derive(Debug, Clone, Serialize)]
pub struct BlockedBy {
    pub failed: ObjectId,
    pub source: String,
    pub error: String,
    /// Every object not applied because of it (directly or transitively), in input order.
    pub blocked: Vec<ObjectId>,
}

/// Buckets of the parallelism series (enough for a chart, small in JSON).
const BUCKETS: usize = 60;

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Whether an entry took part in the apply (blocked objects never started, skipped ones were done).
fn ran(c: &Change) -> bool {
    !matches!(c.action, Action::Blocked | Action::Skipped)
}

/// The objects `node` waits for, looking through barriers: `(object index, need)`.
fn object_deps(dag: &Dag, node: usize, out: &mut Vec<(usize, Need)>, seen: &mut BTreeSet<usize>) {
    for &(dep, need) in dag.deps.get(node).map_or(&[][..], Vec::as_slice) {
        match dag.object.get(dep).copied().flatten() {
            Some(i) => out.push((i, need)),
            None if seen.insert(dep) => object_deps(dag, dep, out, seen),
            None => {}
        }
    }
}

/// The critical path of a change set applied along `dag`; `offset` is the time before the apply.
pub fn critical_path(
    dag: &Dag,
    changes: &[Change],
    offset: Duration,
    elapsed: Duration,
) -> CriticalPath {
    let node_of: HashMap<usize, usize> = dag
        .object
        .iter()
        .enumerate()
        .filter_map(|(node, i)| i.map(|i| (i, node)))
        .collect();
    let objects = node_of.len().min(changes.len());
    let last = (0..objects).filter(|&i| ran(&changes[i])).max_by(|&a, &b| {
        changes[a]
            .finished
            .cmp(&changes[b].finished)
            .then(b.cmp(&a))
    });
    let Some(mut current) = last else {
        return CriticalPath {
            preflight_seconds: secs(offset),
            ..CriticalPath::default()
        };
    };
    let mut chain = vec![current];
    let mut visited = BTreeSet::from([current]);
    loop {
        let mut deps = Vec::new();
        if let Some(&node) = node_of.get(&current) {
            object_deps(dag, node, &mut deps, &mut BTreeSet::new());
        }
        let started = changes[current].started;
        // The dependency released last is the one that held this object back.
        let release = |&(i, need): &(usize, Need)| match need {
            Need::Ready => changes[i].finished,
            Need::Applied => changes[i].finished.min(started),
        };
        let best = deps
            .iter()
            .filter(|(i, _)| *i < objects && ran(&changes[*i]) && !visited.contains(i))
            // On a tie, a readiness (an exact time) beats a write (known only to be no later).
            .max_by(|a, b| {
                (release(a), a.1 == Need::Ready)
                    .cmp(&(release(b), b.1 == Need::Ready))
                    .then(b.0.cmp(&a.0))
            });
        match best {
            Some(&(i, _)) => {
                chain.push(i);
                visited.insert(i);
                current = i;
            }
            None => break,
        }
    }
    chain.reverse();
    let mut previous = Duration::ZERO;
    let steps = chain
        .iter()
        .map(|&i| {
            let c = &changes[i];
            let step = Step {
                id: c.id.clone(),
                source: c.source.clone(),
                layer: c.layer.clone(),
                action: c.action,
                started: secs(offset + c.started),
                finished: secs(offset + c.finished),
                seconds: secs(c.finished.saturating_sub(c.started)),
                waited: secs(c.started.saturating_sub(previous)),
            };
            previous = c.finished;
            step
        })
        .collect();
    CriticalPath {
        steps,
        preflight_seconds: secs(offset),
        after_seconds: secs(elapsed.saturating_sub(previous)),
    }
}

/// Objects in flight over the apply (`elapsed` long).
pub fn parallelism(changes: &[Change], elapsed: Duration) -> Parallelism {
    let mut events: Vec<(Duration, i64)> = Vec::new();
    for c in changes.iter().filter(|c| ran(c)) {
        events.push((c.started, 1));
        events.push((c.finished.max(c.started), -1));
    }
    // At equal times a finish comes first: an object ready at t and one started at t never overlap.
    events.sort_by_key(|&(t, delta)| (t, delta));
    let (mut now, mut max, mut area, mut busy) = (0i64, 0i64, 0.0, 0.0);
    let mut last = Duration::ZERO;
    let span = elapsed.max(events.last().map_or(Duration::ZERO, |e| e.0));
    let width = span.as_secs_f64() / BUCKETS as f64;
    let mut buckets = vec![0.0; if width > 0.0 { BUCKETS } else { 0 }];
    for &(t, delta) in &events {
        let dt = t.saturating_sub(last).as_secs_f64();
        if now > 0 {
            area += now as f64 * dt;
            busy += dt;
            spread(
                &mut buckets,
                width,
                last.as_secs_f64(),
                t.as_secs_f64(),
                now as f64,
            );
        }
        now += delta;
        max = max.max(now);
        last = t;
    }
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    Parallelism {
        max: usize::try_from(max).unwrap_or_default(),
        mean: if busy > 0.0 { round2(area / busy) } else { 0.0 },
        bucket_seconds: (width * 1000.0).round() / 1000.0,
        in_flight: buckets
            .into_iter()
            .map(|b| round2(if width > 0.0 { b / width } else { 0.0 }))
            .collect(),
    }
}

/// Adds `level × overlap` of `[from, to)` to each bucket it covers.
fn spread(buckets: &mut [f64], width: f64, from: f64, to: f64, level: f64) {
    if width <= 0.0 || to <= from {
        return;
    }
    let first = ((from / width) as usize).min(buckets.len().saturating_sub(1));
    for (b, bucket) in buckets.iter_mut().enumerate().skip(first) {
        let (lo, hi) = (b as f64 * width, (b + 1) as f64 * width);
        if lo >= to {
            break;
        }
        *bucket += level * (to.min(hi) - from.max(lo)).max(0.0);
    }
}

/// For each failed object, the blocked objects that depend on it (through barriers too).
pub fn blocked_by(dag: &Dag, changes: &[Change]) -> Vec<BlockedBy> {
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); dag.deps.len()];
    for (node, deps) in dag.deps.iter().enumerate() {
        for &(dep, _) in deps {
            if let Some(d) = dependents.get_mut(dep) {
                d.push(node);
            }
        }
    }
    let mut out = Vec::new();
    for (node, i) in dag.object.iter().enumerate() {
        let Some(i) = *i else { continue };
        let Some(failed) = changes.get(i).filter(|c| c.action == Action::Failed) else {
            continue;
        };
        let mut blocked = BTreeSet::new();
        let mut seen = BTreeSet::from([node]);
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            for &d in &dependents[n] {
                if !seen.insert(d) {
                    continue;
                }
                match dag.object[d] {
                    Some(j) if changes.get(j).is_some_and(|c| c.action == Action::Blocked) => {
                        blocked.insert(j);
                        stack.push(d);
                    }
                    Some(_) => {}
                    None => stack.push(d),
                }
            }
        }
        out.push(BlockedBy {
            failed: failed.id.clone(),
            source: failed.source.clone(),
            error: failed.error.clone().unwrap_or_default(),
            blocked: blocked.into_iter().map(|j| changes[j].id.clone()).collect(),
        });
    }
    out
}

/// The critical path and the parallelism, as printed at the end of a rebuild or drill.
pub fn render_text(path: &CriticalPath, parallelism: &Parallelism, rto_seconds: f64) -> String {
    let mut out = String::new();
    if path.steps.is_empty() {
        return out;
    }
    out.push_str(&format!(
        "critical path (the chain that set the recovery time of {rto_seconds:.2}s):\n"
    ));
    out.push_str(&format!(
        "  {:>7.2}s                      preflight (load, connect, check)\n",
        path.preflight_seconds
    ));
    for s in &path.steps {
        out.push_str(&format!(
            "  {:>7.2}s → {:>7.2}s  {:>7.2}s  {} ({})\n",
            s.started, s.finished, s.seconds, s.id, s.source
        ));
    }
    if path.after_seconds >= 0.005 {
        out.push_str(&format!(
            "  {:>7.2}s                      prune and inventory record\n",
            path.after_seconds
        ));
    }
    out.push_str(&format!(
        "parallelism: up to {} object(s) in flight, {:.1} on average  {}\n",
        parallelism.max,
        parallelism.mean,
        sparkline(&parallelism.in_flight)
    ));
    out
}

/// The series as a row of block characters scaled to its maximum.
pub fn sparkline(series: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = series.iter().copied().fold(0.0, f64::max);
    series
        .iter()
        .map(|&x| {
            if max <= 0.0 {
                BARS[0]
            } else {
                let level = ((x / max) * 7.0).round() as usize;
                BARS[level.min(7)]
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "critical_tests.rs"]
mod tests;
