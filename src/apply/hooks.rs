//! Running Helm hooks as Helm does on install and upgrade: each hook is created (its previous copy
//! deleted first, `before-hook-creation`), awaited until it completes (a Job complete, a Pod
//! succeeded, anything else once created) and deleted when it failed and asks for it (`hook-failed`);
//! once every hook of a release's stage succeeded, those asking for it are deleted (`hook-succeeded`).
//! Hooks carry no inventory label: they are runs, never members, and never drift.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use futures::future::BoxFuture;

use super::object::desired;
use super::{Action, ApplyEvent, ApplyOptions, Change, HookStep};
use crate::cluster::wait::Verdict;
use crate::cluster::{Cluster, ClusterError};
use crate::helm::hooks::Operation;
use crate::helm::{DeletePolicy, Hook, HookStage, Release};
use crate::object::Object;
use crate::readiness::{self, Status};

/// The Helm hooks an apply may run: the releases and what this run does with each.
#[derive(Debug, Clone, Default)]
pub struct HookRuns {
    pub releases: Arc<Vec<Release>>,
    /// `operations[r]` for release `r`: install or upgrade hooks, or none (also when missing).
    pub operations: Vec<Operation>,
}

impl HookRuns {
    /// The hook of a graph node, when this run executes it.
    pub fn runs(&self, release: usize, hook: usize, stage: HookStage) -> Option<&Hook> {
        let op = self.operations.get(release).copied()?;
        let hook = self.releases.get(release)?.hooks.get(hook)?;
        hook.runs(op, stage).then_some(hook)
    }

