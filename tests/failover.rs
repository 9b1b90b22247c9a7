//! `rekube drill --fresh local --failover` on examples/platform (a primary, a warm standby and a pilot
//! light, each in its own real local control plane): it passes and reports the failover recovery time
//! next to the cold-rebuild one; a repository it cannot drill is exit 2 before any control plane starts.

mod support;

use support::{Rekube, code, root, stderr, stdout, text};

fn platform() -> String {
    root().join("examples/platform").display().to_string()
}

/// `… RTO 1.16s …` → 1.16, for the figure after `label`.
fn seconds_after(out: &str, label: &str) -> f64 {
    let rest = out
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("{label:?} in {out}"));
    let number: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .parse()
        .unwrap_or_else(|e| panic!("{label:?} {number:?}: {e}"))
}

#[test]
fn a_failover_drill_of_the_platform_passes_and_reports_both_recovery_times() {
    let rekube = Rekube::fresh_local();
    let repo = platform();
    let out = rekube.run(&["drill", &repo, "--fresh", "local", "--failover"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let report = stdout(&out);
    assert!(
        report.contains("cluster eu (primary): cold rebuild in"),
        "{report}"
    );
    assert!(
        report.contains("cluster us (standby (warm)): built by its model in"),
        "{report}"
    );
    assert!(
        report
            .contains("cluster dr (standby (pilot light: cluster, tools)): built by its model in"),
        "{report}"
    );
    assert!(report.contains("primary eu destroyed"), "{report}");
    assert!(
        report.contains("promoted: cluster us (standby (warm)): recovery time"),
        "{report}"
    );
    assert!(
        report.contains("drift of us after the promotion: none"),
        "{report}"
    );
    assert!(report.contains("FAILOVER DRILL PASSED"), "{report}");
    let failover = seconds_after(&report, "failover RTO");
    let cold = seconds_after(&report, "cold-rebuild RTO");
    assert!(failover > 0.0 && cold > 0.0, "{report}");
    assert!(
        failover < cold,
        "a warm standby takes over faster than a cold rebuild: {report}"
    );

    let junit = rekube.cache().join("failover.xml");
    let junit_s = junit.display().to_string();
    let json_out = rekube.run(&[
        "drill",
        &repo,
        "--fresh",
        "local",
        "--failover",
        "--promote",
        "dr",
        "-o",
        "json",
        "--report",
        &junit_s,
    ]);
    assert_eq!(code(&json_out), 0, "{}", text(&json_out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&json_out)).expect("JSON");
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["primary"], "eu");
    assert_eq!(v["promoted"], "dr");
    assert!(v["coldRtoSeconds"].as_f64().is_some_and(|s| s > 0.0), "{v}");
    assert!(
        v["failoverRtoSeconds"].as_f64().is_some_and(|s| s > 0.0),
        "{v}"
    );
    assert_eq!(v["clusters"].as_array().map(Vec::len), Some(3), "{v}");
    assert!(
        v["promotion"]["created"].as_u64().is_some_and(|n| n > 0),
        "a pilot light gets its missing layers: {v}"
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(xml.contains("<testsuites"), "{xml}");
    assert!(
        xml.contains("failover RTO") && xml.contains("cold-rebuild RTO"),
        "{xml}"
    );
    assert_eq!(
        v["drift"]["checked"],
        v["promotion"]["apply"]["changes"]["changes"]
            .as_array()
            .map_or(0, Vec::len),
        "{v}"
    );
}

#[test]
fn a_repository_that_cannot_fail_over_is_refused() {
    let rekube = Rekube::fresh_local();
    let repo = platform();
    let primary = rekube.run(&["drill", &repo, "--failover", "--promote", "eu"]);
    assert_eq!(code(&primary), 2, "{}", text(&primary));
    assert!(
        stderr(&primary).contains("cluster \"eu\" (rekube.yaml:")
            && stderr(&primary).contains("is a primary: only a standby is promoted"),
        "{}",
        text(&primary)
    );
    let unknown = rekube.run(&["drill", &repo, "--failover", "--promote", "ap"]);
    assert_eq!(code(&unknown), 2, "{}", text(&unknown));
    assert!(
        stderr(&unknown).contains("--promote ap: no such cluster"),
        "{}",
        text(&unknown)
    );

    let plain = tempfile::tempdir().expect("repo");
    support::write(
        plain.path(),
        "apps/cm.yaml",
        &support::config_map("default", "a", "b"),
    );
    let none = rekube.run(&["drill", plain.path().to_str().expect("utf-8"), "--failover"]);
    assert_eq!(code(&none), 2, "{}", text(&none));
    assert!(
        stderr(&none).contains("declares no `clusters:`"),
        "{}",
        text(&none)
    );
    let promote_alone = rekube.run(&["drill", &repo, "--promote", "us"]);
    assert_eq!(
        code(&promote_alone),
        2,
        "--promote needs --failover: {}",
        text(&promote_alone)
    );
}
