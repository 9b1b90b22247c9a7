//! Signed commits and tags (`--verify-commit`, Flux's modes): the signature git stores in the object
//! (`gpgsig` of a commit, the block ending an annotated tag) is checked against trusted public keys.
//!
//! - SSH (`git commit -S` with `gpg.format=ssh`): an armoured `SSHSIG` in the `git` namespace, checked
//!   with `ssh-key`; keys from allowed-signers (`principals [options] key`) or authorized_keys lines.
//! - OpenPGP (`gpg`): a detached signature checked with `pgp` (rPGP) against ASCII-armoured public keys
//!   and their subkeys.
//!
//! The signer is reported by its key fingerprint (`SHA256:…` for SSH, the OpenPGP fingerprint).

use std::fmt;
use std::io::Cursor;
use std::path::Path;

use git2::{ObjectType, Oid, Repository};
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

/// What must be signed, as Flux's `spec.verify.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    /// The commit that is read.
    Head,
    /// The annotated tag `--ref` names.
    Tag,
    /// Both.
    TagAndHead,
}

/// Public keys trusted to sign.
#[derive(Default, Clone)]
pub struct TrustedKeys {
    ssh: Vec<ssh_key::PublicKey>,
    pgp: Vec<SignedPublicKey>,
}

impl fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedKeys")
            .field("ssh", &self.ssh.len())
            .field("openpgp", &self.pgp.len())
            .finish()
    }
}

/// `--verify-commit` with its keys.
#[derive(Debug, Clone)]
pub struct Verify {
    pub mode: VerifyMode,
    pub keys: std::sync::Arc<TrustedKeys>,
}

/// Why an object is not trusted. Messages name the object (commit or tag) first.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read trusted keys {origin}: {message}")]
    Keys { origin: String, message: String },
    #[error("{object} is not signed")]
    Unsigned { object: String },
    #[error("{object} is signed with a {kind} signature, which rekube does not verify")]
    UnsupportedSignature { object: String, kind: String },
    #[error("{object} has a bad signature: {message}")]
    BadSignature { object: String, message: String },
    #[error("{object} is signed by {signer}, which is not a trusted key")]
    UnknownSigner { object: String, signer: String },
    #[error("--verify-commit {mode} needs --ref naming a tag")]
    NoTag { mode: &'static str },
    #[error("{object} is not an annotated tag (a lightweight tag cannot be signed)")]
    NotAnnotated { object: String },
    #[error("{object} cannot be read")]
    Git {
        object: String,
        #[source]
        source: git2::Error,
    },
}

impl TrustedKeys {
    pub fn is_empty(&self) -> bool {
        self.ssh.is_empty() && self.pgp.is_empty()
    }

    /// Reads a key file: ASCII-armoured OpenPGP public keys, or SSH allowed-signers / authorized_keys
    /// lines.
    ///
    /// # Errors
    /// The file cannot be read or holds no key.
    pub fn add_file(&mut self, path: &Path) -> Result<(), VerifyError> {
        let text = std::fs::read_to_string(path).map_err(|e| VerifyError::Keys {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
        self.add_text(&text, &path.display().to_string())
    }

    /// As [`TrustedKeys::add_file`], for a key file's content; `origin` names it.
    ///
    /// # Errors
    /// Nothing in `text` is a key.
    pub fn add_text(&mut self, text: &str, origin: &str) -> Result<(), VerifyError> {
        let bad = |message: String| VerifyError::Keys {
            origin: origin.to_string(),
            message,
        };
        if text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
            let keys = SignedPublicKey::from_armor_many(Cursor::new(text.as_bytes()))
                .map_err(|e| bad(e.to_string()))?
                .0;
            let before = self.pgp.len();
            for key in keys {
                self.pgp.push(key.map_err(|e| bad(e.to_string()))?);
            }
            if self.pgp.len() == before {
                return Err(bad("no OpenPGP public key in the armour".into()));
            }
            return Ok(());
        }
        let before = self.ssh.len();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = ssh_line(line).ok_or_else(|| {
                bad(format!(
                    "line {} is neither an allowed-signers nor an authorized_keys entry",
                    n + 1
                ))
            })?;
            if let Some(key) = key {
                self.ssh.push(key);
            }
        }
        if self.ssh.len() == before {
            return Err(bad("no SSH or OpenPGP public key".into()));
        }
        Ok(())
    }
}

