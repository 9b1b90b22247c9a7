//! Renderings and exit codes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{deployment, drifted_live, object, report};
use crate::diff::DiffOptions;
use crate::diff::{DryRun, Observation};
use crate::drift::classify::desired;
use crate::drift::*;
use crate::object::ObjectId;

#[test]
fn secrets_are_masked() {
    let secret = |v: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": v}});
    let obs = Observation {
        live: Some(secret("aHVudGVyMg==")),
        dry_run: DryRun::Ok(secret("c2VjcmV0")),
    };
    let f = desired(&object(secret("c2VjcmV0")), &obs, &DiffOptions::default());
    let f = f.unwrap_or_else(|| panic!("drift expected"));
    let report = report(vec![f], Class::ALL.into());
    for rendered in [
        render_text(&report),
        render_junit(&report),
        serde_json::to_string(&report).unwrap_or_default(),
    ] {
        assert!(
            !rendered.contains("aHVudGVyMg==") && !rendered.contains("c2VjcmV0"),
            "{rendered}"
        );
        assert!(rendered.contains("*** (before)"), "{rendered}");
    }
}

#[test]
fn exit_codes_follow_fail_on() {
    let f = |c: Class| Finding::new(c, ObjectId::new("", "ConfigMap", Some("shop"), c.as_str()));
    let all: BTreeSet<Class> = Class::ALL.into();
    let cases = [
        ("in sync", vec![], all.clone(), 0),
        ("modified", vec![f(Class::Modified)], all.clone(), 1),
        (
            "unverifiable is an error",
            vec![f(Class::Modified), f(Class::Unverifiable)],
            all.clone(),
            2,
        ),
        (
            "orphans reported only",
            vec![f(Class::Orphaned)],
            [Class::Modified].into(),
            0,
        ),
        (
            "unmanaged failing",
            vec![f(Class::Orphaned), f(Class::Unmanaged)],
            [Class::Unmanaged].into(),
            1,
        ),
        (
            "unverifiable reported only",
            vec![f(Class::Unverifiable)],
            [Class::Missing].into(),
            0,
        ),
    ];
    for (name, findings, fail_on, code) in cases {
        assert_eq!(report(findings, fail_on).exit_code(), code, "{name}");
    }
}

#[test]
fn junit_rendering() {
    let mut modified = Finding::new(
        Class::Modified,
        ObjectId::new("apps", "Deployment", Some("shop"), "web"),
    );
    modified.source = Some("apps/web.yaml:7".into());
    modified.fields = desired(
        &object(deployment("web:1.0", 2)),
        &Observation {
            live: Some(drifted_live()),
            dry_run: DryRun::Ok(deployment("web:1.0", 2)),
        },
        &DiffOptions::default(),
    )
    .map(|f| f.fields)
    .unwrap_or_default();
    let mut broken = Finding::new(
        Class::Unverifiable,
        ObjectId::new("", "Service", Some("shop"), "api"),
    );
    broken.message =
        Some("Service/shop/api dry-run failed: spec.ports: Required value <\"x\">".into());
    let orphan = Finding::new(
        Class::Orphaned,
        ObjectId::new("", "ConfigMap", Some("shop"), "old"),
    );
    let xml = render_junit(&report(
        vec![modified, broken, orphan],
        [Class::Modified, Class::Unverifiable].into(),
    ));
    let want = [
        r#"<testsuites name="rekube drift" tests="4" failures="1" errors="1" time="0.500">"#,
        r#"<property name="revision" value="0123456789abcdef"/>"#,
        r#"<testcase classname="ConfigMap" name="ConfigMap/shop/a&amp;b" file="apps/c.yaml" line="3"/>"#,
        r#"<testcase classname="Deployment.apps" name="Deployment/shop/web" file="apps/web.yaml" line="7">"#,
        r#"<failure type="modified" message="modified Deployment/shop/web: spec.template.spec.containers[name=web].image by kubectl-set">"#,
        r#"<error type="unverifiable" message="unverifiable Service/shop/api: Service/shop/api dry-run failed: spec.ports: Required value &lt;&quot;x&quot;&gt;">"#,
        "<system-out>orphaned ConfigMap/shop/old (reported only)",
    ];
    for w in want {
        assert!(xml.contains(w), "missing {w}\n{xml}");
    }
    assert_eq!(
        xml.matches("<testcase").count(),
        4,
        "one test case per object"
    );
    assert_eq!(xml.matches("</testcase>").count(), 3);
}

#[test]
fn text_rendering() {
    let mut f = Finding::new(
        Class::Missing,
        ObjectId::new("", "ConfigMap", Some("shop"), "cfg"),
    );
    f.source = Some("apps/cfg.yaml:1".into());
    let text = render_text(&report(vec![f], Class::ALL.into()));
    assert!(
        text.contains("at 0123456789abcdef"),
        "prints the commit: {text}"
    );
    assert!(
        text.contains("missing       ConfigMap/shop/cfg (apps/cfg.yaml:1)"),
        "{text}"
    );
    assert!(
        text.contains("DRIFT: 1 missing; 1 of 3 object(s) in sync"),
        "{text}"
    );
    let clean = render_text(&report(vec![], Class::ALL.into()));
    assert!(
        clean.contains("in sync: 1 of 3 object(s) match Git"),
        "{clean}"
    );
    let counts: BTreeMap<Class, usize> = report(vec![], Class::ALL.into()).counts();
    assert!(counts.is_empty());
}
