//! `rekube drill --failover`: every cluster of rekube.yaml built by its model in its own fresh local
//! control plane, the primary destroyed, a standby promoted ([`crate::ops::failover`]). Exit 0 when it
//! passed, 1 on drift, 2 when an object failed or the drill could not run.

use std::fmt::Write;

use crate::cli::{ClusterSelect, DrillArgs, DrillOutput};
use crate::controlplane::ControlPlaneOptions;
use crate::manifest::Manifest;
use crate::manifest::ScopeLookup;
use crate::manifest::clusters::{ClusterChoice, Role};
use crate::ops::drill::DrillOptions;
use crate::ops::failover::{FailoverPlan, FailoverReport, Site, failover};
use crate::report::{DriftCheck, Evidence};

use super::{CommandError, EXIT_DIFF, EXIT_ERROR, EXIT_OK, clusters, common, target};

pub async fn run(args: DrillArgs) -> Result<i32, CommandError> {
    let format = common::report_format(args.report.as_deref())?;
    if clusters::read(&args.source)?.is_empty() {
        return Err(
            "drill --failover: rekube.yaml declares no `clusters:` (a primary, and a standby to promote)"
                .into(),
        );
    }
    let select = ClusterSelect {
        clusters: Vec::new(),
        all_clusters: true,
    };
    let runs = clusters::runs(&select, &args.source, None)?;
    let Some(primary) = runs
        .iter()
        .find(|r| r.spec.as_ref().is_some_and(|s| s.role == Role::Primary))
    else {
        return Err("drill --failover: rekube.yaml's `clusters:` declares no primary".into());
    };
    let promote = match &args.promote {
        Some(name) => runs
            .iter()
            .position(|r| r.name.as_deref() == Some(name.as_str()))
            .ok_or_else(|| format!("drill --failover --promote {name}: no such cluster in rekube.yaml's `clusters:`"))?,
        None => runs
            .iter()
            .position(|r| r.spec.as_ref().is_some_and(|s| s.role != Role::Primary))
            .ok_or("drill --failover: rekube.yaml's `clusters:` declares no standby to promote")?,
    };
    if let Some(spec) = runs[promote]
        .spec
        .as_ref()
        .filter(|s| s.role == Role::Primary)
    {
        return Err(format!(
            "drill --failover --promote {}: cluster {:?} (rekube.yaml:{}) is a primary: only a standby is promoted",
            spec.name, spec.name, spec.line
        )
        .into());
    }
    let mut loaded: Vec<(Manifest, crate::apply::Dag)> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        // The revision and the warnings are said once.
        let manifest = common::load_with(
            &run.source,
            ScopeLookup::Offline,
            common::decrypting(&run.source.trust)?,
            common::helm_options(&run.source),
            i == 0,
        )?;
        let dag = common::dependencies(&manifest, args.source.strict)?;
        loaded.push((manifest, dag));
    }
    let mut source = runs[promote].source.clone();
    source.cluster = source.cluster.map(|c| ClusterChoice {
        promoted: true,
        ..c
    });
    let promoted = common::load_with(
        &source,
        ScopeLookup::Offline,
        common::decrypting(&source.trust)?,
        common::helm_options(&source),
        false,
    )?;
    let promoted_dag = common::dependencies(&promoted, args.source.strict)?;
    let plan = FailoverPlan {
        sites: loaded
            .iter()
            .map(|(manifest, dag)| Site { manifest, dag })
            .collect(),
        promote,
        promoted: Site {
            manifest: &promoted,
            dag: &promoted_dag,
        },
    };
    let opts = DrillOptions {
        control_plane: ControlPlaneOptions::default(),
        timeout: args.timeout,
        rto_budget: args.rto_budget,
        concurrency: usize::from(args.concurrency),
    };
    eprintln!(
        "drill --failover: {} cluster(s), each in a fresh local control plane; primary {} destroyed, standby {} promoted…",
        runs.len(),
        primary.name.as_deref().unwrap_or_default(),
        runs[promote].name.as_deref().unwrap_or_default()
    );
    let mut progress = common::progress(&promoted);
    let report = failover(&plan, &opts, |e| progress.event(e)).await?;
    let json = serde_json::to_string_pretty(&report)?;
    match args.output {
        DrillOutput::Text => print!("{}", render_text(&report)),
        DrillOutput::Json => println!("{json}"),
    }
    if let (Some(path), Some(format), Some(promotion)) = (&args.report, format, &report.promotion) {
        let generated = common::now();
        let cluster = format!(
            "standby {} ({}) promoted in a fresh local control plane, simulated; primary {} destroyed",
            report.promoted, report.model, report.primary
        );
        let notes = vec![comparison(&report)];
        let evidence = Evidence {
            command: "failover",
            passed: report.passed,
            origin: &report.origin,
            revision: report.revision.as_deref(),
            cluster: &cluster,
            problems: report.problems.clone(),
            notes: &notes,
            rebuild: &promotion.apply,
            drift: DriftCheck::of(
                report.drift.as_ref(),
                report.drift_seconds,
                "the promotion failed",
            ),
            generated: &generated,
        };
        common::write_report(path, format, &evidence, &json)?;
    }
    let failed = report.clusters.iter().any(|c| !c.build.rebuild.succeeded)
        || report.promotion.as_ref().is_none_or(|p| !p.apply.succeeded);
    Ok(if report.passed {
        EXIT_OK
    } else if failed {
        EXIT_ERROR
    } else {
        EXIT_DIFF
    })
}

