//! Source: a local folder or a Git commit, turned into a [`Snapshot`] of files on disk.
//!
//! - A local folder is read from disk. When it lies inside a Git work tree, HEAD's commit is reported and
//!   [`Revision::dirty`] says whether the folder has uncommitted changes (ignored files do not count).
//! - A local repository with `--ref`, or any Git URL (https, ssh, `file://`), is read through libgit2: the
//!   commit's tree is exported into a temporary folder that lives as long as the snapshot. Remote
//!   repositories are fetched into a cache folder first ([`default_cache_dir`]).
//!
//! The commit that was read is always in [`Snapshot::revision`].

mod export;
mod git;
mod identity;
mod local;
pub mod verify;

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::object::Revision;

pub use git::redact_url;
pub use identity::{Identity, normalize_url};

/// Files of one revision of the repository, on disk under [`Snapshot::root`].
#[derive(Debug)]
pub struct Snapshot {
    /// Folder holding the repository's files (the folder given, or an exported commit).
    pub root: PathBuf,
    pub revision: Revision,
    /// Keeps an exported commit alive until the snapshot is dropped.
    _tmp: Option<TempDir>,
}

impl Snapshot {
    /// A snapshot of a folder as it is, without looking for Git (tests, generated trees).
    pub fn from_dir(root: impl Into<PathBuf>) -> Snapshot {
        let root = root.into();
        Snapshot {
            revision: Revision {
                origin: root.display().to_string(),
                ..Revision::default()
            },
            root,
            _tmp: None,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Where the repository comes from, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A local folder: a plain folder, a Git work tree (or a folder inside one), or a bare repository.
    Folder(PathBuf),
    /// A Git URL: `https://`, `http://`, `ssh://`, `git://`, `file://` or scp-like `user@host:path`.
    Url(String),
}

/// A repository to read: a folder or a Git URL, and an optional branch, tag or commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub origin: Origin,
    /// `--ref`: a branch, tag, full ref name or (abbreviated) commit id.
    pub reference: Option<String>,
}

/// Options for reading a [`Source`].
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Where remote repositories are cached; `None` uses [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// `--verify-commit`: the commit (and/or tag) must be signed by a trusted key.
    pub verify: Option<verify::Verify>,
}

impl Source {
    /// Classifies `repository` as a Git URL or a local folder (see [`is_git_url`]).
    pub fn new(repository: &str, reference: Option<&str>) -> Source {
        let origin = if is_git_url(repository) {
            Origin::Url(repository.to_string())
        } else {
            Origin::Folder(PathBuf::from(repository))
        };
        Source {
            origin,
            reference: reference.map(str::to_string),
        }
    }

    /// Reads the source: from disk for a folder without `--ref`, else the commit's tree through libgit2.
    ///
    /// # Errors
    /// A folder that cannot be read, a ref that does not exist, a failed fetch or export; each message
    /// names the path or URL and the ref.
    pub fn snapshot(&self, options: &SourceOptions) -> Result<Snapshot, SourceError> {
        match &self.origin {
            Origin::Folder(path) => {
                local::snapshot(path, self.reference.as_deref(), options.verify.as_ref())
            }
            Origin::Url(url) => {
                let cache = match &options.cache_dir {
                    Some(dir) => dir.clone(),
                    None => default_cache_dir().ok_or(SourceError::NoCacheDir)?,
                };
                git::snapshot_remote(
                    url,
                    self.reference.as_deref(),
                    &cache,
                    options.verify.as_ref(),
                )
            }
        }
    }
}

impl Source {
    /// The commit id the ref names now (HEAD when no ref was given), without exporting anything: a Git
    /// URL is fetched into the cache first, a local repository is read as it is. For polling a branch;
    /// read the commit with `Source::new(repository, Some(commit)).snapshot(..)`.
    ///
    /// # Errors
    /// As [`Source::snapshot`]; a plain folder outside Git is [`SourceError::NotARepository`].
    pub fn resolve(&self, options: &SourceOptions) -> Result<String, SourceError> {
        let reference = self.reference.as_deref();
        match &self.origin {
            Origin::Folder(path) => {
                let repo = git2::Repository::discover(path).map_err(|source| {
                    SourceError::NotARepository {
                        path: path.clone(),
                        reference: reference.unwrap_or("HEAD").to_string(),
                        source,
                    }
                })?;
                let origin = path.display().to_string();
                Ok(
                    git::resolve_local(&repo, &origin, reference.unwrap_or("HEAD"))?
                        .id()
                        .to_string(),
                )
            }
            Origin::Url(url) => {
                let cache = match &options.cache_dir {
                    Some(dir) => dir.clone(),
                    None => default_cache_dir().ok_or(SourceError::NoCacheDir)?,
                };
                git::resolve_remote(url, reference, &cache)
            }
        }
    }
}

/// The network timeout of libgit2 for commands without `--git-timeout`.
pub const DEFAULT_GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Bounds every network operation of libgit2 (connecting, then each read or write) by `timeout`, so that
/// a remote that accepts a connection and never answers fails the fetch instead of blocking it forever.
/// Process-wide: call it before any Git operation starts.
pub fn set_git_timeouts(timeout: std::time::Duration) {
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: libgit2's global options are set before any Git operation runs (the caller's contract);
    // both calls only store an integer.
    unsafe {
        if let Err(e) = git2::opts::set_server_connect_timeout_in_milliseconds(ms) {
            tracing::warn!("libgit2 connect timeout not set: {e}");
        }
        if let Err(e) = git2::opts::set_server_timeout_in_milliseconds(ms) {
            tracing::warn!("libgit2 server timeout not set: {e}");
        }
    }
}

