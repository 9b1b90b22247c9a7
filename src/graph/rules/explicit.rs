//! Explicit ordering written by the user: `config.kubernetes.io/depends-on` (cli-utils syntax).

use crate::graph::GraphError;
use crate::graph::builder::{Builder, Ref};
use crate::graph::model::Rule;
use crate::object::Object;

pub const DEPENDS_ON: &str = "config.kubernetes.io/depends-on";

/// One reference of the annotation: `group/namespaces/ns/Kind/name` or `group/Kind/name` (cluster-scoped).
#[derive(Debug, PartialEq, Eq)]
pub struct DependsOnRef<'v> {
    pub group: &'v str,
    pub kind: &'v str,
    pub namespace: Option<&'v str>,
    pub name: &'v str,
}

/// Parses a comma-separated `config.kubernetes.io/depends-on` value.
///
/// # Errors
/// A reference that has neither 3 nor 5 `/`-separated parts, an empty kind or name, or a 5-part reference
/// whose second part is not `namespaces`.
pub fn parse_depends_on(value: &str) -> Result<Vec<DependsOnRef<'_>>, String> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split('/').collect();
        let r = match parts[..] {
            [group, kind, name] => DependsOnRef {
                group,
                kind,
                namespace: None,
                name,
            },
            [group, "namespaces", ns, kind, name] if !ns.is_empty() => DependsOnRef {
                group,
                kind,
                namespace: Some(ns),
                name,
            },
            _ => {
                return Err(format!(
                    "{item:?}: expected group/namespaces/NAMESPACE/Kind/name or group/Kind/name"
                ));
            }
        };
        if r.kind.is_empty() || r.name.is_empty() {
            return Err(format!("{item:?}: empty kind or name"));
        }
        out.push(r);
    }
    Ok(out)
}

/// Object → every object its `config.kubernetes.io/depends-on` annotation names.
///
/// # Errors
/// [`GraphError::InvalidAnnotation`] naming the object and where it is declared.
pub fn add_depends_on_edges(b: &mut Builder<'_>) -> Result<(), GraphError> {
    for n in 0..b.len() {
        let o: &Object = b.objects[n];
        let Some(value) = o.annotation(DEPENDS_ON) else {
            continue;
        };
        let refs = parse_depends_on(value).map_err(|reason| GraphError::InvalidAnnotation {
            object: format!("{} ({})", o.id, o.source),
            annotation: DEPENDS_ON,
            value: value.to_string(),
            reason,
        })?;
        for r in refs {
            b.reference(
                n,
                Ref::new(r.group, r.kind, r.namespace, r.name),
                Rule::DependsOn,
                DEPENDS_ON,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::graph::testutil::{Case, check_cases, object};

    #[test]
    fn parse() {
        let cases: &[(&str, &str, Result<usize, &str>)] = &[
            ("namespaced", "apps/namespaces/shop/Deployment/api", Ok(1)),
            ("cluster-scoped core", "/Namespace/shop", Ok(1)),
            (
                "several with spaces",
                "/namespaces/a/Secret/s, rbac.authorization.k8s.io/ClusterRole/r",
                Ok(2),
            ),
            ("four parts", "apps/shop/Deployment/api", Err("expected")),
            (
                "not namespaces",
                "apps/ns/shop/Deployment/api",
                Err("expected"),
            ),
            ("empty name", "apps/Deployment/", Err("empty")),
        ];
        for (name, value, want) in cases {
            match (parse_depends_on(value), want) {
                (Ok(refs), Ok(n)) => assert_eq!(refs.len(), *n, "{name}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{name}: {e}"),
                (got, _) => panic!("{name}: got {got:?}"),
            }
        }
        assert_eq!(
            parse_depends_on("/namespaces/a/Secret/s").unwrap(),
            vec![DependsOnRef {
                group: "",
                kind: "Secret",
                namespace: Some("a"),
                name: "s"
            }]
        );
    }

    #[test]
    fn depends_on_edges() {
        let secret = || {
            object(
                "apps",
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}),
            )
        };
        let job = |value: &str| {
            object(
                "apps",
                json!({"apiVersion": "batch/v1", "kind": "Job",
                    "metadata": {"name": "j", "namespace": "a", "annotations": {DEPENDS_ON: value}}}),
            )
        };
        let cases = vec![
            Case::new(
                "edge to a named object",
                vec![secret(), job("/namespaces/a/Secret/s")],
            )
            .edges(&["Job/a/j -> Secret/a/s: DependsOn (config.kubernetes.io/depends-on)"]),
            Case::new(
                "absent object is external",
                vec![job("/namespaces/a/Secret/t")],
            )
            .externals(&["Job/a/j -> Secret/a/t: DependsOn (config.kubernetes.io/depends-on)"]),
        ];
        check_cases(cases, |b: &mut Builder<'_>| {
            add_depends_on_edges(b).expect("valid annotation")
        });
    }

    #[test]
    fn invalid_annotation_is_an_error() {
        let objects = vec![object(
            "apps",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a",
                "annotations": {DEPENDS_ON: "Secret/s"}}}),
        )];
        let layers = crate::graph::testutil::layers_of(&objects);
        let err = crate::graph::build(&layers, &objects, &Default::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Secret/a/s (apps/secret-s.yaml:1): invalid config.kubernetes.io/depends-on \"Secret/s\": \
             \"Secret/s\": expected group/namespaces/NAMESPACE/Kind/name or group/Kind/name"
        );
    }
}
