//! Whether an observation is recent enough to judge. After a write, a watch cache may still hold the
//! object as it was before (generation N, observedGeneration N: "rolled out"), so an observation only
//! counts when it is at least as new as what the write returned.

use serde_json::Value;

/// True when `observed` is at least as new as `applied` (the object the write returned): same or
/// later resourceVersion, and for kinds with a generation, the same or a later one. Resource versions
/// are compared as numbers, as etcd-backed servers issue them; when either is not a number, the
/// generation alone decides.
pub fn is_as_new_as(observed: &Value, applied: &Value) -> bool {
    let uid = |v: &Value| {
        v.pointer("/metadata/uid")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if uid(observed) != uid(applied) {
        // Another incarnation of the object (deleted and created again): judge the one there is.
        return true;
    }
    let number = |v: &Value, p: &str| {
        v.pointer(p).and_then(|x| match x {
            Value::String(s) => s.parse::<u64>().ok(),
            other => other.as_u64(),
        })
    };
    let rv = "/metadata/resourceVersion";
    let generation = "/metadata/generation";
    let rv_ok = match (number(observed, rv), number(applied, rv)) {
        (Some(o), Some(a)) => o >= a,
        _ => true,
    };
    let generation_ok = match (number(observed, generation), number(applied, generation)) {
        (Some(o), Some(a)) => o >= a,
        (None, Some(_)) => false,
        _ => true,
    };
    rv_ok && generation_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(uid: &str, rv: &str, generation: Option<u64>) -> Value {
        let mut v = json!({"metadata": {"uid": uid, "resourceVersion": rv}});
        if let Some(g) = generation {
            v["metadata"]["generation"] = json!(g);
        }
        v
    }

    #[test]
    fn observations_older_than_the_write_do_not_count() {
        let applied = obj("u", "120", Some(3));
        let cases = [
            (
                "the cached copy before the write",
                obj("u", "100", Some(2)),
                false,
            ),
            ("same resourceVersion", obj("u", "120", Some(3)), true),
            ("a later status update", obj("u", "125", Some(3)), true),
            ("a later spec change", obj("u", "130", Some(4)), true),
            (
                "an older generation, oddly a newer version",
                obj("u", "130", Some(2)),
                false,
            ),
            ("another incarnation", obj("v", "90", Some(1)), true),
            (
                "opaque versions: the generation decides",
                obj("u", "abc", Some(3)),
                true,
            ),
        ];
        for (name, observed, want) in cases {
            assert_eq!(is_as_new_as(&observed, &applied), want, "{name}");
        }
        let plain = obj("u", "120", None);
        assert!(
            !is_as_new_as(&obj("u", "119", None), &plain),
            "no generation: the version decides"
        );
        assert!(is_as_new_as(&obj("u", "121", None), &plain));
    }
}
