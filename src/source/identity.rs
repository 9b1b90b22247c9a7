//! Which repository this is, whatever the checkout: the identity recorded as the owner of an inventory,
//! and the inventory name derived from it when neither `--inventory` nor `rekube.yaml` names one.
//!
//! - A Git URL, or a folder in a work tree with a remote (`origin`, else the first one): the remote's
//!   URL without scheme, user, port and `.git` (`git@github.com:acme/platform.git` and
//!   `https://github.com/acme/platform` are both `github.com/acme/platform`), then `//` and the folder's
//!   path in the work tree when it is not the root (`github.com/acme/platform//clusters/prod`). A CI
//!   checkout and a reconciler following the same remote agree.
//! - Any other folder: its absolute path.

use std::path::{Path, PathBuf};

use git2::Repository;

use super::{Origin, Source};

/// A repository's identity and the short name derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `host/path[//folder]` for Git remotes, the absolute path for other folders.
    pub key: String,
    /// A valid inventory name: the repository's last path segment, then its folder's segments
    /// (`platform-clusters-prod`), or the folder's name; lowercase letters, digits and `-`.
    pub name: String,
}

impl Source {
    /// The repository's identity. A folder is looked up in Git (its remote); one that cannot be read
    /// is identified by its path.
    pub fn identity(&self) -> Identity {
        match &self.origin {
            Origin::Url(url) => Identity::of_remote(url, ""),
            Origin::Folder(path) => folder_identity(path),
        }
    }
}

impl Identity {
    /// The identity of `folder` (`/`-separated, empty for the root) in the repository at `url`.
    pub fn of_remote(url: &str, folder: &str) -> Identity {
        let base = normalize_url(url);
        let folder = folder.trim_matches('/');
        let key = if folder.is_empty() {
            base.clone()
        } else {
            format!("{base}//{folder}")
        };
        let repo = base.rsplit('/').next().unwrap_or_default();
        let name = slug(
            &std::iter::once(repo)
                .chain(folder.split('/'))
                .collect::<Vec<_>>()
                .join("-"),
        );
        Identity { key, name }
    }

    /// The identity of a folder outside any repository with a remote: its absolute path.
    pub fn of_path(path: &Path) -> Identity {
        let name = path
            .file_name()
            .map(|n| slug(&n.to_string_lossy()))
            .unwrap_or_default();
        Identity {
            key: path.display().to_string(),
            name: if name.is_empty() {
                "default".into()
            } else {
                name
            },
        }
    }
}

fn folder_identity(path: &Path) -> Identity {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let Ok(repo) = Repository::discover(&absolute) else {
        return Identity::of_path(&absolute);
    };
    let Some(url) = remote_url(&repo) else {
        return Identity::of_path(&absolute);
    };
    let folder = repo
        .workdir()
        .and_then(|w| std::fs::canonicalize(w).ok())
        .and_then(|w| absolute.strip_prefix(w).ok().map(Path::to_path_buf))
        .unwrap_or_else(PathBuf::new);
    let folder: Vec<String> = folder
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Identity::of_remote(&url, &folder.join("/"))
}

/// The URL of `origin`, else of the first remote that has one.
fn remote_url(repo: &Repository) -> Option<String> {
    let url = |name: &str| {
        repo.find_remote(name)
            .ok()
            .and_then(|r| r.url().map(str::to_string))
    };
    url("origin").or_else(|| {
        let names = repo.remotes().ok()?;
        names.iter().flatten().find_map(url)
    })
}

/// `host/path` of a Git URL: no scheme, user, password or port, no trailing `/` or `.git`, the host in
/// lowercase; `file://` URLs and local paths keep their path.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let (host, path) = match url.split_once("://") {
        Some(("file", rest)) => (String::new(), rest.to_string()),
        Some((_, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            (host_of(authority), path.to_string())
        }
        // scp-like `user@host:path`
        None => match url.split_once(':') {
            Some((authority, path)) if !authority.contains('/') => {
                (host_of(authority), format!("/{path}"))
            }
            _ => (String::new(), url.to_string()),
        },
    };
    let path = path.trim_end_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    if host.is_empty() {
        path.to_string()
    } else {
        format!("{host}/{}", path.trim_start_matches('/'))
    }
}

/// The host of `user:password@host:port`, lowercase.
fn host_of(authority: &str) -> String {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    host.to_ascii_lowercase()
}

/// Lowercase letters and digits, anything else one `-`, at most 63 characters, no `-` at either end.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    out[..out.len().min(63)].trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_one_repository_agree() {
        for url in [
            "https://github.com/acme/platform.git",
            "https://github.com/acme/platform",
            "https://GitHub.com/acme/platform/",
            "https://user:token@github.com/acme/platform.git",
            "ssh://git@github.com:22/acme/platform.git",
            "git@github.com:acme/platform.git",
        ] {
            assert_eq!(normalize_url(url), "github.com/acme/platform", "{url}");
        }
        assert_eq!(normalize_url("file:///srv/git/one.git"), "/srv/git/one");
        assert_eq!(normalize_url("/srv/git/one"), "/srv/git/one");
    }

    #[test]
    fn names_from_the_repository_and_folder() {
        let cases = [
            (
                "https://github.com/acme/platform.git",
                "",
                "github.com/acme/platform",
                "platform",
            ),
            (
                "git@github.com:acme/Platform.git",
                "clusters/prod",
                "github.com/acme/Platform//clusters/prod",
                "platform-clusters-prod",
            ),
            ("file:///tmp/x/one", "", "/tmp/x/one", "one"),
        ];
        for (url, folder, key, name) in cases {
            let id = Identity::of_remote(url, folder);
            assert_eq!(
                (id.key.as_str(), id.name.as_str()),
                (key, name),
                "{url} {folder}"
            );
        }
        let id = Identity::of_path(Path::new("/tmp/.tmpAbC_1/Team One"));
        assert_eq!(id.name, "team-one");
        assert_eq!(Identity::of_path(Path::new("/")).name, "default");
        assert_eq!(slug(&"a".repeat(80)).len(), 63);
        assert_eq!(slug("--x__y--"), "x-y");
    }
}
