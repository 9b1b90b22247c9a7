//! What several commands share: loading the repository (printing the revision and warnings), its
//! dependency graph, and report files. Connecting to the cluster is [`super::target`].

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::cli::{ClusterArgs, SourceArgs, TrustArgs, VerifyCommit};
use crate::graph::{Graph, GraphOptions};
use crate::helm::template::Lookup;
use crate::manifest::sops::{AgeKeys, KeySources, Sops};
use crate::manifest::{self, Diagnostic, HelmOptions, LoadOptions, Manifest, ScopeLookup};
use crate::report::{Evidence, Progress, ReportFormat};
use crate::source::verify::{TrustedKeys, Verify, VerifyMode};
use crate::source::{Identity, Source, SourceOptions};

use super::CommandError;

/// A repository that failed validation: the diagnostics are already printed, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{count} validation error(s): nothing was applied")]
pub struct Invalid {
    pub count: usize,
}

/// Reads and validates the repository offline, SOPS-encrypted objects decrypted, printing the revision
/// used (with its signer under `--verify-commit`) and any warnings to stderr. A kind of unknown scope
/// without a namespace is an error (see [`load_for_cluster`]).
///
/// # Errors
/// The source cannot be read or is not trusted ([`crate::source::SourceError`]), or the repository is
/// invalid ([`Invalid`], after printing every diagnostic; a file no key decrypts is one).
pub fn load(args: &SourceArgs) -> Result<Manifest, CommandError> {
    load_with(
        args,
        ScopeLookup::Offline,
        decrypting(&args.trust)?,
        helm_options(args),
        true,
    )
}

/// [`load`] without decrypting (`plan`, `explain`): encrypted objects keep their ciphertext.
///
/// # Errors
/// As [`load`].
pub fn load_sealed(args: &SourceArgs) -> Result<Manifest, CommandError> {
    load_with(
        args,
        ScopeLookup::Offline,
        Sops::Seal,
        helm_options(args),
        true,
    )
}

/// How charts render offline: `--kube-version`, `--helm-lookup` (with the default kubeconfig).
pub fn helm_options(args: &SourceArgs) -> HelmOptions {
    HelmOptions {
        kube_version: args.kube_version.clone(),
        lookup: args.helm_lookup.then(Lookup::default),
        ..HelmOptions::default()
    }
}

/// Decryption with the age keys of `--age-key-file` and sops's environment.
pub(super) fn decrypting(args: &TrustArgs) -> Result<Sops, CommandError> {
    let keys = AgeKeys::discover(&KeySources::from_env(&args.age_key_files))?;
    Ok(Sops::Decrypt(Arc::new(keys)))
}

/// `--verify-commit` and its keys as source options.
///
/// # Errors
/// A key file that cannot be read.
pub fn verify_options(args: &TrustArgs) -> Result<Option<Verify>, CommandError> {
    let Some(mode) = args.verify_commit else {
        return Ok(None);
    };
    let mut keys = TrustedKeys::default();
    for file in &args.verify_keys {
        keys.add_file(file)?;
    }
    Ok(Some(Verify {
        mode: match mode {
            VerifyCommit::Head => VerifyMode::Head,
            VerifyCommit::Tag => VerifyMode::Tag,
            VerifyCommit::TagAndHead => VerifyMode::TagAndHead,
        },
        keys: Arc::new(keys),
    }))
}

/// [`load`] for cluster commands: objects of kinds of unknown scope are left for
/// [`resolve_scopes`](super::target::resolve_scopes), right after connecting; not with `--fresh`, whose
/// new cluster serves only built-in kinds.
///
/// # Errors
/// As [`load`].
pub fn load_for_cluster(
    args: &SourceArgs,
    cluster: &ClusterArgs,
) -> Result<Manifest, CommandError> {
    // Charts render for the target in `target::prepare` (with --fresh, again): `lookup` reads it only then.
    let helm = HelmOptions {
        lookup: None,
        ..helm_options(args)
    };
    load_with(
        args,
        scope_lookup(cluster),
        decrypting(&args.trust)?,
        helm,
        true,
    )
}

pub(super) fn scope_lookup(cluster: &ClusterArgs) -> ScopeLookup {
    match cluster.fresh {
        Some(_) => ScopeLookup::Offline,
        None => ScopeLookup::Discovery,
    }
}

