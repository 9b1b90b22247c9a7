//! Tests of child processes and their cleanup.

use super::*;

#[test]
fn spawned_children_run_and_are_reaped() {
    let dir = tempfile::tempdir().unwrap();
    let cleanup = Cleanup::register(dir.path().join("logs"), vec![]);
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let log = dir.path().join("logs/echo.log");
    let mut component = Component::start(
        "echo",
        Path::new("/bin/sh"),
        &["-c".to_owned(), "echo one; echo two; exit 3".to_owned()],
        log.clone(),
        &cleanup,
    )
    .unwrap();
    let status = loop {
        if let Some(status) = component.exited(&cleanup) {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(3));
    assert_eq!(log_tail(&log, 1), "two");
    assert_eq!(log_tail(&log, 5), "one\ntwo");
    assert_eq!(cleanup.finish(false).unwrap(), None);
    assert!(!dir.path().join("logs").exists());
}

#[test]
fn orphans_of_dead_processes_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join(format!("x-{}-abc", std::process::id()));
    // pid_max is at most 2^22: this pid cannot exist.
    let orphan = dir.path().join("x-99999999-abc");
    let kept = dir.path().join("x-99999999-def");
    let other = dir.path().join("y-99999999-abc");
    for d in [&mine, &orphan, &kept, &other] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(kept.join(KEPT_MARKER), "").unwrap();
    sweep_orphans(dir.path(), "x-");
    assert!(mine.exists());
    assert!(!orphan.exists());
    assert!(kept.exists());
    assert!(other.exists());
}

#[test]
fn kept_logs_survive_finish() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&logs).unwrap();
    std::fs::create_dir(&scratch).unwrap();
    let cleanup = Cleanup::register(logs.clone(), vec![scratch.clone()]);
    cleanup.keep_logs();
    assert_eq!(cleanup.finish(false).unwrap(), Some(logs.clone()));
    assert!(logs.exists());
    assert!(!scratch.exists());
}
