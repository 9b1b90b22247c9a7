//! Inventory, prune, drift and drill end to end, through the `rekube` binary, on the real local control
//! plane. Each test has its own namespaces and its own `--inventory`, so the tests of this binary run
//! side by side without pruning each other's objects.

mod support;

#[path = "drift/ci.rs"]
mod ci;
#[path = "drift/classes.rs"]
mod classes;
#[path = "drift/drill.rs"]
mod drill;
#[path = "drift/prune.rs"]
mod prune;
