//! `rekube drift`: how the cluster departs from Git, for CI. Exit 0 in sync, 1 drift of a `--fail-on`
//! class, 2 an error (or a failing object that could not be verified).

use std::collections::BTreeSet;

use crate::cli::{DriftArgs, DriftClass, ReportOutput};
use crate::drift::{Class, render_junit, render_text};
use crate::ops::drift::{DriftOptions, drift};

use super::clusters::{self, Run};
use super::{CommandError, target};

pub async fn run(args: DriftArgs) -> Result<i32, CommandError> {
    let runs = clusters::runs(&args.select, &args.source, Some(&args.cluster))?;
    let grouped = match args.output {
        ReportOutput::Text => clusters::Format::Text,
        ReportOutput::Json => clusters::Format::Json,
        ReportOutput::Junit => clusters::Format::Junit,
    };
    clusters::each(runs, grouped, |run| one(&args, run)).await
}

async fn one(args: &DriftArgs, run: Run) -> Result<(i32, String), CommandError> {
    let inventory = args.inventory.as_deref();
    let p = target::prepare(&run.source, &run.cluster, inventory, false).await?;
    let (manifest, inventory, target) = (p.manifest, p.inventory, p.target);
    let opts = DriftOptions {
        inventory,
        concurrency: usize::from(args.cluster.concurrency),
        fail_on: classes(&args.fail_on),
    };
    let report = drift(&target.cluster, &manifest, &opts).await?;
    let out = match args.output {
        ReportOutput::Text => render_text(&report),
        ReportOutput::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ReportOutput::Junit => render_junit(&report),
    };
    if args.output != ReportOutput::Text {
        // Machine formats own stdout; people reading the CI log still get the verdict.
        eprintln!(
            "drift: {} ({} of {} in sync)",
            report.summary(),
            report.in_sync.len(),
            report.checked
        );
    }
    let code = report.exit_code();
    target.finish().await;
    Ok((code, out))
}

/// `--fail-on` values as drift classes.
pub fn classes(values: &[DriftClass]) -> BTreeSet<Class> {
    values
        .iter()
        .map(|c| match c {
            DriftClass::Modified => Class::Modified,
            DriftClass::Missing => Class::Missing,
            DriftClass::Orphaned => Class::Orphaned,
            DriftClass::Unmanaged => Class::Unmanaged,
            DriftClass::Unverifiable => Class::Unverifiable,
        })
        .collect()
}
