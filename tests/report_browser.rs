//! The HTML DR report in a real browser: headless Chromium (Debian's `chromium`) loads the page a drill
//! wrote, with no console message at all, runs its script, and shows one timeline bar per object; the
//! test saves a screenshot under `target/test-output/report-browser/` for people to look at.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use support::{Rekube, fixture, output_dir, which};

fn chromium() -> PathBuf {
    if let Some(path) = ["chromium", "chromium-browser"].into_iter().find_map(which) {
        return path;
    }
    panic!(
        "headless Chromium is needed for this test: install the Debian package `chromium` (.ci/run does)"
    );
}

/// Runs headless Chromium on `page` with `extra` arguments, a fresh profile, logging on stderr.
fn browse(page: &Path, extra: &[&str]) -> Output {
    let profile = tempfile::tempdir().expect("profile");
    let url = format!("file://{}", page.display());
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(&url)
    .stdin(Stdio::null());
    let out = cmd.output().expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The page's console messages, as Chromium logs them (`…:CONSOLE…] "message", source: …`).
fn console(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect()
}

/// Drills `repo` with `--report page`; returns the exit code and the JSON report.
fn drill(repo: &Path, page: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let repo = repo.to_str().expect("utf-8");
    let page = page.to_str().expect("utf-8");
    let args = [
        &["drill", repo, "--output", "json"],
        extra,
        &["--report", page],
    ]
    .concat();
    let out = Rekube::fresh_local().run(&args);
    let report = serde_json::from_slice(&out.stdout).expect("json");
    (out.status.code(), report)
}

#[test]
fn the_html_report_loads_cleanly_in_chromium_with_one_bar_per_object() {
    let dir = output_dir("report-browser");
    let page = dir.join("drill.html");
    let repo = fixture("drill/kube-prometheus");
    let (code, report) = drill(&repo, &page, &[]);
    assert_eq!(code, Some(0), "the drill passes");
    let objects = report["rebuild"]["changes"]["changes"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(objects > 20, "{objects} objects");

    // The DOM after the script ran: it counted the bars and marked itself ready.
    let dom = browse(&page, &["--dump-dom"]);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        html.contains("data-ready=\"true\""),
        "the script ran to its end"
    );
    assert!(
        html.contains(&format!("data-bars=\"{objects}\"")),
        "one bar per object ({objects})"
    );
    assert_eq!(html.matches("<rect class=\"bar ").count(), objects);
    assert!(
        html.contains(" critical\""),
        "the critical path is highlighted"
    );
    assert!(html.contains("APIService/v1beta1.metrics.k8s.io"));
    assert_eq!(console(&dom), Vec::<String>::new(), "no console messages");

    let screenshot = dir.join("drill.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = browse(
        &page,
        &[
            "--window-size=1400,1800",
            &format!("--screenshot={}", screenshot.display()),
        ],
    );
    assert_eq!(console(&shot), Vec::<String>::new(), "no console messages");
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot ({} bytes)",
        png.len()
    );
    eprintln!("screenshot: {}", screenshot.display());
}

#[test]
fn a_failed_drill_report_shows_what_blocked_what_in_chromium() {
    let dir = output_dir("report-browser");
    let page = dir.join("failed-drill.html");
    let repo = tempfile::tempdir().expect("repo");
    let write = |path: &str, text: &str| {
        let file = repo.path().join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("folder");
        std::fs::write(file, text).expect("write");
    };
    write(
        "cluster/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: stuck}\n",
    );
    // A Job that never runs (no Node has the label), and what needs it done.
    write(
        "apps/job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, namespace: stuck}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      nodeSelector: {no-such-label: \"true\"}\n      containers: [{name: m, image: x/m:1}]\n",
    );
    write(
        "apps/app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-migrate\n  namespace: stuck\n  annotations: {config.kubernetes.io/depends-on: batch/namespaces/stuck/Job/migrate}\n",
    );
    let (code, report) = drill(repo.path(), &page, &["--timeout", "5s"]);
    assert_eq!(code, Some(2), "the drill fails");
    let objects = report["rebuild"]["changes"]["changes"]
        .as_array()
        .map_or(0, Vec::len);
    let dom = browse(&page, &["--dump-dom"]);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        html.contains("data-ready=\"true\""),
        "the script ran to its end"
    );
    assert!(
        html.contains(&format!("data-bars=\"{objects}\"")),
        "one bar per object ({objects})"
    );
    assert!(html.contains("DRILL FAILED"));
    assert!(html.contains("What blocked what"));
    assert!(html.contains("ConfigMap/stuck/after-migrate"));
    assert_eq!(console(&dom), Vec::<String>::new(), "no console messages");
    let screenshot = dir.join("failed-drill.png");
    browse(
        &page,
        &[
            "--window-size=1400,1400",
            &format!("--screenshot={}", screenshot.display()),
        ],
    );
    assert!(std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 10_000));
}
