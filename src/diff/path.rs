//! Field paths (`spec.template.spec.containers[name=app].image`) and the paths that differ between
//! two objects.
//!
//! Lists whose items are all maps with a distinct `name` are compared item by item by name, the way
//! server-side apply merges its associative lists (containers, env, volumes, ports…), so inserting a
//! container does not report every later index as changed. Other lists are compared by index.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// A map key.
    Field(String),
    /// An item of a list keyed by `name`. `item` is the whole item as the live object has it (or the
    /// desired one, when it is new): attribution needs it to match managedFields keys such as
    /// `k:{"containerPort":80,"protocol":"TCP"}` that are not `name`.
    Item { name: String, item: Value },
    /// A position in any other list.
    Index(usize),
}

/// A path to a field: `spec.replicas`, `spec.template.spec.containers[name=app].image`,
/// `metadata.labels["app.kubernetes.io/name"]`, `spec.args[2]`. Serialises as that string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    fn child(&self, segment: Segment) -> FieldPath {
        let mut segments = self.0.clone();
        segments.push(segment);
        FieldPath(segments)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(key) if is_plain(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                // Keys with dots or slashes (labels, ConfigMap file names) would be ambiguous.
                Segment::Field(key) => write!(f, "[{}]", Value::String(key.clone()))?,
                Segment::Item { name, .. } => write!(f, "[name={name}]")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Paths of the leaves and subtrees that differ, in order: map keys sorted, named items in the live
/// order then new ones in the desired order. A subtree present on one side only is one path.
pub fn changed_paths(before: &Value, after: &Value) -> Vec<FieldPath> {
    let mut out = Vec::new();
    walk(&FieldPath::default(), Some(before), Some(after), &mut out);
    out
}

fn walk(path: &FieldPath, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldPath>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b
                .keys()
                .chain(a.keys().filter(|k| !b.contains_key(*k)))
                .collect();
            keys.sort();
            for key in keys {
                walk(
                    &path.child(Segment::Field(key.clone())),
                    b.get(key),
                    a.get(key),
                    out,
                );
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(a))) => match (named(b), named(a)) {
            (Some(bn), Some(an)) => {
                let mut names: Vec<&str> = bn.iter().map(|(n, _)| *n).collect();
                let added: Vec<&str> = an
                    .iter()
                    .map(|(n, _)| *n)
                    .filter(|n| !names.contains(n))
                    .collect();
                names.extend(added);
                for name in names {
                    let old = bn.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
                    let new = an.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
                    let item = old.or(new).cloned().unwrap_or(Value::Null);
                    let segment = Segment::Item {
                        name: name.to_string(),
                        item,
                    };
                    walk(&path.child(segment), old, new, out);
                }
            }
            _ => {
                for i in 0..b.len().max(a.len()) {
                    walk(&path.child(Segment::Index(i)), b.get(i), a.get(i), out);
                }
            }
        },
        _ => out.push(path.clone()),
    }
}

/// `(name, item)` when every item is a map with a string `name` and no name repeats.
fn named(items: &[Value]) -> Option<Vec<(&str, &Value)>> {
    if items.is_empty() {
        return None;
    }
    let mut out: Vec<(&str, &Value)> = Vec::with_capacity(items.len());
    for item in items {
        let name = item.get("name")?.as_str()?;
        if out.iter().any(|(n, _)| *n == name) {
            return None;
        }
        out.push((name, item));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(before: Value, after: Value) -> Vec<String> {
        changed_paths(&before, &after)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn deployment(image: &str, replicas: i64, containers_extra: Option<Value>) -> Value {
        let mut containers = vec![
            json!({"name": "app", "image": image, "ports": [{"name": "http", "containerPort": 8080}]}),
        ];
        containers.extend(containers_extra);
        json!({"spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn cases() {
        let sidecar = json!({"name": "proxy", "image": "envoy:1"});
        let cases: Vec<(&str, Value, Value, Vec<&str>)> = vec![
            (
                "equal",
                deployment("a:1", 3, None),
                deployment("a:1", 3, None),
                vec![],
            ),
            (
                "scalar",
                deployment("a:1", 3, None),
                deployment("a:1", 5, None),
                vec!["spec.replicas"],
            ),
            (
                "list item keyed by name",
                deployment("a:1", 3, None),
                deployment("a:2", 5, None),
                vec![
                    "spec.replicas",
                    "spec.template.spec.containers[name=app].image",
                ],
            ),
            (
                "an added item is one path",
                deployment("a:1", 3, None),
                deployment("a:1", 3, Some(sidecar)),
                vec!["spec.template.spec.containers[name=proxy]"],
            ),
            (
                "lists without names go by index",
                json!({"args": ["a", "b"]}),
                json!({"args": ["a", "c", "d"]}),
                vec!["args[1]", "args[2]"],
            ),
            (
                "duplicate names go by index",
                json!({"l": [{"name": "x", "v": 1}, {"name": "x", "v": 2}]}),
                json!({"l": [{"name": "x", "v": 1}, {"name": "x", "v": 3}]}),
                vec!["l[1].v"],
            ),
            (
                "keys that need quoting",
                json!({"metadata": {"labels": {"app.kubernetes.io/name": "a"}}, "data": {"config.yaml": "x"}}),
                json!({"metadata": {"labels": {"app.kubernetes.io/name": "b"}}, "data": {"config.yaml": "y"}}),
                vec![
                    "data[\"config.yaml\"]",
                    "metadata.labels[\"app.kubernetes.io/name\"]",
                ],
            ),
            (
                "removed key",
                json!({"a": 1, "b": 2}),
                json!({"a": 1}),
                vec!["b"],
            ),
            (
                "type change",
                json!({"a": {"x": 1}}),
                json!({"a": [1]}),
                vec!["a"],
            ),
        ];
        for (name, before, after, want) in cases {
            assert_eq!(paths(before, after), want, "{name}");
        }
    }

    #[test]
    fn serialises_as_text() {
        let p = &changed_paths(
            &json!({"spec": {"replicas": 1}}),
            &json!({"spec": {"replicas": 2}}),
        )[0];
        assert_eq!(serde_json::to_value(p).ok(), Some(json!("spec.replicas")));
    }
}
