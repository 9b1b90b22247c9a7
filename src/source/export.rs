//! Writing a commit's tree into a temporary folder, so that the manifest stage reads Git content and disk
//! content the same way (symlinks included: they are recreated, and validated by the manifest stage).

use std::path::Path;

use git2::{Commit, ObjectType, Repository, Tree};
use tempfile::TempDir;

use super::SourceError;

/// Git's file mode for a symbolic link.
const MODE_SYMLINK: i32 = 0o120000;

pub(super) fn export_commit(
    repo: &Repository,
    commit: &Commit<'_>,
    origin: &str,
) -> Result<TempDir, SourceError> {
    let ctx = Ctx {
        repo,
        origin,
        commit: commit.id().to_string(),
    };
    let tmp = tempfile::Builder::new()
        .prefix("rekube-")
        .tempdir()
        .map_err(|source| ctx.io(Path::new("(temporary folder)"), source))?;
    let tree = commit.tree().map_err(|e| ctx.git(e))?;
    ctx.write_tree(&tree, tmp.path(), "")?;
    Ok(tmp)
}

struct Ctx<'a> {
    repo: &'a Repository,
    origin: &'a str,
    commit: String,
}

impl Ctx<'_> {
    fn write_tree(&self, tree: &Tree<'_>, dir: &Path, rel: &str) -> Result<(), SourceError> {
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            let entry_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            // A crafted tree could name an entry `..` or `a/b`: never write outside the export folder.
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
                return Err(SourceError::UnsafePath {
                    origin: self.origin.to_string(),
                    commit: self.commit.clone(),
                    path: entry_rel,
                });
            }
            let path = dir.join(&name);
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let sub = self.repo.find_tree(entry.id()).map_err(|e| self.git(e))?;
                    std::fs::create_dir(&path).map_err(|e| self.io(&path, e))?;
                    self.write_tree(&sub, &path, &entry_rel)?;
                }
                Some(ObjectType::Blob) => {
                    let blob = self.repo.find_blob(entry.id()).map_err(|e| self.git(e))?;
                    if entry.filemode() == MODE_SYMLINK {
                        write_symlink(blob.content(), &path).map_err(|e| self.io(&path, e))?;
                    } else {
                        std::fs::write(&path, blob.content()).map_err(|e| self.io(&path, e))?;
                    }
                }
                // Submodules (commit entries) are other repositories: not part of this snapshot.
                _ => {}
            }
        }
        Ok(())
    }

    fn git(&self, source: git2::Error) -> SourceError {
        SourceError::ExportGit {
            origin: self.origin.to_string(),
            commit: self.commit.clone(),
            source,
        }
    }

    fn io(&self, path: &Path, source: std::io::Error) -> SourceError {
        SourceError::ExportIo {
            origin: self.origin.to_string(),
            commit: self.commit.clone(),
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(unix)]
fn write_symlink(target: &[u8], path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), path)
}

/// Without symlinks, Git itself checks a link out as a file holding its target.
#[cfg(not(unix))]
fn write_symlink(target: &[u8], path: &Path) -> std::io::Result<()> {
    std::fs::write(path, target)
}
