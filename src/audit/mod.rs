//! The HA posture audit (`rekube audit`), pure: what in the repository lets a workload survive the loss
//! of a node or a zone and be rebuilt identically. The rules are one table ([`RULES`]); each finding
//! names its rule, the object and where Git declares it. An object opts out of a rule, with a reason, by
//! the annotation `rekube.dev/audit-ignore: RULE=reason[, RULE=reason]`.
//!
//! The live part (the control plane's own redundancy) is judged here from a [`LiveState`] that the
//! caller observed (`ops::audit`).

mod render;
mod rules;
mod select;
mod storage;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::manifest::Manifest;
use crate::object::{Object, ObjectId};

pub use render::{render_junit, render_text};
pub use rules::{Check, Index, RULES};

pub use crate::keys::ANNOTATION_AUDIT_IGNORE;

/// How much a finding weakens recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The workload stops, or cannot be rebuilt as it was, when one node or zone is lost.
    High,
    /// Recovery is slower or less predictable.
    Medium,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::High => "high",
            Severity::Medium => "medium",
        })
    }
}

/// One rule of the table.
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub description: &'static str,
    pub check: Check,
}

/// One finding: a rule an object breaks, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// `Kind/namespace/name`.
    pub object: String,
    #[serde(skip)]
    pub id: ObjectId,
    /// `path:line` in the repository; none for the live control plane.
    pub source: Option<String>,
    pub message: String,
}

/// A finding the object's annotation suppresses, with the reason given there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub reason: String,
}

/// A rule applied to an object, found or not: JUnit lists every one as a test case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checked {
    pub rule: &'static str,
    pub object: String,
    #[serde(skip)]
    pub id: ObjectId,
    pub source: Option<String>,
}

/// The audit of one repository (and, with `--live`, its cluster).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    pub origin: String,
    pub revision: Option<String>,
    /// The API server audited live, if any.
    pub server: Option<String>,
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    /// Every (rule, object) pair checked, in report order.
    #[serde(skip)]
    pub checked: Vec<Checked>,
    /// How many objects at least one rule applied to.
    pub objects: usize,
}

impl AuditReport {
    /// 0 without findings, 1 with findings (suppressed ones do not count).
    pub fn exit_code(&self) -> i32 {
        i32::from(!self.findings.is_empty())
    }

    /// `3 findings (2 high, 1 medium) on 2 objects, 1 suppressed; 14 objects checked`.
    pub fn summary(&self) -> String {
        let high = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::High)
            .count();
        let mut objects: Vec<&str> = self.findings.iter().map(|f| f.object.as_str()).collect();
        objects.sort_unstable();
        objects.dedup();
        format!(
            "{} finding(s) ({high} high, {} medium) on {} object(s), {} suppressed; {} object(s) checked",
            self.findings.len(),
            self.findings.len() - high,
            objects.len(),
            self.suppressed.len(),
            self.objects
        )
    }
}

/// What was observed of the live control plane (see `ops::audit`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveState {
    /// The API server's address, for the report.
    pub server: String,
    /// Ready addresses of the `kubernetes` Service in `default` (EndpointSlices, else Endpoints).
    pub apiserver_endpoints: usize,
    /// Nodes by `topology.kubernetes.io/zone` (the empty string: without the label).
    pub nodes_by_zone: BTreeMap<String, usize>,
}

/// A bad `rekube.dev/audit-ignore` annotation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object} ({at}): {ANNOTATION_AUDIT_IGNORE}: {problem}")]
pub struct BadSuppression {
    /// `Kind/namespace/name`.
    pub object: String,
    /// `path:line` where the object is declared.
    pub at: String,
    pub problem: String,
}

/// Errors of the audit: bad input in the repository.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Suppressions(Vec<BadSuppression>),
}

