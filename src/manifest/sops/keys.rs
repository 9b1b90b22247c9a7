//! age identities that decrypt SOPS data keys, from sops's own places (`SOPS_AGE_KEY`,
//! `SOPS_AGE_KEY_FILE`, `$XDG_CONFIG_HOME/sops/age/keys.txt`), from `--age-key-file`, or from the
//! `*.agekey` entries of a Kubernetes Secret (Flux's convention).
//!
//! A key file holds one `AGE-SECRET-KEY-1…` per line; `#` comments and blank lines are skipped. The
//! secret keys never reach a message or a `Debug` output: only where they came from and their public
//! recipients do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;

use super::SopsError;

/// Identities, each with where it came from. Empty when no key was given.
#[derive(Default, Clone)]
pub struct AgeKeys {
    identities: Vec<age::x25519::Identity>,
    /// `--age-key-file keys.txt`, `SOPS_AGE_KEY`, `Secret flux-system/sops-age key age.agekey`…
    origins: Vec<String>,
    /// Sources that were set but unreadable, told when a file finds no key.
    problems: Vec<String>,
}

impl fmt::Debug for AgeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgeKeys")
            .field("recipients", &self.recipients())
            .field("origins", &self.origins)
            .field("problems", &self.problems)
            .finish()
    }
}

/// Where [`AgeKeys::discover`] looks, besides the files given explicitly.
#[derive(Debug, Clone, Default)]
pub struct KeySources {
    /// `--age-key-file`, repeatable.
    pub files: Vec<PathBuf>,
    /// `SOPS_AGE_KEY_FILE`.
    pub env_file: Option<PathBuf>,
    /// `SOPS_AGE_KEY`: key file content (one or more keys).
    pub env_keys: Option<String>,
    /// sops's default key file, used when it exists (`$XDG_CONFIG_HOME/sops/age/keys.txt`).
    pub default_file: Option<PathBuf>,
}

impl KeySources {
    /// `--age-key-file` values plus sops's environment variables and default file, as sops reads them.
    pub fn from_env(files: &[PathBuf]) -> KeySources {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let config = non_empty("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".config")));
        KeySources {
            files: files.to_vec(),
            env_file: non_empty("SOPS_AGE_KEY_FILE").map(PathBuf::from),
            env_keys: std::env::var("SOPS_AGE_KEY").ok().filter(|v| !v.is_empty()),
            default_file: config.map(|c| c.join("sops").join("age").join("keys.txt")),
        }
    }
}

impl AgeKeys {
    /// No key: every encrypted object is an error (except in `plan`, which never decrypts).
    pub fn none() -> AgeKeys {
        AgeKeys::default()
    }

    /// Reads every source that is set; the default file only when it exists.
    ///
    /// # Errors
    /// A file that cannot be read, or that holds something other than age secret keys.
    pub fn discover(sources: &KeySources) -> Result<AgeKeys, SopsError> {
        let mut keys = AgeKeys::default();
        for file in &sources.files {
            keys.add_file(file, "--age-key-file")?;
        }
        // sops's environment is read as sops reads it: a broken source matters only when a file
        // needs a key, and is named then.
        if let Some(file) = &sources.env_file
            && let Err(e) = keys.add_file(file, "SOPS_AGE_KEY_FILE")
        {
            keys.problems.push(e.to_string());
        }
        if let Some(text) = &sources.env_keys
            && let Err(e) = keys.add_text(text, "SOPS_AGE_KEY")
        {
            keys.problems.push(e.to_string());
        }
        if let Some(file) = sources.default_file.as_ref().filter(|f| f.is_file())
            && let Err(e) = keys.add_file(file, "sops's default key file")
        {
            keys.problems.push(e.to_string());
        }
        Ok(keys)
    }

    /// Adds the keys of a key file.
    ///
    /// # Errors
    /// The file cannot be read or holds no valid key.
    pub fn add_file(&mut self, path: &Path, what: &str) -> Result<(), SopsError> {
        let origin = format!("{what} {}", path.display());
        let text = std::fs::read_to_string(path).map_err(|source| SopsError::KeyFile {
            origin: origin.clone(),
            source,
        })?;
        self.add_text(&text, &origin)
    }

    /// Adds the keys of a key file's content; `origin` names it in messages.
    ///
    /// # Errors
    /// A line that is neither a comment nor an age secret key, or no key at all.
    pub fn add_text(&mut self, text: &str, origin: &str) -> Result<(), SopsError> {
        let mut found = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // Never echo the line: it may be a key with a typo.
            let identity =
                age::x25519::Identity::from_str(line).map_err(|_| SopsError::InvalidKey {
                    origin: origin.to_string(),
                    line: n + 1,
                })?;
            self.identities.push(identity);
            found += 1;
        }
        if found == 0 {
            return Err(SopsError::NoKeyIn {
                origin: origin.to_string(),
            });
        }
        self.origins.push(origin.to_string());
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// The public recipients (`age1…`) of the identities, for messages.
    pub fn recipients(&self) -> Vec<String> {
        self.identities
            .iter()
            .map(|i| i.to_public().to_string())
            .collect()
    }

    /// Where the keys came from, for messages.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Key sources that were set but could not be read.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Records a key source that could not be read (told when a file finds no key).
    pub fn add_problem(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// The identity whose public recipient is `recipient`.
    pub(super) fn for_recipient(&self, recipient: &str) -> Option<&age::x25519::Identity> {
        self.identities
            .iter()
            .find(|i| i.to_public().to_string() == recipient)
    }

    /// Every identity, for stanzas whose recipient does not match (a re-keyed file).
    pub(super) fn all(&self) -> &[age::x25519::Identity] {
        &self.identities
    }
}

/// A throwaway identity and its recipient, for tests and examples (never for real secrets).
pub fn generate() -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let secret = identity.to_string().expose_secret().to_string();
    (secret, identity.to_public().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_key_files_and_never_shows_secrets() {
        let (secret, recipient) = generate();
        let mut keys = AgeKeys::none();
        let text = format!("# created: 2026-01-01\n# public key: {recipient}\n{secret}\n");
        keys.add_text(&text, "SOPS_AGE_KEY").unwrap();
        assert_eq!(keys.recipients(), vec![recipient.clone()]);
        assert!(keys.for_recipient(&recipient).is_some());
        let debug = format!("{keys:?}");
        assert!(!debug.contains(&secret), "{debug}");
        assert!(debug.contains(&recipient));

        let bad = keys
            .add_text(&format!("{secret}x\n"), "--age-key-file k.txt")
            .unwrap_err();
        let message = bad.to_string();
        assert!(!message.contains(&secret), "{message}");
        assert!(message.contains("k.txt") && message.contains("line 1"));
        assert!(keys.add_text("# nothing\n", "x").is_err());
    }
}
