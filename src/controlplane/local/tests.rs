use super::*;

#[test]
fn names_must_be_dns_labels() {
    for good in ["demo", "a", "team-1", &"x".repeat(40)] {
        validate_name(good).unwrap();
    }
    for (bad, why) in [
        ("", "empty"),
        ("Demo", "lowercase"),
        ("a_b", "lowercase"),
        ("-a", "start and end"),
        ("a-", "start and end"),
        ("../etc", "lowercase"),
        (&"x".repeat(41), "40"),
    ] {
        let err = validate_name(bad).unwrap_err().to_string();
        assert!(err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn the_start_time_identifies_a_process() {
    let me = std::process::id();
    let start = start_time(me).unwrap();
    assert!(is_alive(me, start));
    assert!(
        !is_alive(me, start + 1),
        "same pid, other start: a reused pid"
    );
    // pid_max is at most 2^22.
    assert!(!is_alive(99_999_999, start));
}

#[test]
fn folders_without_a_live_supervisor_are_stopped() {
    let root = tempfile::tempdir().unwrap();
    assert!(status(root.path(), "none").is_none());
    let dir = root.path().join("gone");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(PID_FILE), "99999999 1\n").unwrap();
    assert!(matches!(status(root.path(), "gone"), Some(Status::Stopped)));
    let me = std::process::id();
    let starting = root.path().join("starting");
    std::fs::create_dir(&starting).unwrap();
    std::fs::write(
        starting.join(PID_FILE),
        format!("{me} {}\n", start_time(me).unwrap()),
    )
    .unwrap();
    assert!(matches!(status(root.path(), "starting"), Some(Status::Starting { pid }) if pid == me));
    std::fs::create_dir(root.path().join("Not_A_Name")).unwrap();
    let names: Vec<String> = list(root.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["gone", "starting"]);
    assert!(matches!(
        down(root.path(), "gone", Duration::ZERO),
        Ok(Status::Stopped)
    ));
    assert!(!dir.exists());
    assert!(matches!(
        down(root.path(), "gone", Duration::ZERO),
        Err(ControlPlaneError::LocalNotFound { .. })
    ));
}
