//! Secrets from Git and trusted commits, end to end: SOPS-encrypted objects (fixtures encrypted by the
//! real sops, built pinned from the Go module proxy) rebuilt into the real local control plane, the
//! reconciler reading its age key from a Secret, and commits signed by `git` with SSH and OpenPGP keys
//! accepted or refused. Every output is searched for the decrypted values.

mod support;

#[path = "secrets/example.rs"]
mod example;
#[path = "reconcile/harness.rs"]
mod harness;
#[path = "secrets/peer.rs"]
mod peer;
#[path = "secrets/reconcile.rs"]
mod reconcile;
#[path = "secrets/refused.rs"]
mod refused;
#[path = "secrets/signed.rs"]
mod signed;
#[path = "secrets/sops.rs"]
mod sops;
