//! Health rules: readiness of a kind written as CEL expressions, in the shape of Flux's
//! `healthCheckExprs` (`apiVersion`, `kind`, `current`, `inProgress`, `failed`). Users declare them under
//! `health:` in `rekube.yaml`; the built-in rules for well-known custom resources ([`super::builtin`]) are
//! written in the same form.
//!
//! Evaluation follows Flux (RFC-0009): a `status.observedGeneration` behind `metadata.generation` is in
//! progress without evaluating anything; then `inProgress`, `failed` and `current` are evaluated in that
//! order and the first that is true decides; none true is in progress. Unlike Flux, an expression that
//! cannot be evaluated (a field not there yet) is not a failure: the object stays in progress and the
//! error is its message, so a wait shows it and a timeout names it.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::Readiness;
use super::cel::{Bindings, Expr};
use super::generic::{condition, opt_int};
use crate::object::glob_match;

/// Where a health rule was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleOrigin {
    /// `rekube.yaml`, the line of the `health:` entry.
    Config { file: String, line: usize },
    /// rekube's table of well-known custom resources.
    Builtin,
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleOrigin::Config { file, line } => write!(f, "{file}:{line}"),
            RuleOrigin::Builtin => f.write_str("built-in"),
        }
    }
}

/// One health rule. `group` and `kind` may contain `*` wildcards (`*.upbound.io`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthRule {
    /// As written (`cert-manager.io/v1`); only its group is matched: a version does not change identity.
    pub api_version: String,
    pub group: String,
    pub kind: String,
    pub current: Expr,
    pub in_progress: Option<Expr>,
    pub failed: Option<Expr>,
    pub origin: RuleOrigin,
}

impl HealthRule {
    pub fn matches(&self, group: &str, kind: &str) -> bool {
        glob_match(&self.group, group) && glob_match(&self.kind, kind)
    }

    /// The three expressions in evaluation order, with their field names.
    fn expressions(&self) -> [(&'static str, Option<&Expr>, super::Status); 3] {
        use super::Status::*;
        [
            ("inProgress", self.in_progress.as_ref(), InProgress),
            ("failed", self.failed.as_ref(), Failed),
            ("current", Some(&self.current), Current),
        ]
    }

    /// `rekube.yaml:12 (Widget.example.com)`, or `built-in (Certificate.cert-manager.io)`.
    pub fn name(&self) -> String {
        let gk = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        format!("{} ({gk})", self.origin)
    }
}

/// The built-in health rules, in the order they are consulted.
pub fn builtin() -> &'static [HealthRule] {
    super::builtin::rules()
}

/// The user's health rules, cheap to clone; the built-in rules are consulted after them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthRules {
    rules: Arc<[HealthRule]>,
}

impl Serialize for HealthRules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.rules.as_ref().serialize(s)
    }
}

impl HealthRules {
    pub fn new(rules: Vec<HealthRule>) -> HealthRules {
        HealthRules {
            rules: rules.into(),
        }
    }

    pub fn user_rules(&self) -> &[HealthRule] {
        &self.rules
    }

    /// The rule for a kind: the first user rule that matches, else the first built-in one.
    pub fn find(&self, group: &str, kind: &str) -> Option<&HealthRule> {
        self.rules
            .iter()
            .chain(super::builtin::rules().iter())
            .find(|r| r.matches(group, kind))
    }
}

/// The outcome of one expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// `inProgress`, `failed` or `current`.
    pub field: &'static str,
    pub expression: String,
    /// `None` when it was not evaluated (an earlier one decided).
    pub result: Option<Result<bool, String>>,
}

/// Judges `obj` by `rule`; returns the readiness and the outcome of each expression.
pub(crate) fn evaluate(rule: &HealthRule, obj: &Value) -> (Readiness, Vec<Evaluation>) {
    let mut evaluations: Vec<Evaluation> = rule
        .expressions()
        .iter()
        .filter_map(|(field, expr, _)| {
            expr.map(|e| Evaluation {
                field,
                expression: e.source().to_string(),
                result: None,
            })
        })
        .collect();
    if let (Some(generation), Some(observed)) = (
        opt_int(obj, "/metadata/generation"),
        opt_int(obj, "/status/observedGeneration"),
    ) && generation != observed
    {
        let message = format!("generation {generation} not observed yet (observed {observed})");
        return (Readiness::in_progress(message), evaluations);
    }
    let vars = Bindings::of(obj);
    let name = rule.name();
    let mut errors = Vec::new();
    let mut slot = evaluations.iter_mut();
    for (field, expr, status) in rule.expressions() {
        let Some(expr) = expr else { continue };
        let result = expr.eval_bool(&vars);
        if let Some(e) = slot.next() {
            e.result = Some(result.clone());
        }
        match result {
            Ok(true) => {
                let message = format!("{field} is true (health rule {name})");
                return (Readiness::new(status, message), evaluations);
            }
            Ok(false) => {}
            Err(e) => errors.push(format!("{field}: {e}")),
        }
    }
    let mut message = if errors.is_empty() {
        format!("current is not true yet (health rule {name})")
    } else {
        format!(
            "health rule {name} cannot be evaluated: {}",
            errors.join("; ")
        )
    };
    if let Some(c) = condition(obj, "Ready") {
        message.push_str(&format!("; Ready {}: {}", c.status, c.describe()));
    }
    (Readiness::in_progress(message), evaluations)
}
