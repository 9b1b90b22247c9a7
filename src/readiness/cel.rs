//! CEL expressions over one Kubernetes object, evaluated as Flux evaluates `healthCheckExprs`: the
//! object's top-level fields (`apiVersion`, `kind`, `metadata`, `spec`, `status`…) are the variables,
//! with the standard library, optional values (`status.?phase.orValue('')`) and the strings, lists and
//! base64 extensions. `metadata`, `spec` and `status` are always defined (an empty map when the object
//! has none yet), so `has(status.conditions)` answers instead of failing on a fresh object.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use cel::objects::{Key, Map};
use serde_json::Value;

/// The environment every expression is compiled and run in: built once, shared.
static ENV: LazyLock<Arc<cel::Env>> = LazyLock::new(|| {
    let mut env = cel::Env::stdlib();
    // Declaration errors only happen when an extension is added twice; each is added once here.
    let _ = env.add_extension(cel::extensions::strings);
    let _ = env.add_extension(cel::extensions::lists);
    let _ = env.add_extension(cel::extensions::encoders);
    // cel-go (Flux, Kubernetes) keeps the last of repeated map keys instead of failing.
    env.set_error_on_duplicate_map_keys(false);
    Arc::new(env)
});

/// Variables bound even when the object lacks them.
const ALWAYS_BOUND: [&str; 3] = ["metadata", "spec", "status"];

/// A parsed CEL expression and the text it was parsed from.
#[derive(Clone)]
pub struct Expr {
    source: Arc<str>,
    program: Arc<cel::Program>,
}

impl Expr {
    /// Parses `source`.
    ///
    /// # Errors
    /// The parser's message (with line and column inside the expression) when it does not parse.
    pub fn parse(source: &str) -> Result<Expr, String> {
        if source.trim().is_empty() {
            return Err("is empty".to_string());
        }
        let program = ENV.compile(source).map_err(|e| one_line(&e.to_string()))?;
        Ok(Expr {
            source: source.into(),
            program: Arc::new(program),
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression against bound variables; anything but a boolean result is an error.
    pub(crate) fn eval_bool(&self, vars: &Bindings) -> Result<bool, String> {
        match self.program.execute(&vars.context) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("evaluates to a {}, not a bool", other.type_of())),
            Err(e) => Err(one_line(&e.to_string())),
        }
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// Two expressions are equal when written alike.
impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Expr {}

impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

/// An object converted once to CEL values, for the one to three expressions of a rule.
pub(crate) struct Bindings {
    context: cel::Context<'static, 'static>,
}

impl Bindings {
    pub(crate) fn of(obj: &Value) -> Bindings {
        let mut context = cel::Context::with_env(ENV.clone());
        if let Some(map) = obj.as_object() {
            for (k, v) in map {
                context.add_variable_from_value(k.as_str(), to_cel(v));
            }
        }
        for name in ALWAYS_BOUND {
            if obj.get(name).is_none() {
                context.add_variable_from_value(
                    name,
                    cel::Value::Map(Map::from(HashMap::<Key, cel::Value>::new())),
                );
            }
        }
        Bindings { context }
    }
}

/// JSON to CEL the way Kubernetes does it: integers are `int` (not `uint`, even when positive), so that
/// `status.readyReplicas >= 1` compares like with like.
fn to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => cel::Value::Int(i),
            None => match n.as_u64() {
                Some(u) => cel::Value::UInt(u),
                None => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let entries: HashMap<Key, cel::Value> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            cel::Value::Map(Map::from(entries))
        }
    }
}

/// Parser and runtime messages can span lines (a caret under the source): keep them on one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == '|' || c == '.'))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn eval(expr: &str, obj: &Value) -> Result<bool, String> {
        Expr::parse(expr)?.eval_bool(&Bindings::of(obj))
    }

    #[test]
    fn evaluates_like_flux() {
        let obj = json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "generation": 3, "labels": {"app": "w"}},
            "spec": {"size": 2},
            "status": {"phase": "Ready", "observedGeneration": 3, "readyReplicas": 2,
                "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 3}]},
        });
        let cases: &[(&str, &str, Result<bool, &str>)] = &[
            ("a status field", "status.phase == 'Ready'", Ok(true)),
            (
                "positive integers are int",
                "status.readyReplicas >= 1 && status.readyReplicas == spec.size",
                Ok(true),
            ),
            (
                "generation against observedGeneration",
                "status.observedGeneration == metadata.generation",
                Ok(true),
            ),
            (
                "conditions with a macro",
                "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
                Ok(true),
            ),
            (
                "filter then all",
                "status.conditions.filter(c, c.type == 'Ready').all(c, c.observedGeneration == metadata.generation)",
                Ok(true),
            ),
            (
                "optional field access",
                "status.?message.orValue('none') == 'none'",
                Ok(true),
            ),
            ("has on a missing field", "has(status.message)", Ok(false)),
            (
                "strings extension",
                "status.phase.lowerAscii() == 'ready'",
                Ok(true),
            ),
            (
                "top-level apiVersion and kind",
                "kind == 'Widget' && apiVersion.startsWith('example.com/')",
                Ok(true),
            ),
            ("label lookup", "metadata.labels['app'] == 'w'", Ok(true)),
            (
                "a missing key is an error",
                "status.missing == 'x'",
                Err("missing"),
            ),
            (
                "a non-bool result is an error",
                "status.phase",
                Err("not a bool"),
            ),
        ];
        for (name, expr, want) in cases {
            let got = eval(expr, &obj);
            match want {
                Ok(b) => assert_eq!(got, Ok(*b), "{name}"),
                Err(part) => {
                    let e = got.expect_err(name);
                    assert!(e.contains(part), "{name}: {e:?} lacks {part:?}");
                }
            }
        }
    }

    #[test]
    fn status_is_bound_before_the_controller_writes_it() {
        let fresh =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        assert_eq!(eval("has(status.phase)", &fresh), Ok(false));
        assert_eq!(
            eval(
                "status.?conditions.orValue([]).exists(c, c.type == 'Ready')",
                &fresh
            ),
            Ok(false)
        );
    }

    #[test]
    fn parse_errors_are_one_line() {
        for bad in ["status.phase ==", "status.(", "  "] {
            let e = Expr::parse(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{bad}: {e:?}");
            assert!(!e.is_empty());
        }
    }
}
