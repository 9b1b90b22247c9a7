//! `rekube export`: list the live cluster, keep what people declared, write a repository (or a new layer
//! of one with `--add-to`), and say what was left out and why. Exit 0 when written, 2 on an error.

use std::collections::{BTreeMap, BTreeSet};

use crate::cli::ExportArgs;
use crate::export::ExportOptions;
use crate::ops::export::{ExportRunOptions, Exported, add_layer, export, write};

use super::{CommandError, EXIT_OK, common};

pub async fn run(args: ExportArgs) -> Result<i32, CommandError> {
    let layers = layer_overrides(&args.layers)?;
    // With --add-to, the repository is read first: an invalid one stops the export before any request.
    let mut repository = match &args.add_to {
        Some(repo) => {
            let source = crate::cli::SourceArgs {
                repository: repo.display().to_string(),
                reference: None,
                strict: false,
                namespace: None,
                kube_version: None,
                helm_lookup: false,
                trust: Default::default(),
            };
            Some(common::load_for_cluster(&source, &args.cluster)?)
        }
        None => None,
    };
    let target = common::connect(&args.cluster).await?;
    if let Some(m) = &mut repository {
        common::resolve_scopes(&target, m).await?;
    }
    let opts = ExportRunOptions {
        export: ExportOptions {
            include_secrets: args.include_secrets,
            layers,
            single_layer: args.add_to.as_ref().map(|_| args.layer_name.clone()),
            origin: target.cluster.server().to_string(),
        },
        namespaces: args.namespaces.clone(),
        selector: args.selector.clone(),
        kinds: args.kinds.clone(),
        declared: repository
            .iter()
            .flat_map(|m| m.objects.iter().map(|o| o.id.clone()))
            .collect::<BTreeSet<_>>(),
        skip_managed: args.add_to.is_some(),
        concurrency: usize::from(args.cluster.concurrency),
    };
    let exported = export(&target.cluster, &opts).await?;
    match (&args.out, &args.add_to, &repository) {
        (Some(out), _, _) => write(out, &exported.export, true)?,
        (None, Some(repo), Some(manifest)) => {
            if exported.export.files.is_empty() {
                eprintln!("nothing to add: the repository declares or manages everything exported");
            } else {
                write(repo, &exported.export, false)?;
                let existing: Vec<String> =
                    manifest.layers.iter().map(|l| l.name.clone()).collect();
                add_layer(repo, &args.layer_name, &existing)?;
            }
        }
        _ => return Err("give --out DIR or --add-to REPO".into()),
    }
    render(&exported, args.out.as_ref().or(args.add_to.as_ref()));
    target.finish().await;
    Ok(EXIT_OK)
}

/// `NAMESPACE=LAYER` pairs; the layer must be one of the export's.
fn layer_overrides(pairs: &[String]) -> Result<BTreeMap<String, String>, CommandError> {
    let mut out = BTreeMap::new();
    for p in pairs {
        let Some((ns, layer)) = p.split_once('=') else {
            return Err(format!("--layer {p}: expected NAMESPACE=LAYER").into());
        };
        if !crate::export::layout::LAYERS.contains(&layer) {
            return Err(format!("--layer {p}: the layer must be cluster, tools or apps").into());
        }
        out.insert(ns.to_string(), layer.to_string());
    }
    Ok(out)
}

/// What was written, and what was left out and why (grouped by reason, a few names each), on stderr.
fn render(exported: &Exported, dir: Option<&std::path::PathBuf>) {
    let e = &exported.export;
    let folder = dir.map(|d| d.display().to_string()).unwrap_or_default();
    eprintln!("exported {} object(s) into {folder}", e.objects.len());
    let mut by_reason: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for l in &e.left_out {
        by_reason
            .entry(&l.reason)
            .or_default()
            .push(l.id.to_string());
    }
    for (reason, ids) in &by_reason {
        eprintln!(
            "left out {} object(s): {reason}: {}",
            ids.len(),
            crate::report::abbreviate(ids, 5)
        );
    }
    for w in &exported.warnings {
        eprintln!("warning: {w}");
    }
}