/// The rule ids an object suppresses, with their reasons.
///
/// # Errors
/// An entry without `=reason`, with an empty reason, or naming a rule that is not in [`RULES`].
pub fn suppressions(o: &Object) -> Result<BTreeMap<&'static str, String>, BadSuppression> {
    let mut out = BTreeMap::new();
    let Some(value) = o.annotation(ANNOTATION_AUDIT_IGNORE) else {
        return Ok(out);
    };
    let bad = |problem: String| BadSuppression {
        object: o.id.to_string(),
        at: o.source.to_string(),
        problem,
    };
    for (rule, reason) in entries(value) {
        let Some(known) = RULES.iter().find(|r| r.id == rule) else {
            let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
            return Err(bad(format!(
                "unknown rule `{rule}` (rules: {})",
                ids.join(", ")
            )));
        };
        if reason.is_empty() {
            return Err(bad(format!(
                "`{rule}` is suppressed without a reason: write `{rule}=why`"
            )));
        }
        out.insert(known.id, reason);
    }
    Ok(out)
}

/// `RULE=reason` entries separated by commas. A reason may hold commas itself: a piece that does not
/// start with `word=` continues the reason before it, unless it is a bare rule id (a forgotten reason).
fn entries(value: &str) -> Vec<(String, String)> {
    let starts_entry = |piece: &str| {
        piece.split_once('=').is_some_and(|(id, _)| {
            let id = id.trim();
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for piece in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bare_rule = RULES.iter().any(|r| r.id == piece);
        match out.last_mut() {
            Some((_, reason)) if !starts_entry(piece) && !bare_rule => {
                reason.push_str(", ");
                reason.push_str(piece);
            }
            _ => {
                let (rule, reason) = piece.split_once('=').unwrap_or((piece, ""));
                out.push((rule.trim().to_string(), reason.trim().to_string()));
            }
        }
    }
    out
}

/// Audits the repository's objects, every object rule on every object it applies to, in the order of
/// the manifest; with `live`, the control plane rules too.
///
/// # Errors
/// [`AuditError::Suppressions`], naming every object whose annotation is bad.
pub fn audit(manifest: &Manifest, live: Option<&LiveState>) -> Result<AuditReport, AuditError> {
    let index = Index::new(&manifest.objects);
    let mut report = AuditReport {
        origin: manifest.revision.origin.clone(),
        revision: manifest.revision.commit.clone(),
        server: live.map(|l| l.server.clone()),
        findings: Vec::new(),
        suppressed: Vec::new(),
        checked: Vec::new(),
        objects: 0,
    };
    let mut bad = Vec::new();
    for o in &manifest.objects {
        let ignore = match suppressions(o) {
            Ok(i) => i,
            Err(e) => {
                bad.push(e);
                continue;
            }
        };
        let mut applied = false;
        for rule in RULES {
            let Check::Object(check) = rule.check else {
                continue;
            };
            let Some(messages) = check(o, &index) else {
                continue;
            };
            applied = true;
            let source = Some(o.source.to_string());
            report.checked.push(Checked {
                rule: rule.id,
                object: o.id.to_string(),
                id: o.id.clone(),
                source: source.clone(),
            });
            for message in messages {
                let finding = Finding {
                    rule: rule.id,
                    severity: rule.severity,
                    object: o.id.to_string(),
                    id: o.id.clone(),
                    source: source.clone(),
                    message,
                };
                match ignore.get(rule.id) {
                    Some(reason) => report.suppressed.push(Suppressed {
                        finding,
                        reason: reason.clone(),
                    }),
                    None => report.findings.push(finding),
                }
            }
        }
        report.objects += usize::from(applied);
    }
    if !bad.is_empty() {
        return Err(AuditError::Suppressions(bad));
    }
    if let Some(live) = live {
        audit_live(live, &mut report);
    }
    Ok(report)
}

fn audit_live(live: &LiveState, report: &mut AuditReport) {
    for rule in RULES {
        let Check::Live(check, (kind, namespace, name)) = rule.check else {
            continue;
        };
        let id = ObjectId::new("", kind, namespace, name);
        report.checked.push(Checked {
            rule: rule.id,
            object: id.to_string(),
            id: id.clone(),
            source: None,
        });
        report.objects += 1;
        report
            .findings
            .extend(check(live).into_iter().map(|message| Finding {
                rule: rule.id,
                severity: rule.severity,
                object: id.to_string(),
                id: id.clone(),
                source: None,
                message,
            }));
    }
}

#[cfg(test)]
mod tests;
