//! Git through libgit2: resolving refs, fetching remote repositories into a cache folder.
//!
//! The cache holds one bare mirror per URL (`<cache>/git/<sha256 of url>`), fetched with
//! `+refs/heads/*:refs/heads/*` and `+refs/tags/*:refs/tags/*`, so branch and tag names resolve exactly as
//! in the remote, and its HEAD follows the remote's default branch.

use std::path::Path;

use git2::{
    AutotagOption, Commit, Config, Cred, CredentialType, FetchOptions, FetchPrune, RemoteCallbacks,
    Repository,
};
use sha2::{Digest, Sha256};

use super::export::export_commit;
use super::verify::{self, Verify};
use super::{Snapshot, SourceError};
use crate::object::Revision;

const MIRROR_REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// Resolves a branch, tag, full ref name, (abbreviated) commit id or any `git rev-parse` expression to a
/// commit.
pub(super) fn resolve_local<'r>(
    repo: &'r Repository,
    origin: &str,
    reference: &str,
) -> Result<Commit<'r>, SourceError> {
    let not_found = |source| SourceError::RefNotFound {
        origin: origin.to_string(),
        reference: reference.to_string(),
        source,
    };
    if reference == "HEAD"
        && let Err(e) = repo.head()
        && e.code() == git2::ErrorCode::UnbornBranch
    {
        return Err(SourceError::NoCommit {
            origin: origin.to_string(),
        });
    }
    let object = repo.revparse_single(reference).map_err(not_found)?;
    object.peel_to_commit().map_err(not_found)
}

/// Fetches `url` into the cache and exports the commit named by `reference` (the remote's default branch
/// when `None`).
pub(super) fn snapshot_remote(
    url: &str,
    reference: Option<&str>,
    cache: &Path,
    verify: Option<&Verify>,
) -> Result<Snapshot, SourceError> {
    let origin = redact_url(url);
    let repo = open_mirror(url, &origin, cache)?;
    let commit = fetch_and_resolve(&repo, url, &origin, reference)?;
    let commit = repo
        .find_commit(commit)
        .map_err(|source| SourceError::Repository {
            origin: origin.clone(),
            source,
        })?;
    let signer = verified(&repo, commit.id(), reference, verify, &origin)?;
    let tmp = export_commit(&repo, &commit, &origin)?;
    let revision = Revision {
        origin,
        reference: reference.map(str::to_string),
        commit: Some(commit.id().to_string()),
        dirty: false,
        signer,
    };
    Ok(Snapshot::new(tmp.path().to_path_buf(), revision, Some(tmp)))
}

/// The signer of `commit` (and/or the tag `reference`) when `verify` is set; `None` otherwise.
pub(super) fn verified(
    repo: &Repository,
    commit: git2::Oid,
    reference: Option<&str>,
    verify: Option<&Verify>,
    origin: &str,
) -> Result<Option<String>, SourceError> {
    let Some(verify) = verify else {
        return Ok(None);
    };
    verify::check(repo, commit, reference, verify)
        .map(Some)
        .map_err(|source| SourceError::Untrusted {
            origin: origin.to_string(),
            source,
        })
}

/// Fetches `url` into the cache and returns the commit id `reference` names there, exporting nothing
/// (polling a branch).
pub(super) fn resolve_remote(
    url: &str,
    reference: Option<&str>,
    cache: &Path,
) -> Result<String, SourceError> {
    let origin = redact_url(url);
    let repo = open_mirror(url, &origin, cache)?;
    Ok(fetch_and_resolve(&repo, url, &origin, reference)?.to_string())
}

/// The bare mirror of `url` in the cache, created empty the first time.
fn open_mirror(url: &str, origin: &str, cache: &Path) -> Result<Repository, SourceError> {
    let dir = cache
        .join("git")
        .join(hex::encode(Sha256::digest(url.as_bytes())));
    std::fs::create_dir_all(&dir).map_err(|source| SourceError::Cache {
        path: dir.clone(),
        source,
    })?;
    Repository::open_bare(&dir)
        .or_else(|_| Repository::init_bare(&dir))
        .map_err(|source| SourceError::Repository {
            origin: format!("{origin} (cache {})", dir.display()),
            source,
        })
}

