//! Operations: the pipeline stages composed for one command (cargo's `ops`). Each takes options, talks
//! to the cluster through [`crate::cluster`], and returns a typed report that the commands only render.

pub mod apply;
pub mod audit;
pub mod diagnose;
pub mod diff;
pub mod drift;
pub mod drill;
pub mod export;
pub mod failover;
pub mod lock;
pub mod observe;
pub mod promote;
pub mod prune;
pub mod rebuild;
pub mod simulation;
