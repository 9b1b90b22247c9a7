//! Encrypting as sops does, for `export`: a fresh data key sealed for each age recipient, every value
//! the rule selects sealed with AES-256-GCM under its path, and the MAC (SHA-512 over every value in
//! sops's walk order) sealed under `lastmodified`. The result is a file `sops --decrypt` opens and
//! rekube's loader decrypts like any other.

use std::io::Write;

use regex::Regex;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::SopsError;
use super::cipher::{self, DataKey};
use super::metadata::Rules;
use super::tree;

/// The rule export encrypts with: only the values of a Secret, so its identity stays readable and
/// `plan` works without a key.
pub const SECRET_FIELDS: &str = "^(data|stringData)$";

/// The sops release whose file format is written (the peer of the tests).
const FORMAT_VERSION: &str = "3.13.3";

/// age recipients (`age1…` public keys). `Debug` shows them: they are public.
#[derive(Clone, Default)]
pub struct Recipients(Vec<(String, age::x25519::Recipient)>);

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Recipients {
    /// Reads recipients as sops's `--age` does: each entry may hold several, comma-separated.
    ///
    /// # Errors
    /// An entry that is not an X25519 age recipient, named in the message.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Recipients, SopsError> {
        let mut out = Vec::new();
        for entry in entries {
            for text in entry.as_ref().split(',').map(str::trim) {
                if text.is_empty() || out.iter().any(|(t, _)| t == text) {
                    continue;
                }
                let recipient = text
                    .parse::<age::x25519::Recipient>()
                    .map_err(|_| SopsError::NotRecipient(text.to_string()))?;
                out.push((text.to_string(), recipient));
            }
        }
        Ok(Recipients(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|(t, _)| t.clone()).collect()
    }
}

/// Encrypts one YAML document (the text export writes) for `recipients`, the values under keys matching
/// `encrypted_regex` only. The MAC covers the values as sops reads the text (YAML 1.2 scalars), so
/// rendering the result with the same writer gives a file sops accepts.
///
/// # Errors
/// No recipient, an invalid regex, a text that is not one YAML document, or an age failure.
pub fn encrypt_yaml(
    plain_yaml: &str,
    recipients: &Recipients,
    encrypted_regex: &str,
    lastmodified: &str,
) -> Result<Value, SopsError> {
    let docs = super::file::yaml12_values(plain_yaml);
    let [Some(doc)] = docs.as_slice() else {
        return Err(SopsError::Encrypt(
            "export encrypts one YAML document at a time".into(),
        ));
    };
    encrypt_document(doc, recipients, encrypted_regex, lastmodified)
}

/// Encrypts `plain` (one document, as sops reads it) and appends the `sops` mapping.
///
/// # Errors
/// As [`encrypt_yaml`].
pub fn encrypt_document(
    plain: &Value,
    recipients: &Recipients,
    encrypted_regex: &str,
    lastmodified: &str,
) -> Result<Value, SopsError> {
    if recipients.is_empty() {
        return Err(SopsError::Encrypt("no age recipient to encrypt for".into()));
    }
    let regex = Regex::new(encrypted_regex)
        .map_err(|e| SopsError::Encrypt(format!("encrypted_regex {encrypted_regex:?}: {e}")))?;
    let rules = Rules {
        encrypted_regex: Some(regex),
        ..Rules::default()
    };
    let key = DataKey::random();
    let mut hash = Sha512::new();
    let mut sealed = Vec::new();
    for leaf in tree::leaves(plain, &rules) {
        let Some(bytes) = cipher::mac_bytes(leaf.value).map(Zeroizing::new) else {
            continue;
        };
        hash.update(bytes.as_slice());
        if leaf.encrypted {
            let kind = cipher::value_type(leaf.value).unwrap_or("str");
            let value = key.seal(&bytes, &leaf.aad(), kind)?;
            sealed.push((leaf.pointer, value));
        }
    }
    let mut out = plain.clone();
    for (pointer, value) in sealed {
        tree::set(&mut out, &pointer, Value::String(value));
    }
    let mac = key.seal(
        hex::encode_upper(hash.finalize()).as_bytes(),
        lastmodified,
        "str",
    )?;
    let mut stanzas = Vec::new();
    for (name, recipient) in &recipients.0 {
        stanzas.push(json!({"recipient": name, "enc": age_stanza(&key, recipient)?}));
    }
    let Value::Object(map) = &mut out else {
        return Err(SopsError::Encrypt("the document is not a mapping".into()));
    };
    let mut sops = Map::new();
    sops.insert("age".into(), Value::Array(stanzas));
    sops.insert("lastmodified".into(), Value::from(lastmodified));
    sops.insert("mac".into(), Value::from(mac));
    sops.insert("encrypted_regex".into(), Value::from(encrypted_regex));
    sops.insert("version".into(), Value::from(FORMAT_VERSION));
    map.insert("sops".into(), Value::Object(sops));
    Ok(out)
}

/// The data key as an ASCII-armoured age file for one recipient (sops's `enc`).
fn age_stanza(key: &DataKey, recipient: &age::x25519::Recipient) -> Result<String, SopsError> {
    let failed = |e: &dyn std::fmt::Display| SopsError::Encrypt(format!("age: {e}"));
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
            .map_err(|e| failed(&e))?;
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(|e| failed(&e))?;
    let mut writer = encryptor.wrap_output(armor).map_err(|e| failed(&e))?;
    writer.write_all(key.bytes()).map_err(|e| failed(&e))?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(|e| failed(&e))?;
    String::from_utf8(out).map_err(|e| failed(&e))
}

#[cfg(test)]
#[path = "encrypt_tests.rs"]
mod tests;
