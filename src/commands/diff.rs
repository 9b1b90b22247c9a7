//! `rekube diff`: what applying would change, as a unified YAML diff; exit 0 in sync, 1 differences, 2 errors.

use crate::cli::{DiffArgs, ReportOutput};
use crate::diff::DiffOptions;
use crate::ops::diff::{DiffReport, DiffRunOptions, Outcome, diff};

use super::{CommandError, target};

pub async fn run(args: DiffArgs) -> Result<i32, CommandError> {
    let inventory = args.inventory.as_deref();
    let p = target::prepare(&args.source, &args.cluster, inventory, false).await?;
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
    match args.output {
        ReportOutput::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        ReportOutput::Text | ReportOutput::Junit => print_text(&report),
    }
    let code = report.exit_code();
    target.finish().await;
    Ok(code)
}

fn print_text(report: &DiffReport) {
    let mut unchanged = 0;
    for e in &report.entries {
        match &e.outcome {
            Outcome::Unchanged => unchanged += 1,
            Outcome::Changed { diff } => print!("{}", diff.unified),
            Outcome::Pending { reason, diff } => {
                println!("# {} ({}): would be created once {reason}", e.id, e.source);
                print!("{}", diff.unified);
            }
            Outcome::Error { message } => eprintln!("error: {message} ({})", e.source),
        }
    }
    eprintln!(
        "{} changed, {unchanged} unchanged, {} error(s)",
        report.changed(),
        report.errors()
    );
}
