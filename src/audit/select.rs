//! Label selectors (`matchLabels`, `matchExpressions`) against a pod template's labels, and the
//! disruption a PodDisruptionBudget allows.

use serde_json::{Map, Value};

/// Whether `selector` (a `LabelSelector`) selects `labels`. An empty selector selects everything (as a
/// `policy/v1` PodDisruptionBudget's does); a malformed one selects nothing.
pub fn matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let Some(selector) = selector.as_object() else {
        return false;
    };
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    let by_label = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let by_expression = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|exprs| {
            exprs.iter().all(|e| {
                let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
                let values: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let have = label(key);
                match e.get("operator").and_then(Value::as_str) {
                    Some("In") => have.is_some_and(|h| values.contains(&h)),
                    Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
                    Some("Exists") => have.is_some(),
                    Some("DoesNotExist") => have.is_none(),
                    _ => false,
                }
            })
        });
    by_label && by_expression
}

/// Why a PodDisruptionBudget lets no pod of `replicas` be evicted, if it does: `maxUnavailable` 0, or
/// `minAvailable` of every replica (a count or a percentage, rounded up as the disruption controller does).
pub fn blocks_eviction(spec: &Value, replicas: i64) -> Option<String> {
    if let Some(max) = spec.get("maxUnavailable") {
        let zero = match max {
            Value::Number(n) => n.as_i64() == Some(0),
            Value::String(s) => percent(s) == Some(0),
            _ => false,
        };
        return zero.then(|| format!("maxUnavailable {}", plain(max)));
    }
    let min = spec.get("minAvailable")?;
    let needed = match min {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => match percent(s) {
            Some(p) => (replicas * p + 99) / 100,
            None => s.parse().ok()?,
        },
        _ => return None,
    };
    (needed >= replicas).then(|| format!("minAvailable {} of {replicas} replica(s)", plain(min)))
}

fn percent(s: &str) -> Option<i64> {
    s.strip_suffix('%')?.trim().parse().ok()
}

/// An IntOrString as written, without JSON quotes.
fn plain(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}
