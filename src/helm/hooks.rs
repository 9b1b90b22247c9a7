//! Helm hooks, read from their annotations: when each runs (`helm.sh/hook`), in which order
//! (`helm.sh/hook-weight`) and when it is deleted (`helm.sh/hook-delete-policy`). Pure.
//!
//! rekube runs hooks as Helm does on install and upgrade, but decides which from its inventory:
//! [`Operation::Install`] when none of the chart's objects are in the inventory,
//! [`Operation::Upgrade`] when its rendering changed, [`Operation::Unchanged`] (no hook at all)
//! otherwise. `pre-delete`, `post-delete` and the rollback hooks never run: rekube prunes objects, it
//! does not uninstall or roll back releases.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::object::Object;

pub const ANNOTATION_HOOK: &str = "helm.sh/hook";
pub const ANNOTATION_WEIGHT: &str = "helm.sh/hook-weight";
pub const ANNOTATION_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";

/// A value of `helm.sh/hook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookEvent {
    PreInstall,
    PostInstall,
    PreUpgrade,
    PostUpgrade,
    PreDelete,
    PostDelete,
    PreRollback,
    PostRollback,
    /// `test` (and its old name `test-success`): run by `helm test`.
    Test,
}

impl HookEvent {
    pub fn parse(value: &str) -> Option<HookEvent> {
        Some(match value {
            "pre-install" => HookEvent::PreInstall,
            "post-install" => HookEvent::PostInstall,
            "pre-upgrade" => HookEvent::PreUpgrade,
            "post-upgrade" => HookEvent::PostUpgrade,
            "pre-delete" => HookEvent::PreDelete,
            "post-delete" => HookEvent::PostDelete,
            "pre-rollback" => HookEvent::PreRollback,
            "post-rollback" => HookEvent::PostRollback,
            "test" | "test-success" => HookEvent::Test,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreInstall => "pre-install",
            HookEvent::PostInstall => "post-install",
            HookEvent::PreUpgrade => "pre-upgrade",
            HookEvent::PostUpgrade => "post-upgrade",
            HookEvent::PreDelete => "pre-delete",
            HookEvent::PostDelete => "post-delete",
            HookEvent::PreRollback => "pre-rollback",
            HookEvent::PostRollback => "post-rollback",
            HookEvent::Test => "test",
        }
    }

    /// Where the event sits around the chart's other objects, for the events rekube runs.
    pub fn stage(self) -> Option<HookStage> {
        match self {
            HookEvent::PreInstall | HookEvent::PreUpgrade => Some(HookStage::Pre),
            HookEvent::PostInstall | HookEvent::PostUpgrade => Some(HookStage::Post),
            HookEvent::Test => Some(HookStage::Test),
            _ => None,
        }
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where hooks run relative to the chart's other objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HookStage {
    /// Applied and complete before any other object of the chart is applied.
    Pre,
    /// Applied once every other object of the chart is ready.
    Post,
    /// After the post hooks, only when the chart entry asks for tests (`skipTests: false`).
    Test,
}

impl HookStage {
    pub fn as_str(self) -> &'static str {
        match self {
            HookStage::Pre => "pre",
            HookStage::Post => "post",
            HookStage::Test => "test",
        }
    }
}

/// A value of `helm.sh/hook-delete-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeletePolicy {
    /// Delete the previous hook object before creating it again (Helm's default).
    BeforeHookCreation,
    /// Delete it once every hook of its stage succeeded.
    HookSucceeded,
    /// Delete it when it failed.
    HookFailed,
}

impl DeletePolicy {
    pub fn parse(value: &str) -> Option<DeletePolicy> {
        Some(match value {
            "before-hook-creation" => DeletePolicy::BeforeHookCreation,
            "hook-succeeded" => DeletePolicy::HookSucceeded,
            "hook-failed" => DeletePolicy::HookFailed,
            _ => return None,
        })
    }
}

/// What a run does with a release's hooks, decided from the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// None of the chart's objects are in the inventory: install hooks.
    Install,
    /// The chart's rendering changed since it was last applied: upgrade hooks.
    Upgrade,
    /// Nothing changed: no hook runs.
    Unchanged,
}

impl Operation {
    /// The event of `stage` this operation runs, if any.
    pub fn event(self, stage: HookStage) -> Option<HookEvent> {
        match (self, stage) {
            (Operation::Install, HookStage::Pre) => Some(HookEvent::PreInstall),
            (Operation::Install, HookStage::Post) => Some(HookEvent::PostInstall),
            (Operation::Upgrade, HookStage::Pre) => Some(HookEvent::PreUpgrade),
            (Operation::Upgrade, HookStage::Post) => Some(HookEvent::PostUpgrade),
            (Operation::Install | Operation::Upgrade, HookStage::Test) => Some(HookEvent::Test),
            (Operation::Unchanged, _) => None,
        }
    }
}

/// A hook of a release: an object that is run, never kept as state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hook {
    pub object: Object,
    pub events: BTreeSet<HookEvent>,
    pub weight: i64,
    /// As written; empty means Helm's default, [`DeletePolicy::BeforeHookCreation`].
    pub delete_policies: BTreeSet<DeletePolicy>,
}

impl Hook {
    /// The stages the hook takes part in (a hook may run both before and after the chart).
    pub fn stages(&self) -> BTreeSet<HookStage> {
        self.events.iter().filter_map(|e| e.stage()).collect()
    }

    /// Whether it runs in `stage` of `operation`.
    pub fn runs(&self, operation: Operation, stage: HookStage) -> bool {
        operation
            .event(stage)
            .is_some_and(|e| self.events.contains(&e))
    }

