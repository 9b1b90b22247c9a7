//! `rekube apply`: apply the repository along the DAG, waiting for readiness, then prune what left Git;
//! exit 0 when every object is ready and the prune went through, 2 when anything failed or the prune was
//! refused (`--max-prune`: then nothing is applied).

use std::io::IsTerminal;
use std::time::Instant;

use crate::apply::{self, ApplyOptions};
use crate::cli::{ApplyArgs, ApplyOpts};
use crate::inventory::PruneOptions;
use crate::manifest::Manifest;
use crate::ops::prune::{self, PruneRunOptions};
use crate::report::Progress;

use super::{CommandError, EXIT_ERROR, EXIT_OK, common};

pub async fn run(args: ApplyArgs) -> Result<i32, CommandError> {
    let manifest = common::load(&args.source)?;
    let dag = common::dependencies(&manifest, args.source.strict)?;
    let target = common::connect(&args.cluster).await?;
    let prune_opts = prune_options(&args.apply, usize::from(args.cluster.concurrency));
    let prepared = prune::prepare(&target.cluster, &manifest, &prune_opts).await?;
    let opts = ApplyOptions {
        labels: prepared.labels.clone(),
        ..options(&args.apply, &manifest)
    };
    let layers: Vec<String> = manifest.layers.iter().map(|l| l.name.clone()).collect();
    let mut progress = Progress::new(&manifest.objects, &layers, std::io::stderr().is_terminal());
    let origin = Instant::now();
    let mut changes = apply::apply(&target.cluster, &manifest.objects, &dag, &opts, None, |e| {
        progress.event(e)
    })
    .await;
    let pruned = prune::finish(
        &target.cluster,
        prepared,
        &manifest,
        changes.succeeded(),
        &prune_opts,
        origin,
    )
    .await?;
    changes.changes.extend(pruned.changes);
    changes.elapsed = origin.elapsed();
    for c in &changes.changes {
        match &c.error {
            Some(e) => eprintln!("{} {} ({}): {e}", c.action.as_str(), c.id, c.source),
            None if c.action == apply::Action::Deleted => {
                eprintln!("deleted {} ({})", c.id, c.source)
            }
            None => {}
        }
    }
    eprintln!(
        "{} in {:.2}s",
        changes.summary(),
        changes.elapsed.as_secs_f64()
    );
    let code = if changes.succeeded() {
        EXIT_OK
    } else {
        EXIT_ERROR
    };
    target.finish().await;
    Ok(code)
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

/// Apply options from flags and the manifest's revision.
pub fn options(args: &ApplyOpts, manifest: &Manifest) -> ApplyOptions {
    ApplyOptions {
        timeout: args.timeout,
        recreate: args.recreate,
        revision: manifest.revision.commit.clone(),
        ..ApplyOptions::default()
    }
}
