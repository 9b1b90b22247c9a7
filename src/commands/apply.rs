//! `rekube apply`: apply the repository along the DAG, waiting for readiness, then prune what left Git;
//! exit 0 when every object is ready and the prune went through, 2 when anything failed or the prune was
//! refused (`--max-prune`: then nothing is applied).

use crate::apply::{Action, ApplyOptions};
use crate::cli::{ApplyArgs, ApplyOpts};
use crate::inventory::PruneOptions;
use crate::ops::apply::{Applied, ApplyRunOptions, apply};
use crate::ops::prune::PruneRunOptions;

use super::{CommandError, EXIT_ERROR, EXIT_OK, common, render_error};

pub async fn run(args: ApplyArgs) -> Result<i32, CommandError> {
    let manifest = common::load_for_cluster(&args.source, &args.cluster)?;
    let dag = common::dependencies(&manifest, args.source.strict)?;
    let target = common::connect(&args.cluster).await?;
    let (manifest, dag) =
        common::for_cluster(manifest, dag, &args.source, &args.cluster, &target).await?;
    target.prepare(&manifest, args.apply.timeout).await?;
    let mut opts = options(&args.apply, usize::from(args.cluster.concurrency));
    opts.apply.simulated = target.simulated;
    let mut progress = common::progress(&manifest);
    let applied = apply(&target.cluster, &manifest, &dag, &opts, |e| {
        progress.event(e)
    })
    .await?;
    render(&applied);
    target.finish().await;
    Ok(if applied.succeeded() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
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

/// Inventory and prune options from flags.
pub fn prune_options(args: &ApplyOpts, concurrency: usize) -> PruneRunOptions {
    PruneRunOptions {
        inventory: args.inventory.clone(),
        enabled: !args.no_prune,
        prune: PruneOptions {
            protected: args.prune_protected,
            max_percent: args.max_prune,
        },
        timeout: args.timeout,
        concurrency,
    }
}
