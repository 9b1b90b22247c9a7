//! Apply: a scheduler over the dependency DAG. Each object starts as soon as its own dependencies are
//! ready (no wave barriers); objects whose dry-run shows no change are not written; each applied object is
//! awaited with watch-based readiness before its dependents start. A failure stops only what depends on it.
//!
//! The result is a [`ChangeSet`] in input order, whatever order the work finished in.

use crate::diff::IgnoreRules;
use crate::readiness::HealthRules;
use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::cluster::Retries;
use crate::object::ObjectId;

mod engine;
pub mod hooks;
mod journal;
mod object;
mod ready;
pub mod schedule;

pub use engine::{ApplyEvent, apply, decide};
pub use hooks::HookRuns;
pub use journal::{Journal, JournalError};
pub use object::desired;

/// The DAG as the scheduler walks it: nodes are objects or virtual barriers (layer and wave ordering
/// kept linear), `deps[n]` the nodes `n` waits for and what it needs of each, `object[n]` the object index
/// of node `n`, `hook[n]` the Helm hook work of node `n` (a hook run, or a stage's clean-up).
#[derive(Debug, Clone, Default)]
pub struct Dag {
    pub deps: Vec<Vec<(usize, schedule::Need)>>,
    pub object: Vec<Option<usize>>,
    pub hook: Vec<Option<HookStep>>,
}

/// The Helm hook work of a node; indices are into [`HookRuns::releases`] and their hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookStep {
    /// Run hook `hook` of release `release` in `stage`, when this run's operation includes it.
    Run {
        release: usize,
        hook: usize,
        stage: crate::helm::HookStage,
    },
    /// Every hook of the stage succeeded: delete those asking for it (`hook-succeeded`).
    Cleanup {
        release: usize,
        stage: crate::helm::HookStage,
    },
}

impl Dag {
    /// The scheduling view of a built graph (object indices are positions in the slice given to
    /// [`crate::graph::build`]). Webhooks-last edges only need the rest of the layer applied.
    pub fn from_graph(graph: &crate::graph::Graph) -> Dag {
        use crate::graph::{NodeId, Rule};
        let nodes = graph.nodes();
        let deps = (0..nodes.len())
            .map(|n| {
                graph
                    .dependencies(NodeId(n))
                    .iter()
                    .map(|e| {
                        let need = if e.rule == Rule::WebhookLast {
                            schedule::Need::Applied
                        } else {
                            schedule::Need::Ready
                        };
                        (e.to.index(), need)
                    })
                    .collect()
            })
            .collect();
        // Hook nodes are runs, not objects of the manifest.
        let object = nodes
            .iter()
            .map(|n| n.as_object().filter(|o| o.hook.is_none()).map(|o| o.input))
            .collect();
        let hook = nodes
            .iter()
            .map(|n| match n {
                crate::graph::Node::Object(o) => o.hook.map(|h| HookStep::Run {
                    release: h.release,
                    hook: h.hook,
                    stage: h.stage,
                }),
                crate::graph::Node::Barrier(b) => b
                    .closes
                    .map(|(release, stage)| HookStep::Cleanup { release, stage }),
            })
            .collect();
        Dag { deps, object, hook }
    }

    /// A DAG of objects only, `deps[i]` being the object indices `i` needs ready (tests, simple callers).
    pub fn of_objects(deps: Vec<Vec<usize>>) -> Dag {
        let object = (0..deps.len()).map(Some).collect();
        let hook = vec![None; deps.len()];
        let deps = deps
            .into_iter()
            .map(|ds| ds.into_iter().map(|d| (d, schedule::Need::Ready)).collect())
            .collect();
        Dag { deps, object, hook }
    }
}

