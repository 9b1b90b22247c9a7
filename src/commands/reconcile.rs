//! `rekube reconcile`: follow a branch in-cluster until SIGTERM or SIGINT (exit 0 after releasing the
//! Lease); exit 2 when it cannot start (bad flags, unreachable cluster, address in use).

use crate::cli::{ReconcileArgs, ReconcileMode};
use crate::manifest::{DEFAULT_KUSTOMIZE_TIMEOUT, LoadOptions};
use crate::reconcile::{self, LeaseOptions, Mode, ReconcileOptions, git::Follower};
use std::sync::Arc;

use crate::manifest::sops::{AgeKeys, KeySources};
use crate::reconcile::secrets::{SecretKeys, SecretRef};
use crate::source::{Source, SourceOptions};

use super::apply::{apply_options, prune_options};
use super::{CommandError, EXIT_OK, common, target};

pub async fn run(args: ReconcileArgs) -> Result<i32, CommandError> {
    let mut opts = reconcile_options(&args)?;
    let target = target::connect(&args.cluster).await?;
    // Kinds the repository does not define get their scope from this cluster's discovery.
    opts.follow.cluster = Some(target.cluster.clone());
    opts.follow.secrets.client = Some(target.cluster.client().clone());
    reconcile::run(target.cluster.clone(), opts, shutdown()).await?;
    target.finish().await;
    Ok(EXIT_OK)
}

fn reconcile_options(args: &ReconcileArgs) -> Result<ReconcileOptions, CommandError> {
    let verify = common::verify_options(&args.trust)?;
    if verify.as_ref().is_some_and(|v| v.keys.is_empty()) && args.verify_secret.is_none() {
        return Err(
            "--verify-commit needs trusted keys: --verify-keys FILE or --verify-secret".into(),
        );
    }
    let keys = AgeKeys::discover(&KeySources::from_env(&args.trust.age_key_files))?;
    let secret = |s: &Option<String>| s.as_deref().map(SecretRef::parse).transpose();
    let secrets = SecretKeys {
        client: None,
        decryption: secret(&args.decryption_secret)?,
        verification: secret(&args.verify_secret)?,
    };
    // The inventory cannot come from rekube.yaml before a commit is read: it is `--inventory` or
    // derived from the URL, and a commit declaring another one is rejected.
    let identity = Source::new(&args.repository, None).identity();
    let inventory = args
        .apply
        .inventory
        .clone()
        .unwrap_or_else(|| identity.name.clone());
    let mut prune = prune_options(&args.apply, usize::from(args.cluster.concurrency));
    prune.inventory = inventory.clone();
    prune.lock.owner = Some(identity.key.clone());
    prune.lock.applier = "rekube reconcile".into();
    Ok(ReconcileOptions {
        follow: Follower {
            repository: args.repository.clone(),
            reference: args.reference.clone(),
            source: SourceOptions {
                cache_dir: args.cache_dir.clone(),
                verify,
            },
            strict: args.strict,
            namespace: args.namespace.clone(),
            cluster: None,
            age_keys: Arc::new(keys),
            secrets,
            inventory: inventory.clone(),
            timeout: args.git_timeout,
            load: LoadOptions {
                kustomize_timeout: args.git_timeout.max(DEFAULT_KUSTOMIZE_TIMEOUT),
                ..LoadOptions::default()
            },
        },
        interval: args.interval,
        resync: args.resync.unwrap_or(args.interval * 10),
        mode: match args.mode {
            ReconcileMode::Enforce => Mode::Enforce,
            ReconcileMode::Observe => Mode::Observe,
        },
        listen: args.listen,
        lease: LeaseOptions {
            name: args
                .lease_name
                .clone()
                .unwrap_or_else(|| format!("rekube-{inventory}")),
            namespace: args.lease_namespace.clone(),
            duration: args.lease_duration,
            identity: args.identity.clone().unwrap_or_else(default_identity),
        },
        apply: apply_options(&args.apply),
        prune,
    })
}

/// `<hostname>-<pid>`: unique among replicas on one machine too (in a Pod, POD_NAME is set instead).
fn default_identity() -> String {
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "rekube".into());
    format!("{host}-{}", std::process::id())
}

/// Completes on SIGTERM (Kubernetes stopping the Pod) or SIGINT (Ctrl-C).
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
