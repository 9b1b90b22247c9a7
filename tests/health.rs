//! Health rules and ignore rules end to end, on the real local control plane: rekube waits for a custom
//! resource by the user's CEL rule (showing an evaluation error while it waits), fails on its `failed`
//! expression, and `explain` names the rule; a HorizontalPodAutoscaler's target is never fought over
//! by `reconcile`, and fields ignored by JSON pointer or field manager are not drift while others are.

// The reconcile tests' harness (`rekube reconcile` processes).
#[path = "reconcile/harness.rs"]
mod harness;
#[path = "health/ignore.rs"]
mod ignore;
#[path = "health/readiness.rs"]
mod readiness;
mod support;
