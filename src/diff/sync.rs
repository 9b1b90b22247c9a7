//! The sync decision: would applying the desired object change the live one? One rule, used by diff,
//! drift, apply and the reconciler's heal:
//!
//! 1. no live object: it would be created (the server's dry-run of the creation is taken when asked, so
//!    that diff and drift show what would be stored and never call an object the server refuses fine);
//! 2. the no-op fast path ([`in_sync`]): applied from this very object and untouched since, so in sync
//!    without a request;
//! 3. otherwise the server-side dry-run decides: equal to the live object once both are normalised means
//!    in sync;
//! 4. a live copy from a list, a cache or a watch event may be older than the object the dry-run started
//!    from (its resourceVersion differs): it is read again and judged afresh, never reported as a change.
//!
//! Fields another controller owns ([`Ignored`]) take no part: the fast path does not require them, the
//! dry-run is of the body with their live values ([`Ignored::overlay`], what a write would send), and
//! they are left out when the dry-run is compared with the live object.
//!
//! The I/O (reading the object, the dry-run) is the caller's, passed in as closures: this module stays
//! free of the cluster, and its rule is tested without one.

use std::borrow::Borrow;

use serde_json::Value;

use super::Ignored;

const RESOURCE_VERSION: &str = "/metadata/resourceVersion";

/// Options of [`decide`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Dry-run the creation of an absent object (diff, drift); apply creates it outright.
    pub dry_run_create: bool,
    /// The live copy given was just read from the server: it cannot be stale.
    pub fresh: bool,
}

/// What applying would do.
#[derive(Debug, Clone, PartialEq)]
pub enum Sync {
    /// The object does not exist; with [`SyncOptions::dry_run_create`], what the server would store.
    Create(Option<Value>),
    /// Applying changes nothing.
    InSync(Proof),
    /// Applying changes it: what the server would store.
    Update(Value),
}

/// How an object was proved in sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The digest fast path: no request was made.
    Digest,
    /// A server-side dry-run.
    DryRun,
}

/// The decision and the live object it was made against (read again when the given copy was stale),
/// held as the caller holds it (`Value`, or `Arc<Value>` from a watch).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<L = Value> {
    pub live: Option<L>,
    pub sync: Sync,
}

