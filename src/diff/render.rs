//! YAML rendering and the unified diff of two renderings.
//!
//! Keys are sorted (the canonical form) before rendering, as `kubectl diff` and `kubectl get -o yaml`
//! print them: the API server's own order differs between built-in kinds (Go struct order) and
//! custom resources (sorted), and a client that decodes into typed metadata reorders it again. Sorted
//! keys make the same object render the same whatever path it took, so a diff shows only changes.

use serde_json::Value;
use similar::TextDiff;

use super::normalize::canonical;

/// The object as YAML, keys sorted.
pub fn to_yaml(obj: &Value) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(&canonical(obj))
}

/// A unified diff (`---`/`+++` headers, `@@` hunks) of two texts; empty when they are equal.
pub fn unified(old: &str, new: &str, old_header: &str, new_header: &str, context: usize) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(context)
        .header(old_header, new_header)
        .to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn yaml_is_sorted_and_readable() {
        let obj = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": {"z": "1", "app.yaml": "a: 1\nb: 2\n"}});
        let want = "apiVersion: v1\ndata:\n  app.yaml: |\n    a: 1\n    b: 2\n  z: \"1\"\nkind: ConfigMap\nmetadata:\n  name: c\n";
        assert_eq!(to_yaml(&obj).ok().as_deref(), Some(want));
    }

    #[test]
    fn unified_diff() {
        assert_eq!(unified("a: 1\n", "a: 1\n", "x", "y", 3), "");
        let d = unified("a: 1\nb: 2\n", "a: 1\nb: 3\n", "live", "desired", 3);
        assert_eq!(
            d,
            "--- live\n+++ desired\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n"
        );
        let created = unified("", "a: 1\n", "live", "desired", 3);
        assert_eq!(created, "--- live\n+++ desired\n@@ -0,0 +1 @@\n+a: 1\n");
    }
}
