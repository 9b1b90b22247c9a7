//! What the cluster says about one desired object, as diff and drift consume it: the live object and the
//! outcome of the [sync decision](super::sync).

use serde_json::Value;

use super::sync::{Decision, Sync};

/// One desired object, observed.
#[derive(Debug)]
pub struct Observation {
    /// The live object when a report needs it (a change is compared with it and attributed from its
    /// managedFields); `None` when it does not exist, and for an object in sync.
    pub live: Option<Value>,
    pub dry_run: DryRun,
}

/// The server's answer to a dry-run apply, or the proof that none was needed.
#[derive(Debug)]
pub enum DryRun {
    /// Applying changes nothing (proved by the digest fast path or a dry-run): nothing is kept, so an
    /// in-sync object costs no copy.
    InSync,
    /// What the server would store: a creation when there is no live object, else an update.
    Ok(Value),
    /// It cannot be verified yet, but it is an expected creation: its CRD or Namespace is in the plan and
    /// not installed yet. `reason` says which.
    Pending { reason: String },
    /// The server refused, or the object could not be read: never counted as in sync.
    Failed(Box<dyn std::error::Error + Send + std::marker::Sync>),
}

impl Observation {
    /// What a report reads of a decision about `desired`: an object in sync keeps nothing, neither its
    /// live object nor a dry-run (diff and drift observe every object of the repository at once, and
    /// most are in sync).
    pub fn of(decision: Decision, desired: &Value) -> Observation {
        match decision.sync {
            Sync::InSync(_) => Observation {
                live: None,
                dry_run: DryRun::InSync,
            },
            Sync::Create(dry) => Observation {
                live: decision.live,
                dry_run: DryRun::Ok(dry.unwrap_or_else(|| desired.clone())),
            },
            Sync::Update(dry) => Observation {
                live: decision.live,
                dry_run: DryRun::Ok(dry),
            },
        }
    }

    /// [`Observation::of`], keeping the live object of an object in sync too (to compare clusters).
    pub fn keeping(decision: Decision, desired: &Value) -> Observation {
        match decision.sync {
            Sync::InSync(_) => Observation {
                live: decision.live,
                dry_run: DryRun::InSync,
            },
            _ => Observation::of(decision, desired),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diff::Proof;

    fn live() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "a", "resourceVersion": "5",
                "managedFields": [{"manager": "rekube", "operation": "Apply"}]},
            "data": {"k": "v"}})
    }

    #[test]
    fn an_object_in_sync_keeps_no_copy() {
        for proof in [Proof::Digest, Proof::DryRun] {
            let decision = Decision {
                live: Some(live()),
                sync: Sync::InSync(proof),
            };
            let obs = Observation::of(decision, &json!({}));
            assert!(obs.live.is_none(), "{proof:?}: the live object is kept");
            assert!(matches!(obs.dry_run, DryRun::InSync), "{proof:?}");
        }
    }

    #[test]
    fn a_change_keeps_the_live_object_for_attribution() {
        let dry = json!({"data": {"k": "w"}});
        let obs = Observation::of(
            Decision {
                live: Some(live()),
                sync: Sync::Update(dry.clone()),
            },
            &json!({}),
        );
        assert_eq!(obs.live, Some(live()));
        assert!(matches!(obs.dry_run, DryRun::Ok(d) if d == dry));
        let desired = json!({"kind": "ConfigMap"});
        let obs = Observation::of(
            Decision {
                live: None,
                sync: Sync::Create(None),
            },
            &desired,
        );
        assert!(obs.live.is_none());
        assert!(matches!(obs.dry_run, DryRun::Ok(d) if d == desired));
    }
}
