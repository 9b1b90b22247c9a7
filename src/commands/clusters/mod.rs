//! `--cluster NAME` and `--all-clusters`: one run of a command per cluster of `rekube.yaml`, each with the
//! cluster's kubeconfig and context and the repository shaped for it; their outputs grouped per cluster
//! and the worst exit code returned.

use std::path::PathBuf;

use crate::cli::{ClusterArgs, ClusterSelect, SourceArgs};
use crate::manifest::clusters::{self, ClusterChoice, ClusterSpec};
use crate::source::{Source, SourceOptions};

use super::{CommandError, common};

mod output;

pub use output::{Done, Epilogue, Format, each, each_with};

/// One run of a command: for a cluster of `rekube.yaml`, or (`name` none) for the kubeconfig's cluster
/// as before clusters existed.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: Option<String>,
    /// The cluster as declared (none for an unnamed run).
    pub spec: Option<ClusterSpec>,
    /// The source, shaped for the cluster.
    pub source: SourceArgs,
    /// How to reach the cluster: its kubeconfig and context.
    pub cluster: ClusterArgs,
}

impl Run {
    /// `rebuild --report` of several clusters writes one file each: `report-NAME.html`.
    pub fn report_path(&self, path: &std::path::Path) -> PathBuf {
        let Some(name) = &self.name else {
            return path.to_path_buf();
        };
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let file = match path.extension() {
            Some(ext) => format!("{stem}-{name}.{}", ext.to_string_lossy()),
            None => format!("{stem}-{name}"),
        };
        path.with_file_name(file)
    }
}

/// The runs `select` asks for: none selected gives one unnamed run with the flags as given.
///
/// # Errors
/// An unknown cluster, invalid `clusters:` (printed, exit 2), `--context` together with `--cluster`, or
/// (`connect`) a cluster whose context its kubeconfig does not have.
pub fn runs(
    select: &ClusterSelect,
    source: &SourceArgs,
    cluster: Option<&ClusterArgs>,
) -> Result<Vec<Run>, CommandError> {
    let unnamed = ClusterArgs {
        kubeconfig: None,
        context: None,
        fresh: None,
        concurrency: 32,
    };
    if select.clusters.is_empty() && !select.all_clusters {
        return Ok(vec![Run {
            name: None,
            spec: None,
            source: source.clone(),
            cluster: cluster.cloned().unwrap_or(unnamed),
        }]);
    }
    if cluster.is_some_and(|c| c.context.is_some()) {
        return Err(
            "--context and --cluster exclude each other: a cluster's context is in rekube.yaml"
                .into(),
        );
    }
    let declared = read(source)?;
    let chosen: Vec<&ClusterSpec> = if select.all_clusters {
        if declared.is_empty() {
            return Err("--all-clusters: rekube.yaml declares no `clusters:`".into());
        }
        declared.iter().collect()
    } else {
        let mut chosen: Vec<&ClusterSpec> = Vec::new();
        for name in &select.clusters {
            let spec = clusters::find(&declared, name).map_err(|d| invalid(vec![d]))?;
            if !chosen.iter().any(|c| c.name == spec.name) {
                chosen.push(spec);
            }
        }
        chosen
    };
    let mut out = Vec::new();
    for spec in chosen {
        let mut args = cluster.cloned().unwrap_or_else(|| unnamed.clone());
        if args.fresh.is_none() {
            if let Some(file) = &spec.kubeconfig {
                args.kubeconfig = Some(expand_home(file));
            }
            args.context.clone_from(&spec.context);
            if cluster.is_some() {
                check_context(spec, &args)?;
            }
        }
        let mut source = source.clone();
        source.cluster = Some(ClusterChoice {
            name: spec.name.clone(),
            promoted: false,
        });
        out.push(Run {
            name: Some(spec.name.clone()),
            spec: Some(spec.clone()),
            source,
            cluster: args,
        });
    }
    Ok(out)
}

/// The clusters `rekube.yaml` of the source declares.
pub(super) fn read(source: &SourceArgs) -> Result<Vec<ClusterSpec>, CommandError> {
    let snapshot = Source::new(&source.repository, source.reference.as_deref())
        .snapshot(&SourceOptions::default())?;
    clusters::declared(&snapshot.root).map_err(invalid)
}

fn invalid(errors: Vec<crate::manifest::Diagnostic>) -> CommandError {
    common::invalid(&crate::manifest::Diagnostics {
        errors,
        warnings: Vec::new(),
    })
}

fn expand_home(file: &str) -> PathBuf {
    match (file.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(file),
    }
}

/// A context that the kubeconfig does not have is a configuration error, said before anything runs.
fn check_context(spec: &ClusterSpec, args: &ClusterArgs) -> Result<(), CommandError> {
    let Some(context) = &args.context else {
        return Ok(());
    };
    let (config, file) = match &args.kubeconfig {
        Some(path) => (
            kube::config::Kubeconfig::read_from(path),
            path.display().to_string(),
        ),
        None => (
            kube::config::Kubeconfig::read(),
            "KUBECONFIG / ~/.kube/config".into(),
        ),
    };
    let config = config.map_err(|e| {
        format!(
            "cluster {:?} (rekube.yaml:{}): cannot read the kubeconfig {file}: {e}",
            spec.name, spec.line
        )
    })?;
    if config.contexts.iter().any(|c| &c.name == context) {
        return Ok(());
    }
    let known: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
    Err(format!(
        "cluster {:?} (rekube.yaml:{}): context {context:?} is not in the kubeconfig {file} (contexts: {})",
        spec.name,
        spec.line,
        known.join(", ")
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source_args() -> SourceArgs {
        use clap::Parser;
        match crate::cli::Cli::try_parse_from(["rekube", "plan", "."]).map(|c| c.command) {
            Ok(crate::cli::Command::Plan(args)) => args.source,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reports_of_several_clusters_get_their_names() {
        let run = Run {
            name: Some("us".into()),
            spec: None,
            source: source_args(),
            cluster: ClusterArgs {
                kubeconfig: None,
                context: None,
                fresh: None,
                concurrency: 32,
            },
        };
        assert_eq!(
            run.report_path(std::path::Path::new("out/dr.html")),
            PathBuf::from("out/dr-us.html")
        );
    }
}
