//! Report: rendering only. Progress for people (a live status block on a terminal, plain lines
//! elsewhere) and the rebuild report (per-layer timings, slowest objects, recovery time).

mod progress;
mod rebuild;

pub use progress::Progress;
pub use rebuild::{LayerTiming, RebuildReport, SlowObject};