/// Options of [`apply`]; `Default` is what `rekube apply` does without flags.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How long each object may take to become ready.
    pub timeout: Duration,
    /// Delete and re-create objects whose change touches an immutable field (also per object with the
    /// `rekube.dev/recreate: allowed` annotation).
    pub recreate: bool,
    /// Git commit recorded in `rekube.dev/revision`.
    pub revision: Option<String>,
    /// Labels added to every object (the ApplySet `part-of` label).
    pub labels: BTreeMap<String, String>,
    /// Wait for readiness (off: apply in order, don't wait).
    pub wait: bool,
    /// The Helm hooks this run executes (none by default).
    pub hooks: HookRuns,
    /// Fields other controllers own: never the cause of a write, never reset by one. Set from the
    /// manifest by the apply operation.
    pub ignore: IgnoreRules,
    /// The user's health rules (readiness of custom resources). Set from the manifest too.
    pub health: HealthRules,
    /// The cluster is simulated (rekube's local control plane): readiness of what cannot work there is
    /// judged by what can be observed ([`crate::readiness::Context::simulated`]).
    pub simulated: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            timeout: Duration::from_secs(300),
            recreate: false,
            revision: None,
            labels: BTreeMap::new(),
            wait: true,
            hooks: HookRuns::default(),
            ignore: IgnoreRules::default(),
            health: HealthRules::default(),
            simulated: false,
        }
    }
}

/// What happened to one object (a closed set, as Flux's ssa ChangeSet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    /// Deleted and created again because an immutable field changed.
    Recreated,
    /// Already done by an earlier run (`--resume`).
    Skipped,
    Failed,
    /// Not attempted: something it depends on failed.
    Blocked,
    /// Pruned: in the inventory, no longer in Git.
    Deleted,
    /// No longer in Git, but kept by a prune guard (the reason is in the entry's `error`).
    Kept,
    /// A Helm hook ran to completion.
    Ran,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Recreated => "recreated",
            Action::Skipped => "skipped",
            Action::Failed => "failed",
            Action::Blocked => "blocked",
            Action::Deleted => "deleted",
            Action::Kept => "kept",
            Action::Ran => "ran",
        }
    }

    /// True for the actions that wrote to the cluster.
    pub fn wrote(self) -> bool {
        matches!(
            self,
            Action::Created
                | Action::Configured
                | Action::Recreated
                | Action::Deleted
                | Action::Ran
        )
    }
}

/// One entry of a [`ChangeSet`].
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: ObjectId,
    /// `path:line` where the object is declared.
    pub source: String,
    pub layer: String,
    pub action: Action,
    /// Why it failed, was blocked or was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// From the start of the run until this object started.
    #[serde(with = "secs")]
    pub started: Duration,
    /// From the start of the run until this object was ready (or failed).
    #[serde(with = "secs")]
    pub finished: Duration,
}

impl Change {
    /// The entry of an object of the repository; `span` is (started, finished) from the run's start.
    pub fn of(
        obj: &crate::object::Object,
        action: Action,
        error: Option<String>,
        span: (Duration, Duration),
    ) -> Change {
        Change {
            id: obj.id.clone(),
            source: obj.source.to_string(),
            layer: obj.source.layer.clone(),
            action,
            error,
            started: span.0,
            finished: span.1,
        }
    }
}

/// The outcome of an apply, in input order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeSet {
    pub changes: Vec<Change>,
    #[serde(with = "secs")]
    pub elapsed: Duration,
    /// Requests and watches tried again during the run (transient errors, 429 throttling).
    pub retries: Retries,
}

impl ChangeSet {
    /// How many entries have each action.
    pub fn counts(&self) -> BTreeMap<Action, usize> {
        let mut m = BTreeMap::new();
        for c in &self.changes {
            *m.entry(c.action).or_insert(0) += 1;
        }
        m
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// True when nothing failed or was blocked.
    pub fn succeeded(&self) -> bool {
        self.changes
            .iter()
            .all(|c| !matches!(c.action, Action::Failed | Action::Blocked))
    }

    /// `3 created, 1 configured, 40 unchanged, 0 failed`: the summary line, with the retries when
    /// there were any (`; 12 retries (10 throttled by the API server)`).
    pub fn summary(&self) -> String {
        let counts = self.counts();
        let mut parts: Vec<String> = counts
            .iter()
            .map(|(a, n)| format!("{n} {}", a.as_str()))
            .collect();
        if parts.is_empty() {
            parts.push("nothing to apply".to_string());
        }
        let mut line = parts.join(", ");
        let Retries { retries, throttled } = self.retries;
        if retries > 0 {
            line.push_str(&format!(
                "; {retries} {} ({throttled} throttled by the API server)",
                if retries == 1 { "retry" } else { "retries" }
            ));
        }
        line
    }
}

/// Durations as fractional seconds in JSON reports.
mod secs {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
    }
}