/// Decides whether applying `desired` (the body rekube would apply, provenance included) to `live`
/// changes anything but the `ignored` fields. `read` fetches the object from the server (only when
/// `live` turns out stale); `dry_run` is a server-side dry-run apply of the body it is given. A write
/// that follows an update sends [`Ignored::overlay`] of `desired` and the live object.
///
/// # Errors
/// Whatever `read` or `dry_run` returns: a refused dry-run is never "in sync".
pub async fn decide<L, E, R, D>(
    mut live: Option<L>,
    desired: &Value,
    ignored: &Ignored,
    opts: SyncOptions,
    mut read: impl FnMut() -> R,
    mut dry_run: impl FnMut(Value) -> D,
) -> Result<Decision<L>, E>
where
    L: Borrow<Value>,
    R: Future<Output = Result<Option<L>, E>>,
    D: Future<Output = Result<Value, E>>,
{
    let mut fresh = opts.fresh;
    loop {
        let Some(current) = live.as_ref().map(Borrow::borrow) else {
            let dry = if opts.dry_run_create {
                Some(dry_run(desired.clone()).await?)
            } else {
                None
            };
            return Ok(Decision {
                live: None,
                sync: Sync::Create(dry),
            });
        };
        if ignored.in_sync(current, desired) {
            return Ok(Decision {
                live,
                sync: Sync::InSync(Proof::Digest),
            });
        }
        let dry = dry_run(ignored.overlay(desired, current)).await?;
        if ignored.same(&dry, current) {
            return Ok(Decision {
                live,
                sync: Sync::InSync(Proof::DryRun),
            });
        }
        if !fresh && dry.pointer(RESOURCE_VERSION) != current.pointer(RESOURCE_VERSION) {
            live = read().await?;
            fresh = true;
            continue;
        }
        return Ok(Decision {
            live,
            sync: Sync::Update(dry),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use serde_json::{Value, json};

    use super::*;

    fn cm(rv: &str, value: &str, digest: Option<&str>) -> Value {
        let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "a"}, "data": {"k": value}});
        if !rv.is_empty() {
            v["metadata"]["resourceVersion"] = json!(rv);
        }
        if let Some(d) = digest {
            v["metadata"]["annotations"] = json!({"rekube.dev/digest": d});
        }
        v
    }

    /// Runs `decide` with a server whose current object is `server` and whose dry-run yields `dry`;
    /// returns the decision and how many reads and dry-runs it made.
    fn run(
        live: Option<Value>,
        desired: &Value,
        opts: SyncOptions,
        server: Option<Value>,
        dry: Result<Value, &'static str>,
    ) -> (Result<Decision, &'static str>, usize, usize) {
        let reads = Cell::new(0);
        let dry_runs = Cell::new(0);
        let decision = futures::executor::block_on(decide(
            live,
            desired,
            &Ignored::default(),
            opts,
            || {
                reads.set(reads.get() + 1);
                std::future::ready(Ok(server.clone()))
            },
            |_| {
                dry_runs.set(dry_runs.get() + 1);
                std::future::ready(dry.clone())
            },
        ));
        (decision, reads.get(), dry_runs.get())
    }

    #[test]
    fn decisions() {
        let desired = cm("", "v", Some("d1"));
        let with_create = SyncOptions {
            dry_run_create: true,
            ..SyncOptions::default()
        };
        struct Case {
            name: &'static str,
            live: Option<Value>,
            opts: SyncOptions,
            server: Option<Value>,
            dry: Result<Value, &'static str>,
            want: Result<Sync, &'static str>,
            reads: usize,
            dry_runs: usize,
        }
        let cases = [
            Case {
                name: "absent: created without a dry-run",
                live: None,
                opts: SyncOptions::default(),
                server: None,
                dry: Err("unused"),
                want: Ok(Sync::Create(None)),
                reads: 0,
                dry_runs: 0,
            },
            Case {
                name: "absent: dry-run of the creation when asked",
                live: None,
                opts: with_create,
                server: None,
                dry: Ok(cm("", "v", None)),
                want: Ok(Sync::Create(Some(cm("", "v", None)))),
                reads: 0,
                dry_runs: 1,
            },
            Case {
                name: "absent and refused: the error, never in sync",
                live: None,
                opts: with_create,
                server: None,
                dry: Err("forbidden"),
                want: Err("forbidden"),
                reads: 0,
                dry_runs: 1,
            },
            Case {
                name: "same digest, every value held: fast path",
                live: Some(cm("5", "v", Some("d1"))),
                opts: SyncOptions::default(),
                server: None,
                dry: Err("unused"),
                want: Ok(Sync::InSync(Proof::Digest)),
                reads: 0,
                dry_runs: 0,
            },
            Case {
                name: "other digest, dry-run equal: in sync",
                live: Some(cm("5", "v", Some("d0"))),
                opts: SyncOptions::default(),
                server: None,
                dry: Ok(cm("5", "v", Some("d1"))),
                want: Ok(Sync::InSync(Proof::DryRun)),
                reads: 0,
                dry_runs: 1,
            },
            Case {
                name: "changed by hand: update",
                live: Some(cm("5", "edited", Some("d1"))),
                opts: SyncOptions::default(),
                server: None,
                dry: Ok(cm("5", "v", Some("d1"))),
                want: Ok(Sync::Update(cm("5", "v", Some("d1")))),
                reads: 0,
                dry_runs: 1,
            },
            Case {
                name: "stale copy: read again, then judged",
                live: Some(cm("4", "old", Some("d1"))),
                opts: SyncOptions::default(),
                server: Some(cm("5", "v", Some("d1"))),
                dry: Ok(cm("5", "v", Some("d1"))),
                want: Ok(Sync::InSync(Proof::Digest)),
                reads: 1,
                dry_runs: 1,
            },
            Case {
                name: "fresh copy that differs: update, no read",
                live: Some(cm("4", "old", Some("d1"))),
                opts: SyncOptions {
                    fresh: true,
                    ..SyncOptions::default()
                },
                server: None,
                dry: Ok(cm("5", "v", Some("d1"))),
                want: Ok(Sync::Update(cm("5", "v", Some("d1")))),
                reads: 0,
                dry_runs: 1,
            },
            Case {
                name: "stale copy of an object deleted since: create",
                live: Some(cm("4", "old", Some("d1"))),
                opts: SyncOptions::default(),
                server: None,
                dry: Ok(cm("5", "v", Some("d1"))),
                want: Ok(Sync::Create(None)),
                reads: 1,
                dry_runs: 1,
            },
        ];
        for c in cases {
            let (got, reads, dry_runs) = run(c.live, &desired, c.opts, c.server, c.dry);
            assert_eq!(got.map(|d| d.sync), c.want, "{}", c.name);
            assert_eq!((reads, dry_runs), (c.reads, c.dry_runs), "{}", c.name);
        }
    }

    /// An autoscaler changed the replicas; Git says 2. The fast path holds without them, and a dry-run
    /// (after another change) is of the body with the live replicas.
    #[test]
    fn ignored_fields_take_no_part() {
        use crate::diff::ignore::{IgnoreOrigin, IgnoreRule, IgnoreRules, Selector, parse_pointer};
        use crate::object::ObjectId;

        let deploy = |rv: &str, replicas: i64, image: &str, digest: &str| {
            let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop",
                    "annotations": {"rekube.dev/digest": digest}},
                "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}}});
            if !rv.is_empty() {
                d["metadata"]["resourceVersion"] = json!(rv);
            }
            d
        };
        let rules = IgnoreRules::new(vec![IgnoreRule {
            selector: Selector::default(),
            json_pointers: vec!["/spec/replicas".into()],
            fields: vec![parse_pointer("/spec/replicas").expect("pointer")],
            managed_fields_managers: Vec::new(),
            origin: IgnoreOrigin::Autoscaler {
                scaler: "HorizontalPodAutoscaler/shop/web".into(),
            },
        }]);
        let id = ObjectId::new("apps", "Deployment", Some("shop"), "web");
        let desired = deploy("", 2, "web:1", "d1");
        let ignored = rules.for_object(&id, &desired);
        let decide_with = |live: Value, dry: Value| {
            let sent = std::cell::RefCell::new(Vec::new());
            let d = futures::executor::block_on(decide(
                Some(live),
                &desired,
                &ignored,
                SyncOptions::default(),
                || std::future::ready(Ok::<_, &str>(None)),
                |body| {
                    sent.borrow_mut().push(body);
                    std::future::ready(Ok(dry.clone()))
                },
            ));
            (d.map(|d| d.sync), sent.into_inner())
        };
        let (sync, sent) = decide_with(deploy("5", 4, "web:1", "d1"), Value::Null);
        assert_eq!(
            sync,
            Ok(Sync::InSync(Proof::Digest)),
            "scaled: still the fast path"
        );
        assert!(sent.is_empty());
        // Git changed the image: the dry-run is of the body with the autoscaler's replicas.
        let (sync, sent) =
            decide_with(deploy("5", 4, "web:0", "d0"), deploy("5", 4, "web:1", "d1"));
        assert_eq!(sync, Ok(Sync::Update(deploy("5", 4, "web:1", "d1"))));
        assert_eq!(sent[0]["spec"]["replicas"], 4);
        // Without the rule the same scaling is a change.
        let (sync, _) = {
            let d = futures::executor::block_on(decide(
                Some(deploy("5", 4, "web:1", "d1")),
                &desired,
                &Ignored::default(),
                SyncOptions::default(),
                || std::future::ready(Ok::<_, &str>(None)),
                |_| std::future::ready(Ok(deploy("5", 2, "web:1", "d1"))),
            ));
            (d.map(|d| d.sync), ())
        };
        assert!(matches!(sync, Ok(Sync::Update(_))));
    }
}
