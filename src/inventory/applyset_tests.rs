use serde_json::json;

use super::*;

#[test]
fn ids_match_kubectl() {
    let cases = [
        (
            "kubectl's own test vector (applyset_test.go: Secret my-set in test)",
            applyset_id("my-set", "test", "Secret", ""),
            "applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1",
        ),
        (
            "a ConfigMap parent hashes its kind",
            applyset_id("my-set", "test", "ConfigMap", ""),
            "applyset-gixR4KUFBNRxOPyC-scYMHmBW0ziohNNkE_oCmTLycQ-v1",
        ),
        (
            "the default inventory",
            ApplySet::new("default").map(|s| s.id()).unwrap_or_default(),
            "applyset-Q9uNC4UB-sSJvoD0E9cwqo5fF40gYLoaZTBR2GCd4YQ-v1",
        ),
    ];
    for (name, got, want) in cases {
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn names() {
    let cases = [
        ("plain", "default", true),
        ("dots and dashes", "prod.eu-1", true),
        ("empty", "", false),
        ("upper case", "Prod", false),
        ("slash", "a/b", false),
        ("trailing dash", "prod-", false),
    ];
    for (name, input, ok) in cases {
        assert_eq!(ApplySet::new(input).is_ok(), ok, "{name}");
    }
}

#[test]
fn contents_and_annotations() {
    let ids = [
        ObjectId::new("apps", "Deployment", Some("web"), "api"),
        ObjectId::new("", "Namespace", None, "web"),
        ObjectId::new("", "ConfigMap", Some("db"), "c"),
        ObjectId::new("cert-manager.io", "Certificate", Some("web"), "tls"),
        ObjectId::new("", "Secret", Some("rekube-system"), "x"),
    ];
    let c = Contents::of(ids.iter());
    assert_eq!(
        c.group_kinds_annotation(),
        "Certificate.cert-manager.io,ConfigMap,Deployment.apps,Namespace,Secret",
        "sorted as text, core kinds without a group"
    );
    assert_eq!(
        c.namespaces_annotation(),
        "db,web",
        "the parent's namespace is not additional"
    );
    let back = Contents::parse(&c.group_kinds_annotation(), &c.namespaces_annotation());
    assert_eq!(back, c, "round trip");
    assert_eq!(
        Contents::parse("", ""),
        Contents::default(),
        "empty annotations: empty set"
    );
    let more = Contents::parse("Service,ConfigMap", "other");
    let u = c.union(&more);
    assert_eq!(u.group_kinds.len(), 6);
    assert_eq!(u.namespaces_annotation(), "db,other,web");
}

#[test]
fn parent_round_trip_and_ownership() {
    let set = ApplySet::new("prod").unwrap_or_else(|e| panic!("{e}"));
    let contents = Contents::parse("ConfigMap,Deployment.apps", "web");
    let releases =
        std::collections::BTreeMap::from([("web/podinfo".to_string(), "sha256:1".to_string())]);
    let recorded = Recorded {
        contents: contents.clone(),
        revision: Some("abc123".into()),
        releases,
        owner: Some("github.com/acme/platform".into()),
        lock: Some(Lock {
            holder: "ci-1-ab12".into(),
            renewed: "2026-01-01T00:00:00Z".into(),
        }),
    };
    let body = set.parent_body(&recorded);
    assert_eq!(body["metadata"]["name"], "rekube-prod");
    assert_eq!(body["metadata"]["namespace"], "rekube-system");
    assert_eq!(body["metadata"]["labels"][LABEL_ID], set.id());
    assert!(
        body["metadata"]["annotations"][ANNOTATION_TOOLING]
            .as_str()
            .is_some_and(|t| t.starts_with("rekube/"))
    );
    let read = set.read_parent(&body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read, recorded);
    let free = Recorded {
        lock: None,
        ..recorded
    };
    let body = set.parent_body(&free);
    assert_eq!(
        body["metadata"]["annotations"][ANNOTATION_LOCK_HOLDER], "",
        "a free lock is written empty, so that the apply clears it"
    );
    assert_eq!(set.read_parent(&body).ok(), Some(free));

    let cases = [
        (
            "kubectl's set",
            json!({"metadata": {"labels": {LABEL_ID: set.id()}, "annotations": {ANNOTATION_TOOLING: "kubectl/v1.34"}}}),
            "managed by kubectl/v1.34",
        ),
        (
            "no tooling",
            json!({"metadata": {"labels": {LABEL_ID: set.id()}}}),
            "no tooling annotation",
        ),
        (
            "another id",
            json!({"metadata": {"labels": {LABEL_ID: "applyset-x-v1"}, "annotations": {ANNOTATION_TOOLING: "rekube/9"}}}),
            "applyset-x-v1",
        ),
    ];
    for (name, live, want) in cases {
        let err = set
            .read_parent(&live)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("Secret/rekube-system/rekube-prod"),
            "{name}: {err}"
        );
        assert!(err.contains(want), "{name}: {err}");
    }
}

#[test]
fn member_labels_and_selector() {
    let set = ApplySet::new("default").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.member_labels().get(LABEL_PART_OF), Some(&set.id()));
    assert_eq!(
        set.selector(),
        format!("applyset.kubernetes.io/part-of={}", set.id())
    );
    assert_eq!(
        set.parent().to_string(),
        "Secret/rekube-system/rekube-default"
    );
}
