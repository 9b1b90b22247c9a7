//! Trust defects of issue #11, each proven on the real local control plane (the shared one): absurd
//! durations, prune order with a blocking webhook, objects Kubernetes creates that are not drift, and
//! discovery refreshed once for many unknown kinds.

mod support;

#[path = "trust/common.rs"]
mod common;
#[path = "trust/discovery.rs"]
mod discovery;
#[path = "trust/drift_defaults.rs"]
mod drift_defaults;
#[path = "trust/durations.rs"]
mod durations;
#[path = "trust/prune_order.rs"]
mod prune_order;
