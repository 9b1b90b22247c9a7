//! rekube rebuilds and keeps Kubernetes clusters from Git.
//!
//! The pipeline, one module per stage, each handing a typed value to the next:
//!
//! 1. [`source`] (`src/source/`): a local folder or a Git commit becomes a [`source::Snapshot`] of files
//!    and the [`Revision`] it came from.
//! 2. [`manifest`] (`src/manifest/`): layers are found, files are parsed (YAML, JSON, `kind: List`,
//!    Kustomize) and Helm charts rendered ([`manifest::charts`], with the pinned Helm of [`helm`]),
//!    scoped and validated into a [`manifest::Manifest`]; every error names file and line. A repository
//!    serving several clusters is shaped for one of them ([`manifest::clusters`]: its folders, values,
//!    namespace, and standby model: a pilot light's layers, a warm standby's workloads held at zero).
//! 3. [`graph`] (`src/graph/`): objects are ordered in a dependency DAG, one function per rule (Helm
//!    hooks are nodes around their chart's objects); the plan and its digest.
//! 4. [`cluster`] (`src/cluster/`): the I/O edge: discovery, live state (one LIST per kind), server-side
//!    apply and dry-run, watches, retries.
//! 5. [`diff`] (`src/diff/`): the one sync decision ([`diff::decide`]: digest fast path, else server-side
//!    dry-run, normalise, compare, stale check), and the rendering of differences with Secrets masked.
//! 6. [`apply`] (`src/apply/`): the scheduler that applies along the DAG, each object as soon as what it
//!    needs is [`readiness`]-ready (`src/readiness/`, kstatus rules, pure).
//! 7. [`inventory`] (`src/inventory/`): the ApplySet that records what rekube manages, and the prune plan.
//! 8. [`drift`] and [`report`]: classes of drift, rebuild reports and their rendering; [`audit`]: the HA
//!    posture audit of a repository (pure rules); [`export`]: what a live cluster declares, laid out as a
//!    repository (pure, fed by [`ops::export`]).
//!
//! [`ops`] composes the stages into operations. [`ops::apply::apply`] is **the apply operation** (prepare
//! the inventory, apply along the DAG, prune and record the revision) that `apply`, `rebuild`, `drill` and
//! `reconcile` all run (and `promote`, which releases a standby: [`ops::promote`]); [`ops::observe`]
//! gathers what `diff` and `drift` compare, and [`drift::across`] compares clusters of one role. [`reconcile`] runs the
//! pipeline in a loop in-cluster: follow a branch, heal drift, leader election. [`commands`] and the
//! binary only parse arguments, call one operation and render its result.
//!
//! Only `source`, `cluster`, `inventory` and `ops` do I/O (and [`helm`], which runs the Helm binary);
//! ordering, diffing and readiness are pure functions. Tables shared by every stage are in [`builtin`]
//! (what every API server has) and [`keys`] (rekube's annotations and labels); [`error::render`] prints
//! a cause chain. [`controlplane`] starts a real local control plane for `--fresh local` and for the
//! integration tests.

pub mod apply;
pub mod audit;
pub mod builtin;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod controlplane;
pub mod diff;
pub mod drift;
pub mod error;
pub mod export;
pub mod graph;
pub mod helm;
pub mod inventory;
pub mod keys;
pub mod manifest;
pub mod object;
pub mod ops;
pub mod readiness;
pub mod reconcile;
pub mod report;
pub mod source;
pub mod synth;

pub use object::{Layer, Object, ObjectId, Revision, SourceLoc};
