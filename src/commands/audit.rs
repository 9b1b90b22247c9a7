//! `rekube audit`: the HA posture of the repository (and with `--live`, of the control plane). Exit 0
//! without findings, 1 with findings, 2 on bad input. `--cluster NAME` / `--all-clusters`: per cluster of
//! `rekube.yaml`, the repository shaped for it and its live control plane.

use crate::audit::{audit, render_junit, render_text};
use crate::cli::{AuditArgs, ReportOutput};

use super::clusters::{self, Run};
use super::{CommandError, common, target};

pub async fn run(args: AuditArgs) -> Result<i32, CommandError> {
    let c = &args.cluster;
    let named = args.select.all_clusters || !args.select.clusters.is_empty();
    if !args.live && !named && (c.kubeconfig.is_some() || c.context.is_some() || c.fresh.is_some())
    {
        return Err(
            "--kubeconfig, --context and --fresh choose the cluster of --live: add --live".into(),
        );
    }
    let runs = clusters::runs(&args.select, &args.source, Some(&args.cluster))?;
    let grouped = match args.output {
        ReportOutput::Text => clusters::Format::Text,
        ReportOutput::Json => clusters::Format::Json,
        ReportOutput::Junit => clusters::Format::Junit,
    };
    clusters::each(runs, grouped, |run| one(&args, run)).await
}

/// The audit of one run: a named cluster always has its control plane audited too.
async fn one(args: &AuditArgs, run: Run) -> Result<(i32, String), CommandError> {
    // Nothing is applied or compared: encrypted values are never needed.
    let manifest = common::load_sealed(&run.source)?;
    let mut target = None;
    let live = if args.live || run.name.is_some() {
        let t = target::connect(&run.cluster).await?;
        let state = crate::ops::audit::observe(&t.cluster).await?;
        target = Some(t);
        Some(state)
    } else {
        None
    };
    let report = audit(&manifest, live.as_ref())?;
    let out = match args.output {
        ReportOutput::Text => render_text(&report),
        ReportOutput::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ReportOutput::Junit => render_junit(&report),
    };
    if args.output != ReportOutput::Text {
        // Machine formats own stdout; people reading the CI log still get the verdict.
        eprintln!("audit: {}", report.summary());
    }
    if let Some(t) = target {
        t.finish().await;
    }
    Ok((report.exit_code(), out))
}
