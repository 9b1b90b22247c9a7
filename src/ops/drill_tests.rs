//! Drill verdicts from rebuild and drift reports.

use super::*;
use crate::apply::{Change, ChangeSet};

fn rebuild_report(actions: &[(&str, Action, Option<&str>)], budget: Option<u64>) -> RebuildReport {
    let changes = actions
        .iter()
        .map(|(name, action, error)| Change {
            id: ObjectId::new("", "ConfigMap", Some("a"), name),
            source: format!("apps/{name}.yaml:1"),
            layer: "apps".into(),
            action: *action,
            error: error.map(str::to_string),
            started: Duration::ZERO,
            finished: Duration::from_secs(3),
        })
        .collect();
    let cs = ChangeSet {
        changes,
        elapsed: Duration::from_secs(3),
        ..ChangeSet::default()
    };
    RebuildReport::new(
        cs,
        &["apps".to_string()],
        Duration::ZERO,
        budget.map(Duration::from_secs),
        None,
        "https://local".into(),
    )
}

fn drill_of(rebuild: RebuildReport, budget: Option<u64>, drifted: bool) -> DrillReport {
    let manifest = Manifest::default();
    let opts = DrillOptions {
        rto_budget: budget.map(Duration::from_secs),
        ..DrillOptions::default()
    };
    let drift = rebuild.succeeded.then(|| DriftReport {
        origin: String::new(),
        revision: None,
        dirty: false,
        server: String::new(),
        inventory: "default".into(),
        checked: 1,
        in_sync: Vec::new(),
        findings: if drifted {
            vec![crate::drift::Finding::new(
                Class::Unmanaged,
                ObjectId::new("", "ConfigMap", Some("a"), "x"),
            )]
        } else {
            Vec::new()
        },
        fail_on: Class::ALL.into(),
        warnings: Vec::new(),
        seconds: 0.1,
    });
    let not_ready = rebuild
        .changes
        .changes
        .iter()
        .filter(|c| c.action == Action::Failed)
        .map(|c| NotReady {
            id: c.id.clone(),
            source: c.source.clone(),
            error: c.error.clone().unwrap_or_default(),
            diagnosis: Some("Pod p is not scheduled".into()),
        })
        .collect();
    assemble(
        &manifest,
        &opts,
        4.0,
        0.2,
        rebuild,
        drift,
        Some(0.1),
        not_ready,
    )
}

#[test]
fn verdicts() {
    let ok = [("c", Action::Created, None)];
    let failed = [
        (
            "c",
            Action::Failed,
            Some("ConfigMap/a/c: not ready after 15s: InProgress: waiting"),
        ),
        ("d", Action::Blocked, Some("not applied")),
    ];
    let cases = [
        (
            "passes",
            drill_of(rebuild_report(&ok, Some(60)), Some(60), false),
            true,
            "",
        ),
        (
            "over budget",
            drill_of(rebuild_report(&ok, Some(1)), Some(1), false),
            false,
            "over the budget of 1s",
        ),
        (
            "drift after the rebuild",
            drill_of(rebuild_report(&ok, None), None, true),
            false,
            "drift right after the rebuild: 1 unmanaged",
        ),
        (
            "an object never ready",
            drill_of(rebuild_report(&failed, None), None, false),
            false,
            "never became ready: ConfigMap/a/c: not ready after 15s: InProgress: waiting (apps/c.yaml:1); Pod p is not scheduled",
        ),
    ];
    for (name, report, passed, problem) in cases {
        assert_eq!(report.passed, passed, "{name}: {:?}", report.problems);
        assert!(
            problem.is_empty() == report.problems.is_empty()
                && (problem.is_empty() || report.problems.iter().any(|p| p.contains(problem))),
            "{name}: {:?}",
            report.problems
        );
    }
    let blocked = drill_of(rebuild_report(&failed, None), None, false);
    assert!(
        blocked
            .problems
            .iter()
            .any(|p| p.ends_with("depend on failed: ConfigMap/a/d")),
        "{:?}",
        blocked.problems
    );
}