/// An allowed-signers (`principals [options] type base64 [comment]`) or authorized_keys
/// (`[options] type base64 [comment]`) line: `Some(None)` for a key restricted to other namespaces.
fn ssh_line(line: &str) -> Option<Option<ssh_key::PublicKey>> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let at = tokens.iter().position(|t| {
        t.starts_with("ssh-") || t.starts_with("ecdsa-sha2-") || t.starts_with("sk-")
    })?;
    let key = ssh_key::PublicKey::from_openssh(&tokens[at..].join(" ")).ok()?;
    let options = tokens[..at].join(" ");
    if let Some(ns) = options
        .split("namespaces=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        && !ns.split(',').any(|n| n.trim() == "git")
    {
        return Some(None);
    }
    Some(Some(key))
}

/// Checks what `verify.mode` asks for; returns the signer(s) for the printed revision.
///
/// # Errors
/// An unsigned or badly signed commit or tag, an unknown signer, or a tag mode without a tag.
pub fn check(
    repo: &Repository,
    commit: Oid,
    reference: Option<&str>,
    verify: &Verify,
) -> Result<String, VerifyError> {
    let mut signers = Vec::new();
    if matches!(verify.mode, VerifyMode::Tag | VerifyMode::TagAndHead) {
        let mode = if verify.mode == VerifyMode::Tag {
            "tag"
        } else {
            "tag-and-head"
        };
        let name = reference.ok_or(VerifyError::NoTag { mode })?;
        let name = name.strip_prefix("refs/tags/").unwrap_or(name);
        let object = format!("tag {name}");
        let reference = repo
            .find_reference(&format!("refs/tags/{name}"))
            .map_err(|_| VerifyError::NoTag { mode })?;
        let target = reference.target().ok_or(VerifyError::NoTag { mode })?;
        let git_err = |source| VerifyError::Git {
            object: object.clone(),
            source,
        };
        let odb = repo.odb().map_err(git_err)?;
        let raw = odb.read(target).map_err(git_err)?;
        if raw.kind() != ObjectType::Tag {
            return Err(VerifyError::NotAnnotated { object });
        }
        let (data, signature) = split_tag(raw.data()).ok_or(VerifyError::Unsigned {
            object: object.clone(),
        })?;
        signers.push(format!(
            "tag {name} signed by {}",
            signed_by(&object, data, signature, &verify.keys)?
        ));
    }
    if matches!(verify.mode, VerifyMode::Head | VerifyMode::TagAndHead) {
        let object = format!("commit {commit}");
        let (signature, data) = match repo.extract_signature(&commit, None) {
            Ok(pair) => pair,
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                return Err(VerifyError::Unsigned { object });
            }
            Err(source) => return Err(VerifyError::Git { object, source }),
        };
        let who = signed_by(&object, &data, &signature, &verify.keys)?;
        signers.push(if signers.is_empty() {
            format!("signed by {who}")
        } else {
            format!("commit signed by {who}")
        });
    }
    Ok(signers.join(", "))
}

/// The signed part and the signature of a raw tag object (the signature block ends it).
fn split_tag(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    for marker in [
        &b"-----BEGIN PGP SIGNATURE-----"[..],
        b"-----BEGIN SSH SIGNATURE-----",
    ] {
        if let Some(at) = raw.windows(marker.len()).position(|w| w == marker)
            && (at == 0 || raw[at - 1] == b'\n')
        {
            return Some((&raw[..at], &raw[at..]));
        }
    }
    None
}

