use std::time::Duration;

use super::*;
use crate::apply::{Action, Change, ChangeSet, Dag};
use crate::object::ObjectId;
use crate::report::{RebuildReport, junit};

fn change(layer: &str, name: &str, action: Action, started: u64, finished: u64) -> Change {
    Change {
        id: ObjectId::new("", "ConfigMap", Some("a"), name),
        source: format!("{layer}/{name}.yaml:1"),
        layer: layer.into(),
        action,
        error: (action == Action::Failed).then(|| "not ready after 5s: <Pending>".to_owned()),
        started: Duration::from_millis(started),
        finished: Duration::from_millis(finished),
    }
}

fn report(failed: bool) -> RebuildReport {
    let second = if failed {
        Action::Failed
    } else {
        Action::Created
    };
    let third = if failed {
        Action::Blocked
    } else {
        Action::Created
    };
    let changes = ChangeSet {
        changes: vec![
            change("cluster", "base", Action::Created, 0, 1000),
            change("apps", "db", second, 1000, 4000),
            change("apps", "web", third, 4000, 4500),
            change("apps", "side", Action::Unchanged, 1000, 1100),
        ],
        elapsed: Duration::from_millis(4600),
        ..ChangeSet::default()
    };
    let layers = ["cluster".to_owned(), "apps".to_owned()];
    let mut r = RebuildReport::new(
        changes,
        &layers,
        Duration::from_millis(200),
        Some(Duration::from_secs(60)),
        Some("abc123".into()),
        "https://127.0.0.1:6443".into(),
    );
    r.analyse(
        &Dag::of_objects(vec![vec![], vec![0], vec![1], vec![0]]),
        &[],
        None,
    );
    r
}

fn evidence<'a>(r: &'a RebuildReport, notes: &'a [String]) -> Evidence<'a> {
    Evidence {
        command: "drill",
        passed: r.succeeded,
        origin: "repo <main>",
        revision: r.revision.as_deref(),
        cluster: "a fresh local control plane",
        problems: r.problems(),
        notes,
        rebuild: r,
        drift: DriftCheck::NotRun("the rebuild failed"),
        generated: "2026-01-01T00:00:00Z",
    }
}

#[test]
fn one_bar_per_object_and_the_critical_path_highlighted() {
    let r = report(false);
    let page = render(&evidence(&r, &[]));
    assert_eq!(page.matches("<rect class=\"bar ").count(), 4, "{page}");
    assert_eq!(
        page.matches(" critical\" data-id").count(),
        3,
        "base → db → web"
    );
    assert!(page.contains("DRILL PASSED"));
    assert!(page.contains("repo &lt;main&gt;"), "escaped");
    assert!(page.contains("layer cluster · 1 object(s)"));
    assert!(page.contains("within the budget of 1m"));
}

#[test]
fn the_page_is_self_contained() {
    let page = render(&evidence(&report(false), &["installed CRDs".to_owned()]));
    for external in [
        "src=\"http",
        "href=\"http",
        "@import",
        "url(http",
        "<link rel=\"stylesheet",
    ] {
        assert!(!page.contains(external), "{external}");
    }
    assert!(page.contains("<style>") && page.contains("<script>"));
    assert!(page.contains("installed CRDs"));
}

#[test]
fn a_failure_says_what_blocked_what() {
    let r = report(true);
    let e = evidence(&r, &[]);
    assert_eq!(
        e.problems,
        [
            "ConfigMap/a/db failed: not ready after 5s: <Pending> (apps/db.yaml:1); it blocked 1 object(s): ConfigMap/a/web"
        ]
    );
    let page = render(&e);
    assert!(page.contains("DRILL FAILED"));
    assert!(page.contains("What blocked what"));
    assert!(page.contains("&lt;Pending&gt;"));
    let xml = junit::render(&e);
    assert!(xml.contains("failures=\"2\""), "{xml}");
    assert!(xml.contains("<failure type=\"blocked\""));
    assert!(xml.contains("<skipped message=\"the rebuild failed\"/>"));
    assert!(xml.contains("name=\"critical_path.0\" value=\"ConfigMap/a/base"));
}
