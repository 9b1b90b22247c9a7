//! The Prometheus metrics of a reconciler, in the OpenMetrics text format (`/metrics`).
//!
//! Every replica serves them; only the leader's move (followers show `rekube_leader 0`). Counters get the
//! `_total` suffix from the encoder.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommitLabel {
    pub commit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectedLabel {
    pub commit: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabel {
    pub class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

/// The reconciler's metrics; cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    /// `rekube_applied_revision_info{commit}` 1: the revision last applied (one series at a time).
    pub applied_revision: Family<CommitLabel, Gauge>,
    /// `rekube_head_revision_info{commit}` 1: the branch head last fetched.
    pub head_revision: Family<CommitLabel, Gauge>,
    pub revision_lag: Gauge<f64, AtomicU64>,
    pub drifted: Family<ClassLabel, Gauge>,
    pub apply_seconds: Histogram,
    pub reconcile_seconds: Histogram,
    pub git_errors: Counter,
    pub api_errors: Counter,
    pub invalid_revisions: Counter,
    /// Commits refused by `--verify-commit` (unsigned, bad signature, unknown signer).
    pub untrusted_revisions: Counter,
    /// `rekube_rejected_revision_info{commit, reason}` 1 while the head is a rejected commit.
    pub rejected_revision: Family<RejectedLabel, Gauge>,
    pub leader: Gauge,
    pub heals: Family<KindLabel, Counter>,
    pub drift_detected: Family<ClassLabel, Counter>,
    /// Since when the head waits to be applied (`None`: the head is applied).
    waiting_since: Mutex<Option<Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            applied_revision: Family::default(),
            head_revision: Family::default(),
            revision_lag: Gauge::default(),
            drifted: Family::default(),
            // 50 ms to ~14 min.
            apply_seconds: Histogram::new(exponential_buckets(0.05, 2.0, 15)),
            reconcile_seconds: Histogram::new(exponential_buckets(0.05, 2.0, 15)),
            git_errors: Counter::default(),
            api_errors: Counter::default(),
            invalid_revisions: Counter::default(),
            untrusted_revisions: Counter::default(),
            rejected_revision: Family::default(),
            leader: Gauge::default(),
            heals: Family::default(),
            drift_detected: Family::default(),
            waiting_since: Mutex::new(None),
        };
        registry.register(
            "rekube_applied_revision_info",
            "The Git commit last applied (value 1)",
            m.applied_revision.clone(),
        );
        registry.register(
            "rekube_head_revision_info",
            "The commit the followed ref pointed at when last fetched (value 1)",
            m.head_revision.clone(),
        );
        registry.register(
            "rekube_revision_lag_seconds",
            "Seconds the branch head has waited to be applied (0 when applied): the configuration's recovery point",
            m.revision_lag.clone(),
        );
        registry.register(
            "rekube_drifted_objects",
            "Managed objects currently drifted from Git, by class (modified, missing)",
            m.drifted.clone(),
        );
        registry.register(
            "rekube_apply_duration_seconds",
            "Duration of applying a revision (apply along the DAG, then prune)",
            m.apply_seconds.clone(),
        );
        registry.register(
            "rekube_reconcile_duration_seconds",
            "Duration of one reconcile pass (fetch, load, validate, plan, apply, prune)",
            m.reconcile_seconds.clone(),
        );
        registry.register(
            "rekube_git_errors",
            "Failed fetches or reads of the repository",
            m.git_errors.clone(),
        );
        registry.register(
            "rekube_api_errors",
            "Failed requests to the API server (apply, heal, prune, inventory)",
            m.api_errors.clone(),
        );
        registry.register(
            "rekube_invalid_revisions",
            "Commits that failed to load, validate or order (the last good state was kept)",
            m.invalid_revisions.clone(),
        );
        registry.register(
            "rekube_untrusted_revisions",
            "Commits refused by --verify-commit: unsigned, badly signed or signed by an unknown key (the last good state was kept)",
            m.untrusted_revisions.clone(),
        );
        registry.register(
            "rekube_rejected_revision_info",
            "The head commit while it is rejected, and why: yaml, validation, ordering, external-reference, inventory, keys, tag-moved, untrusted or source (value 1; absent once a commit is accepted)",
            m.rejected_revision.clone(),
        );
        registry.register(
            "rekube_leader",
            "1 on the replica holding the Lease, 0 on followers",
            m.leader.clone(),
        );
        registry.register(
            "rekube_heals",
            "Drifted objects re-applied, by kind",
            m.heals.clone(),
        );
        registry.register(
            "rekube_drift_detected",
            "Drift detected (each onset once), by class",
            m.drift_detected.clone(),
        );
        m.set_drifted(0, 0);
        Metrics { registry, ..m }
    }

    /// Records the applied revision (replacing the previous series).
    pub fn set_applied(&self, commit: &str) {
        set_single(&self.applied_revision, commit);
    }

    /// Records the head just fetched; the lag clock starts when it differs from the applied revision.
    pub fn set_head(&self, head: &str, applied: Option<&str>) {
        set_single(&self.head_revision, head);
        let mut since = self.waiting_since.lock().unwrap_or_else(|p| p.into_inner());
        if applied == Some(head) {
            *since = None;
        } else if since.is_none() {
            *since = Some(Instant::now());
        }
    }

    /// Drift counts by class, all classes always present (0 when none).
    pub fn set_drifted(&self, modified: usize, missing: usize) {
        for (class, n) in [("modified", modified), ("missing", missing)] {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            self.drifted
                .get_or_create(&ClassLabel {
                    class: class.into(),
                })
                .set(n);
        }
    }

    /// The head is `commit`, rejected for `reason` (replacing the previous series); `None` clears it.
    pub fn set_rejected(&self, rejected: Option<(&str, &str)>) {
        self.rejected_revision.clear();
        if let Some((commit, reason)) = rejected {
            self.rejected_revision
                .get_or_create(&RejectedLabel {
                    commit: commit.to_string(),
                    reason: reason.to_string(),
                })
                .set(1);
        }
    }

    pub fn heal(&self, kind: &str) {
        self.heals
            .get_or_create(&KindLabel { kind: kind.into() })
            .inc();
    }

    pub fn drift_onset(&self, class: &str) {
        self.drift_detected
            .get_or_create(&ClassLabel {
                class: class.into(),
            })
            .inc();
    }

    /// The exposition text; the lag is computed at scrape time.
    pub fn encode(&self) -> String {
        let since = *self.waiting_since.lock().unwrap_or_else(|p| p.into_inner());
        self.revision_lag
            .set(since.map_or(0.0, |s| s.elapsed().as_secs_f64()));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

fn set_single(family: &Family<CommitLabel, Gauge>, commit: &str) {
    let label = CommitLabel {
        commit: commit.to_string(),
    };
    if family.get(&label).is_none() {
        family.clear();
    }
    family.get_or_create(&label).set(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_and_single_revision() {
        let m = Metrics::new();
        m.set_applied("aaa");
        m.set_applied("bbb");
        m.leader.set(1);
        m.git_errors.inc();
        m.set_drifted(2, 0);
        m.set_head("ccc", Some("bbb"));
        let text = m.encode();
        assert!(text.contains("rekube_applied_revision_info{commit=\"bbb\"} 1"));
        assert!(!text.contains("commit=\"aaa\""));
        assert!(text.contains("rekube_leader 1"));
        assert!(text.contains("rekube_git_errors_total 1"));
        assert!(text.contains("rekube_drifted_objects{class=\"modified\"} 2"));
        assert!(text.contains("rekube_drifted_objects{class=\"missing\"} 0"));
        assert!(text.contains("rekube_revision_lag_seconds"));
        m.set_head("ccc", Some("ccc"));
        assert!(m.encode().contains("rekube_revision_lag_seconds 0.0"));
        m.set_rejected(Some(("ddd", "ordering")));
        assert!(
            m.encode()
                .contains("rekube_rejected_revision_info{commit=\"ddd\",reason=\"ordering\"} 1")
        );
        m.set_rejected(None);
        assert!(!m.encode().contains("commit=\"ddd\""));
    }
}
