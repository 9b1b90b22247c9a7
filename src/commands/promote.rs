//! `rekube promote --cluster NAME`: a standby of rekube.yaml starts serving ([`crate::ops::promote`]);
//! `--undo` takes the promotion record back. Exit 0 when every object is ready and the promotion is
//! recorded, 2 otherwise (a primary or an unknown cluster included).

use std::fmt::Write;
use std::time::Instant;

use crate::cli::{ApplyOpts, ClusterArgs, ClusterSelect, DrillOutput, PromoteArgs};
use crate::manifest::clusters::{ClusterChoice, Role};
use crate::ops::promote::{PromoteOptions, PromoteReport, promote};

use super::{CommandError, EXIT_ERROR, EXIT_OK, apply, clusters, common, target};

pub async fn run(args: PromoteArgs) -> Result<i32, CommandError> {
    let started = Instant::now();
    let at = common::now();
    let select = ClusterSelect {
        clusters: vec![args.cluster.clone()],
        all_clusters: false,
    };
    let reach = ClusterArgs {
        kubeconfig: None,
        context: None,
        fresh: None,
        concurrency: args.concurrency,
    };
    let runs = clusters::runs(&select, &args.source, Some(&reach))?;
    let Some(mut run) = runs.into_iter().next() else {
        return Err(format!("unknown cluster {:?}", args.cluster).into());
    };
    if let Some(spec) = run.spec.as_ref().filter(|s| s.role == Role::Primary) {
        return Err(format!(
            "cluster {:?} (rekube.yaml:{}) is a primary: only a standby is promoted",
            spec.name, spec.line
        )
        .into());
    }
    if args.undo {
        return undo(&args, &run).await;
    }
    run.source.cluster = Some(ClusterChoice {
        name: args.cluster.clone(),
        promoted: true,
    });
    let opts = ApplyOpts {
        recreate: false,
        timeout: args.timeout,
        no_prune: true,
        prune_protected: false,
        max_prune: 0,
        inventory: args.inventory.clone(),
        take_over_inventory: false,
    };
    let (p, run_opts) = apply::start(&run.source, &run.cluster, &opts, "rekube promote").await?;
    eprintln!(
        "promoting cluster {}: {} object(s) in dependency order…",
        args.cluster,
        p.manifest.objects.len()
    );
    let mut progress = common::progress(&p.manifest);
    let popts = PromoteOptions { run: run_opts, at };
    let report = promote(
        &p.target.cluster,
        &p.manifest,
        &p.dag,
        &popts,
        started,
        |e| progress.event(e),
    )
    .await?;
    eprint!("{}", render_text(&report));
    if args.output == DrillOutput::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    p.target.finish().await;
    Ok(if report.succeeded {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

/// Removes the promotion record: the next apply applies the cluster as a standby again.
async fn undo(args: &PromoteArgs, run: &clusters::Run) -> Result<i32, CommandError> {
    let manifest = common::load_for_cluster(&run.source, &run.cluster)?;
    let (inventory, _) = common::inventory(args.inventory.as_deref(), &manifest, &run.source);
    let target = target::connect(&run.cluster).await?;
    let set = crate::inventory::ApplySet::new(&inventory)?;
    match crate::inventory::clear_promotion(&target.cluster, &set).await? {
        Some(at) => eprintln!(
            "cluster {}: the promotion of {at} is taken back; the next `rekube apply --cluster {}` applies it as a standby again",
            args.cluster, args.cluster
        ),
        None => eprintln!(
            "cluster {}: not promoted, nothing to take back",
            args.cluster
        ),
    }
    Ok(EXIT_OK)
}

/// The promotion report: per-layer timings, what was scaled up and created, the recovery time.
pub fn render_text(r: &PromoteReport) -> String {
    let mut out = r.apply.render_details();
    for w in &r.released {
        let _ = writeln!(out, "released {} to {} replica(s)", w.id, w.replicas);
    }
    for p in &r.problems {
        let _ = writeln!(out, "problem: {p}");
    }
    let verdict = if r.succeeded {
        "promoted"
    } else {
        "promotion FAILED"
    };
    let _ = write!(
        out,
        "{verdict}: cluster {} ({}): recovery time {:.2}s ({} workload(s) released, {} object(s) created)",
        r.cluster,
        r.role,
        r.recovery_seconds,
        r.released.len(),
        r.created
    );
    if let Some(at) = &r.promoted_at {
        let _ = write!(out, "; recorded as promoted at {at}");
    }
    out.push('\n');
    out
}
