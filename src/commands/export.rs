//! `rekube export`: list the live cluster, keep what people declared, write a repository (or a new layer
//! of one with `--add-to`), and say what was left out and why. Exit 0 when written, 2 on an error.

use std::collections::{BTreeMap, BTreeSet};

use crate::cli::ExportArgs;
use crate::export::{Encryption, ExportOptions, RecipientSource, Secrets};
use crate::manifest::sops::config::CreationRules;
use crate::manifest::sops::encrypt::Recipients;
use crate::ops::export::{ExportRunOptions, Exported, add_layer, export, write};

use super::{CommandError, EXIT_OK, common, target};

pub async fn run(args: ExportArgs) -> Result<i32, CommandError> {
    let layers = layer_overrides(&args.layers)?;
    let secrets = secrets(&args)?;
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
                cluster: None,
            };
            Some(common::load_for_cluster(&source, &args.cluster)?)
        }
        None => None,
    };
    let target = target::connect(&args.cluster).await?;
    if let Some(m) = &mut repository {
        target::resolve_scopes(&target, m).await?;
    }
    let opts = ExportRunOptions {
        export: ExportOptions {
            secrets,
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

/// How Secrets are exported: recipients from `--age-recipient`, else `SOPS_AGE_RECIPIENTS`, else the
/// `--add-to` repository's `.sops.yaml`; without any, plain text only when asked for by name.
fn secrets(args: &ExportArgs) -> Result<Secrets, CommandError> {
    if !args.include_secrets {
        return Ok(Secrets::LeaveOut);
    }
    let mut given = args.age_recipients.clone();
    if given.is_empty()
        && let Ok(env) = std::env::var("SOPS_AGE_RECIPIENTS")
    {
        given.push(env);
    }
    let given = Recipients::parse(&given)?;
    let lastmodified = common::now();
    if !given.is_empty() {
        return Ok(Secrets::Encrypt(Encryption {
            recipients: RecipientSource::Given(given),
            lastmodified,
        }));
    }
    if let Some(repo) = &args.add_to {
        let config = repo.join(".sops.yaml");
        match std::fs::read_to_string(&config) {
            Ok(text) => {
                let rules = CreationRules::parse(&text)
                    .map_err(|e| format!("{}: {e}", config.display()))?;
                return Ok(Secrets::Encrypt(Encryption {
                    recipients: RecipientSource::CreationRules(rules),
                    lastmodified,
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: cannot read: {e}", config.display()).into()),
        }
    }
    if args.allow_plain_secrets {
        return Ok(Secrets::Plain);
    }
    Err(
        "--include-secrets: no age recipient to encrypt Secrets for; give --age-recipient age1… \
         (or SOPS_AGE_RECIPIENTS, or a .sops.yaml creation rule in the --add-to repository), or \
         --allow-plain-secrets to write their values in plain text; nothing was exported"
            .into(),
    )
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
    if !e.encrypted.is_empty() {
        eprintln!(
            "{} Secret(s) encrypted with SOPS (age; data and stringData): {}",
            e.encrypted.len(),
            crate::report::abbreviate(&ids(&e.encrypted), 5)
        );
    }
    if !e.plain_secrets.is_empty() {
        eprintln!(
            "warning: {} Secret(s) written in PLAIN TEXT (--allow-plain-secrets): never commit them: {}",
            e.plain_secrets.len(),
            crate::report::abbreviate(&ids(&e.plain_secrets), 5)
        );
    }
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

fn ids(ids: &[crate::object::ObjectId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}
