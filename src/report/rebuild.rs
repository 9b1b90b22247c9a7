//! The rebuild report: recovery time, per-layer timings, the slowest objects, the critical path, and
//! the objects whose readiness a simulated cluster could only judge indirectly (pure).

use std::time::Duration;

use serde::Serialize;

use super::critical::{self, BlockedBy, CriticalPath, Parallelism};
use crate::apply::{Action, ChangeSet, Dag};
use crate::object::{Object, ObjectId};
use crate::readiness::HealthRules;

#[derive(Debug, Clone, Serialize)]
pub struct LayerTiming {
    pub layer: String,
    pub objects: usize,
    /// Seconds from the start of the rebuild until the layer's first object started.
    pub started: f64,
    /// Seconds from the start of the rebuild until the layer's last object was ready.
    pub finished: f64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlowObject {
    pub id: ObjectId,
    pub source: String,
    /// From start to ready.
    pub seconds: f64,
}

/// An object whose readiness was simulated, and why (see [`crate::readiness::simulated_reason`]).
#[derive(Debug, Clone, Serialize)]
pub struct Simulated {
    pub id: ObjectId,
    pub source: String,
    pub reason: String,
}

/// What `rekube rebuild --report` writes and what it prints at the end.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildReport {
    pub revision: Option<String>,
    pub server: String,
    pub succeeded: bool,
    /// Recovery time: from the start of the rebuild (preflight included) until the last object was ready.
    pub rto_seconds: f64,
    pub rto_budget_seconds: Option<f64>,
    pub within_budget: bool,
    pub counts: std::collections::BTreeMap<String, usize>,
    pub layers: Vec<LayerTiming>,
    pub slowest: Vec<SlowObject>,
    /// The chain of dependencies that set the recovery time ([`RebuildReport::analyse`]).
    pub critical_path: CriticalPath,
    /// Objects in flight over time.
    pub parallelism: Parallelism,
    /// On a simulated cluster: the objects whose readiness could only be judged indirectly.
    pub simulated: Vec<Simulated>,
    /// On failure: what each failed object kept from being applied.
    pub blocked_by: Vec<BlockedBy>,
    pub changes: ChangeSet,
    /// Time before the apply (preflight), for the analysis.
    #[serde(skip)]
    offset: Duration,
}

impl RebuildReport {
    /// Builds the report; `offset` is the time spent before the apply started (preflight).
    pub fn new(
        changes: ChangeSet,
        layer_order: &[String],
        offset: Duration,
        budget: Option<Duration>,
        revision: Option<String>,
        server: String,
    ) -> RebuildReport {
        let secs = |d: Duration| ((offset + d).as_secs_f64() * 1000.0).round() / 1000.0;
        let layers = layer_order
            .iter()
            .filter_map(|l| {
                let of_layer: Vec<_> = changes.changes.iter().filter(|c| &c.layer == l).collect();
                let started = of_layer.iter().map(|c| c.started).min()?;
                let finished = of_layer.iter().map(|c| c.finished).max()?;
                Some(LayerTiming {
                    layer: l.clone(),
                    objects: of_layer.len(),
                    started: secs(started),
                    finished: secs(finished),
                    seconds: ((finished.saturating_sub(started)).as_secs_f64() * 1000.0).round()
                        / 1000.0,
                })
            })
            .collect();
        let mut slow: Vec<SlowObject> = changes
            .changes
            .iter()
            .filter(|c| !matches!(c.action, Action::Blocked | Action::Skipped))
            .map(|c| SlowObject {
                id: c.id.clone(),
                source: c.source.clone(),
                seconds: ((c.finished.saturating_sub(c.started)).as_secs_f64() * 1000.0).round()
                    / 1000.0,
            })
            .collect();
        slow.sort_by(|a, b| {
            b.seconds
                .total_cmp(&a.seconds)
                .then_with(|| a.id.cmp(&b.id))
        });
        slow.truncate(5);
        let rto = offset + changes.elapsed;
        let parallelism = critical::parallelism(&changes.changes, changes.elapsed);
        RebuildReport {
            revision,
            server,
            succeeded: changes.succeeded(),
            rto_seconds: (rto.as_secs_f64() * 1000.0).round() / 1000.0,
            rto_budget_seconds: budget.map(|b| b.as_secs_f64()),
            within_budget: budget.is_none_or(|b| rto <= b),
            counts: changes
                .counts()
                .into_iter()
                .map(|(a, n)| (a.as_str().to_string(), n))
                .collect(),
            layers,
            slowest: slow,
            critical_path: CriticalPath {
                preflight_seconds: (offset.as_secs_f64() * 1000.0).round() / 1000.0,
                ..CriticalPath::default()
            },
            parallelism,
            simulated: Vec::new(),
            blocked_by: Vec::new(),
            changes,
            offset,
        }
    }