/// Fetches branches and tags, then resolves `reference` (HEAD when `None`).
fn fetch_and_resolve(
    repo: &Repository,
    url: &str,
    origin: &str,
    reference: Option<&str>,
) -> Result<git2::Oid, SourceError> {
    let fetch_err = |source| SourceError::Fetch {
        url: origin.to_string(),
        reference: reference.map(str::to_string),
        source,
    };
    fetch(repo, url, &MIRROR_REFSPECS, true).map_err(fetch_err)?;
    let wanted = reference.unwrap_or("HEAD");
    match resolve_local(repo, origin, wanted) {
        Ok(c) => Ok(c.id()),
        // A commit that no branch or tag reaches is not in the mirror: ask the server for it directly.
        Err(SourceError::RefNotFound { .. }) if is_full_commit_id(wanted) => {
            fetch(repo, url, &[wanted], false).map_err(fetch_err)?;
            Ok(resolve_local(repo, origin, wanted)?.id())
        }
        Err(e) => Err(e),
    }
}

/// One fetch from `url`; with `follow_head`, the mirror's HEAD is pointed at the remote's default branch.
fn fetch(
    repo: &Repository,
    url: &str,
    refspecs: &[&str],
    follow_head: bool,
) -> Result<(), git2::Error> {
    let mut remote = repo.remote_anonymous(url)?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(callbacks())
        .download_tags(AutotagOption::None)
        .prune(if follow_head {
            FetchPrune::On
        } else {
            FetchPrune::Off
        });
    remote.fetch(refspecs, Some(&mut options), None)?;
    if follow_head {
        // Available after the connection even once disconnected; an empty remote has none.
        if let Ok(head) = remote.default_branch()
            && let Some(name) = head.as_str()
        {
            repo.set_head(name)?;
        }
    }
    Ok(())
}

/// Credentials the way Git finds them: the SSH agent then default key files for SSH, the configured
/// credential helper for HTTPS. Gives up after a few attempts instead of looping on a rejected credential.
fn callbacks() -> RemoteCallbacks<'static> {
    let mut attempts = 0u32;
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |url, username, allowed| {
        attempts += 1;
        let user = username.unwrap_or("git");
        if allowed.contains(CredentialType::SSH_KEY) {
            if attempts == 1 {
                return Cred::ssh_key_from_agent(user);
            }
            let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
            let key = ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .filter_map(|k| home.as_ref().map(|h| h.join(".ssh").join(k)))
                .filter(|p| p.exists())
                .nth(attempts as usize - 2);
            if let Some(key) = key {
                return Cred::ssh_key(user, None, &key, None);
            }
        } else if attempts <= 2 && allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let Ok(config) = Config::open_default()
                && let Ok(cred) = Cred::credential_helper(&config, url, username)
            {
                return Ok(cred);
            }
        } else if attempts <= 2 && allowed.contains(CredentialType::DEFAULT) {
            return Cred::default();
        } else if attempts <= 2 && allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        Err(git2::Error::from_str(&format!(
            "authentication failed for {} (no usable SSH agent, key or credential helper)",
            redact_url(url)
        )))
    });
    callbacks
}

fn is_full_commit_id(reference: &str) -> bool {
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The URL without a password or token (`https://user:secret@host/x` → `https://user:***@host/x`), for
/// messages and the revision.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else if user.len() > 20 {
                // A bare token as user name (`https://ghp_xxx@github.com`).
                "***".to_string()
            } else {
                user.to_string()
            };
            format!("{scheme}://{masked}@{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets_in_urls() {
        let cases = [
            ("https://github.com/o/r.git", "https://github.com/o/r.git"),
            (
                "https://u:tok@github.com/o/r",
                "https://u:***@github.com/o/r",
            ),
            (
                "https://ghp_0123456789abcdefghij0123@github.com/o/r",
                "https://***@github.com/o/r",
            ),
            ("ssh://git@github.com/o/r", "ssh://git@github.com/o/r"),
            ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want);
        }
    }

    #[test]
    fn full_commit_ids() {
        assert!(is_full_commit_id(&"a".repeat(40)));
        assert!(!is_full_commit_id("abc123"));
        assert!(!is_full_commit_id(&"g".repeat(40)));
    }
}