/// Which trusted key made `signature` over `data`.
fn signed_by(
    object: &str,
    data: &[u8],
    signature: &[u8],
    keys: &TrustedKeys,
) -> Result<String, VerifyError> {
    let text = String::from_utf8_lossy(signature);
    let bad = |message: String| VerifyError::BadSignature {
        object: object.to_string(),
        message,
    };
    if text.contains("-----BEGIN SSH SIGNATURE-----") {
        let sig =
            ssh_key::SshSig::from_pem(text.trim().as_bytes()).map_err(|e| bad(e.to_string()))?;
        let signer = ssh_key::PublicKey::from(sig.public_key().clone());
        let fingerprint = signer.fingerprint(ssh_key::HashAlg::Sha256).to_string();
        let Some(key) = keys.ssh.iter().find(|k| k.key_data() == sig.public_key()) else {
            return Err(VerifyError::UnknownSigner {
                object: object.to_string(),
                signer: format!("SSH key {fingerprint}"),
            });
        };
        key.verify("git", data, &sig)
            .map_err(|e| bad(e.to_string()))?;
        return Ok(format!("SSH key {fingerprint}"));
    }
    if text.contains("-----BEGIN PGP SIGNATURE-----") {
        let (sig, _) = DetachedSignature::from_armor_single(Cursor::new(signature))
            .map_err(|e| bad(e.to_string()))?;
        let fingerprints = sig.signature.issuer_fingerprint();
        let ids = sig.signature.issuer_key_id();
        let issued = |k: &dyn KeyDetails| {
            let fp = k.fingerprint();
            let id = k.legacy_key_id();
            fingerprints.iter().any(|f| **f == fp) || ids.iter().any(|i| **i == id)
        };
        let anonymous = fingerprints.is_empty() && ids.is_empty();
        for key in &keys.pgp {
            let fingerprint = key.fingerprint().to_string().to_uppercase();
            let mine = anonymous || issued(key) || key.public_subkeys.iter().any(|sub| issued(sub));
            if !mine {
                continue;
            }
            let verified = sig.verify(key, data).is_ok()
                || key
                    .public_subkeys
                    .iter()
                    .any(|sub| sig.verify(sub, data).is_ok());
            if verified {
                return Ok(format!("OpenPGP key {fingerprint}"));
            }
            if !anonymous {
                return Err(bad(format!(
                    "it does not match the content (OpenPGP key {fingerprint})"
                )));
            }
        }
        let issuer = sig
            .signature
            .issuer_fingerprint()
            .first()
            .map(|f| f.to_string().to_uppercase())
            .or_else(|| {
                sig.signature
                    .issuer_key_id()
                    .first()
                    .map(|k| format!("{k:?}"))
            })
            .unwrap_or_else(|| "an unknown key".into());
        return Err(VerifyError::UnknownSigner {
            object: object.to_string(),
            signer: format!("OpenPGP key {issuer}"),
        });
    }
    let kind = if text.contains("-----BEGIN SIGNED MESSAGE-----") {
        "X.509 (gpgsm)"
    } else {
        "unrecognised"
    };
    Err(VerifyError::UnsupportedSignature {
        object: object.to_string(),
        kind: kind.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_signers_and_authorized_keys_lines() {
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNP6W0ozpmaQn+i4CskHRnR1gN9RGDzGwwRVdJYcz4u";
        for line in [
            key.to_string(),
            format!("{key} alice@example.com"),
            format!("alice@example.com {key}"),
            format!("alice@example.com namespaces=\"git,file\" {key}"),
            format!("restrict,command=\"x\" {key} comment"),
        ] {
            assert!(matches!(ssh_line(&line), Some(Some(_))), "{line}");
        }
        assert!(matches!(
            ssh_line(&format!("a@b namespaces=\"file\" {key}")),
            Some(None)
        ));
        assert!(ssh_line("not a key").is_none());
    }

    #[test]
    fn tag_signature_split() {
        let raw = b"object x\ntype commit\ntag v1\n\nmsg\n-----BEGIN SSH SIGNATURE-----\nabc\n";
        let (data, sig) = split_tag(raw).unwrap();
        assert!(data.ends_with(b"msg\n"));
        assert!(sig.starts_with(b"-----BEGIN SSH"));
        assert!(split_tag(b"object x\n\nmsg\n").is_none());
    }
}
