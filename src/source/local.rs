//! Local folders: read from disk (reporting HEAD and the dirty flag of an enclosing work tree), or, with
//! `--ref`, the commit's tree of the enclosing repository.

use std::path::{Path, PathBuf};

use git2::{Repository, StatusOptions};

use super::export::export_commit;
use super::git::{resolve_local, verified};
use super::verify::Verify;
use super::{Snapshot, SourceError};
use crate::object::Revision;

pub(super) fn snapshot(
    path: &Path,
    reference: Option<&str>,
    verify: Option<&Verify>,
) -> Result<Snapshot, SourceError> {
    let meta = std::fs::metadata(path).map_err(|source| SourceError::ReadFolder {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(SourceError::NotAFolder {
            path: path.to_path_buf(),
        });
    }
    let origin = path.display().to_string();
    match reference {
        None => from_disk(path, origin, verify),
        Some(_) => from_commit(path, origin, reference, verify),
    }
}

/// The folder as it is on disk; HEAD and the dirty flag when it lies in a Git work tree.
fn from_disk(
    path: &Path,
    origin: String,
    verify: Option<&Verify>,
) -> Result<Snapshot, SourceError> {
    let mut revision = Revision {
        origin: origin.clone(),
        ..Revision::default()
    };
    // Not being in a repository is fine: the folder is simply unversioned (but not verifiable).
    let repo = match Repository::discover(path) {
        Ok(repo) => repo,
        Err(source) if verify.is_some() => {
            return Err(SourceError::NotARepository {
                path: path.to_path_buf(),
                reference: "HEAD".into(),
                source,
            });
        }
        Err(_) => return Ok(Snapshot::new(path.to_path_buf(), revision, None)),
    };
    if repo.is_bare() {
        // A bare repository has no files on disk: read HEAD's tree.
        return from_commit(path, origin, None, verify);
    }
    let git_err = |source| SourceError::Repository {
        origin: origin.clone(),
        source,
    };
    revision.commit = match repo.head() {
        Ok(head) => Some(head.peel_to_commit().map_err(git_err)?.id().to_string()),
        // Unborn branch (no commit yet): everything is uncommitted.
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => None,
        Err(e) => return Err(git_err(e)),
    };
    revision.dirty = is_dirty(&repo, path).map_err(git_err)?;
    if verify.is_some() {
        if revision.dirty {
            return Err(SourceError::DirtyUnverifiable { origin });
        }
        let commit = match &revision.commit {
            Some(c) => git2::Oid::from_str(c).map_err(git_err)?,
            None => return Err(SourceError::NoCommit { origin }),
        };
        revision.signer = verified(&repo, commit, None, verify, &origin)?;
    }
    Ok(Snapshot::new(path.to_path_buf(), revision, None))
}

/// True when files under `path` differ from HEAD: modified, staged, deleted or untracked (not ignored).
fn is_dirty(repo: &Repository, path: &Path) -> Result<bool, git2::Error> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true);
    // Only the folder that is read matters, not the rest of the work tree.
    if let Some(rel) = relative_to_workdir(repo, path).filter(|r| !r.as_os_str().is_empty()) {
        options.pathspec(rel);
    }
    Ok(!repo.statuses(Some(&mut options))?.is_empty())
}

/// `path` relative to the repository's work tree, `/`-separated; `None` when it cannot be related.
fn relative_to_workdir(repo: &Repository, path: &Path) -> Option<PathBuf> {
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let path = std::fs::canonicalize(path).ok()?;
    path.strip_prefix(&workdir).ok().map(Path::to_path_buf)
}

/// The tree of `reference` (HEAD when `None`) in the repository enclosing `path`, exported to a
/// temporary folder.
fn from_commit(
    path: &Path,
    origin: String,
    reference: Option<&str>,
    verify: Option<&Verify>,
) -> Result<Snapshot, SourceError> {
    let repo = Repository::discover(path).map_err(|source| SourceError::NotARepository {
        path: path.to_path_buf(),
        reference: reference.unwrap_or("HEAD").to_string(),
        source,
    })?;
    let commit = resolve_local(&repo, &origin, reference.unwrap_or("HEAD"))?;
    // Reading a subfolder of a work tree with --ref reads that subfolder of the commit.
    let subfolder = if repo.is_bare() {
        PathBuf::new()
    } else {
        relative_to_workdir(&repo, path).unwrap_or_default()
    };
    let signer = verified(&repo, commit.id(), reference, verify, &origin)?;
    let tmp = export_commit(&repo, &commit, &origin)?;
    let root = tmp.path().join(&subfolder);
    if !root.is_dir() {
        return Err(SourceError::FolderNotInCommit {
            origin,
            path: subfolder.display().to_string(),
            commit: commit.id().to_string(),
        });
    }
    let revision = Revision {
        origin,
        reference: reference.map(str::to_string),
        commit: Some(commit.id().to_string()),
        dirty: false,
        signer,
    };
    Ok(Snapshot::new(root, revision, Some(tmp)))
}

impl Snapshot {
    pub(super) fn new(
        root: PathBuf,
        revision: Revision,
        tmp: Option<tempfile::TempDir>,
    ) -> Snapshot {
        Snapshot {
            root,
            revision,
            _tmp: tmp,
        }
    }
}