/// True for the URL forms Git accepts: a scheme (`https://`, `ssh://`, `file://`…) or scp-like
/// `user@host:path`. Everything else is a local path.
pub fn is_git_url(repository: &str) -> bool {
    const SCHEMES: [&str; 6] = [
        "https://",
        "http://",
        "ssh://",
        "git://",
        "file://",
        "git+ssh://",
    ];
    if SCHEMES.iter().any(|s| repository.starts_with(s)) {
        return true;
    }
    // scp-like syntax: a colon before any slash, with a user part (`git@github.com:org/repo`).
    match repository.split_once(':') {
        Some((host, _)) => host.contains('@') && !host.contains('/'),
        None => false,
    }
}

/// `${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/rekube}`; `None` when no variable is set.
pub fn default_cache_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("REKUBE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("rekube"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".cache").join("rekube"))
}

/// Why a source could not be read. Every message names the folder or URL, and the ref when one was given.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("repository folder {path} cannot be read")]
    ReadFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("repository {path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("--ref {reference}: {path} is not inside a Git repository")]
    NotARepository {
        path: PathBuf,
        reference: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot read Git repository {origin}")]
    Repository {
        origin: String,
        #[source]
        source: git2::Error,
    },
    #[error("{origin}: ref {reference:?} is not a branch, tag or commit of the repository")]
    RefNotFound {
        origin: String,
        reference: String,
        #[source]
        source: git2::Error,
    },
    #[error("{origin}: the repository has no commit yet")]
    NoCommit { origin: String },
    #[error("{origin}: folder {path} does not exist in commit {commit}")]
    FolderNotInCommit {
        origin: String,
        path: String,
        commit: String,
    },
    #[error("cannot fetch {url}{}", reference.as_ref().map(|r| format!(" (ref {r})")).unwrap_or_default())]
    Fetch {
        url: String,
        reference: Option<String>,
        #[source]
        source: git2::Error,
    },
    #[error("cannot prepare the Git cache folder {path}")]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no cache folder for Git repositories: set REKUBE_CACHE_DIR, XDG_CACHE_HOME or HOME")]
    NoCacheDir,
    #[error("{url}: {what} timed out after {}s (the remote did not answer); abandoned", after.as_secs())]
    TimedOut {
        url: String,
        what: &'static str,
        after: std::time::Duration,
    },
    #[error("cannot export commit {commit} of {origin} into a temporary folder")]
    ExportGit {
        origin: String,
        commit: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot export commit {commit} of {origin}: writing {path}")]
    ExportIo {
        origin: String,
        commit: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Untrusted {
        origin: String,
        #[source]
        source: verify::VerifyError,
    },
    #[error("{origin}: --verify-commit reads commits, and the work tree has uncommitted changes")]
    DirtyUnverifiable { origin: String },
    #[error("commit {commit} of {origin} holds an unsafe path {path:?}")]
    UnsafePath {
        origin: String,
        commit: String,
        path: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_urls_and_paths() {
        let cases = [
            ("https://github.com/org/repo.git", true),
            ("ssh://git@github.com/org/repo", true),
            ("git@github.com:org/repo.git", true),
            ("file:///srv/git/repo", true),
            ("./repo", false),
            ("/srv/repo", false),
            ("repo", false),
            ("C:/repos/x", false),
            ("dir/with@at:colon", false),
        ];
        for (input, url) in cases {
            assert_eq!(is_git_url(input), url, "{input}");
        }
    }

    #[test]
    fn source_keeps_reference() {
        let s = Source::new("https://example.com/r.git", Some("v1"));
        assert_eq!(s.origin, Origin::Url("https://example.com/r.git".into()));
        assert_eq!(s.reference.as_deref(), Some("v1"));
        assert_eq!(
            Source::new("fixtures/good", None).origin,
            Origin::Folder("fixtures/good".into())
        );
    }
}
