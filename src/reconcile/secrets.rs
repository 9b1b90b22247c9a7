//! Keys a reconciler reads from Kubernetes Secrets, for every new commit (a rotated key is used at once):
//! age keys for SOPS from the `*.agekey` entries (Flux's convention), and trusted signing keys for
//! `--verify-commit` from every entry. Values are never logged: messages name the Secret and the entry.

use std::fmt;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::manifest::sops::AgeKeys;
use crate::source::verify::TrustedKeys;

/// `NAMESPACE/NAME` of a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
}

impl SecretRef {
    /// Parses `NAMESPACE/NAME`.
    ///
    /// # Errors
    /// Anything else, with the expected form.
    pub fn parse(s: &str) -> Result<SecretRef, String> {
        match s.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(SecretRef {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                })
            }
            _ => Err(format!("{s:?}: expected NAMESPACE/NAME of a Secret")),
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret/{}/{}", self.namespace, self.name)
    }
}

/// The Secrets to read and the client to read them with.
#[derive(Clone, Default)]
pub struct SecretKeys {
    pub client: Option<kube::Client>,
    /// `--decryption-secret`.
    pub decryption: Option<SecretRef>,
    /// `--verify-secret`.
    pub verification: Option<SecretRef>,
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKeys")
            .field("decryption", &self.decryption)
            .field("verification", &self.verification)
            .finish()
    }
}

impl SecretKeys {
    /// Adds the `*.agekey` entries of the decryption Secret to `keys`.
    ///
    /// # Errors
    /// The Secret cannot be read, or an entry is not an age key file (named, never shown).
    pub async fn read_age_keys(&self, keys: &mut AgeKeys) -> Result<(), String> {
        let Some(secret) = &self.decryption else {
            return Ok(());
        };
        let mut found = false;
        for (entry, text) in self.entries(secret).await? {
            if entry.ends_with(".agekey") {
                keys.add_text(&text, &format!("{secret} entry {entry}"))
                    .map_err(|e| e.to_string())?;
                found = true;
            }
        }
        if !found {
            return Err(format!("{secret} has no *.agekey entry"));
        }
        Ok(())
    }

    /// Adds every entry of the verification Secret to `keys`.
    ///
    /// # Errors
    /// The Secret cannot be read, or an entry holds no key.
    pub async fn read_trusted_keys(&self, keys: &mut TrustedKeys) -> Result<(), String> {
        let Some(secret) = &self.verification else {
            return Ok(());
        };
        for (entry, text) in self.entries(secret).await? {
            keys.add_text(&text, &format!("{secret} entry {entry}"))
                .map_err(|e| e.to_string())?;
        }
        if keys.is_empty() {
            return Err(format!("{secret} holds no trusted key"));
        }
        Ok(())
    }

    async fn entries(&self, secret: &SecretRef) -> Result<Vec<(String, String)>, String> {
        let client = self
            .client
            .clone()
            .ok_or_else(|| format!("{secret}: no cluster connection to read it"))?;
        let api: Api<Secret> = Api::namespaced(client, &secret.namespace);
        let found = api
            .get(&secret.name)
            .await
            .map_err(|e| format!("cannot read {secret}: {e}"))?;
        let mut out = Vec::new();
        for (entry, value) in found.data.unwrap_or_default() {
            let text = String::from_utf8(value.0)
                .map_err(|_| format!("{secret} entry {entry} is not text"))?;
            out.push((entry, text));
        }
        for (entry, text) in found.string_data.unwrap_or_default() {
            out.push((entry, text));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs() {
        assert_eq!(
            SecretRef::parse("flux-system/sops-age")
                .unwrap()
                .to_string(),
            "Secret/flux-system/sops-age"
        );
        for bad in ["sops-age", "/x", "a/", "a/b/c"] {
            assert!(SecretRef::parse(bad).is_err(), "{bad}");
        }
    }
}
