//! `rekube apply`: apply the repository along the DAG, waiting for readiness; exit 0 when every object is
//! ready, 2 when any failed.

use std::io::IsTerminal;

use crate::apply::{self, ApplyOptions};
use crate::cli::{ApplyArgs, ApplyOpts};
use crate::manifest::Manifest;
use crate::report::Progress;

use super::{CommandError, EXIT_ERROR, EXIT_OK, common};

pub async fn run(args: ApplyArgs) -> Result<i32, CommandError> {
    let manifest = common::load(&args.source)?;
    let dag = common::dependencies(&manifest, args.source.strict)?;
    let target = common::connect(&args.cluster).await?;
    let opts = options(&args.apply, &manifest);
    let layers: Vec<String> = manifest.layers.iter().map(|l| l.name.clone()).collect();
    let mut progress = Progress::new(&manifest.objects, &layers, std::io::stderr().is_terminal());
    let changes = apply::apply(&target.cluster, &manifest.objects, &dag, &opts, None, |e| {
        progress.event(e)
    })
    .await;
    for c in &changes.changes {
        if let Some(e) = &c.error {
            eprintln!("{} {} ({}): {e}", c.action.as_str(), c.id, c.source);
        }
    }
    eprintln!("{} in {:.2}s", changes.summary(), changes.elapsed.as_secs_f64());
    let code = if changes.succeeded() { EXIT_OK } else { EXIT_ERROR };
    target.finish().await;
    Ok(code)
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
