//! The rules: one `add_*_edges` function each, like cli-utils' `depends.go`. Each reads objects through the
//! builder's indexes and adds edges (both ends in the repository) or external references.

mod api;
mod barriers;
mod explicit;
mod hooks;
mod network;
mod pod;
mod rbac;
mod storage;
mod webhook;

use serde_json::Value;

use crate::object::Object;

use super::builder::Builder;
use super::{GraphError, GraphOptions};

pub use api::{add_crd_edges, add_namespace_edges};
pub use barriers::{add_layer_edges, add_sync_wave_edges, add_webhook_last_edges};
pub use explicit::add_depends_on_edges;
pub use hooks::add_hook_edges;
pub use network::{add_governing_service_edges, add_ingress_edges};
pub use pod::{
    add_config_map_edges, add_priority_class_edges, add_runtime_class_edges, add_secret_edges,
    add_service_account_edges,
};
pub use rbac::{add_role_ref_edges, add_subject_edges};
pub use storage::{
    add_pvc_edges, add_storage_class_edges, add_volume_snapshot_class_edges,
    add_volume_snapshot_edges,
};
pub use webhook::add_webhook_service_edges;

/// Runs every rule. The barrier rules come last: they read the sync waves of every object (and the
/// layer barriers wait for the hooks too).
///
/// # Errors
/// An invalid `config.kubernetes.io/depends-on` annotation.
pub fn add_all(b: &mut Builder<'_>, options: &GraphOptions) -> Result<(), GraphError> {
    add_namespace_edges(b);
    add_crd_edges(b);
    add_role_ref_edges(b);
    add_subject_edges(b);
    add_service_account_edges(b);
    add_config_map_edges(b);
    add_secret_edges(b);
    add_pvc_edges(b);
    add_priority_class_edges(b);
    add_runtime_class_edges(b);
    add_storage_class_edges(b);
    add_volume_snapshot_edges(b);
    add_volume_snapshot_class_edges(b);
    add_governing_service_edges(b);
    add_ingress_edges(b);
    add_webhook_service_edges(b);
    add_depends_on_edges(b)?;
    add_hook_edges(b);
    if options.sync_waves {
        add_sync_wave_edges(b);
    }
    if options.webhooks_last {
        add_webhook_last_edges(b);
    }
    add_layer_edges(b);
    Ok(())
}

/// A string at a JSON pointer, when present and non-empty.
pub(crate) fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The items of an array at a JSON pointer (none when absent or not an array).
pub(crate) fn items<'v>(v: &'v Value, pointer: &str) -> impl Iterator<Item = &'v Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter())
        .into_iter()
        .flatten()
}

/// `(group, kind)` of an object, for matching in rules.
pub(crate) fn group_kind(o: &Object) -> (&str, &str) {
    (o.id.group.as_str(), o.id.kind.as_str())
}

#[cfg(test)]
mod tests_other;
#[cfg(test)]
mod tests_pod;
