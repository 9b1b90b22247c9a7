//! Repositories on disk: files written and copied into a folder, and a Git repository committed to.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, RepositoryInitOptions, Signature};
use tempfile::TempDir;

/// Writes `content` to `root/rel`, creating its folders; returns the file's path.
pub fn write(root: &Path, rel: &str, content: &str) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// Writes each of `files` (path, content) below `root`.
pub fn write_files<S: AsRef<str>>(root: &Path, files: &[(&str, S)]) {
    for (path, content) in files {
        write(root, path, content.as_ref());
    }
}

/// A new temporary folder holding `files` (path, content).
pub fn temp_repo<S: AsRef<str>>(files: &[(&str, S)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_files(dir.path(), files);
    dir
}

/// Copies the folder `from` into `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// A Git repository in a temporary folder, on branch `main`, read by path or by its `file://` URL.
pub struct Repo {
    dir: TempDir,
    git: Repository,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let git = Repository::init_opts(dir.path(), &opts).expect("git init");
        Repo { dir, git }
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    /// The repository itself, for branches and tags.
    pub fn git(&self) -> &Repository {
        &self.git
    }

    pub fn write(&self, rel: &str, content: &str) {
        write(self.path(), rel, content);
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path().join(rel)).expect("remove");
    }

    /// Commits every change (additions, edits, deletions) on the current branch.
    pub fn commit(&self, message: &str) -> Oid {
        let mut index = self.git.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"], None).expect("update");
        index.write().expect("write index");
        let tree = self
            .git
            .find_tree(index.write_tree().expect("tree"))
            .expect("find tree");
        let sig = Signature::now("rekube test", "test@example.com").expect("signature");
        let parent = self.git.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.git
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit")
    }
}

impl Default for Repo {
    fn default() -> Repo {
        Repo::new()
    }
}

/// Every file under `dir`: (relative path, content), sorted.
pub fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("below").display().to_string();
                out.push((rel, std::fs::read_to_string(&p).expect("read file")));
            }
        }
    }
    out.sort();
    out
}