/// `failover RTO 3.21s (promote us, standby (warm)) vs cold-rebuild RTO 12.34s (eu)`.
fn comparison(r: &FailoverReport) -> String {
    format!(
        "failover RTO {:.2}s (promote {}, {}) vs cold-rebuild RTO {:.2}s ({})",
        r.failover_rto_seconds, r.promoted, r.model, r.cold_rto_seconds, r.primary
    )
}

/// The human failover report: each cluster's build, the destruction, the promotion, the drift check,
/// the two recovery times side by side.
pub fn render_text(r: &FailoverReport) -> String {
    let mut out = String::new();
    let commit = r.revision.as_deref().unwrap_or("(not a Git repository)");
    let _ = writeln!(out, "failover drill of {} at {commit}", r.origin);
    let _ = writeln!(out, "{}", target::SIMULATED_NOTE);
    for c in &r.clusters {
        let b = &c.build;
        let drift = b.drift.as_ref().map_or_else(
            || "not checked".to_string(),
            crate::drift::DriftReport::summary,
        );
        let what = if c.cluster == r.primary {
            "cold rebuild"
        } else {
            "built by its model"
        };
        let _ = writeln!(
            out,
            "cluster {} ({}): {what} in {:.2}s ({} object(s), control plane ready in {:.2}s), drift: {drift}",
            c.cluster,
            c.role,
            b.rto_seconds,
            b.rebuild.changes.changes.len(),
            b.cluster_seconds
        );
    }
    let _ = writeln!(
        out,
        "primary {} destroyed: control plane stopped in {:.2}s",
        r.primary, r.destroy_seconds
    );
    if let Some(p) = &r.promotion {
        out.push_str(&super::promote::render_text(p));
    }
    if let Some(d) = &r.drift {
        let _ = writeln!(
            out,
            "drift of {} after the promotion: {} ({} of {} object(s) in sync, checked in {:.2}s)",
            r.promoted,
            d.summary(),
            d.in_sync.len(),
            d.checked,
            r.drift_seconds.unwrap_or_default()
        );
        if d.exit_code() != 0 {
            out.push_str(&crate::drift::render_text(d));
        }
    }
    for p in &r.problems {
        let _ = writeln!(out, "problem: {p}");
    }
    let verdict = if r.passed {
        "FAILOVER DRILL PASSED"
    } else {
        "FAILOVER DRILL FAILED"
    };
    let _ = writeln!(out, "{verdict}: {}", comparison(r));
    out
}
