//! `rekube plan`: load, validate and order the repository offline; print layers, waves, reasons, external
//! references and the plan digest. Exit 0, or 2 on invalid input or a cycle.

use crate::cli::{PlanArgs, PlanOutput};
use crate::graph::render::{Format, render};
use crate::graph::{GraphOptions, Plan};

use super::{CommandError, EXIT_OK, common};

pub async fn run(args: PlanArgs) -> Result<i32, CommandError> {
    let manifest = common::load_sealed(&args.source)?;
    let graph = crate::graph::build(
        &manifest.layers,
        &manifest.objects,
        &GraphOptions::default(),
    )?;
    // External references go to stderr so that `-o json` stays parseable.
    common::report_externals(&graph, args.source.strict)?;
    let plan = Plan::new(graph);
    let format = match args.output {
        PlanOutput::Text => Format::Text,
        PlanOutput::Json => Format::Json,
        PlanOutput::Dot => Format::Dot,
        PlanOutput::Mermaid => Format::Mermaid,
    };
    print!("{}", render(&plan, format));
    Ok(EXIT_OK)
}
