//! `rekube rebuild`: apply into an empty cluster with a preflight, progress, per-layer timings and the
//! total recovery time; a journal lets `--resume` continue after a failure.

use std::time::Instant;

use crate::cli::RebuildArgs;
use crate::ops::rebuild::{RebuildOptions, rebuild};
use crate::report::{DriftCheck, Evidence};

use super::clusters::{self, Run};
use super::{CommandError, EXIT_DIFF, EXIT_ERROR, EXIT_OK, common};

pub async fn run(args: RebuildArgs) -> Result<i32, CommandError> {
    common::report_format(args.report.as_deref())?;
    let runs = clusters::runs(&args.select, &args.source, Some(&args.cluster))?;
    clusters::each(runs, clusters::Format::Text, |run| one(&args, run)).await
}

async fn one(args: &RebuildArgs, cluster: Run) -> Result<(i32, String), CommandError> {
    let started = Instant::now();
    let format = common::report_format(args.report.as_deref())?;
    let (p, run) = super::apply::start(
        &cluster.source,
        &cluster.cluster,
        &args.apply,
        "rekube rebuild",
    )
    .await?;
    let (manifest, dag, target) = (p.manifest, p.dag, p.target);
    // With --fresh, building the cluster (and preparing a simulated one) is not part of the recovery:
    // its start time was printed apart.
    let started = if target.fresh.is_some() {
        Instant::now()
    } else {
        started
    };
    let opts = RebuildOptions {
        run,
        adopt: args.adopt,
        resume: args.resume,
        rto_budget: args.rto_budget,
        cache_dir: None,
    };
    eprintln!(
        "rebuilding {} objects in {} layer(s) into {}",
        manifest.objects.len(),
        manifest.layers.len(),
        target.cluster.server()
    );
    let mut progress = common::progress(&manifest);
    let report = rebuild(&target.cluster, &manifest, &dag, &opts, started, |e| {
        progress.event(e)
    })
    .await?;
    eprint!("{}", report.render_text());
    if let (Some(path), Some(format)) = (&args.report, format) {
        let path = &cluster.report_path(path);
        let generated = common::now();
        let evidence = Evidence {
            command: "rebuild",
            passed: report.succeeded && report.within_budget,
            origin: &manifest.revision.origin,
            revision: report.revision.as_deref(),
            cluster: &report.server,
            problems: report.problems(),
            notes: &[],
            rebuild: &report,
            drift: DriftCheck::NotRun(
                "a rebuild does not check drift (rekube drift does, and rekube drill after its rebuild)",
            ),
            generated: &generated,
        };
        let json = serde_json::to_string_pretty(&report)?;
        common::write_report(path, format, &evidence, &json)?;
    }
    let code = if !report.succeeded {
        eprintln!("continue with: rekube rebuild --resume (same repository and cluster)");
        EXIT_ERROR
    } else if !report.within_budget {
        EXIT_DIFF
    } else {
        EXIT_OK
    };
    target.finish().await;
    Ok((code, String::new()))
}
