//! Following a branch: fetch and resolve its head (cheap: nothing is exported), and turn a new commit
//! into a validated, ordered [`Desired`] state, or the reasons it was rejected.
//!
//! libgit2 and the manifest loader block, so both run on the blocking pool, each with a deadline: a
//! remote that never answers fails the pass instead of holding it (and the Lease) forever.

use std::sync::Arc;
use std::time::Duration;

use crate::apply::Dag;
use crate::cluster::{Cluster, discover_scopes};
use crate::graph::GraphOptions;
use crate::manifest::sops::{AgeKeys, Sops};
use crate::manifest::{self, LoadOptions, Manifest, ScopeLookup};
use crate::source::verify::VerifyMode;
use crate::source::{Source, SourceError, SourceOptions};

use super::secrets::SecretKeys;

/// The repository and ref a reconciler follows.
#[derive(Debug, Clone)]
pub struct Follower {
    pub repository: String,
    pub reference: Option<String>,
    /// Cache folder; `verify` holds the `--verify-commit` mode and the keys given as files.
    pub source: SourceOptions,
    /// References to objects absent from the repository reject the commit.
    pub strict: bool,
    /// `-n`: the namespace of namespaced objects that have none and whose layer declares none.
    pub namespace: Option<String>,
    /// Asked for the scope of kinds the repository does not define; without it, they reject the commit.
    pub cluster: Option<Cluster>,
    /// SOPS keys given at start (flags, sops's environment).
    pub age_keys: Arc<AgeKeys>,
    /// Keys read from Secrets for every new commit (`--decryption-secret`, `--verify-secret`).
    pub secrets: SecretKeys,
    /// The inventory this reconciler applies: a commit whose `rekube.yaml` declares another is rejected.
    pub inventory: String,
    /// Deadline of a fetch (`--git-timeout`); reading a commit may take this plus the Kustomize deadline.
    pub timeout: Duration,
    /// How commits are loaded (the Kustomize deadline among others).
    pub load: LoadOptions,
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
    /// The commit was read, but is not a valid repository: what kind of problem (for the metric and
    /// `/readyz`: `yaml`, `validation`, `ordering`, `external-reference`, `inventory`, `keys`), one line
    /// per problem.
    Invalid {
        reason: &'static str,
        lines: Vec<String>,
    },
    /// `--verify-commit`: unsigned, badly signed, or signed by an unknown key.
    Untrusted(SourceError),
}