    pub fn deletes(&self, policy: DeletePolicy) -> bool {
        if self.delete_policies.is_empty() {
            policy == DeletePolicy::BeforeHookCreation
        } else {
            self.delete_policies.contains(&policy)
        }
    }

    /// `pre-install,post-install weight -5`: how plans show it.
    pub fn describe(&self) -> String {
        let events: Vec<&str> = self.events.iter().map(|e| e.as_str()).collect();
        let mut out = events.join(",");
        if self.weight != 0 {
            out.push_str(&format!(" weight {}", self.weight));
        }
        out
    }
}

/// Whether `object` is a hook: it has a `helm.sh/hook` annotation.
pub fn is_hook(object: &Object) -> bool {
    object.annotation(ANNOTATION_HOOK).is_some()
}

/// Reads the hook annotations of `object`. Values Helm would ignore (an unknown event or delete
/// policy, a weight that is not an integer) are ignored too, and returned as warnings.
pub fn read(object: Object) -> (Hook, Vec<String>) {
    let mut warnings = Vec::new();
    let mut events = BTreeSet::new();
    for value in list(object.annotation(ANNOTATION_HOOK)) {
        match HookEvent::parse(value) {
            Some(e) => {
                events.insert(e);
            }
            None if value == "test-failure" || value == "crd-install" => warnings.push(format!(
                "{ANNOTATION_HOOK} {value:?} is no longer supported by Helm: the hook never runs"
            )),
            None => warnings.push(format!(
                "unknown {ANNOTATION_HOOK} event {value:?}: ignored (expected pre-install, post-install, \
                 pre-upgrade, post-upgrade, pre-delete, post-delete, pre-rollback, post-rollback or test)"
            )),
        }
    }
    let weight = match object.annotation(ANNOTATION_WEIGHT).map(str::trim) {
        None | Some("") => 0,
        Some(w) => w.parse().unwrap_or_else(|_| {
            warnings.push(format!(
                "{ANNOTATION_WEIGHT} {w:?} is not an integer: weight 0"
            ));
            0
        }),
    };
    let mut delete_policies = BTreeSet::new();
    for value in list(object.annotation(ANNOTATION_DELETE_POLICY)) {
        match DeletePolicy::parse(value) {
            Some(p) => {
                delete_policies.insert(p);
            }
            None => warnings.push(format!(
                "unknown {ANNOTATION_DELETE_POLICY} {value:?}: ignored (expected before-hook-creation, \
                 hook-succeeded or hook-failed)"
            )),
        }
    }
    let hook = Hook {
        object,
        events,
        weight,
        delete_policies,
    };
    (hook, warnings)
}

fn list(value: Option<&str>) -> impl Iterator<Item = &str> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::object::{ObjectId, SourceLoc};

    fn object(annotations: serde_json::Value) -> Object {
        Object {
            id: ObjectId::new("batch", "Job", Some("web"), "migrate"),
            api_version: "batch/v1".into(),
            body: json!({"metadata": {"name": "migrate", "annotations": annotations}}),
            source: SourceLoc {
                layer: "apps".into(),
                path: "apps/web/templates/job.yaml".into(),
                line: 1,
                document: 0,
            },
        }
    }

    #[test]
    fn annotations_are_read_as_helm_reads_them() {
        let (hook, warnings) = read(object(json!({
            "helm.sh/hook": "pre-install, post-upgrade,test-success",
            "helm.sh/hook-weight": "-5",
            "helm.sh/hook-delete-policy": "hook-succeeded,hook-failed",
        })));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            hook.events,
            BTreeSet::from([
                HookEvent::PreInstall,
                HookEvent::PostUpgrade,
                HookEvent::Test
            ])
        );
        assert_eq!(hook.weight, -5);
        assert!(hook.deletes(DeletePolicy::HookSucceeded));
        assert!(!hook.deletes(DeletePolicy::BeforeHookCreation));
        assert_eq!(
            hook.stages(),
            BTreeSet::from([HookStage::Pre, HookStage::Post, HookStage::Test])
        );
        assert_eq!(hook.describe(), "pre-install,post-upgrade,test weight -5");
    }

    #[test]
    fn without_a_delete_policy_the_previous_hook_is_deleted_before_creation() {
        let (hook, _) = read(object(json!({"helm.sh/hook": "post-install"})));
        assert!(hook.deletes(DeletePolicy::BeforeHookCreation));
        assert!(!hook.deletes(DeletePolicy::HookSucceeded));
    }

    #[test]
    fn what_helm_ignores_is_a_warning() {
        let (hook, warnings) = read(object(json!({
            "helm.sh/hook": "pre-instal,crd-install",
            "helm.sh/hook-weight": "high",
            "helm.sh/hook-delete-policy": "always",
        })));
        assert!(hook.events.is_empty());
        assert_eq!(hook.weight, 0);
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0].contains("\"pre-instal\""), "{warnings:?}");
    }

    #[test]
    fn an_operation_runs_the_hooks_of_its_events() {
        let (hook, _) = read(object(json!({"helm.sh/hook": "pre-install,post-upgrade"})));
        let cases = [
            (Operation::Install, HookStage::Pre, true),
            (Operation::Install, HookStage::Post, false),
            (Operation::Upgrade, HookStage::Pre, false),
            (Operation::Upgrade, HookStage::Post, true),
            (Operation::Unchanged, HookStage::Pre, false),
            (Operation::Unchanged, HookStage::Post, false),
        ];
        for (op, stage, runs) in cases {
            assert_eq!(hook.runs(op, stage), runs, "{op:?} {stage:?}");
        }
    }
}
