//! The engine under faults, each test on its OWN local control plane (never the shared one): the
//! API server killed and restarted mid-rebuild, frozen mid-apply, throttling with 429s, and kwok
//! frozen to prove readiness is never judged from a stale cache. One control plane at a time, and
//! every rekube run has a deadline, so a hang fails the test instead of CI.

mod support;

#[path = "faults/counts.rs"]
mod counts;
#[path = "faults/harness.rs"]
mod harness;
#[path = "faults/kill.rs"]
mod kill;
#[path = "faults/outage.rs"]
mod outage;
#[path = "faults/pause.rs"]
mod pause;
#[path = "faults/stale.rs"]
mod stale;
#[path = "faults/throttle.rs"]
mod throttle;
