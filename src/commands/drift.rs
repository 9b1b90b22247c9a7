//! `rekube drift`: how the cluster departs from Git, for CI. Exit 0 in sync, 1 drift of a `--fail-on`
//! class, 2 an error (or a failing object that could not be verified). With several clusters, those of
//! one role are also compared with each other ([`crate::drift::across`]): exit 1 when they differ.

use std::collections::BTreeSet;

use crate::cli::{DriftArgs, DriftClass, ReportOutput};
use crate::drift::across::{self, View};
use crate::drift::{Class, render_junit, render_text};
use crate::ops::drift::{DriftOptions, drift, drift_seen};

use super::clusters::{self, Done, Epilogue, Run};
use super::{CommandError, target};

pub async fn run(args: DriftArgs) -> Result<i32, CommandError> {
    let runs = clusters::runs(&args.select, &args.source, Some(&args.cluster))?;
    let grouped = match args.output {
        ReportOutput::Text => clusters::Format::Text,
        ReportOutput::Json => clusters::Format::Json,
        ReportOutput::Junit => clusters::Format::Junit,
    };
    clusters::each_with(runs, grouped, |run| one(&args, run), compare).await
}

/// Clusters of one role compared with each other, when two or more of a role were observed.
fn compare(done: Vec<Done<Option<View>>>) -> Option<Epilogue> {
    let mut views = Vec::new();
    let mut failed = Vec::new();
    for d in done {
        match (d.value.flatten(), d.run.name, d.run.spec) {
            (Some(view), _, _) => views.push(view),
            (None, Some(name), Some(spec)) => failed.push((name, spec.role.kind().to_string())),
            (None, _, _) => {}
        }
    }
    let groups = across::compare(&views, &failed);
    if groups.is_empty() {
        return None;
    }
    let code = across::exit_code(&groups);
    let summary: Vec<String> = groups
        .iter()
        .map(|g| {
            format!(
                "{} of {} differ ({})",
                g.differing.len(),
                g.compared,
                g.role
            )
        })
        .collect();
    eprintln!("clusters compared: {}", summary.join("; "));
    Some(Epilogue {
        code,
        text: across::render_text(&groups),
        json: (
            "comparison",
            serde_json::to_value(&groups).unwrap_or_default(),
        ),
        junit: across::render_junit(&groups),
    })
}

/// One cluster's drift, and (a named cluster) its view for the comparison.
async fn one(args: &DriftArgs, run: Run) -> Result<(i32, String, Option<View>), CommandError> {
    let inventory = args.inventory.as_deref();
    let p = target::prepare(&run.source, &run.cluster, inventory, false).await?;
    let (manifest, inventory, target) = (p.manifest, p.inventory, p.target);
    let opts = DriftOptions {
        inventory,
        concurrency: usize::from(args.cluster.concurrency),
        fail_on: classes(&args.fail_on),
    };
    // Only a named cluster is compared: an unnamed run does not keep the live objects.
    let (report, seen) = if run.spec.is_some() {
        drift_seen(&target.cluster, &manifest, &opts).await?
    } else {
        (drift(&target.cluster, &manifest, &opts).await?, Vec::new())
    };
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
    let view = match (&run.name, &run.spec) {
        (Some(name), Some(spec)) => Some(View::new(name, spec.role.kind(), &report, seen)),
        _ => None,
    };
    target.finish().await;
    Ok((code, out, view))
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
