//! `rekube drill`: rebuild the repository into a fresh cluster, prove zero drift, report the recovery
//! time, tear down. Exit 0 when it passed; 1 on drift or over `--rto-budget`; 2 when an object failed or
//! the drill could not run.

use std::fmt::Write;

use crate::cli::{DrillArgs, DrillOutput};
use crate::controlplane::ControlPlaneOptions;
use crate::ops::drill::{DrillOptions, DrillReport, drill};
use crate::report::{DriftCheck, Evidence};

use super::{CommandError, EXIT_DIFF, EXIT_ERROR, EXIT_OK, common, target};

pub async fn run(args: DrillArgs) -> Result<i32, CommandError> {
    if args.failover {
        return super::failover::run(args).await;
    }
    let format = common::report_format(args.report.as_deref())?;
    let manifest = common::load(&args.source)?;
    let dag = common::dependencies(&manifest, args.source.strict)?;
    let opts = DrillOptions {
        control_plane: ControlPlaneOptions::default(),
        timeout: args.timeout,
        rto_budget: args.rto_budget,
        concurrency: usize::from(args.concurrency),
    };
    eprintln!(
        "drill: rebuilding {} objects into a fresh local control plane…",
        manifest.objects.len()
    );
    let mut progress = common::progress(&manifest);
    let report = drill(&manifest, &dag, &opts, |e| progress.event(e)).await?;
    let json = serde_json::to_string_pretty(&report)?;
    match args.output {
        DrillOutput::Text => print!("{}", render_text(&report)),
        DrillOutput::Json => println!("{json}"),
    }
    if let (Some(path), Some(format)) = (&args.report, format) {
        let generated = common::now();
        let cluster = format!(
            "a fresh local control plane, simulated, torn down after the drill (was {})",
            report.rebuild.server
        );
        let evidence = Evidence {
            command: "drill",
            passed: report.passed,
            origin: &report.origin,
            revision: report.revision.as_deref(),
            cluster: &cluster,
            problems: report.problems.clone(),
            notes: &report.simulation,
            rebuild: &report.rebuild,
            drift: DriftCheck::of(
                report.drift.as_ref(),
                report.drift_seconds,
                "the rebuild failed",
            ),
            generated: &generated,
        };
        common::write_report(path, format, &evidence, &json)?;
    }
    Ok(if report.passed {
        EXIT_OK
    } else if !report.rebuild.succeeded {
        EXIT_ERROR
    } else {
        EXIT_DIFF
    })
}

/// The human drill report: timings, layers, slowest objects, drift, verdict.
pub fn render_text(r: &DrillReport) -> String {
    let mut out = String::new();
    let commit = r.revision.as_deref().unwrap_or("(not a Git repository)");
    let _ = writeln!(out, "drill of {} at {commit}", r.origin);
    let _ = writeln!(
        out,
        "fresh control plane ready in {:.2}s",
        r.cluster_seconds
    );
    let _ = writeln!(out, "{}", target::SIMULATED_NOTE);
    for note in &r.simulation {
        let _ = writeln!(out, "simulated cluster: {note}");
    }
    out.push_str(&r.rebuild.render_text());
    if let Some(d) = &r.drift {
        let _ = writeln!(
            out,
            "drift after the rebuild: {} ({} of {} object(s) in sync, checked in {:.2}s)",
            d.summary(),
            d.in_sync.len(),
            d.checked,
            r.drift_seconds.unwrap_or_default()
        );
        if d.exit_code() != 0 {
            out.push_str(&crate::drift::render_text(d));
        }
    }
    let _ = writeln!(out, "torn down in {:.2}s", r.teardown_seconds);
    for p in &r.problems {
        let _ = writeln!(out, "problem: {p}");
    }
    let budget = match r.rto_budget_seconds {
        Some(b) => format!(" (budget {b:.0}s)"),
        None => String::new(),
    };
    let verdict = if r.passed {
        "DRILL PASSED"
    } else {
        "DRILL FAILED"
    };
    let _ = writeln!(out, "{verdict}: RTO {:.2}s{budget}", r.rto_seconds);
    out
}
