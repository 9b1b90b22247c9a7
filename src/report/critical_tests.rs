use super::*;

fn change(name: &str, action: Action, started: u64, finished: u64) -> Change {
    Change {
        id: ObjectId::new("", "ConfigMap", Some("a"), name),
        source: format!("apps/{name}.yaml:1"),
        layer: "apps".into(),
        action,
        error: (action == Action::Failed).then(|| "boom".to_owned()),
        started: Duration::from_millis(started),
        finished: Duration::from_millis(finished),
    }
}

fn names(path: &CriticalPath) -> Vec<&str> {
    path.steps.iter().map(|s| s.id.name.as_str()).collect()
}

#[test]
fn the_path_follows_the_dependency_released_last() {
    // a(0-1000) → c(1000-3000); b(0-2000) → c is not it: c waited for a only… until b, which came later.
    // d depends on c and on e; e finishes early.
    let changes = vec![
        change("a", Action::Created, 0, 1000),
        change("b", Action::Created, 0, 2000),
        change("c", Action::Created, 2000, 3000),
        change("d", Action::Created, 3000, 7000),
        change("e", Action::Created, 0, 500),
    ];
    let dag = Dag::of_objects(vec![vec![], vec![], vec![0, 1], vec![2, 4], vec![]]);
    let path = critical_path(
        &dag,
        &changes,
        Duration::from_millis(500),
        Duration::from_millis(7200),
    );
    assert_eq!(names(&path), ["b", "c", "d"]);
    assert_eq!(
        path.steps[0].started, 0.5,
        "the preflight offset is on the same clock as the RTO"
    );
    assert_eq!(path.steps[2].finished, 7.5);
    assert_eq!(path.steps[2].seconds, 4.0);
    assert_eq!(path.preflight_seconds, 0.5);
    assert_eq!(path.after_seconds, 0.2);
}

#[test]
fn barriers_are_looked_through() {
    // Nodes 0 and 1 are objects of layer one, node 2 the layer barrier, node 3 the object after it.
    let dag = Dag {
        deps: vec![
            vec![],
            vec![],
            vec![(0, Need::Ready), (1, Need::Ready)],
            vec![(2, Need::Ready)],
        ],
        object: vec![Some(0), Some(1), None, Some(2)],
        hook: (0..4).map(|_| None).collect(),
    };
    let changes = vec![
        change("slow", Action::Created, 0, 4000),
        change("fast", Action::Created, 0, 100),
        change("after", Action::Created, 4000, 5000),
    ];
    let path = critical_path(&dag, &changes, Duration::ZERO, Duration::from_millis(5000));
    assert_eq!(names(&path), ["slow", "after"]);
}

#[test]
fn an_applied_only_dependency_counts_until_the_dependent_started() {
    // The webhook (2) needs the Deployment (0) applied, the ConfigMap (1) ready.
    let dag = Dag {
        deps: vec![vec![], vec![], vec![(0, Need::Applied), (1, Need::Ready)]],
        object: vec![Some(0), Some(1), Some(2)],
        hook: (0..3).map(|_| None).collect(),
    };
    let changes = vec![
        change("deployment", Action::Created, 0, 9000),
        change("config", Action::Created, 0, 300),
        change("webhook", Action::Created, 300, 9500),
    ];
    let path = critical_path(&dag, &changes, Duration::ZERO, Duration::from_millis(9500));
    assert_eq!(names(&path), ["config", "webhook"]);
}

#[test]
fn nothing_ran_gives_an_empty_path() {
    let changes = vec![change("x", Action::Blocked, 0, 0)];
    let path = critical_path(
        &Dag::of_objects(vec![vec![]]),
        &changes,
        Duration::ZERO,
        Duration::ZERO,
    );
    assert!(path.steps.is_empty());
}

#[test]
fn parallelism_counts_objects_in_flight() {
    let changes = vec![
        change("a", Action::Created, 0, 2000),
        change("b", Action::Created, 0, 1000),
        change("c", Action::Created, 1000, 2000),
        change("skipped", Action::Skipped, 0, 2000),
    ];
    let p = parallelism(&changes, Duration::from_millis(2000));
    assert_eq!(p.max, 2, "b ends when c starts: never three");
    assert_eq!(p.mean, 2.0);
    assert_eq!(p.in_flight.len(), BUCKETS);
    assert!(
        p.in_flight.iter().all(|&x| (x - 2.0).abs() < 0.01),
        "{:?}",
        p.in_flight
    );
    let empty = parallelism(&[], Duration::ZERO);
    assert_eq!(empty.max, 0);
    assert!(empty.in_flight.is_empty());
}

#[test]
fn a_failure_names_what_it_blocked_through_barriers() {
    let dag = Dag {
        deps: vec![
            vec![],
            vec![(0, Need::Ready)],
            vec![(1, Need::Ready)],
            vec![],
        ],
        object: vec![Some(0), None, Some(1), Some(2)],
        hook: (0..4).map(|_| None).collect(),
    };
    let changes = vec![
        change("broken", Action::Failed, 0, 100),
        change("downstream", Action::Blocked, 100, 100),
        change("independent", Action::Created, 0, 100),
    ];
    let blocked = blocked_by(&dag, &changes);
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].failed.name, "broken");
    assert_eq!(blocked[0].error, "boom");
    let names: Vec<&str> = blocked[0].blocked.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["downstream"]);
}