/// [`load`] with every choice explicit: where unknown scopes come from, decryption, chart rendering, and
/// whether the revision and warnings are printed (not when a cluster command renders charts again).
///
/// # Errors
/// As [`load`].
pub fn load_with(
    args: &SourceArgs,
    scope_lookup: ScopeLookup,
    sops: Sops,
    helm: HelmOptions,
    report: bool,
) -> Result<Manifest, CommandError> {
    let source = Source::new(&args.repository, args.reference.as_deref());
    let verify = verify_options(&args.trust)?;
    if verify.as_ref().is_some_and(|v| v.keys.is_empty()) {
        return Err("--verify-commit needs trusted keys: --verify-keys FILE".into());
    }
    let options = SourceOptions {
        verify,
        ..SourceOptions::default()
    };
    let snapshot = source.snapshot(&options)?;
    if report {
        eprintln!(
            "repository {} at {}",
            snapshot.revision.origin, snapshot.revision
        );
    }
    let options = LoadOptions {
        namespace: args.namespace.clone(),
        scope_lookup,
        strict: args.strict,
        sops,
        helm,
        cluster: args.cluster.clone(),
        ..LoadOptions::default()
    };
    match manifest::load(&snapshot, &options) {
        Ok(m) => {
            if report {
                print_warnings(&m.warnings);
            }
            Ok(m)
        }
        Err(diags) => Err(invalid(&diags)),
    }
}

pub(super) fn print_warnings(warnings: &[Diagnostic]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

pub(super) fn invalid(diags: &manifest::Diagnostics) -> CommandError {
    print_warnings(&diags.warnings);
    for e in &diags.errors {
        eprintln!("error: {e}");
    }
    Box::new(Invalid {
        count: diags.errors.len(),
    })
}

/// The inventory's name (`--inventory`, else `rekube.yaml`, else derived from the repository) and the
/// repository's identity, its owner; printed on stderr with where the name came from.
pub fn inventory(flag: Option<&str>, manifest: &Manifest, args: &SourceArgs) -> (String, Identity) {
    let identity = Source::new(&args.repository, args.reference.as_deref()).identity();
    let (name, how) = crate::ops::prune::inventory_name(flag, manifest, &identity);
    eprintln!("inventory {name} ({how}), repository {}", identity.key);
    (name, identity)
}

/// Builds the dependency graph and its scheduling view, printing external references (errors with
/// `--strict`). While objects wait for [`resolve_scopes`](super::target::resolve_scopes), the graph only
/// validates (cycles, annotations): external references are printed once it is built again.
///
/// # Errors
/// A cycle or an invalid ordering annotation; external references with `strict`.
pub fn dependencies(manifest: &Manifest, strict: bool) -> Result<crate::apply::Dag, CommandError> {
    let graph = crate::graph::of_manifest(manifest, &GraphOptions::default())?;
    if manifest.unresolved.is_empty() {
        report_externals(&graph, strict)?;
    }
    Ok(crate::apply::Dag::from_graph(&graph))
}

/// Prints references to objects absent from the repository: warnings, or errors with `--strict`.
///
/// # Errors
/// [`Invalid`] when `strict` and there is any external reference.
pub fn report_externals(graph: &Graph, strict: bool) -> Result<(), CommandError> {
    let level = if strict { "error" } else { "warning" };
    let lines = crate::graph::external_summary(graph);
    for line in &lines {
        eprintln!("{level}: {line}");
    }
    if strict && !lines.is_empty() {
        return Err(Box::new(Invalid { count: lines.len() }));
    }
    Ok(())
}

/// The report format `--report FILE` asks for, checked before anything runs.
///
/// # Errors
/// An extension other than .html, .json and .xml.
pub fn report_format(path: Option<&Path>) -> Result<Option<ReportFormat>, CommandError> {
    Ok(path.map(ReportFormat::of_path).transpose()?)
}

/// Writes a DR report file (`json` is the command's JSON report) and says where.
///
/// # Errors
/// The file cannot be written.
pub fn write_report(
    path: &Path,
    format: ReportFormat,
    evidence: &Evidence,
    json: &str,
) -> Result<(), CommandError> {
    std::fs::write(path, format.render(evidence, json))
        .map_err(|e| format!("cannot write the report to {}: {e}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// Now, for report files (RFC 3339, whole seconds).
pub fn now() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// Progress of an apply on stderr: redrawn in place on a terminal, a line per object otherwise.
pub fn progress(manifest: &Manifest) -> Progress<'_> {
    let layers: Vec<String> = manifest.layers.iter().map(|l| l.name.clone()).collect();
    let stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    Progress::new(&manifest.objects, &layers, terminal, stderr)
}