    /// Adds what needs the DAG and the objects (`objects[i]` is the change set's entry `i`): the
    /// critical path, what each failure blocked, and on a simulated cluster (`simulated`: the health rules
    /// in force) the simulated objects.
    pub fn analyse(&mut self, dag: &Dag, objects: &[Object], simulated: Option<&HealthRules>) {
        let changes = &self.changes.changes;
        self.critical_path =
            critical::critical_path(dag, changes, self.offset, self.changes.elapsed);
        self.blocked_by = critical::blocked_by(dag, changes);
        self.simulated = if let Some(health) = simulated {
            objects
                .iter()
                .zip(changes)
                .filter(|(_, c)| !matches!(c.action, Action::Failed | Action::Blocked))
                .filter_map(|(o, c)| {
                    Some(Simulated {
                        id: c.id.clone(),
                        source: c.source.clone(),
                        reason: crate::readiness::simulated_reason(&o.body, health)?,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
    }

    /// The human summary printed at the end of a rebuild.
    pub fn render_text(&self) -> String {
        let mut out = self.render_details();
        let verdict = if self.succeeded {
            "rebuilt"
        } else {
            "rebuild FAILED"
        };
        out.push_str(&format!(
            "{verdict}: recovery time {:.2}s",
            self.rto_seconds
        ));
        if let Some(b) = self.rto_budget_seconds {
            let word = if self.within_budget { "within" } else { "OVER" };
            out.push_str(&format!(" ({word} the budget of {b:.0}s)"));
        }
        out.push('\n');
        out
    }

    /// Everything but the verdict line: per-layer timings, the slowest objects, failures, the summary,
    /// the simulated objects and the critical path (`promote` adds its own verdict).
    pub fn render_details(&self) -> String {
        let mut out = String::new();
        for l in &self.layers {
            out.push_str(&format!(
                "layer {:<16} {:>5} objects  {:>7.2}s  (ready at {:.2}s)\n",
                l.layer, l.objects, l.seconds, l.finished
            ));
        }
        if !self.slowest.is_empty() {
            out.push_str("slowest objects:\n");
            for s in &self.slowest {
                out.push_str(&format!("  {:>7.2}s  {} ({})\n", s.seconds, s.id, s.source));
            }
        }
        for c in &self.changes.changes {
            if let Some(e) = &c.error {
                out.push_str(&format!(
                    "{} {} ({}): {e}\n",
                    c.action.as_str(),
                    c.id,
                    c.source
                ));
            }
        }
        out.push_str(&format!("{}\n", self.changes.summary()));
        out.push_str(&self.render_simulated());
        out.push_str(&critical::render_text(
            &self.critical_path,
            &self.parallelism,
            self.rto_seconds,
        ));
        out
    }
}

impl RebuildReport {
    /// The simulated objects, one line each (empty on a real cluster).
    pub fn render_simulated(&self) -> String {
        let mut out = String::new();
        if !self.simulated.is_empty() {
            out.push_str(&format!(
                "simulated cluster: readiness of {} object(s) judged indirectly:\n",
                self.simulated.len()
            ));
            for s in &self.simulated {
                out.push_str(&format!("  {}: {} ({})\n", s.id, s.reason, s.source));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::Change;

    fn change(layer: &str, name: &str, started: u64, finished: u64) -> Change {
        Change {
            id: ObjectId::new("", "ConfigMap", Some("a"), name),
            source: format!("{layer}/{name}.yaml:1"),
            layer: layer.into(),
            action: Action::Created,
            error: None,
            started: Duration::from_secs(started),
            finished: Duration::from_secs(finished),
        }
    }

    #[test]
    fn layer_timings_and_budget() {
        let cs = ChangeSet {
            changes: vec![
                change("cluster", "a", 0, 2),
                change("apps", "b", 2, 7),
                change("apps", "c", 3, 4),
            ],
            elapsed: Duration::from_secs(7),
            ..ChangeSet::default()
        };
        let order = vec!["cluster".to_string(), "apps".to_string()];
        let r = RebuildReport::new(
            cs,
            &order,
            Duration::from_secs(1),
            Some(Duration::from_secs(5)),
            None,
            "s".into(),
        );
        assert_eq!(r.layers.len(), 2);
        assert_eq!(r.layers[1].seconds, 5.0);
        assert_eq!(r.layers[1].finished, 8.0, "preflight offset included");
        assert_eq!(r.rto_seconds, 8.0);
        assert!(!r.within_budget);
        assert_eq!(r.slowest[0].id.name, "b");
        assert!(r.render_text().contains("OVER the budget"));
        assert!(
            !r.render_text().contains("retries"),
            "no retries, no mention"
        );
    }

    #[test]
    fn retries_are_counted_in_the_summary() {
        let cs = ChangeSet {
            changes: vec![change("apps", "a", 0, 2)],
            elapsed: Duration::from_secs(2),
            retries: crate::cluster::Retries {
                retries: 12,
                throttled: 10,
            },
        };
        let r = RebuildReport::new(
            cs,
            &["apps".to_string()],
            Duration::ZERO,
            None,
            None,
            "s".into(),
        );
        assert!(
            r.render_text()
                .contains("1 created; 12 retries (10 throttled by the API server)"),
            "{}",
            r.render_text()
        );
        let json = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(json["changes"]["retries"]["throttled"], 10);
    }
}
