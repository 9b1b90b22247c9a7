//! Readiness of well-known custom resources, written as data in the form users write under `health:` in
//! `rekube.yaml` (Flux's `healthCheckExprs`), so a user rule for the same kind replaces one of these.
//!
//! Conventions: a rule only says `failed` where waiting cannot help; conditions that are `False` while a
//! controller retries stay in progress (their reason is shown while waiting). Every field read may be
//! absent on a fresh object, hence `.?field.orValue(…)`.

use std::sync::LazyLock;

use super::cel::Expr;
use super::health::{HealthRule, RuleOrigin};

/// `(apiVersion, kind, inProgress, failed, current)`; `*` in the group or kind matches anything.
type Entry = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

/// True when the object has condition `$type` with status `$status` (for the current generation when
/// the condition records one).
macro_rules! cond {
    ($type:literal, $status:literal) => {
        concat!(
            "status.?conditions.orValue([]).exists(c, c.type == '",
            $type,
            "' && c.status == '",
            $status,
            "' && c.?observedGeneration.orValue(metadata.?generation.orValue(0)) == metadata.?generation.orValue(0))"
        )
    };
}

const FLUX_IN_PROGRESS: &str = cond!("Reconciling", "True");
const FLUX_FAILED: &str = cond!("Stalled", "True");
const READY: &str = cond!("Ready", "True");

const TABLE: &[Entry] = &[
    // cert-manager: `Issuing` while a certificate is being (re)issued; a failed issuance sets
    // `Issuing: False` with reason `Failed` (retried only after a long backoff).
    (
        "cert-manager.io/v1",
        "Certificate",
        Some(cond!("Issuing", "True")),
        Some(
            "status.?conditions.orValue([]).exists(c, c.type == 'Issuing' && c.status == 'False' && c.?reason.orValue('') == 'Failed')",
        ),
        READY,
    ),
    ("cert-manager.io/v1", "Issuer", None, None, READY),
    ("cert-manager.io/v1", "ClusterIssuer", None, None, READY),
    // Argo Rollouts: `status.phase`, valid once `status.observedGeneration` (a string) is the generation.
    (
        "argoproj.io/v1alpha1",
        "Rollout",
        None,
        Some("status.?phase.orValue('') == 'Degraded'"),
        "status.?phase.orValue('') == 'Healthy' && string(status.?observedGeneration.orValue('')) == string(metadata.?generation.orValue(0))",
    ),
    // Flux: kstatus conditions (`Reconciling`, `Stalled`, `Ready`).
    (
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        Some(FLUX_IN_PROGRESS),
        Some(FLUX_FAILED),
        READY,
    ),
    (
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        Some(FLUX_IN_PROGRESS),
        Some(FLUX_FAILED),
        READY,
    ),
    (
        "source.toolkit.fluxcd.io/v1",
        "GitRepository",
        Some(FLUX_IN_PROGRESS),
        Some(FLUX_FAILED),
        READY,
    ),
    // Prometheus Operator: `Available` (True, Degraded or False) and `Reconciled`.
    (
        "monitoring.coreos.com/v1",
        "Prometheus",
        None,
        None,
        concat!(
            cond!("Available", "True"),
            " && !",
            cond!("Reconciled", "False")
        ),
    ),
    (
        "monitoring.coreos.com/v1",
        "Alertmanager",
        None,
        None,
        concat!(
            cond!("Available", "True"),
            " && !",
            cond!("Reconciled", "False")
        ),
    ),
    // Crossplane packages report `Installed` and `Healthy`; managed resources, composites and claims
    // report `Ready` and `Synced` (a `Synced: False` resource is retried by its provider).
    (
        "pkg.crossplane.io/v1",
        "*",
        None,
        None,
        concat!(cond!("Installed", "True"), " && ", cond!("Healthy", "True")),
    ),
    (
        "*.crossplane.io/*",
        "*",
        None,
        None,
        concat!(cond!("Ready", "True"), " && !", cond!("Synced", "False")),
    ),
    (
        "*.upbound.io/*",
        "*",
        None,
        None,
        concat!(cond!("Ready", "True"), " && !", cond!("Synced", "False")),
    ),
];

/// The built-in rules, parsed once.
pub(super) fn rules() -> &'static [HealthRule] {
    static RULES: LazyLock<Vec<HealthRule>> = LazyLock::new(|| {
        TABLE
            .iter()
            .filter_map(|&(api_version, kind, in_progress, failed, current)| {
                // The table is tested to parse; a rule that would not is left out rather than panic.
                let parse = |s: &str| Expr::parse(s).ok();
                Some(HealthRule {
                    api_version: api_version.to_string(),
                    group: group_of(api_version).to_string(),
                    kind: kind.to_string(),
                    current: parse(current)?,
                    in_progress: match in_progress {
                        Some(s) => Some(parse(s)?),
                        None => None,
                    },
                    failed: match failed {
                        Some(s) => Some(parse(s)?),
                        None => None,
                    },
                    origin: RuleOrigin::Builtin,
                })
            })
            .collect()
    });
    &RULES
}

/// The group of an apiVersion (`cert-manager.io/v1` → `cert-manager.io`, `v1` → the core group).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

#[cfg(test)]
pub(super) fn table_len() -> usize {
    TABLE.len()
}
