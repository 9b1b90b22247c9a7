//! `rekube apply`: apply the repository along the DAG, waiting for readiness, then prune what left Git;
//! exit 0 when every object is ready and the prune went through, 2 when anything failed or the prune was
//! refused (`--max-prune`: then nothing is applied).

use crate::apply::{Action, ApplyOptions};
use crate::cli::{ApplyArgs, ApplyOpts, ClusterArgs, SourceArgs};
use crate::inventory::{LockOptions, PruneOptions};
use crate::ops::apply::{Applied, ApplyRunOptions, apply};
use crate::ops::prune::PruneRunOptions;
use crate::source::Identity;

use super::clusters::{self, Run};
use super::{CommandError, EXIT_ERROR, EXIT_OK, common, render_error, target};

pub async fn run(args: ApplyArgs) -> Result<i32, CommandError> {
    let runs = clusters::runs(&args.select, &args.source, Some(&args.cluster))?;
    clusters::each(runs, clusters::Format::Text, |run| one(&args, run)).await
}

async fn one(args: &ApplyArgs, run: Run) -> Result<(i32, String), CommandError> {
    let (p, opts) = start(&run.source, &run.cluster, &args.apply, "rekube apply").await?;
    let mut progress = common::progress(&p.manifest);
    let applied = apply(&p.target.cluster, &p.manifest, &p.dag, &opts, |e| {
        progress.event(e)
    })
    .await?;
    render(&applied);
    p.target.finish().await;
    let code = if applied.succeeded() {
        EXIT_OK
    } else {
        EXIT_ERROR
    };
    Ok((code, String::new()))
}

/// What apply and rebuild share: the repository prepared for its target ([`target::prepare`]), a
/// simulated cluster given what a real one would have, and the run options with the inventory and its
/// owner.
///
/// # Errors
/// As [`target::prepare`]; a simulated cluster that cannot be prepared.
pub async fn start(
    source: &SourceArgs,
    cluster: &ClusterArgs,
    apply: &ApplyOpts,
    what: &str,
) -> Result<(target::Prepared, ApplyRunOptions), CommandError> {
    let p = target::prepare(source, cluster, apply.inventory.as_deref(), true).await?;
    p.target.prepare(&p.manifest, apply.timeout).await?;
    let mut opts = options(apply, usize::from(cluster.concurrency));
    opts.apply.simulated = p.target.simulated;
    set_inventory(&mut opts, p.inventory.clone(), &p.owner, what);
    Ok((p, opts))
}

/// Failures, deletions, the inventory error and the summary line, on stderr.
pub fn render(applied: &Applied) {
    let changes = &applied.changes;
    for c in &changes.changes {
        match &c.error {
            Some(e) => eprintln!("{} {} ({}): {e}", c.action.as_str(), c.id, c.source),
            None if c.action == Action::Deleted => eprintln!("deleted {} ({})", c.id, c.source),
            None => {}
        }
    }
    if let Some(e) = &applied.inventory_error {
        eprintln!("error: {}", render_error(e));
    }
    eprintln!(
        "{} in {:.2}s",
        changes.summary(),
        changes.elapsed.as_secs_f64()
    );
}

/// The apply operation's options from flags.
pub fn options(args: &ApplyOpts, concurrency: usize) -> ApplyRunOptions {
    ApplyRunOptions {
        apply: apply_options(args),
        prune: Some(prune_options(args, concurrency)),
        journal: None,
    }
}

/// How each object is applied and awaited, from flags.
pub fn apply_options(args: &ApplyOpts) -> ApplyOptions {
    ApplyOptions {
        timeout: args.timeout,
        recreate: args.recreate,
        ..ApplyOptions::default()
    }
}

/// The inventory to apply with, owned by the repository `owner`; `what` names this applier in the lock.
pub fn set_inventory(opts: &mut ApplyRunOptions, name: String, owner: &Identity, what: &str) {
    if let Some(p) = &mut opts.prune {
        p.inventory = name;
        p.lock.owner = Some(owner.key.clone());
        p.lock.applier = what.to_string();
    }
}

/// Inventory and prune options from flags (the inventory's name and owner: [`set_inventory`]).
pub fn prune_options(args: &ApplyOpts, concurrency: usize) -> PruneRunOptions {
    PruneRunOptions {
        inventory: args.inventory.clone().unwrap_or_else(|| "default".into()),
        lock: LockOptions {
            // Waiting for another applier is bounded like waiting for an object.
            wait: args.timeout,
            take_over: args.take_over_inventory,
            ..LockOptions::default()
        },
        enabled: !args.no_prune,
        prune: PruneOptions {
            protected: args.prune_protected,
            max_percent: args.max_prune,
        },
        timeout: args.timeout,
        concurrency,
    }
}
