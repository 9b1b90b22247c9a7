//! Operations: the pipeline stages composed for one command (cargo's `ops`). Each takes options, talks
//! to the cluster through [`crate::cluster`], and returns a typed report that the commands only render.

pub mod diff;
pub mod prune;
pub mod rebuild;
