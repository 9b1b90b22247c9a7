//! rekube rebuilds and keeps Kubernetes clusters from Git.
//!
//! The pipeline, one module per stage, each handing a typed value to the next:
//!
//! 1. [`source`]: a local folder or a Git commit becomes a snapshot of files and the revision it came from.
//! 2. [`manifest`]: layers are found, files are parsed (YAML, JSON, `kind: List`, Kustomize) and validated.
//! 3. [`graph`]: objects are ordered in a dependency DAG, one function per rule; the plan and its digest.
//! 4. `cluster`: discovery, live state and server-side dry-run.
//! 5. [`diff`]: dry-run result and live object are normalised, compared and masked.
//! 6. `apply`: a scheduler applies along the DAG, waiting for [`readiness`] before dependents start.
//! 7. [`inventory`]: the ApplySet that records what rekube manages, and the prune plan.
//! 8. [`drift`] and `report`: classes of drift and their rendering.
//! 9. [`reconcile`]: the pipeline in a loop, in-cluster: follow a branch, heal drift, leader election.
//!
//! Only `source`, `cluster` and `inventory` do I/O; ordering, diffing and readiness are pure functions.
//! [`controlplane`] starts a real local control plane for `--fresh local` and for the integration tests.

pub mod apply;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod controlplane;
pub mod diff;
pub mod drift;
pub mod graph;
pub mod inventory;
pub mod manifest;
pub mod object;
pub mod ops;
pub mod readiness;
pub mod reconcile;
pub mod report;
pub mod source;
pub mod synth;

pub use object::{Layer, Object, ObjectId, Revision, SourceLoc};