impl Follower {
    /// Fetches and returns the commit id the ref names now.
    ///
    /// # Errors
    /// The repository cannot be fetched or read, or the ref does not exist.
    pub async fn head(&self) -> Result<String, SourceError> {
        let source = Source::new(&self.repository, self.reference.as_deref());
        let options = self.source.clone();
        let fetch = tokio::task::spawn_blocking(move || source.resolve(&options));
        // A fetch past its deadline is abandoned (libgit2's own timeouts end its thread later).
        match tokio::time::timeout(self.timeout, fetch).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(self.timed_out("fetch", self.timeout)),
        }
    }

    fn timed_out(&self, what: &'static str, after: Duration) -> SourceError {
        SourceError::TimedOut {
            url: crate::source::redact_url(&self.repository),
            what,
            after,
        }
    }

    /// Reads, validates and orders `commit`.
    ///
    /// # Errors
    /// [`Rejected`] with every diagnostic when the commit is not a valid repository.
    pub async fn load(&self, commit: &str) -> Result<Arc<Desired>, Rejected> {
        // Keys in Secrets are read for each new commit, so a rotated key is used at once.
        let mut age_keys = (*self.age_keys).clone();
        let mut source = self.source.clone();
        if let Err(e) = self.secrets.read_age_keys(&mut age_keys).await {
            age_keys.add_problem(e);
        }
        if let Some(verify) = &mut source.verify {
            let mut keys = (*verify.keys).clone();
            if let Err(e) = self.secrets.read_trusted_keys(&mut keys).await {
                return Err(Rejected::invalid("keys", e));
            }
            verify.keys = Arc::new(keys);
        }
        let this = self.clone();
        let id = commit.to_string();
        let keys = Arc::new(age_keys);
        let read = tokio::task::spawn_blocking(move || this.read(&id, source, keys));
        let deadline = self.timeout + self.load.kustomize_timeout;
        let mut manifest = match tokio::time::timeout(deadline, read).await {
            Ok(Ok(r)) => r?,
            Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {
                let e = self.timed_out("reading the commit", deadline);
                return Err(Rejected::Source(e));
            }
        };
        if let Some(cluster) = &self.cluster {
            let scopes = discover_scopes(cluster, &manifest.unresolved_kinds()).await;
            manifest
                .resolve_scopes(&scopes)
                .map_err(|d| Rejected::Invalid {
                    reason: "validation",
                    lines: d.errors.iter().map(ToString::to_string).collect(),
                })?;
        }
        self.order(commit, manifest).map(Arc::new)
    }

    fn read(
        &self,
        commit: &str,
        options: SourceOptions,
        keys: Arc<AgeKeys>,
    ) -> Result<Manifest, Rejected> {
        // A signed tag is checked through its name; the commit it names must be the one polled.
        let by_tag = options
            .verify
            .as_ref()
            .is_some_and(|v| v.mode != VerifyMode::Head);
        let reference = if by_tag {
            self.reference.as_deref()
        } else {
            Some(commit)
        };
        let source = Source::new(&self.repository, reference);
        let snapshot = source.snapshot(&options).map_err(|e| match e {
            SourceError::Untrusted { .. } => Rejected::Untrusted(e),
            e => Rejected::Source(e),
        })?;
        if let Some(signer) = &snapshot.revision.signer {
            super::say(&format!("commit {} {signer}", super::target::short(commit)));
        }
        if by_tag && snapshot.revision.commit.as_deref() != Some(commit) {
            return Err(Rejected::invalid(
                "tag-moved",
                format!(
                    "tag {} moved while commit {commit} was read: retried at the next pass",
                    self.reference.as_deref().unwrap_or("HEAD")
                ),
            ));
        }
        let options = LoadOptions {
            sops: Sops::Decrypt(keys),
            namespace: self.namespace.clone(),
            scope_lookup: match self.cluster {
                Some(_) => ScopeLookup::Discovery,
                None => ScopeLookup::Offline,
            },
            strict: self.strict,
            ..self.load.clone()
        };
        let mut manifest = manifest::load(&snapshot, &options).map_err(|d| {
            let yaml = d
                .errors
                .iter()
                .any(|e| e.message.starts_with("invalid YAML"));
            Rejected::Invalid {
                reason: if yaml { "yaml" } else { "validation" },
                lines: d.errors.iter().map(ToString::to_string).collect(),
            }
        })?;
        for w in &manifest.warnings {
            tracing::debug!("{commit}: warning: {w}");
        }
        manifest.revision.reference = self.reference.clone();
        if let Some(declared) = manifest
            .inventory
            .as_ref()
            .filter(|d| **d != self.inventory)
        {
            return Err(Rejected::Invalid {
                reason: "inventory",
                lines: vec![format!(
                    "rekube.yaml: declares inventory {declared}, but this reconciler applies inventory {} (--inventory, or derived from the repository URL): start it with --inventory {declared}",
                    self.inventory
                )],
            });
        }
        Ok(manifest)
    }

    fn order(&self, commit: &str, manifest: Manifest) -> Result<Desired, Rejected> {
        let graph =
            crate::graph::of_manifest(&manifest, &GraphOptions::default()).map_err(|e| {
                Rejected::Invalid {
                    reason: "ordering",
                    lines: vec![crate::error::render(&e)],
                }
            })?;
        // External references are logged; with --strict they reject the commit.
        let externals = crate::graph::external_summary(&graph);
        if self.strict && !externals.is_empty() {
            return Err(Rejected::Invalid {
                reason: "external-reference",
                lines: externals,
            });
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
    fn invalid(reason: &'static str, line: String) -> Rejected {
        Rejected::Invalid {
            reason,
            lines: vec![line],
        }
    }

    /// The kind of problem, for the metric and `/readyz`: `source`, `untrusted` or the invalid
    /// commit's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejected::Source(_) => "source",
            Rejected::Untrusted(_) => "untrusted",
            Rejected::Invalid { reason, .. } => reason,
        }
    }

    /// One line for logs and Events.
    pub fn summary(&self) -> String {
        match self {
            Rejected::Source(e) | Rejected::Untrusted(e) => crate::error::render(e),
            Rejected::Invalid { lines, .. } => {
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
