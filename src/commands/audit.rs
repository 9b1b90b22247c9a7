//! `rekube audit`: the HA posture of the repository (and with `--live`, of the control plane). Exit 0
//! without findings, 1 with findings, 2 on bad input.

use crate::audit::{audit, render_junit, render_text};
use crate::cli::{AuditArgs, ReportOutput};

use super::{CommandError, common, target};

pub async fn run(args: AuditArgs) -> Result<i32, CommandError> {
    let c = &args.cluster;
    if !args.live && (c.kubeconfig.is_some() || c.context.is_some() || c.fresh.is_some()) {
        return Err(
            "--kubeconfig, --context and --fresh choose the cluster of --live: add --live".into(),
        );
    }
    // Nothing is applied or compared: encrypted values are never needed.
    let manifest = common::load_sealed(&args.source)?;
    let mut target = None;
    let live = if args.live {
        let t = target::connect(&args.cluster).await?;
        let state = crate::ops::audit::observe(&t.cluster).await?;
        target = Some(t);
        Some(state)
    } else {
        None
    };
    let report = audit(&manifest, live.as_ref())?;
    match args.output {
        ReportOutput::Text => print!("{}", render_text(&report)),
        ReportOutput::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportOutput::Junit => print!("{}", render_junit(&report)),
    }
    if args.output != ReportOutput::Text {
        // Machine formats own stdout; people reading the CI log still get the verdict.
        eprintln!("audit: {}", report.summary());
    }
    if let Some(t) = target {
        t.finish().await;
    }
    Ok(report.exit_code())
}
