//! `rekube explain KIND/NAMESPACE/NAME REPO`: where an object is declared, what it waits for and why, what
//! waits for it, and its live status (unless `--offline`).

use std::time::Duration;

use crate::cli::ExplainArgs;
use crate::graph::{GraphOptions, Node, Plan};
use crate::object::Object;
use crate::readiness::{self, JudgedBy};

use super::{CommandError, EXIT_ERROR, EXIT_OK, common, target};

pub async fn run(args: ExplainArgs) -> Result<i32, CommandError> {
    let manifest = common::load_sealed(&args.source)?;
    let matches = find(&manifest.objects, &args.object)?;
    let graph = crate::graph::of_manifest(&manifest, &GraphOptions::default())?;
    let plan = Plan::new(graph);
    let graph = plan.graph();
    let live = if args.offline {
        None
    } else {
        // A short bound: explain is mostly offline, a slow or absent cluster must not hang it.
        tokio::time::timeout(Duration::from_secs(10), target::connect(&args.cluster))
            .await
            .ok()
            .and_then(Result::ok)
    };
    for (k, obj) in matches.iter().enumerate() {
        if k > 0 {
            println!();
        }
        let Some(n) = graph.find(&obj.id) else {
            continue;
        };
        println!("{}", obj.id);
        println!("  apiVersion   {}", obj.api_version);
        println!(
            "  declared at  {} (layer {}, document {})",
            obj.source, obj.source.layer, obj.source.document
        );
        println!(
            "  wave         {} of {}",
            plan.wave_of(n) + 1,
            plan.waves().len()
        );
        println!("  waits for:");
        let deps = graph.dependencies(n);
        if deps.is_empty() {
            println!("    nothing");
        }
        for e in deps {
            println!(
                "    {:<48} {}{}",
                graph.node(e.to).label(),
                e.rule,
                detail(&e.detail)
            );
        }
        let externals: Vec<_> = graph.externals().iter().filter(|x| x.from == n).collect();
        if !externals.is_empty() {
            println!("  references outside the repository:");
            for x in externals {
                println!(
                    "    {:<48} {}{}",
                    x.target.to_string(),
                    x.rule,
                    detail(&x.detail)
                );
            }
        }
        let dependents: Vec<_> = graph
            .dependents(n)
            .filter(|e| matches!(graph.node(e.from), Node::Object(_)))
            .collect();
        if !dependents.is_empty() {
            println!("  needed by:");
            for e in dependents {
                println!(
                    "    {:<48} {}{}",
                    graph.node(e.from).label(),
                    e.rule,
                    detail(&e.detail)
                );
            }
        }
        let rctx = readiness::Context {
            health: manifest.rules.health.clone(),
            ..readiness::Context::default()
        };
        // Without the live object, only which rule would judge it is known.
        let (judged, evaluated) = match &live {
            None => {
                println!("  status       unknown (offline)");
                (readiness::judge(&obj.body, &rctx).judged_by, false)
            }
            Some(t) => match t.cluster.get(&obj.id, &obj.api_version).await {
                Ok(Some(v)) => {
                    let j = readiness::judge(&v, &rctx);
                    let r = j.readiness;
                    println!("  status       {r} (live at {})", t.cluster.server());
                    (j.judged_by, true)
                }
                Ok(None) => {
                    println!(
                        "  status       NotFound (not in the cluster at {})",
                        t.cluster.server()
                    );
                    (readiness::judge(&obj.body, &rctx).judged_by, false)
                }
                Err(e) => {
                    println!("  status       unknown: {}", super::render_error(&e));
                    (readiness::judge(&obj.body, &rctx).judged_by, false)
                }
            },
        };
        print_judged_by(&judged, evaluated);
        let ignored = manifest.rules.ignore.for_object(&obj.id, &obj.body);
        if !ignored.is_empty() {
            println!("  ignored fields (other controllers own them):");
            for why in ignored.reasons() {
                println!("    {why}");
            }
        }
    }
    Ok(if matches.is_empty() {
        EXIT_ERROR
    } else {
        EXIT_OK
    })
}

/// The rule that judges readiness and, for a health rule judged live, how each expression evaluated.
fn print_judged_by(judged: &JudgedBy, evaluated: bool) {
    println!("  readiness    {judged}");
    let JudgedBy::HealthRule { evaluations, .. } = judged else {
        return;
    };
    if !evaluated {
        return;
    }
    println!("  last evaluation:");
    for e in evaluations {
        let result = match &e.result {
            None => "not evaluated".to_string(),
            Some(Ok(b)) => b.to_string(),
            Some(Err(why)) => format!("error: {why}"),
        };
        println!("    {:<11} {:<16} {}", e.field, result, e.expression);
    }
}

fn detail(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(": {d}")
    }
}

/// Objects matching `KIND/NAMESPACE/NAME` or `KIND/NAME`; the kind is case-insensitive and may carry its
/// group (`deployment.apps`).
fn find<'a>(objects: &'a [Object], spec: &str) -> Result<Vec<&'a Object>, CommandError> {
    let parts: Vec<&str> = spec.split('/').collect();
    let (kind, namespace, name) = match parts.as_slice() {
        [k, n] => (*k, None, *n),
        [k, ns, n] => (*k, Some(*ns), *n),
        _ => {
            return Err(format!(
                "{spec:?}: expected KIND/NAMESPACE/NAME or KIND/NAME (e.g. deployment/shop/api)"
            )
            .into());
        }
    };
    let (kind, group) = kind
        .split_once('.')
        .map_or((kind, None), |(k, g)| (k, Some(g)));
    let found: Vec<&Object> = objects
        .iter()
        .filter(|o| o.id.kind.eq_ignore_ascii_case(kind))
        .filter(|o| group.is_none_or(|g| o.id.group.eq_ignore_ascii_case(g)))
        .filter(|o| o.id.name == name)
        .filter(|o| namespace.is_none_or(|ns| o.id.namespace.as_deref() == Some(ns)))
        .collect();
    if found.is_empty() {
        return Err(format!("{spec}: no such object in the repository").into());
    }
    Ok(found)
}
