//! Concrete fields of an object, named by JSON pointer tokens or by the keys server-side apply records
//! in `managedFields`, and the three things done with them: read, remove ([`strip`]) and take from the
//! live object ([`overlay`]).

use std::fmt;

use serde_json::{Map, Value};

/// One step into an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A JSON pointer token: a map key, or a list index when the value is a list.
    Token(String),
    /// An item of an associative list, by its key fields (`k:{"name":"app"}` in managedFields).
    Keyed(Map<String, Value>),
    /// An item of a set, by value (`v:"x"` in managedFields).
    Item(Value),
}

/// A path to one field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Field(pub Vec<Step>);

/// As a JSON pointer where it is one; list items by key as `[key=value]`.
impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.0 {
            match step {
                Step::Token(t) => write!(f, "/{}", t.replace('~', "~0").replace('/', "~1"))?,
                Step::Keyed(keys) => write!(f, "/[{}]", Value::Object(keys.clone()))?,
                Step::Item(v) => write!(f, "/[{v}]")?,
            }
        }
        Ok(())
    }
}

/// Parses an RFC 6901 JSON pointer (`/spec/replicas`, `/metadata/annotations/example.com~1owner`).
///
/// # Errors
/// Why it is not a pointer: it does not start with `/`, or has a `~` not followed by `0` or `1`.
pub fn parse_pointer(s: &str) -> Result<Field, String> {
    let Some(rest) = s.strip_prefix('/') else {
        return Err(format!("{s:?} is not a JSON pointer: it must start with /"));
    };
    let mut steps = Vec::new();
    for raw in rest.split('/') {
        let mut token = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '~' {
                token.push(c);
                continue;
            }
            match chars.next() {
                Some('0') => token.push('~'),
                Some('1') => token.push('/'),
                _ => {
                    return Err(format!(
                        "{s:?} is not a JSON pointer: ~ must be followed by 0 or 1 (~0 is ~, ~1 is /)"
                    ));
                }
            }
        }
        steps.push(Step::Token(token));
    }
    Ok(Field(steps))
}

/// Every field the `fieldsV1` tree of a managedFields entry names: its leaves, and the list items whose
/// existence the manager owns (`.` under `k:`/`v:`). A map's `.` (owning the map itself) is not a
/// field: ignoring it would ignore what other managers set in it.
pub fn managed_fields(fields_v1: &Value) -> Vec<Field> {
    let mut out = Vec::new();
    walk(fields_v1, &mut Vec::new(), &mut out);
    out
}

fn walk(node: &Value, path: &mut Vec<Step>, out: &mut Vec<Field>) {
    let Some(map) = node.as_object() else {
        return;
    };
    let children: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| *k != ".").collect();
    let is_item = matches!(path.last(), Some(Step::Keyed(_) | Step::Item(_)));
    if !path.is_empty() && (children.is_empty() || (is_item && map.contains_key("."))) {
        out.push(Field(path.clone()));
        return;
    }
    for (key, child) in children {
        let step = if let Some(name) = key.strip_prefix("f:") {
            Step::Token(name.to_string())
        } else if let Some(json) = key.strip_prefix("k:") {
            match serde_json::from_str::<Map<String, Value>>(json) {
                Ok(keys) if !keys.is_empty() => Step::Keyed(keys),
                _ => continue,
            }
        } else if let Some(json) = key.strip_prefix("v:") {
            match serde_json::from_str::<Value>(json) {
                Ok(v) => Step::Item(v),
                Err(_) => continue,
            }
        } else {
            // `i:` (list positions) is not written by current API servers; anything else is unknown.
            continue;
        };
        path.push(step);
        walk(child, path, out);
        path.pop();
    }
}

/// Where `step` leads inside a list, if anywhere.
fn list_index(items: &[Value], step: &Step) -> Option<usize> {
    match step {
        Step::Token(t) => t.parse::<usize>().ok().filter(|&i| i < items.len()),
        Step::Keyed(keys) => items
            .iter()
            .position(|item| keys.iter().all(|(k, v)| item.get(k) == Some(v))),
        Step::Item(v) => items.iter().position(|item| item == v),
    }
}

fn child<'a>(node: &'a Value, step: &Step) -> Option<&'a Value> {
    match (node, step) {
        (Value::Object(map), Step::Token(t)) => map.get(t),
        (Value::Array(items), _) => list_index(items, step).map(|i| &items[i]),
        _ => None,
    }
}

fn child_mut<'a>(node: &'a mut Value, step: &Step) -> Option<&'a mut Value> {
    match (node, step) {
        (Value::Object(map), Step::Token(t)) => map.get_mut(t),
        (Value::Array(items), _) => list_index(items, step).map(move |i| &mut items[i]),
        _ => None,
    }
}

/// The value at `field`, if the object has it.
pub fn get<'a>(obj: &'a Value, field: &Field) -> Option<&'a Value> {
    field.0.iter().try_fold(obj, child)
}

/// Removes the value at `field`; true if there was one.
fn remove(obj: &mut Value, field: &Field) -> bool {
    let Some((last, parents)) = field.0.split_last() else {
        return false;
    };
    let Some(parent) = parents.iter().try_fold(obj, child_mut) else {
        return false;
    };
    match parent {
        Value::Object(map) => match last {
            Step::Token(t) => map.remove(t).is_some(),
            _ => false,
        },
        Value::Array(items) => match list_index(items, last) {
            Some(i) => {
                items.remove(i);
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// Replaces the value at `field`, which must exist.
fn replace(obj: &mut Value, field: &Field, value: Value) {
    if let Some(slot) = field.0.iter().try_fold(obj, child_mut) {
        *slot = value;
    }
}

/// The object without the given fields (those it has).
pub fn strip(obj: &Value, fields: &[Field]) -> Value {
    let mut out = obj.clone();
    for f in fields {
        remove(&mut out, f);
    }
    out
}

/// The body to apply to an object that exists, with each ignored field that the body sets taken from
/// the live object (or left out when the live object no longer has it): applying it never resets what
/// another controller set. Fields the body does not set stay unset, so rekube claims nothing new.
pub fn overlay(body: &Value, live: &Value, fields: &[Field]) -> Value {
    let mut out = body.clone();
    for f in fields {
        if get(&out, f).is_none() {
            continue;
        }
        match get(live, f) {
            Some(v) => replace(&mut out, f, v.clone()),
            None => {
                remove(&mut out, f);
            }
        }
    }
    out
}
