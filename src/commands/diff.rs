//! `rekube diff`: what applying would change, as a unified YAML diff; exit 0 in sync, 1 differences, 2 errors.

use crate::cli::{DiffArgs, ReportOutput};
use crate::diff::DiffOptions;
use crate::ops::diff::{DiffReport, DiffRunOptions, Outcome, diff};

use super::clusters::{self, Run};
use super::{CommandError, target};

pub async fn run(args: DiffArgs) -> Result<i32, CommandError> {
    let runs = clusters::runs(&args.select, &args.source, Some(&args.cluster))?;
    let grouped = match args.output {
        ReportOutput::Json => clusters::Format::Json,
        ReportOutput::Text | ReportOutput::Junit => clusters::Format::Text,
    };
    clusters::each(runs, grouped, |run| one(&args, run)).await
}

async fn one(args: &DiffArgs, run: Run) -> Result<(i32, String), CommandError> {
    let inventory = args.inventory.as_deref();
    let p = target::prepare(&run.source, &run.cluster, inventory, false).await?;
    let (manifest, inventory, target) = (p.manifest, p.inventory, p.target);
    let opts = DiffRunOptions {
        diff: DiffOptions {
            show_secrets: args.show_secrets,
            ..DiffOptions::default()
        },
        concurrency: usize::from(args.cluster.concurrency),
        // Objects carry the inventory's part-of label once applied: expected, so not a difference.
        labels: crate::inventory::ApplySet::new(&inventory)?.member_labels(),
    };
    let report = diff(&target.cluster, &manifest, &opts).await;
    let out = match args.output {
        ReportOutput::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ReportOutput::Text | ReportOutput::Junit => text(&report),
    };
    let code = report.exit_code();
    target.finish().await;
    Ok((code, out))
}

/// The unified diffs (returned, for stdout); errors and the summary go to stderr.
fn text(report: &DiffReport) -> String {
    let mut out = String::new();
    let mut unchanged = 0;
    for e in &report.entries {
        match &e.outcome {
            Outcome::Unchanged => unchanged += 1,
            Outcome::Changed { diff } => out.push_str(&diff.unified),
            Outcome::Pending { reason, diff } => {
                out.push_str(&format!(
                    "# {} ({}): would be created once {reason}\n",
                    e.id, e.source
                ));
                out.push_str(&diff.unified);
            }
            Outcome::Error { message } => eprintln!("error: {message} ({})", e.source),
        }
    }
    eprintln!(
        "{} changed, {unchanged} unchanged, {} error(s)",
        report.changed(),
        report.errors()
    );
    out
}
