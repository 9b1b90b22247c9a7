//! Following a branch: fetch and resolve its head (cheap: nothing is exported), and turn a new commit
//! into a validated, ordered [`Desired`] state, or the reasons it was rejected.
//!
//! libgit2 and the manifest loader block, so both run on the blocking pool.

use std::sync::Arc;

use crate::apply::Dag;
use crate::cluster::{Cluster, discover_scopes};
use crate::graph::GraphOptions;
use crate::manifest::{self, LoadOptions, Manifest, ScopeLookup};
use crate::source::{Source, SourceError, SourceOptions};

/// The repository and ref a reconciler follows.
#[derive(Debug, Clone)]
pub struct Follower {
    pub repository: String,
    pub reference: Option<String>,
    pub source: SourceOptions,
    /// References to objects absent from the repository reject the commit.
    pub strict: bool,
    /// `-n`: the namespace of namespaced objects that have none and whose layer declares none.
    pub namespace: Option<String>,
    /// Asked for the scope of kinds the repository does not define; without it, they reject the commit.
    pub cluster: Option<Cluster>,
}

/// A commit that loaded, validated and ordered: what the cluster should hold.
#[derive(Debug)]
pub struct Desired {
    pub commit: String,
    pub manifest: Manifest,
    pub dag: Dag,
}

/// Why a commit was not applied.
#[derive(Debug)]
pub enum Rejected {
    /// The commit could not be read (fetch, export).
    Source(SourceError),
    /// The commit was read, but is not a valid repository: one line per problem.
    Invalid(Vec<String>),
}

impl Follower {
    /// Fetches and returns the commit id the ref names now.
    ///
    /// # Errors
    /// The repository cannot be fetched or read, or the ref does not exist.
    pub async fn head(&self) -> Result<String, SourceError> {
        let source = Source::new(&self.repository, self.reference.as_deref());
        let options = self.source.clone();
        match tokio::task::spawn_blocking(move || source.resolve(&options)).await {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// Reads, validates and orders `commit`.
    ///
    /// # Errors
    /// [`Rejected`] with every diagnostic when the commit is not a valid repository.
    pub async fn load(&self, commit: &str) -> Result<Arc<Desired>, Rejected> {
        let this = self.clone();
        let id = commit.to_string();
        let mut manifest = match tokio::task::spawn_blocking(move || this.read(&id)).await {
            Ok(r) => r?,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        if let Some(cluster) = &self.cluster {
            let scopes = discover_scopes(cluster, &manifest.unresolved_kinds()).await;
            manifest.resolve_scopes(&scopes).map_err(|d| {
                Rejected::Invalid(d.errors.iter().map(ToString::to_string).collect())
            })?;
        }
        self.order(commit, manifest).map(Arc::new)
    }

    fn read(&self, commit: &str) -> Result<Manifest, Rejected> {
        let source = Source::new(&self.repository, Some(commit));
        let snapshot = source.snapshot(&self.source).map_err(Rejected::Source)?;
        let options = LoadOptions {
            namespace: self.namespace.clone(),
            scope_lookup: match self.cluster {
                Some(_) => ScopeLookup::Discovery,
                None => ScopeLookup::Offline,
            },
            strict: self.strict,
            ..LoadOptions::default()
        };
        let mut manifest = manifest::load(&snapshot, &options)
            .map_err(|d| Rejected::Invalid(d.errors.iter().map(ToString::to_string).collect()))?;
        for w in &manifest.warnings {
            tracing::debug!("{commit}: warning: {w}");
        }
        manifest.revision.reference = self.reference.clone();
        Ok(manifest)
    }

    fn order(&self, commit: &str, manifest: Manifest) -> Result<Desired, Rejected> {
        let graph = crate::graph::build(
            &manifest.layers,
            &manifest.objects,
            &GraphOptions::default(),
        )
        .map_err(|e| Rejected::Invalid(vec![crate::error::render(&e)]))?;
        // External references are logged; with --strict they reject the commit.
        let externals = crate::graph::external_summary(&graph);
        if self.strict && !externals.is_empty() {
            return Err(Rejected::Invalid(externals));
        }
        for line in &externals {
            tracing::warn!("{commit}: {line}");
        }
        Ok(Desired {
            commit: commit.to_string(),
            dag: Dag::from_graph(&graph),
            manifest,
        })
    }
}

impl Rejected {
    /// One line for logs and Events.
    pub fn summary(&self) -> String {
        match self {
            Rejected::Source(e) => crate::error::render(e),
            Rejected::Invalid(lines) => {
                let shown: Vec<&str> = lines.iter().take(5).map(String::as_str).collect();
                let more = lines.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                };
                format!("{}{more}", shown.join("; "))
            }
        }
    }
}
