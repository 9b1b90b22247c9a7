//! The Git source: folders read from disk (HEAD and the dirty flag), commits read through libgit2 by path
//! and by `file://` URL, by branch, tag and commit.

mod support;

use std::path::Path;

use git2::Oid;
use rekube::source::{Snapshot, Source, SourceError, SourceOptions};

use support::{Repo, write};

/// A repository on branch `main`: commit 1 (tagged v1) has `apps/a.yaml`, commit 2 adds `apps/b.yaml`,
/// and branch `feature` points at commit 1.
struct Fixture {
    repo: Repo,
    first: Oid,
    second: Oid,
}

fn two_commits() -> Fixture {
    let repo = Repo::new();
    repo.write(".gitignore", "*.tmp\n");
    repo.write("apps/a.yaml", "a: 1\n");
    repo.write("docs/readme.md", "hello\n");
    #[cfg(unix)]
    std::os::unix::fs::symlink("a.yaml", repo.path().join("apps/link.yaml")).unwrap();
    let first = repo.commit("first");
    let git = repo.git();
    git.tag_lightweight("v1", &git.find_object(first, None).unwrap(), false)
        .unwrap();
    git.branch("feature", &git.find_commit(first).unwrap(), false)
        .unwrap();
    repo.write("apps/b.yaml", "b: 2\n");
    let second = repo.commit("second");
    Fixture {
        repo,
        first,
        second,
    }
}

fn snapshot(
    repository: &str,
    reference: Option<&str>,
    cache: &Path,
) -> Result<Snapshot, SourceError> {
    let options = SourceOptions {
        cache_dir: Some(cache.to_path_buf()),
        ..SourceOptions::default()
    };
    Source::new(repository, reference).snapshot(&options)
}

#[test]
fn plain_folder_has_no_commit() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", "a: 1\n");
    let snap = snapshot(dir.path().to_str().unwrap(), None, dir.path()).unwrap();
    assert_eq!(snap.revision.commit, None);
    assert!(!snap.revision.dirty);
    assert_eq!(snap.root, dir.path());
}

#[test]
fn work_tree_reports_head_and_dirty() {
    let f = two_commits();
    let path = f.repo.path().to_str().unwrap().to_string();
    let cache = tempfile::tempdir().unwrap();
    let snap = snapshot(&path, None, cache.path()).unwrap();
    assert_eq!(snap.revision.commit, Some(f.second.to_string()));
    assert!(!snap.revision.dirty, "clean work tree");

    // Ignored files do not count.
    write(f.repo.path(), "apps/scratch.tmp", "x");
    assert!(!snapshot(&path, None, cache.path()).unwrap().revision.dirty);

    // Changes outside the folder read do not count; inside they do.
    write(f.repo.path(), "docs/readme.md", "changed\n");
    let apps = f.repo.path().join("apps");
    assert!(
        !snapshot(apps.to_str().unwrap(), None, cache.path())
            .unwrap()
            .revision
            .dirty
    );
    assert!(snapshot(&path, None, cache.path()).unwrap().revision.dirty);
    write(f.repo.path(), "apps/new.yaml", "untracked\n");
    let snap = snapshot(apps.to_str().unwrap(), None, cache.path()).unwrap();
    assert!(snap.revision.dirty, "untracked file in the folder");
    assert!(
        snap.revision
            .to_string()
            .ends_with("(with uncommitted changes)")
    );
}

#[test]
fn local_repository_with_ref() {
    let f = two_commits();
    write(f.repo.path(), "apps/a.yaml", "uncommitted\n");
    let cache = tempfile::tempdir().unwrap();
    let path = f.repo.path().to_str().unwrap();
    let short = &f.first.to_string()[..8];
    for reference in ["v1", "feature", short, "refs/tags/v1", "main~1"] {
        let snap = snapshot(path, Some(reference), cache.path()).unwrap();
        assert_eq!(
            snap.revision.commit,
            Some(f.first.to_string()),
            "{reference}"
        );
        assert_eq!(snap.revision.reference.as_deref(), Some(reference));
        assert!(!snap.revision.dirty);
        // The commit's content, not the disk's.
        assert_eq!(
            std::fs::read_to_string(snap.root.join("apps/a.yaml")).unwrap(),
            "a: 1\n"
        );
        assert!(!snap.root.join("apps/b.yaml").exists());
    }
    // A subfolder with --ref reads that subfolder of the commit.
    let apps = f.repo.path().join("apps");
    let snap = snapshot(apps.to_str().unwrap(), Some("main"), cache.path()).unwrap();
    assert!(snap.root.join("b.yaml").is_file());
    assert_eq!(snap.revision.commit, Some(f.second.to_string()));
}

#[test]
fn file_url_by_default_branch_branch_tag_and_commit() {
    let f = two_commits();
    let cache = tempfile::tempdir().unwrap();
    let url = f.repo.url();
    let first = f.first.to_string();
    let cases = [
        (None, f.second),
        (Some("main"), f.second),
        (Some("feature"), f.first),
        (Some("v1"), f.first),
        (Some(first.as_str()), f.first),
    ];
    for (reference, want) in cases {
        let snap = snapshot(&url, reference, cache.path()).unwrap();
        assert_eq!(
            snap.revision.commit,
            Some(want.to_string()),
            "{reference:?}"
        );
        assert_eq!(snap.revision.origin, url);
        assert!(snap.root.join("apps/a.yaml").is_file());
        assert_eq!(snap.root.join("apps/b.yaml").is_file(), want == f.second);
        #[cfg(unix)]
        {
            let link = snap.root.join("apps/link.yaml");
            assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("a.yaml"));
        }
    }
    // The cache holds one mirror per URL, and a later commit is fetched into it.
    let mirrors: Vec<_> = std::fs::read_dir(cache.path().join("git"))
        .unwrap()
        .collect();
    assert_eq!(mirrors.len(), 1);
    write(f.repo.path(), "apps/c.yaml", "c: 3\n");
    let third = f.repo.commit("third");
    let snap = snapshot(&url, None, cache.path()).unwrap();
    assert_eq!(snap.revision.commit, Some(third.to_string()));
}

#[test]
fn snapshot_folder_is_removed_on_drop() {
    let f = two_commits();
    let cache = tempfile::tempdir().unwrap();
    let snap = snapshot(&f.repo.url(), Some("v1"), cache.path()).unwrap();
    let root = snap.root.clone();
    assert!(root.is_dir());
    drop(snap);
    assert!(!root.exists());
}

#[test]
fn errors_name_the_source_and_ref() {
    let f = two_commits();
    let cache = tempfile::tempdir().unwrap();
    let url = f.repo.url();
    let err = snapshot(&url, Some("no-such-branch"), cache.path()).unwrap_err();
    assert!(matches!(err, SourceError::RefNotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&url) && msg.contains("no-such-branch"),
        "{msg}"
    );

    let missing = f.repo.path().join("nope");
    let err = snapshot(missing.to_str().unwrap(), None, cache.path()).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");

    let plain = tempfile::tempdir().unwrap();
    let err = snapshot(plain.path().to_str().unwrap(), Some("main"), cache.path()).unwrap_err();
    assert!(matches!(err, SourceError::NotARepository { .. }), "{err:?}");
    assert!(err.to_string().contains("--ref main"), "{err}");

    let err = snapshot("file:///nonexistent/rekube-test-repo", None, cache.path()).unwrap_err();
    assert!(matches!(err, SourceError::Fetch { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/nonexistent/rekube-test-repo"),
        "{err}"
    );
}
