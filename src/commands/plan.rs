//! `rekube plan`: load, validate and order the repository offline; print layers, waves, reasons, external
//! references and the plan digest. Exit 0, or 2 on invalid input or a cycle.

use crate::cli::{PlanArgs, PlanOutput};
use crate::graph::render::{Format, render};
use crate::graph::{GraphOptions, Plan};
use crate::manifest::sops::Sops;
use crate::manifest::{HelmOptions, ScopeLookup};

use super::clusters::{self, Run};
use super::{CommandError, EXIT_OK, common};

pub async fn run(args: PlanArgs) -> Result<i32, CommandError> {
    let runs = clusters::runs(&args.select, &args.source, None)?;
    let grouped = match args.output {
        PlanOutput::Text => clusters::Format::Text,
        PlanOutput::Json => clusters::Format::Json,
        PlanOutput::Dot => clusters::Format::Comment("//"),
        PlanOutput::Mermaid => clusters::Format::Comment("%%"),
    };
    clusters::each(runs, grouped, |run| one(&args, run)).await
}

/// The plan of the repository as one cluster gets it.
async fn one(args: &PlanArgs, run: Run) -> Result<(i32, String), CommandError> {
    // Each chart renders twice: objects rendered differently each time are named (rewritten at every apply).
    let helm = HelmOptions {
        check_determinism: true,
        ..common::helm_options(&run.source)
    };
    let manifest = common::load_with(&run.source, ScopeLookup::Offline, Sops::Seal, helm, true)?;
    let graph = crate::graph::of_manifest(&manifest, &GraphOptions::default())?;
    // External references go to stderr so that `-o json` stays parseable.
    common::report_externals(&graph, run.source.strict)?;
    let plan = Plan::new(graph);
    let format = match args.output {
        PlanOutput::Text => Format::Text,
        PlanOutput::Json => Format::Json,
        PlanOutput::Dot => Format::Dot,
        PlanOutput::Mermaid => Format::Mermaid,
    };
    Ok((EXIT_OK, render(&plan, format)))
}
