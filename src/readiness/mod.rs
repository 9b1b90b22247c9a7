//! Readiness: kstatus semantics, pure.
