//! Kubernetes Events (events.k8s.io/v1, reporting controller `rekube`) on the objects that drift or fail
//! to apply, and on the inventory parent for revisions: what `kubectl describe` and `kubectl events` show.
//!
//! Publishing is best effort: a refused Event is logged at debug level and never stops reconciling.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use crate::object::ObjectId;

/// Publishes Events as `rekube`, the replica's identity as the reporting instance.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
}

/// Reasons, in the PascalCase Kubernetes uses.
pub mod reason {
    pub const DRIFT: &str = "DriftDetected";
    pub const HEALED: &str = "DriftHealed";
    pub const HEAL_FAILED: &str = "HealFailed";
    pub const APPLIED: &str = "RevisionApplied";
    pub const APPLY_FAILED: &str = "ApplyFailed";
    pub const INVALID: &str = "InvalidRevision";
    pub const UNTRUSTED: &str = "UntrustedRevision";
    pub const GIT_FAILED: &str = "FetchFailed";
}

impl Events {
    pub fn new(client: kube::Client, identity: &str) -> Events {
        let reporter = Reporter {
            controller: "rekube".into(),
            instance: Some(identity.to_string()),
        };
        Events {
            recorder: Recorder::new(client, reporter),
        }
    }

    /// A Normal event on `id`.
    pub async fn normal(&self, id: &ObjectId, api_version: &str, reason: &str, note: String) {
        self.publish(id, api_version, EventType::Normal, reason, note)
            .await;
    }

    /// A Warning event on `id`.
    pub async fn warning(&self, id: &ObjectId, api_version: &str, reason: &str, note: String) {
        self.publish(id, api_version, EventType::Warning, reason, note)
            .await;
    }

    async fn publish(
        &self,
        id: &ObjectId,
        api_version: &str,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.to_string(),
            note: Some(truncate(note, 1000)),
            action: action_of(reason).to_string(),
            secondary: None,
        };
        if let Err(e) = self
            .recorder
            .publish(&event, &reference(id, api_version))
            .await
        {
            tracing::debug!("{id}: event {reason} not published: {e}");
        }
    }
}

/// The `action` field: what rekube did (or tried) when the event happened.
fn action_of(reason: &str) -> &'static str {
    match reason {
        reason::DRIFT => "Observe",
        reason::HEALED | reason::HEAL_FAILED => "Heal",
        reason::INVALID | reason::GIT_FAILED => "Fetch",
        _ => "Apply",
    }
}

fn reference(id: &ObjectId, api_version: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some(api_version.to_string()),
        kind: Some(id.kind.clone()),
        name: Some(id.name.clone()),
        namespace: id.namespace.clone(),
        ..ObjectReference::default()
    }
}

/// Notes are limited to 1 kB by the API: cut at a character boundary.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max.saturating_sub(3);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_cut_on_char_boundaries() {
        let s = "é".repeat(600);
        let t = truncate(s, 1000);
        assert!(t.len() <= 1000);
        assert!(t.ends_with("..."));
        assert_eq!(truncate("short".into(), 1000), "short");
    }

    #[test]
    fn references_keep_the_api_version() {
        let id = ObjectId::new("apps", "Deployment", Some("ns"), "web");
        let r = reference(&id, "apps/v1");
        assert_eq!(r.api_version.as_deref(), Some("apps/v1"));
        assert_eq!(r.namespace.as_deref(), Some("ns"));
        let core = reference(&ObjectId::new("", "Secret", Some("s"), "x"), "v1");
        assert_eq!(core.api_version.as_deref(), Some("v1"));
    }
}