    /// The hooks of a release's stage this run executed, that ask to be deleted once it succeeded.
    pub fn succeeded_cleanup(&self, release: usize, stage: HookStage) -> Vec<&Hook> {
        let Some(op) = self.operations.get(release).copied() else {
            return Vec::new();
        };
        self.releases
            .get(release)
            .map(|r| {
                r.hooks
                    .iter()
                    .filter(|h| h.runs(op, stage) && h.deletes(DeletePolicy::HookSucceeded))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `pre-install hook of release web/podinfo`.
    pub fn describe(&self, release: usize, stage: HookStage) -> String {
        let key = self
            .releases
            .get(release)
            .map(Release::key)
            .unwrap_or_default();
        match self.operations.get(release).and_then(|op| op.event(stage)) {
            Some(event) => format!("{event} hook of release {key}"),
            None => format!("{} hook of release {key}", stage.as_str()),
        }
    }
}

/// The work of a hook step in this run, if it has any: a hook run, or deleting the hooks of a
/// finished stage. `None`: nothing to do (the hook's event is not this run's, or nothing to delete).
pub(super) fn task(
    cluster: &Cluster,
    opts: &ApplyOptions,
    step: HookStep,
) -> Option<BoxFuture<'static, Result<Action, String>>> {
    let cluster = cluster.clone();
    let timeout = opts.timeout;
    match step {
        HookStep::Run {
            release,
            hook,
            stage,
        } => {
            let hook = opts.hooks.runs(release, hook, stage)?.clone();
            let revision = opts.revision.clone();
            Some(Box::pin(async move {
                run(&cluster, &hook, revision.as_deref(), timeout)
                    .await
                    .map(|()| Action::Ran)
                    .map_err(|e| crate::error::render(&e))
            }))
        }
        HookStep::Cleanup { release, stage } => {
            let hooks: Vec<Hook> = opts
                .hooks
                .succeeded_cleanup(release, stage)
                .into_iter()
                .cloned()
                .collect();
            if hooks.is_empty() {
                return None;
            }
            Some(Box::pin(async move {
                // In reverse order, as Helm deletes them.
                for hook in hooks.iter().rev() {
                    delete_and_wait(&cluster, hook, timeout)
                        .await
                        .map_err(|e| crate::error::render(&e))?;
                }
                Ok(Action::Deleted)
            }))
        }
    }
}

/// A finished hook step: its change-set entry (`None` for a clean-up that went through), reported to
/// `on_event`, and what the step was, for the messages of what it blocks.
pub(super) fn finished<F: FnMut(ApplyEvent)>(
    opts: &ApplyOptions,
    step: Option<HookStep>,
    result: &Result<Action, String>,
    span: (Duration, Duration),
    on_event: &mut F,
) -> (Option<Change>, String) {
    let (action, error) = match result {
        Ok(a) => (*a, None),
        Err(e) => (Action::Failed, Some(e.clone())),
    };
    let Some(step) = step else {
        return (None, "a hook step".into());
    };
    let (change, what) = match step {
        HookStep::Run {
            release,
            hook,
            stage,
        } => {
            let what = opts.hooks.describe(release, stage);
            match opts
                .hooks
                .releases
                .get(release)
                .and_then(|r| r.hooks.get(hook))
            {
                Some(h) => (
                    Some(Change::of(&h.object, action, error, span)),
                    format!("{} ({what})", h.object.id),
                ),
                None => (None, what),
            }
        }
        HookStep::Cleanup { release, stage } => {
            let what = format!(
                "deleting the succeeded {}",
                opts.hooks.describe(release, stage)
            );
            let failed = error.and_then(|e| {
                opts.hooks
                    .succeeded_cleanup(release, stage)
                    .first()
                    .map(|h| Change::of(&h.object, Action::Failed, Some(e), span))
            });
            (failed, what)
        }
    };
    if let Some(change) = &change {
        on_event(ApplyEvent::Hook {
            change: change.clone(),
            what: what.clone(),
        });
    }
    (change, what)
}

/// Runs one hook and waits until it completed.
///
/// # Errors
/// The hook failed, timed out, or could not be written; the message names it.
pub async fn run(
    cluster: &Cluster,
    hook: &Hook,
    revision: Option<&str>,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let obj = &hook.object;
    if hook.deletes(DeletePolicy::BeforeHookCreation) {
        delete_and_wait(cluster, hook, timeout).await?;
    }
    // No inventory label: a hook is not a member of the set.
    let body = desired(obj, revision, &BTreeMap::new());
    let outcome = async {
        cluster.apply(obj, &body, false).await?;
        cluster
            .wait_for(&obj.id, &obj.api_version, timeout, |v| completed(obj, v))
            .await
    }
    .await;
    if outcome.is_err() && hook.deletes(DeletePolicy::HookFailed) {
        // Best effort: the failure is what the user must see.
        let _ = delete_and_wait(cluster, hook, timeout).await;
    }
    outcome
}

/// Deletes a hook and waits until it is gone (a missing hook is gone already).
///
/// # Errors
/// The deletion is refused or does not finish in time.
pub async fn delete_and_wait(
    cluster: &Cluster,
    hook: &Hook,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let obj = &hook.object;
    if cluster.get(&obj.id, &obj.api_version).await?.is_none() {
        return Ok(());
    }
    cluster.delete(&obj.id, &obj.api_version).await?;
    cluster
        .wait_for(&obj.id, &obj.api_version, timeout, |v| match v {
            None => Verdict::Done,
            Some(_) => Verdict::Pending("still being deleted".into()),
        })
        .await
}

/// When Helm considers a hook done: a Job complete, a Pod succeeded, anything else once it exists.
/// The kind is the hook's: a watch's initial list does not repeat it in each item.
fn completed(hook: &Object, v: Option<&Value>) -> Verdict {
    let Some(v) = v else {
        return Verdict::Pending("NotFound".into());
    };
    match (hook.id.group.as_str(), hook.id.kind.as_str()) {
        ("", "Pod") => match v.pointer("/status/phase").and_then(Value::as_str) {
            Some("Succeeded") => Verdict::Done,
            Some("Failed") => Verdict::Failed("the hook Pod failed".into()),
            phase => Verdict::Pending(format!("Pod phase {}", phase.unwrap_or("Pending"))),
        },
        ("batch", "Job") => {
            let mut typed = v.clone();
            if let Some(map) = typed.as_object_mut() {
                map.insert("apiVersion".into(), hook.api_version.clone().into());
                map.insert("kind".into(), "Job".into());
            }
            let r = readiness::compute(&typed);
            match r.status {
                Status::Current => Verdict::Done,
                Status::Failed => Verdict::Failed(r.message),
                _ => Verdict::Pending(r.to_string()),
            }
        }
        _ => Verdict::Done,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn hook(group: &str, kind: &str, api_version: &str) -> Object {
        Object {
            id: crate::object::ObjectId::new(group, kind, Some("web"), "h"),
            api_version: api_version.into(),
            body: json!({}),
            source: crate::object::SourceLoc {
                layer: "apps".into(),
                path: "apps/web/templates/h.yaml".into(),
                line: 1,
                document: 0,
            },
        }
    }

    /// Observations as a watch's initial list gives them: without apiVersion and kind.
    #[test]
    fn hooks_are_done_as_helm_judges_them() {
        let pod = hook("", "Pod", "v1");
        let phase = |p: &str| json!({"status": {"phase": p}});
        assert_eq!(completed(&pod, Some(&phase("Succeeded"))), Verdict::Done);
        assert!(matches!(
            completed(&pod, Some(&phase("Failed"))),
            Verdict::Failed(_)
        ));
        assert!(matches!(
            completed(&pod, Some(&phase("Running"))),
            Verdict::Pending(_)
        ));
        let job = hook("batch", "Job", "batch/v1");
        let cond = |c: &str| {
            json!({"metadata": {"generation": 1},
                "status": {"conditions": [{"type": c, "status": "True"}]}})
        };
        assert_eq!(completed(&job, Some(&cond("Complete"))), Verdict::Done);
        assert!(matches!(
            completed(&job, Some(&cond("Failed"))),
            Verdict::Failed(_)
        ));
        let running = json!({"metadata": {"generation": 1},
            "status": {"startTime": "2026-01-01T00:00:00Z", "active": 1}});
        assert!(
            matches!(completed(&job, Some(&running)), Verdict::Pending(_)),
            "a running Job is not done"
        );
        let sa = hook("", "ServiceAccount", "v1");
        assert_eq!(
            completed(&sa, Some(&json!({"metadata": {}}))),
            Verdict::Done
        );
        assert!(matches!(completed(&job, None), Verdict::Pending(_)));
    }
}
